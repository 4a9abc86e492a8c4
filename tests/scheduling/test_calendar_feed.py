"""The private calendar feed: made on the Viewings page, read by a calendar app without a
session, revoked at once, and never showing another account's viewings.

Europe/Madrid is UTC+1 in winter and UTC+2 in summer: 10:00 local on 3 March 2031 is 09:00Z.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.builders import create_property, create_viewing
from tests.conftest import ApiAccount
from tests.web.signin import sign_in
from tests.web.test_settings_page import csrf
from whatsapp_assistant.accounts.calendar_feeds import CalendarFeed
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import sha256_hex

MARCH_3 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
_FEED_URL = re.compile(r'id="feed-url" type="text" value="(http[^"]+)"')
SCHEDULE = {
    "time_zone": "Europe/Madrid",
    "business_hours": [],
    "viewing_minutes": 45,
    "buffer_minutes": 0,
    "notice_minutes": 0,
    "horizon_days": 14,
}


@pytest.fixture
async def browser(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    """The agent's browser, signed in, in an account whose zone is Europe/Madrid."""
    response = await client.put(
        "/api/v1/account/schedule", json=SCHEDULE, headers=api_account.headers
    )
    assert response.status_code == 200, response.text
    await sign_in(client, api_account.email)
    return client


async def make_feed(browser: httpx.AsyncClient) -> str:
    """Presses "Make a feed address"; the path of the URL shown once."""
    page = await browser.post("/viewings/feed", data={"csrf_token": await csrf(browser)})
    assert page.status_code == 200, page.text
    match = _FEED_URL.search(page.text)
    assert match is not None, page.text
    return httpx.URL(match.group(1)).path


async def subscribe(calendar_app: httpx.AsyncClient, path: str) -> httpx.Response:
    """A calendar app's fetch: no cookie, no key, only the URL."""
    assert not calendar_app.cookies
    return await calendar_app.get(path)


@pytest.fixture
async def calendar_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second client of the same app, which never signed in."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def viewing_at(
    db: Database, account: ApiAccount, starts_at: datetime, **values: str
) -> uuid.UUID:
    async with db.session_scope() as session:
        listing = await create_property(
            session, account.account_id, title=values.pop("title", "T2 in Graça")
        )
        viewing = await create_viewing(
            session, account.account_id, listing.id, starts_at=starts_at, minutes=45, **values
        )
        return viewing.id


class TestTheFeedAsACalendarAppReadsIt:
    async def test_lists_the_viewings_in_the_accounts_zone_with_their_utc_times(
        self,
        browser: httpx.AsyncClient,
        calendar_app: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
    ) -> None:
        confirmed = await viewing_at(db, api_account, MARCH_3, customer_name="Ana Sousa")
        cancelled = await viewing_at(
            db, api_account, MARCH_3 + timedelta(hours=2), status="cancelled", title="T3 Alfama"
        )
        path = await make_feed(browser)
        response = await subscribe(calendar_app, path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        calendar = icalendar.Calendar.from_ical(response.content)
        events = {event["UID"]: event for event in calendar.events}
        assert set(events) == {f"{confirmed}@whatsapp-assistant", f"{cancelled}@whatsapp-assistant"}
        first = events[f"{confirmed}@whatsapp-assistant"]
        assert first["DTSTART"].params["TZID"] == "Europe/Madrid"
        assert (first.start.hour, first.start.minute) == (10, 0)
        assert first.start.astimezone(UTC) == MARCH_3
        assert first.end.astimezone(UTC) == MARCH_3 + timedelta(minutes=45)
        assert str(first["SUMMARY"]) == "Viewing: T2 in Graça · Ana Sousa"
        assert str(first["STATUS"]) == "CONFIRMED"
        assert str(events[f"{cancelled}@whatsapp-assistant"]["STATUS"]) == "CANCELLED"
        assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Madrid"]

    async def test_viewings_long_past_are_left_out(
        self,
        browser: httpx.AsyncClient,
        calendar_app: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
    ) -> None:
        recent = await viewing_at(db, api_account, utcnow() - timedelta(days=30), status="done")
        await viewing_at(db, api_account, utcnow() - timedelta(days=400), status="done")
        calendar = icalendar.Calendar.from_ical(
            (await subscribe(calendar_app, await make_feed(browser))).content
        )
        assert [str(event["UID"]) for event in calendar.events] == [f"{recent}@whatsapp-assistant"]

    async def test_another_accounts_viewings_are_never_in_it(
        self,
        browser: httpx.AsyncClient,
        calendar_app: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        other_account: ApiAccount,
    ) -> None:
        ours = await viewing_at(db, api_account, MARCH_3)
        theirs = await viewing_at(db, other_account, MARCH_3 + timedelta(hours=1))
        body = (await subscribe(calendar_app, await make_feed(browser))).text
        assert str(ours) in body
        assert str(theirs) not in body


class TestTheSecret:
    async def test_only_a_hash_is_stored_and_the_address_is_shown_once(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        path = await make_feed(browser)
        token = path.removeprefix("/calendar/").removesuffix(".ics")
        async with db.session_scope() as session:
            [row] = (await session.execute(select(CalendarFeed))).scalars().all()
        assert row.account_id == api_account.account_id
        assert row.token_hash == sha256_hex(token)
        assert token not in (row.token_hash, str(row.id))
        again = await browser.get("/viewings")
        assert token not in again.text
        assert "Make a new feed address" in again.text

    async def test_a_new_address_replaces_the_old_one_at_once(
        self, browser: httpx.AsyncClient, calendar_app: httpx.AsyncClient
    ) -> None:
        old = await make_feed(browser)
        new = await make_feed(browser)
        assert old != new
        assert (await subscribe(calendar_app, old)).status_code == 404
        assert (await subscribe(calendar_app, new)).status_code == 200

    async def test_turning_it_off_makes_the_address_404_and_it_can_be_made_again(
        self, browser: httpx.AsyncClient, calendar_app: httpx.AsyncClient, db: Database
    ) -> None:
        path = await make_feed(browser)
        off = await browser.post("/viewings/feed/revoke", data={"csrf_token": await csrf(browser)})
        assert off.status_code == 303
        assert off.headers["location"] == "/viewings?view=today&done=feed-revoked"
        assert (await subscribe(calendar_app, path)).status_code == 404
        async with db.session_scope() as session:
            assert (await session.execute(select(CalendarFeed))).scalars().all() == []
        shown = await browser.get(off.headers["location"])
        assert "Its address no longer works." in shown.text
        again = await make_feed(browser)
        assert (await subscribe(calendar_app, again)).status_code == 200
        assert (await subscribe(calendar_app, path)).status_code == 404

    @pytest.mark.parametrize(
        "path",
        [
            "/calendar/cal_unknown0000000000000000000000000000000000.ics",
            "/calendar/not-even-ours.ics",
            f"/calendar/cal_{'x' * 300}.ics",
            "/calendar/.ics",
        ],
    )
    async def test_an_unknown_address_is_404(
        self, calendar_app: httpx.AsyncClient, path: str
    ) -> None:
        assert (await subscribe(calendar_app, path)).status_code == 404

    async def test_making_one_needs_the_pages_csrf_token(
        self, browser: httpx.AsyncClient, db: Database
    ) -> None:
        refused = await browser.post("/viewings/feed", data={})
        assert refused.status_code == 403
        async with db.session_scope() as session:
            assert (await session.execute(select(CalendarFeed))).scalars().all() == []
