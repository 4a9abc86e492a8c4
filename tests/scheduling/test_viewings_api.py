"""/api/v1/viewings: the agent books by hand, lists, reads and changes viewings over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings

BASE = "/api/v1/viewings"


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# The agent books any future time; three days on is always ahead of the clock the routes read.
SOON = minute(utcnow() + timedelta(days=3))


async def listing(db: Database, account: ApiAccount, policy: str = "on") -> str:
    async with db.session_scope() as session:
        return str((await create_property(session, account.account_id, viewings=policy)).id)


async def create(
    client: httpx.AsyncClient, account: ApiAccount, listing_id: str, **body: Any
) -> httpx.Response:
    payload = {
        "property_id": listing_id,
        "starts_at": SOON.isoformat(),
        "customer_name": "Ana Sousa",
    } | body
    return await client.post(BASE, json=payload, headers=account.headers)


async def listed(client: httpx.AsyncClient, account: ApiAccount, **query: str) -> list[Any]:
    response = await client.get(BASE, params=query, headers=account.headers)
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


async def requested(db: Database, account: ApiAccount, property_id: str) -> str:
    """A customer's booking of an approval listing, at its first free slot."""
    async with db.session_scope() as session:
        now = utcnow()
        [slot] = await viewings.free_for_listing(
            session,
            account.account_id,
            uuid.UUID(property_id),
            start=now,
            end=now + timedelta(days=14),
            now=now,
            limit=1,
        )
        viewing = await viewings.book(
            session,
            account.account_id,
            property_id=uuid.UUID(property_id),
            starts_at=slot,
            customer_name="Bruno Lima",
            conversation_id=None,
            now=now,
        )
        return str(viewing.id)


