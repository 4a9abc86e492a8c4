"""Every page at 375 px: no sideways scrolling, a name on every control, readable contrast."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.browser.conftest import DESKTOP, PHONE, SignIn
from tests.builders import create_property, create_viewing
from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

# Controls without an accessible name, text under 4.5:1 contrast (WCAG AA), page wider than
# the screen. Computed by the browser from the rendered page, not from the stylesheet.
AUDIT = """
() => {
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\\s+/).some((id) => document.getElementById(id)?.textContent.trim()))
      return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if ((el.getAttribute("title") || "").trim()) return true;
    if (el.matches("button, a, summary") && el.textContent.trim()) return true;
    if (el.matches("input[type=submit], input[type=button]") && el.value.trim()) return true;
    return false;
  };
  const unnamed = [...document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, a[href], summary")]
    .filter((el) => visible(el) && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));

  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const parts = rgb(getComputedStyle(node).backgroundColor);
      if (parts.length === 3 || (parts.length === 4 && parts[3] > 0)) return parts.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const lowContrast = [];
  for (const el of document.querySelectorAll("body *")) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !visible(el)) continue;
    const style = getComputedStyle(el);
    if (Number(style.opacity) < 1 || el.closest("[disabled]")) continue;
    const fg = luminance(rgb(style.color).slice(0, 3));
    const bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const where = `${el.tagName.toLowerCase()}.${el.className}`;
    if (ratio < 4.5) lowContrast.push(`${where}: ${ratio.toFixed(2)}`);
  }
  const overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return { unnamed, lowContrast, overflow };
}
"""

PAGES = [
    "/inbox",
    "/inbox?view=needs-me",
    "/listings",
    "/listings/new",
    "/listings/import",
    "/persona",
    "/simulator",
    "/channels",
    "/settings",
    "/availability",
    "/viewings",
    "/viewings?view=week",
    "/viewings?view=list",
]


@pytest.fixture
async def lived_in(api_account: ApiAccount, db: Database, live_server: str) -> str:
    """An account with a listing, a simulated conversation and viewings (one needing approval,
    one started today), so lists are not empty and every kind of action shows."""
    async with db.session_scope() as session:
        listing = await create_property(session, api_account.account_id)
        started = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
        await create_viewing(session, api_account.account_id, listing.id, starts_at=started)
        await create_viewing(
            session,
            api_account.account_id,
            listing.id,
            starts_at=started + timedelta(hours=1),
            status="requested",
        )
    async with httpx.AsyncClient(base_url=live_server, headers=api_account.headers) as api:
        said = await api.post("/api/v1/simulator/messages", json={"text": "Hello, any flats?"})
        assert said.status_code == 202, said.text
        conversation = (await api.get("/api/v1/conversations")).json()[0]
    return f"/inbox/{conversation['id']}"


async def audit(page: Page, path: str) -> dict[str, Any]:
    response = await page.goto(path)
    assert response is not None and response.status == 200, path
    found: dict[str, Any] = await page.evaluate(AUDIT)
    return found


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
async def test_every_page_is_usable_and_readable(
    sign_in: SignIn, api_account: ApiAccount, lived_in: str, viewport: dict[str, int]
) -> None:
    page = await sign_in(api_account, viewport=viewport)
    problems = {}
    for path in [*PAGES, lived_in, f"{lived_in}?done=taken-over"]:
        found = await audit(page, path)
        if found["unnamed"] or found["lowContrast"] or found["overflow"] > 0:
            problems[path] = found
    assert problems == {}


async def test_the_login_page_too(browser_page: Page) -> None:
    found = await audit(browser_page, "/login")
    assert found == {"unnamed": [], "lowContrast": [], "overflow": 0}
