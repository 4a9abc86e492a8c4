"""The agent's Viewings page in a real browser, on a phone and on a laptop: the views show the
viewings, an action changes the status and says so, a refused one says why and changes nothing,
and the calendar feed's address works in a calendar app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, SignIn, screenshot
from tests.browser.test_page_quality import AUDIT
from tests.builders import create_property, create_viewing
from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

LISBON = ZoneInfo("Europe/Lisbon")  # a new account's zone
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])


def today_at(hour: int, minute: int = 0) -> datetime:
    today = utcnow().astimezone(LISBON).date()
    return datetime.combine(today, time(hour, minute), LISBON).astimezone(UTC)


async def viewing(db: Database, account: ApiAccount, starts_at: datetime, **values: str) -> str:
    async with db.session_scope() as session:
        listing = await create_property(session, account.account_id, title=values.pop("title"))
        row = await create_viewing(
            session, account.account_id, listing.id, starts_at=starts_at, **values
        )
        return str(row.id)


async def status_of(live_server: str, account: ApiAccount, viewing_id: str) -> str:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as api:
        response = await api.get(f"/api/v1/viewings/{viewing_id}")
        assert response.status_code == 200, response.text
        return str(response.json()["status"])


async def readable(page: Page) -> None:
    """The page-quality audit on the page as it is now (a form's answer is not a URL the walk in
    test_page_quality.py can open): every control named, contrast, no sideways scrolling."""
    found = await page.evaluate(AUDIT)
    assert found == {"unnamed": [], "lowContrast": [], "overflow": 0}


@VIEWPORTS
async def test_the_agent_approves_a_viewing_and_a_stale_approval_changes_nothing(
    sign_in: SignIn,
    api_account: ApiAccount,
    db: Database,
    live_server: str,
    viewport: dict[str, int],
) -> None:
    wide = "1280" if viewport == DESKTOP else "375"
    asked = await viewing(
        db,
        api_account,
        today_at(23, 30),
        title="T2 in Graça",
        customer_name="Ana Sousa",
        status="requested",
    )
    gone = await viewing(
        db,
        api_account,
        today_at(23, 30) + timedelta(days=1),
        title="T3 in Alfama",
        customer_name="Bruno Lima",
        status="requested",
    )
    page = await sign_in(api_account, viewport=viewport)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Viewings").click()
    card = page.locator(f"#viewing-{asked}")
    await expect(card).to_contain_text("23:30–00:00")
    await expect(card).to_contain_text("T2 in Graça")
    await expect(card).to_contain_text("Ana Sousa")
    await expect(card).to_contain_text("Awaiting approval")
    await readable(page)
    await screenshot(page, f"viewings-today-{wide}")

    await card.get_by_role("button", name="Approve").click()
    await page.wait_for_url("**/viewings?view=today&done=viewing-confirmed")
    await expect(page.get_by_role("status").filter(has_text="Viewing approved.")).to_be_visible()
    await expect(page.locator(f"#viewing-{asked}")).to_contain_text("Confirmed")
    assert await status_of(live_server, api_account, asked) == "confirmed"

    # The list shows tomorrow's too; it is declined elsewhere while this page is open.
    await page.get_by_role("link", name="Upcoming").click()
    stale = page.locator(f"#viewing-{gone}")
    await expect(stale).to_contain_text("T3 in Alfama")
    await readable(page)
    await screenshot(page, f"viewings-list-{wide}")
    async with httpx.AsyncClient(base_url=live_server, headers=api_account.headers) as api:
        declined = await api.post(f"/api/v1/viewings/{gone}/decline")
        assert declined.status_code == 200, declined.text
    await stale.get_by_role("button", name="Approve").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text(
        "Nothing was changed: this viewing is cancelled now, so it cannot be approved."
    )
    await expect(page.locator(f"#viewing-{gone}")).to_contain_text("Cancelled")
    await readable(page)
    await screenshot(page, f"viewings-refused-{wide}")
    assert await status_of(live_server, api_account, gone) == "cancelled"


@VIEWPORTS
async def test_the_agent_reschedules_in_the_week_view_and_subscribes_to_the_feed(
    sign_in: SignIn,
    api_account: ApiAccount,
    db: Database,
    live_server: str,
    viewport: dict[str, int],
) -> None:
    wide = "1280" if viewport == DESKTOP else "375"
    moving = await viewing(
        db, api_account, today_at(23, 0), title="T1 in Baixa", customer_name="Carla Reis"
    )
    page = await sign_in(api_account, viewport=viewport)
    await page.goto("/viewings?view=week")
    card = page.locator(f"#viewing-{moving}")
    await expect(card).to_contain_text("23:00–23:30")
    await readable(page)
    await screenshot(page, f"viewings-week-{wide}")

    await card.get_by_text("Reschedule…").click()
    await card.get_by_label("New date and time").fill("2031-03-03T10:30")
    await card.get_by_role("button", name="Move the viewing").click()
    await page.wait_for_url("**/viewings?view=week&done=viewing-rescheduled")
    await expect(page.get_by_role("status").filter(has_text="Viewing moved.")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server, headers=api_account.headers) as api:
        moved = (await api.get(f"/api/v1/viewings/{moving}")).json()
    # 10:30 in Lisbon in March 2031 (before the change to summer time) is 10:30Z.
    assert datetime.fromisoformat(moved["starts_at"]) == datetime(2031, 3, 3, 10, 30, tzinfo=UTC)

    await page.get_by_role("button", name="Make a feed address").click()
    address = await page.get_by_label("Feed address").input_value()
    await readable(page)
    await screenshot(page, f"viewings-feed-{wide}")
    path = httpx.URL(address).path
    async with httpx.AsyncClient(base_url=live_server) as calendar_app:
        feed = await calendar_app.get(path)
    assert feed.status_code == 200
    [event] = icalendar.Calendar.from_ical(feed.content).events
    assert event["UID"] == f"{uuid.UUID(moving)}@whatsapp-assistant"
    assert event.start.astimezone(UTC) == datetime(2031, 3, 3, 10, 30, tzinfo=UTC)

    await page.get_by_text("Turn off the feed…").click()
    await page.get_by_role("button", name="Turn off the feed", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Its address no longer works.")
    async with httpx.AsyncClient(base_url=live_server) as calendar_app:
        assert (await calendar_app.get(path)).status_code == 404