class TestBookByHand:
    async def test_answers_the_viewing_confirmed_in_iso_with_its_offset(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        response = await create(client, api_account, property_id)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["starts_at"] == SOON.isoformat() and body["starts_at"].endswith("+00:00")
        assert datetime.fromisoformat(body["ends_at"]) == SOON + timedelta(minutes=30)
        assert (body["status"], body["booked_by"], body["customer_name"]) == (
            "confirmed",
            "agent",
            "Ana Sousa",
        )
        assert body["conversation_id"] is None
        read = await client.get(f"{BASE}/{body['id']}", headers=api_account.headers)
        assert read.json() == body

    async def test_a_time_given_in_another_offset_is_the_same_instant(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        in_madrid = SOON.astimezone(timezone(timedelta(hours=1)))
        response = await create(client, api_account, property_id, starts_at=in_madrid.isoformat())
        assert response.status_code == 201, response.text
        assert datetime.fromisoformat(response.json()["starts_at"]) == SOON

    async def test_a_taken_time_is_409_with_the_next_free_slots(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        await create(client, api_account, property_id)
        overlapping = (SOON + timedelta(minutes=10)).isoformat()
        response = await create(client, api_account, property_id, starts_at=overlapping)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("slot_taken", "starts_at")
        slots = [datetime.fromisoformat(slot) for slot in error["details"]["next_slots"]]
        assert slots and all(slot > SOON for slot in slots)
        assert len(await listed(client, api_account)) == 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"starts_at": SOON.replace(tzinfo=None).isoformat()}, "starts_at"),
            ({"starts_at": (SOON + timedelta(seconds=20)).isoformat()}, "starts_at"),
            ({"starts_at": "next tuesday"}, "starts_at"),
            ({"customer_name": ""}, "customer_name"),
            ({"customer_name": "x" * 121}, "customer_name"),
            ({"property_id": "not-an-id"}, "property_id"),
            ({"colour": "red"}, "colour"),
        ],
        ids=["naive", "seconds", "words", "no name", "long name", "bad id", "unknown field"],
    )
    async def test_bad_input_is_422_and_books_nothing(
        self,
        client: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        change: dict[str, Any],
        field: str,
    ) -> None:
        response = await create(client, api_account, await listing(db, api_account), **change)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
        assert await listed(client, api_account) == []

    async def test_a_past_time_is_refused(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        past = minute(utcnow() - timedelta(hours=1)).isoformat()
        response = await create(client, api_account, await listing(db, api_account), starts_at=past)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "slot_not_offered"
        assert await listed(client, api_account) == []

    async def test_another_accounts_listing_or_conversation_is_404(
        self,
        client: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        other_account: ApiAccount,
    ) -> None:
        theirs = await listing(db, other_account)
        response = await create(client, api_account, theirs)
        assert (response.status_code, response.json()["error"]["code"]) == (
            404,
            "property_not_found",
        )
        mine = await listing(db, api_account)
        response = await create(client, api_account, mine, conversation_id=str(uuid.uuid4()))
        assert (response.status_code, response.json()["error"]["code"]) == (
            404,
            "conversation_not_found",
        )
        assert await listed(client, api_account) == []


class TestList:
    async def test_filters_by_from_to_and_status_in_order_of_start(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        later, earlier = SOON + timedelta(days=2), SOON
        ids = {}
        for starts_at in (later, earlier, SOON + timedelta(days=1)):
            response = await create(
                client, api_account, property_id, starts_at=starts_at.isoformat()
            )
            ids[starts_at] = response.json()["id"]
        cancelled = ids[SOON + timedelta(days=1)]
        await client.post(f"{BASE}/{cancelled}/cancel", headers=api_account.headers)
        everything = await listed(client, api_account)
        assert [item["id"] for item in everything] == [ids[earlier], cancelled, ids[later]]
        window = {"from": (SOON + timedelta(hours=1)).isoformat(), "to": later.isoformat()}
        assert [item["id"] for item in await listed(client, api_account, **window)] == [cancelled]
        confirmed = await listed(client, api_account, status="confirmed")
        assert [item["id"] for item in confirmed] == [ids[earlier], ids[later]]

    @pytest.mark.parametrize(
        "query",
        [
            {"from": SOON.replace(tzinfo=None).isoformat()},
            {"to": "tomorrow"},
            {"status": "booked"},
            {"from": SOON.isoformat(), "to": SOON.isoformat()},
        ],
        ids=["naive from", "words", "unknown status", "empty window"],
    )
    async def test_a_bad_filter_is_422(
        self, client: httpx.AsyncClient, api_account: ApiAccount, query: dict[str, str]
    ) -> None:
        response = await client.get(BASE, params=query, headers=api_account.headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] in {f"query.{name}" for name in query}


class TestTransitions:
    async def test_confirm_and_decline_a_requested_viewing(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account, "approval")
        first = await requested(db, api_account, property_id)
        answer = await client.post(f"{BASE}/{first}/confirm", headers=api_account.headers)
        assert (answer.status_code, answer.json()["status"]) == (200, "confirmed")
        second = await requested(db, api_account, property_id)
        answer = await client.post(f"{BASE}/{second}/decline", headers=api_account.headers)
        assert (answer.json()["status"], answer.json()["cancel_reason"]) == (
            "cancelled",
            "declined",
        )

    @pytest.mark.parametrize("action", ["confirm", "decline", "done", "no-show"])
    async def test_a_refused_change_is_409_and_changes_nothing(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount, action: str
    ) -> None:
        # A confirmed viewing three days ahead: neither requested nor started.
        created = (await create(client, api_account, await listing(db, api_account))).json()
        answer = await client.post(f"{BASE}/{created['id']}/{action}", headers=api_account.headers)
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "viewing_transition_refused"
        read = await client.get(f"{BASE}/{created['id']}", headers=api_account.headers)
        assert read.json() == created

    async def test_cancel_frees_the_time_and_cannot_be_repeated(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        created = (await create(client, api_account, property_id)).json()
        url = f"{BASE}/{created['id']}/cancel"
        answer = await client.post(url, headers=api_account.headers)
        assert (answer.json()["status"], answer.json()["cancel_reason"]) == ("cancelled", "agent")
        assert (await client.post(url, headers=api_account.headers)).status_code == 409
        assert (await create(client, api_account, property_id)).status_code == 201

    async def test_reschedule_moves_it_and_grows_the_sequence(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        created = (await create(client, api_account, await listing(db, api_account))).json()
        later = SOON + timedelta(hours=2)
        answer = await client.post(
            f"{BASE}/{created['id']}/reschedule",
            json={"starts_at": later.isoformat()},
            headers=api_account.headers,
        )
        assert answer.status_code == 200, answer.text
        moved = answer.json()
        assert (datetime.fromisoformat(moved["starts_at"]), moved["sequence"]) == (later, 1)
        assert datetime.fromisoformat(moved["ends_at"]) == later + timedelta(minutes=30)

    @pytest.mark.parametrize(
        "body",
        [{"starts_at": SOON.replace(tzinfo=None).isoformat()}, {}, {"starts_at": None}],
        ids=["naive", "empty", "null"],
    )
    async def test_reschedule_with_bad_input_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        body: dict[str, Any],
    ) -> None:
        created = (await create(client, api_account, await listing(db, api_account))).json()
        answer = await client.post(
            f"{BASE}/{created['id']}/reschedule", json=body, headers=api_account.headers
        )
        assert answer.status_code == 422, answer.text
        read = await client.get(f"{BASE}/{created['id']}", headers=api_account.headers)
        assert read.json() == created

    async def test_an_unknown_viewing_is_404(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        unknown = f"{BASE}/{uuid.uuid4()}"
        for response in (
            await client.get(unknown, headers=api_account.headers),
            await client.post(f"{unknown}/cancel", headers=api_account.headers),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "viewing_not_found"


class TestListPages:
    async def test_the_list_comes_a_page_at_a_time_in_order_of_start(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        starts = [SOON + timedelta(hours=hours) for hours in (0, 2, 4)]
        for start in starts:
            response = await create(client, api_account, property_id, starts_at=start.isoformat())
            assert response.status_code == 201, response.text

        first = await listed(client, api_account, limit="2")
        rest = await listed(client, api_account, limit="2", offset="2")

        pages = [datetime.fromisoformat(v["starts_at"]) for v in [*first, *rest]]
        assert (len(first), len(rest), pages) == (2, 1, starts)

    @pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "501"}, {"offset": "-1"}])
    async def test_a_page_out_of_bounds_is_422(
        self, client: httpx.AsyncClient, api_account: ApiAccount, query: dict[str, str]
    ) -> None:
        response = await client.get(BASE, params=query, headers=api_account.headers)
        assert response.status_code == 422, response.text
