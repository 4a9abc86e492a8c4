"""The Viewings page over HTTP: its three views in the account's zone, each action as a form,
refusals that change nothing, and another account's viewing answering 404.

The account's zone is Asia/Tokyo (UTC+9, no summer time), so a time shown in UTC would be wrong
by nine hours on every assertion.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.builders import create_property, create_viewing
from tests.conftest import ApiAccount
from tests.conversations.harness import drained
from tests.web.signin import sign_in
from tests.web.test_settings_page import csrf, text_of
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

TOKYO = ZoneInfo("Asia/Tokyo")
SCHEDULE = {
    "time_zone": "Asia/Tokyo",
    "business_hours": [],
    "viewing_minutes": 30,
    "buffer_minutes": 0,
    "notice_minutes": 0,
    "horizon_days": 14,
}


def local_today_at(hour: int, minute: int = 0) -> datetime:
    """Today in Tokyo at this wall-clock time, as UTC (maybe already past: the page shows it)."""
    today = utcnow().astimezone(TOKYO).date()
    return datetime.combine(today, time(hour, minute), TOKYO).astimezone(UTC)


def next_weekday_at(hour: int) -> datetime:
    """A Monday-to-Friday at least two days ahead, at this hour in Tokyo, as UTC."""
    day = utcnow().astimezone(TOKYO).date() + timedelta(days=2)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), TOKYO).astimezone(UTC)


@pytest.fixture
async def browser(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    response = await client.put(
        "/api/v1/account/schedule", json=SCHEDULE, headers=api_account.headers
    )
    assert response.status_code == 200, response.text
    await sign_in(client, api_account.email)
    return client


async def viewing(
    db: Database, account: ApiAccount, starts_at: datetime, **values: Any
) -> uuid.UUID:
    async with db.session_scope() as session:
        listing = await create_property(session, account.account_id)
        row = await create_viewing(
            session, account.account_id, listing.id, starts_at=starts_at, **values
        )
        return row.id


async def status_of(
    client: httpx.AsyncClient, account: ApiAccount, viewing_id: uuid.UUID
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/viewings/{viewing_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def act(
    browser: httpx.AsyncClient, viewing_id: uuid.UUID, action: str, **form: str
) -> httpx.Response:
    data = {"csrf_token": await csrf(browser), "view": "week"} | form
    return await browser.post(f"/viewings/{viewing_id}/{action}", data=data)


async def templates_sent(db: Database, conversation_id: uuid.UUID) -> list[tuple[str, str]]:
    """The viewing notices queued to the conversation's customer, as (kind, template), sorted
    (a text and its invitation are queued in the same instant)."""
    async with db.session_scope() as session:
        stmt = select(Message.kind, Message.data).where(Message.conversation_id == conversation_id)
        rows = (await session.execute(stmt)).all()
    return sorted(
        (kind, str(data["template"]))
        for kind, data in rows
        if str(data.get("template", "")).startswith("viewing_")
    )


# The approval's text, and its invitation (the event now CONFIRMED) as a file.
TOLD = [("document", "viewing_approved"), ("text", "viewing_approved")]


def card(page: httpx.Response, viewing_id: uuid.UUID) -> str:
    match = re.search(
        rf'<li class="viewing[^"]*" id="viewing-{viewing_id}".*?</li>', page.text, re.S
    )
    assert match is not None, page.text
    return match.group(0)


class TestTheViews:
    @pytest.mark.parametrize("view", ["today", "week", "list"])
    async def test_each_view_shows_the_viewing_in_the_accounts_zone(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount, view: str
    ) -> None:
        viewing_id = await viewing(
            db, api_account, local_today_at(23, 0), customer_name="Kenji Sato"
        )
        page = await browser.get(f"/viewings?view={view}")
        assert page.status_code == 200
        shown = card(page, viewing_id)
        assert "23:00–23:30" in shown
        assert "Sunny T2 in Graça with terrace" in shown
        assert "Kenji Sato" in shown
        assert "Confirmed" in shown
        assert "Times are in Asia/Tokyo." in text_of(page)

    async def test_today_leaves_out_tomorrow_and_the_week_has_seven_days(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        tomorrow = await viewing(db, api_account, local_today_at(10) + timedelta(days=1))
        today = await browser.get("/viewings?view=today")
        assert str(tomorrow) not in today.text
        week = await browser.get("/viewings?view=week")
        assert week.text.count("<h2>") == 7
        # Tomorrow is in this week unless today is Sunday.
        sunday = utcnow().astimezone(TOKYO).weekday() == 6
        assert (str(tomorrow) in week.text) is not sunday
        assert str(tomorrow) in (await browser.get("/viewings?view=list")).text

    async def test_other_days_and_weeks_are_a_link_away_and_actions_come_back_to_them(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        later = local_today_at(10) + timedelta(days=9)
        viewing_id = await viewing(db, api_account, later, status="requested")
        day = later.astimezone(TOKYO).date()
        today = await browser.get("/viewings?view=today")
        after = (day - timedelta(days=9) + timedelta(days=1)).isoformat()
        assert f'href="/viewings?view=today&amp;day={after}">Next day' in today.text
        shown = await browser.get(f"/viewings?view=today&day={day.isoformat()}")
        assert str(viewing_id) in shown.text
        assert f"<h2>{day.strftime('%A %-d %B')}</h2>" in shown.text
        week = await browser.get(f"/viewings?view=week&day={day.isoformat()}")
        assert str(viewing_id) in week.text
        monday = day - timedelta(days=day.weekday())
        assert f'day={(monday + timedelta(days=7)).isoformat()}">Next week' in week.text
        assert str(viewing_id) not in (await browser.get("/viewings?view=week")).text
        response = await act(browser, viewing_id, "confirm", view="today", day=day.isoformat())
        assert response.headers["location"] == (
            f"/viewings?view=today&day={day.isoformat()}&done=viewing-confirmed"
        )

    async def test_a_viewing_from_a_conversation_links_to_its_thread(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
    ) -> None:
        said = await client.post(
            "/api/v1/simulator/messages", headers=api_account.headers, json={"text": "hello"}
        )
        assert said.status_code == 202, said.text
        [conversation] = (
            await client.get("/api/v1/conversations", headers=api_account.headers)
        ).json()
        linked = await viewing(
            db, api_account, local_today_at(12), conversation_id=uuid.UUID(conversation["id"])
        )
        unlinked = await viewing(db, api_account, local_today_at(13))
        page = await browser.get("/viewings?view=today")
        assert f'href="/inbox/{conversation["id"]}"' in card(page, linked)
        assert "/inbox/" not in card(page, unlinked)

    async def test_the_list_is_paged(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        start = local_today_at(9) + timedelta(days=1)
        ids = [await viewing(db, api_account, start + timedelta(hours=n)) for n in range(21)]
        first = await browser.get("/viewings?view=list")
        assert [str(i) in first.text for i in ids] == [True] * 20 + [False]
        assert "page=2" in first.text
        second = await browser.get("/viewings?view=list&page=2")
        assert str(ids[20]) in second.text
        assert str(ids[0]) not in second.text

    async def test_actions_are_the_ones_the_status_allows(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        soon = local_today_at(9) + timedelta(days=2)
        requested = await viewing(db, api_account, soon, status="requested")
        # Local midnight has always passed: this one has started, and it is today's.
        started = await viewing(db, api_account, local_today_at(0))
        waiting = await viewing(db, api_account, soon + timedelta(hours=1))
        cancelled = await viewing(db, api_account, soon, status="cancelled")
        page = await browser.get("/viewings?view=list")
        forms = {
            name: re.findall(r'action="/viewings/[^/]+/([a-z-]+)"', card(page, name))
            for name in (requested, started, waiting, cancelled)
        }
        assert forms == {
            requested: ["confirm", "decline", "reschedule", "cancel"],
            started: ["reschedule", "cancel", "done", "no-show"],
            waiting: ["reschedule", "cancel"],
            cancelled: [],
        }

    @pytest.mark.parametrize("query", ["view=month", "page=0", "page=x", "day=2031-02-30"])
    async def test_a_view_no_page_links_to_is_refused(
        self, browser: httpx.AsyncClient, query: str
    ) -> None:
        assert (await browser.get(f"/viewings?{query}")).status_code == 422

    async def test_signed_out_goes_to_the_login_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/viewings")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


class TestTheActions:
    @pytest.mark.parametrize(
        ("status", "action", "after", "notice"),
        [
            ("requested", "confirm", "confirmed", "Viewing approved."),
            ("requested", "decline", "cancelled", "Viewing declined."),
            ("confirmed", "cancel", "cancelled", "Viewing cancelled."),
        ],
    )
    async def test_an_allowed_change_is_made_and_told(
        self,
        browser: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        status: str,
        action: str,
        after: str,
        notice: str,
    ) -> None:
        viewing_id = await viewing(
            db, api_account, local_today_at(9) + timedelta(days=3), status=status
        )
        response = await act(browser, viewing_id, action)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/viewings?view=week&done=viewing-")
        assert (await status_of(browser, api_account, viewing_id))["status"] == after
        assert notice in text_of(await browser.get(response.headers["location"]))

    @pytest.mark.parametrize(("action", "after"), [("done", "done"), ("no-show", "no_show")])
    async def test_a_started_viewing_is_marked(
        self,
        browser: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        action: str,
        after: str,
    ) -> None:
        viewing_id = await viewing(db, api_account, utcnow() - timedelta(minutes=40))
        assert (await act(browser, viewing_id, action)).status_code == 303
        assert (await status_of(browser, api_account, viewing_id))["status"] == after

    async def test_rescheduling_takes_the_time_in_the_accounts_zone(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        viewing_id = await viewing(db, api_account, local_today_at(9) + timedelta(days=3))
        response = await act(browser, viewing_id, "reschedule", starts_at="2031-03-03T18:30")
        assert response.status_code == 303, response.text
        moved = await status_of(browser, api_account, viewing_id)
        # 18:30 in Tokyo is 09:30Z.
        assert datetime.fromisoformat(moved["starts_at"]) == datetime(2031, 3, 3, 9, 30, tzinfo=UTC)

    async def test_a_refused_change_says_why_and_changes_nothing(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        viewing_id = await viewing(db, api_account, local_today_at(9) + timedelta(days=3))
        before = await status_of(browser, api_account, viewing_id)
        response = await act(browser, viewing_id, "confirm")
        assert response.status_code == 409
        assert "Nothing was changed: this viewing is confirmed now, so it cannot be approved." in (
            text_of(response)
        )
        assert await status_of(browser, api_account, viewing_id) == before

    async def test_done_before_the_start_is_refused(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        viewing_id = await viewing(db, api_account, utcnow() + timedelta(hours=2))
        response = await act(browser, viewing_id, "done")
        assert response.status_code == 409
        assert "only once it has started" in text_of(response)
        assert (await status_of(browser, api_account, viewing_id))["status"] == "confirmed"

    async def test_a_taken_slot_offers_the_next_free_ones_and_changes_nothing(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        slot = next_weekday_at(11)
        await viewing(db, api_account, slot, customer_name="Taken")
        moving = await viewing(db, api_account, slot + timedelta(hours=3))
        before = await status_of(browser, api_account, moving)
        typed = slot.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")
        response = await act(browser, moving, "reschedule", starts_at=typed)
        assert response.status_code == 409
        assert "Nothing was changed: that time is already booked." in text_of(response)
        # The viewing slots are the defaults (weekdays 09:00–19:00 in the zone), 30 minutes each.
        offers = re.findall(r"Move to ([^<]+)</button>", response.text)
        assert [offer.rsplit(", ", 1)[1] for offer in offers] == ["11:30", "12:00", "12:30"]
        assert await status_of(browser, api_account, moving) == before
        # An offered time moves it.
        first = re.search(r'name="starts_at" value="([^"]+)"', response.text)
        assert first is not None
        moved = await act(browser, moving, "reschedule", starts_at=first.group(1))
        assert moved.status_code == 303
        after = await status_of(browser, api_account, moving)
        assert datetime.fromisoformat(after["starts_at"]) == slot + timedelta(minutes=30)

    async def test_a_time_in_the_past_or_not_a_time_is_refused(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        viewing_id = await viewing(db, api_account, local_today_at(9) + timedelta(days=3))
        before = await status_of(browser, api_account, viewing_id)
        past = await act(browser, viewing_id, "reschedule", starts_at="2020-01-01T10:00")
        assert past.status_code == 422
        assert "choose a time from now on" in text_of(past)
        nonsense = await act(browser, viewing_id, "reschedule", starts_at="next tuesday")
        assert nonsense.status_code == 422
        assert "Enter the new date and time" in text_of(nonsense)
        assert await status_of(browser, api_account, viewing_id) == before

    async def test_the_customer_is_told_and_a_refusal_tells_nobody(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
    ) -> None:
        said = await client.post(
            "/api/v1/simulator/messages", headers=api_account.headers, json={"text": "hello"}
        )
        assert said.status_code == 202, said.text
        [conversation] = (
            await client.get("/api/v1/conversations", headers=api_account.headers)
        ).json()
        conversation_id = uuid.UUID(conversation["id"])
        runtime = app.state.app_state.runtime
        await drained(runtime, conversation_id)
        viewing_id = await viewing(
            db,
            api_account,
            next_weekday_at(11),
            status="requested",
            conversation_id=conversation_id,
        )
        assert (await act(browser, viewing_id, "confirm")).status_code == 303
        assert await templates_sent(db, conversation_id) == TOLD
        await drained(runtime, conversation_id)
        assert (await act(browser, viewing_id, "confirm")).status_code == 409
        await drained(runtime, conversation_id)
        assert await templates_sent(db, conversation_id) == TOLD

    async def test_another_accounts_viewing_is_404_and_unchanged(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        other_account: ApiAccount,
    ) -> None:
        theirs = await viewing(
            db, other_account, local_today_at(9) + timedelta(days=3), status="requested"
        )
        for action in ("confirm", "decline", "cancel", "reschedule", "done", "no-show"):
            response = await act(browser, theirs, action, starts_at="2031-03-03T10:00")
            assert response.status_code == 404, action
            assert "not yours" in response.text
        assert (await status_of(client, other_account, theirs))["status"] == "requested"

    async def test_an_action_without_the_csrf_token_is_refused(
        self, browser: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        viewing_id = await viewing(db, api_account, local_today_at(9) + timedelta(days=3))
        response = await browser.post(f"/viewings/{viewing_id}/cancel", data={"view": "list"})
        assert response.status_code == 403
        assert (await status_of(browser, api_account, viewing_id))["status"] == "confirmed"
