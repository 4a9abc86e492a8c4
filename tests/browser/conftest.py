"""Browser tests: the real app on a loopback port, driven by Playwright in Debian's chromium.

Chromium comes from the system (`apt-get install chromium`, done by the test command); Playwright
never downloads a browser here. CHROMIUM_PATH overrides where it is.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import ApiAccount
from tests.web.signin import PASSWORD
from tests.web.sse import serving
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the networking flags chromium phones home at start and this machine refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000

SignIn = Callable[..., Awaitable[Page]]


@pytest.fixture
async def live_server(settings: Settings, db: Database) -> AsyncIterator[str]:
    """The application (lifespan and in-process jobs included) serving on 127.0.0.1."""
    async with serving(create_app(settings)) as base_url:
        yield base_url


@pytest.fixture
async def browser(live_server: str) -> AsyncIterator[Browser]:
    """Closed before the server stops, so no open event stream holds its shutdown up."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat, before any loop work)
        pytest.fail(f"chromium not found at {CHROMIUM}: the test command installs it with apt-get")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(browser: Browser, base_url: str, viewport: dict[str, int] = PHONE) -> Page:
    """A page in a fresh context (its own cookies), as a second phone or laptop would be."""
    context = await browser.new_context(base_url=base_url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return await context.new_page()


@pytest.fixture
async def browser_page(browser: Browser, live_server: str) -> Page:
    """A phone-sized page that has not signed in."""
    return await new_page(browser, live_server)


@pytest.fixture
def sign_in(browser: Browser, live_server: str) -> SignIn:
    """Signs an account's user in through the login form; the page lands on /inbox."""

    async def _sign_in(
        account: ApiAccount, *, viewport: dict[str, int] = PHONE, password: str = PASSWORD
    ) -> Page:
        page = await new_page(browser, live_server, viewport)
        await page.goto("/login")
        await page.get_by_label("Email").fill(account.email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/inbox")
        return page

    return _sign_in


async def screenshot(page: Page, name: str) -> Path:
    """Saved under test-artifacts/ (kept out of git) for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def wait_live(page: Page) -> None:
    """Until the page's event stream is open: what is committed after this shows up live."""
    await page.wait_for_function("document.body.dataset.liveState === 'open'")
