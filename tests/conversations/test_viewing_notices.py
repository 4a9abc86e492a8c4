"""The customer hears of every change of their viewing: in their language, in the account's zone,
with the address, a map link and an `.ics` invitation sent as a file through Green API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import JAMES, Service, customer_text, drained, wait_until
from tests.web.signin import sign_in
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings

BASE = "/api/v1/viewings"
# Three days on, at a whole hour: ahead of any notice period, and inside the agent's own time.
SOON = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


async def _conversation(service: Service, text: str = "Hello, I'm moving to Lisbon") -> str:
    """James's conversation, once the assistant has answered his first message."""
    await service.post_webhook(customer_text(text))
    await service.wait_for_sends(1)
    [conversation] = await service.conversations()
    await drained(service, conversation.id)
    return str(conversation.id)


async def _listing(service: Service, policy: str = "on") -> str:
    async with service.db.session_scope() as session:
        listing = await create_property(
            session,
            service.account.account_id,
            title="Loft in Alfama",
            neighborhood="Alfama",
            address="Rua dos Remédios 12",
            viewings=policy,
        )
        return str(listing.id)


async def _book(service: Service, listing_id: str, conversation_id: str | None) -> dict[str, Any]:
    body = {
        "property_id": listing_id,
        "starts_at": SOON.isoformat(),
        "customer_name": "James",
        "conversation_id": conversation_id,
    }
    response = await service.client.post(BASE, json=body, headers=service.account.headers)
    assert response.status_code == 201, response.text
    viewing: dict[str, Any] = response.json()
    return viewing


async def _post(service: Service, viewing_id: str, action: str, **body: Any) -> dict[str, Any]:
    response = await service.client.post(
        f"{BASE}/{viewing_id}/{action}", json=body or None, headers=service.account.headers
    )
    assert response.status_code == 200, response.text
    viewing: dict[str, Any] = response.json()
    return viewing


def _event(file: tuple[str, str, bytes]) -> icalendar.Event:
    filename, mime, content = file
    assert (filename, mime) == ("viewing.ics", "text/calendar")
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    return event


async def _settled(service: Service, conversation_id: str) -> None:
    await drained(service, uuid.UUID(conversation_id))


class TestTheCustomerIsTold:
    async def test_a_booking_sends_the_time_in_the_accounts_zone_and_an_invitation(
        self, service: Service
    ) -> None:
        conversation_id = await _conversation(service)
        viewing = await _book(service, await _listing(service), conversation_id)

        sent = await service.wait_for_sends(2)
        await wait_until(lambda: _has_files(service, 1))
        text = sent[-1]["message"]
        assert sent[-1]["chatId"] == JAMES
        assert "Your viewing of *Loft in Alfama* is booked for" in text
        local = SOON.astimezone(ZoneInfo("Europe/Lisbon"))
        assert local.strftime("%H:%M") in text
        assert "Rua dos Remédios 12, Alfama, Lisbon" in text
        assert "https://www.google.com/maps/search/" in text

        [upload] = service.green_api.sent_files
        assert upload["chatId"] == JAMES
        event = _event(upload["file"])
        assert event.start.tzinfo is not None
        assert str(event.start.tzinfo) == "Europe/Lisbon"
        assert event.start.astimezone(SOON.tzinfo) == SOON
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["UID"]).startswith(viewing["id"])

    async def test_a_move_sends_the_new_time_and_an_invitation_that_replaces_the_old_one(
        self, service: Service
    ) -> None:
        conversation_id = await _conversation(service)
        viewing = await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        later = SOON + timedelta(days=1)
        await _post(service, viewing["id"], "reschedule", starts_at=later.isoformat())

        await wait_until(lambda: _has_files(service, 2))
        assert "has moved to" in service.green_api.sent_messages[-1]["message"]
        first, moved = (_event(upload["file"]) for upload in service.green_api.sent_files)
        assert moved["UID"] == first["UID"]
        assert int(moved["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
        assert moved.start.astimezone(later.tzinfo) == later

    async def test_a_cancellation_tells_the_customer_and_cancels_the_calendar_event(
        self, service: Service
    ) -> None:
        conversation_id = await _conversation(service)
        viewing = await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        await _post(service, viewing["id"], "cancel")

        await wait_until(lambda: _has_files(service, 2))
        assert "had to be cancelled" in service.green_api.sent_messages[-1]["message"]
        assert str(_event(service.green_api.sent_files[-1]["file"])["STATUS"]) == "CANCELLED"

    async def test_a_request_waits_for_approval_without_an_invitation_until_confirmed(
        self, service: Service
    ) -> None:
        conversation_id = await _conversation(service)
        listing_id = await _listing(service, policy="approval")
        async with service.db.session_scope() as session:
            now = utcnow()
            [slot] = await viewings.free_for_listing(
                session,
                service.account.account_id,
                uuid.UUID(listing_id),
                start=now,
                end=now + timedelta(days=14),
                now=now,
                limit=1,
            )
            requested = await viewings.book(
                session,
                service.account.account_id,
                property_id=uuid.UUID(listing_id),
                starts_at=slot,
                customer_name="James",
                conversation_id=uuid.UUID(conversation_id),
                now=now,
            )
        await _post(service, str(requested.id), "confirm")

        await wait_until(lambda: _has_files(service, 1))
        assert "is confirmed" in service.green_api.sent_messages[-1]["message"]
        assert str(_event(service.green_api.sent_files[0]["file"])["STATUS"]) == "CONFIRMED"

    async def test_the_notice_is_in_the_conversations_language(self, service: Service) -> None:
        conversation_id = await _conversation(
            service, "Olá! Procuro um apartamento com dois quartos em Lisboa, perto do metro."
        )
        await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        text = service.green_api.sent_messages[-1]["message"]
        assert "A sua visita a *Loft in Alfama* está marcada para" in text


class TestNobodyToTell:
    async def test_a_booking_without_a_conversation_sends_nothing(self, service: Service) -> None:
        conversation_id = await _conversation(service)
        await _book(service, await _listing(service), None)
        await _settled(service, conversation_id)
        assert len(service.green_api.sent_messages) == 1  # only the first answer
        assert service.green_api.sent_files == []

    async def test_a_taken_over_conversation_still_hears_of_the_agents_change(
        self, service: Service
    ) -> None:
        # The agent's own change is the agent speaking: it goes in human mode too.
        conversation_id = await _conversation(service)
        response = await service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            json={"mode": "human"},
            headers=service.account.headers,
        )
        assert response.status_code == 200, response.text
        await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        async with service.db.session_scope() as session:
            rows = (
                await session.execute(
                    select(Message).where(
                        Message.conversation_id == uuid.UUID(conversation_id),
                        Message.kind == "document",
                    )
                )
            ).scalars()
            assert [row.data["file"]["filename"] for row in rows] == ["viewing.ics"]
            conversation = await session.get(Conversation, uuid.UUID(conversation_id))
            assert conversation is not None and conversation.mode == "human"


def _has_files(service: Service, count: int) -> bool:
    return len(service.green_api.sent_files) >= count


class TestTheAgentSeesTheInvitation:
    async def test_the_thread_links_the_file_as_the_customer_received_it(
        self, service: Service
    ) -> None:
        conversation_id = await _conversation(service)
        await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        async with service.db.session_scope() as session:
            [file_row] = (
                await session.execute(select(Message).where(Message.kind == "document"))
            ).scalars()
        url = f"/inbox/{conversation_id}/files/{file_row.id}"
        await sign_in(service.client, service.account.email)

        thread = await service.client.get(f"/inbox/{conversation_id}")
        assert f'href="{url}"' in thread.text and "📎 viewing.ics" in thread.text
        response = await service.client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        sent = service.green_api.sent_files[0]["file"]
        assert response.content == sent[2]

    async def test_another_accounts_file_or_a_message_without_one_answers_404(
        self, service: Service, other_account: ApiAccount
    ) -> None:
        conversation_id = await _conversation(service)
        await _book(service, await _listing(service), conversation_id)
        await wait_until(lambda: _has_files(service, 1))
        async with service.db.session_scope() as session:
            rows = list((await session.execute(select(Message))).scalars())
        file_id = next(row.id for row in rows if row.kind == "document")
        text_id = next(row.id for row in rows if row.kind == "text")
        await sign_in(service.client, other_account.email)
        stolen = await service.client.get(f"/inbox/{conversation_id}/files/{file_id}")
        assert stolen.status_code == 404, stolen.text
        service.client.cookies.clear()
        await sign_in(service.client, service.account.email)
        missing = await service.client.get(f"/inbox/{conversation_id}/files/{text_id}")
        assert missing.status_code == 404
