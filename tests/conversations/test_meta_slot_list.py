"""Viewing times offered on Meta go as a list message; a tap on a row books that time through
the assistant's own booking path; Green API keeps the numbered text (docs/decisions.md, 33)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tests.conversations.harness import Service, customer_text, drained, wait_until
from tests.conversations.meta_harness import MetaService
from tests.conversations.test_meta_window import meta_text, outbound, set_mode
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.slot_choices import row_id, with_choice
from whatsapp_assistant.conversations.states import Author, MessageStatus
from whatsapp_assistant.properties.models import Property

TITLE = "Sunny T2 in Graça with terrace"
ASK = "I'd like to see the Graça flat, are you free on Saturday?"


def list_reply(row: dict[str, Any]) -> dict[str, Any]:
    """Ana tapping `row` of a list we sent, as Graph posts it."""
    payload = meta_text("")  # from the same customer as the texts
    [message] = payload["entry"][0]["changes"][0]["value"]["messages"]
    del message["text"]
    message["type"] = "interactive"
    reply = {"id": row["id"], "title": row["title"]}
    if row.get("description"):
        reply["description"] = row["description"]
    message["interactive"] = {"type": "list_reply", "list_reply": reply}
    return payload


async def _conversation_id(service: MetaService) -> uuid.UUID:
    async with service.db.session_scope() as session:
        conversation_id: uuid.UUID = (await session.execute(select(Conversation.id))).scalar_one()
    return conversation_id


async def _ask(service: MetaService, text: str = ASK) -> dict[str, Any]:
    """The list the assistant answered with."""
    before = len(service.graph.sent_messages)
    await service.post_webhook(meta_text(text))
    await service.wait_for_sends(before + 1)
    await drained(service.runtime, await _conversation_id(service))
    sent = service.graph.sent_messages[-1]
    assert sent["type"] == "interactive", sent
    interactive: dict[str, Any] = sent["interactive"]
    return interactive


async def _offered(service: MetaService) -> list[datetime]:
    async with service.db.session_scope() as session:
        stmt = select(Message.data).where(Message.author == Author.AI)
        data = (await session.execute(stmt.order_by(Message.created_at.desc()))).scalars().first()
    assert data is not None
    return [datetime.fromisoformat(slot) for slot in data["offer"]["slots"]]


async def _tap(service: MetaService, row: dict[str, Any]) -> None:
    before = len(service.graph.sent_messages)
    await service.post_webhook(list_reply(row))
    await service.wait_for_sends(before + 1)
    await drained(service.runtime, await _conversation_id(service))


async def _listed_viewings(service: MetaService) -> list[dict[str, Any]]:
    response = await service.client.get("/api/v1/viewings", headers=service.account.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def _rows(interactive: dict[str, Any]) -> list[dict[str, Any]]:
    [section] = interactive["action"]["sections"]
    rows: list[dict[str, Any]] = section["rows"]
    return rows


class TestTheOfferOnMeta:
    async def test_the_offer_is_a_list_of_exactly_the_offered_free_times(
        self, meta_service: MetaService
    ) -> None:
        interactive = await _ask(meta_service)
        offered = await _offered(meta_service)

        assert interactive["type"] == "list"
        rows = _rows(interactive)
        assert [row["id"] for row in rows] == [row_id(_listing_id(rows), s) for s in offered]
        assert all(row["title"].startswith("Sat ") for row in rows)
        assert {row["description"] for row in rows} == {TITLE}
        body = interactive["body"]["text"]
        assert f"I can show you *{TITLE}* at:" in body and "1) Sat" in body
        [row] = [r for r in await outbound(meta_service) if r.author == Author.AI]
        assert row.text == body  # the thread keeps the text

    async def test_tapping_the_second_row_books_that_time_and_the_confirmation_follows(
        self, meta_service: MetaService
    ) -> None:
        rows = _rows(await _ask(meta_service))
        offered = await _offered(meta_service)

        await _tap(meta_service, rows[1])

        [viewing] = await _listed_viewings(meta_service)
        assert datetime.fromisoformat(viewing["starts_at"]) == offered[1]
        assert viewing["status"] == "confirmed"
        texts = [m["text"]["body"] for m in meta_service.graph.sent_messages if m["type"] == "text"]
        assert any(f"Your viewing of *{TITLE}* is booked for Saturday" in t for t in texts)
        await wait_until(
            lambda: any(m["type"] == "document" for m in meta_service.graph.sent_messages)
        )

    async def test_a_long_listing_title_is_trimmed_in_the_rows_never_refused(
        self, meta_service: MetaService
    ) -> None:
        long_title = "Bright three-bedroom family apartment with a river view " * 2
        async with meta_service.db.session_scope() as session:
            listing = (await session.execute(select(Property))).scalar_one()
            listing.title = long_title.strip()
        rows = _rows(await _ask(meta_service, "Can I visit the Graça apartment on Saturday?"))
        assert all(len(row["description"]) == 72 for row in rows)
        assert all(row["description"].endswith("…") for row in rows)


class TestTapsThatNameNoOfferedTime:
    async def test_a_row_of_another_listing_books_nothing_and_says_so(
        self, meta_service: MetaService
    ) -> None:
        rows = _rows(await _ask(meta_service))
        offered = await _offered(meta_service)
        elsewhere = {"id": row_id(uuid.uuid4(), offered[0]), "title": rows[0]["title"]}

        await _tap(meta_service, elsewhere)

        assert await _listed_viewings(meta_service) == []
        last = meta_service.graph.sent_messages[-1]
        assert last["type"] == "text"
        assert "no longer offered" in last["text"]["body"]
        # The offer still holds: a tap on its own row books it.
        await _tap(meta_service, rows[0])
        [viewing] = await _listed_viewings(meta_service)
        assert datetime.fromisoformat(viewing["starts_at"]) == offered[0]

    async def test_a_time_no_longer_in_the_offer_books_nothing(
        self, meta_service: MetaService
    ) -> None:
        first = _rows(await _ask(meta_service))
        await _ask(meta_service, "Do you have Monday instead?")
        offered = await _offered(meta_service)
        stale = [row for row in first if datetime.fromisoformat(row["id"][-25:]) not in offered]
        assert stale

        await _tap(meta_service, stale[0])

        assert await _listed_viewings(meta_service) == []
        assert "no longer offered" in meta_service.graph.sent_messages[-1]["text"]["body"]


class TestTakeover:
    async def test_a_takeover_before_the_send_cancels_the_list(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(meta_text("Olá"))
        await meta_service.wait_for_sends(1)
        conversation_id = await _conversation_id(meta_service)
        await drained(meta_service.runtime, conversation_id)
        async with meta_service.db.session_scope() as session:
            listing = (await session.execute(select(Property))).scalar_one()
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            offer = {
                "property_id": str(listing.id),
                "title": listing.title,
                "zone": "Europe/Lisbon",
                "slots": ["2026-12-12T10:00:00+00:00"],
                "viewing_id": None,
            }
            [row] = outbox.queue_automated(
                session,
                conversation,
                "1) Sat 12 Dec, 10:00",
                author=Author.AI,
                max_length=4096,
                data=with_choice({"offer": offer}, language="en"),
            )
        await set_mode(meta_service, "human")

        assert await outbox.send_message(meta_service.runtime, row.id) == "skipped"

        async with meta_service.db.session_scope() as session:
            stored = await session.get(Message, row.id)
            assert stored is not None and stored.status == MessageStatus.CANCELLED
        assert meta_service.graph.sent_interactive == []


class TestTheOfferOnGreenAPI:
    async def test_the_same_offer_goes_as_its_numbered_text(self, service: Service) -> None:
        await service.post_webhook(customer_text(ASK))
        await wait_until(lambda: len(service.green_api.sent_messages) == 1)
        [conversation] = await service.conversations()
        await drained(service, conversation.id)

        [sent] = service.green_api.sent_messages
        assert f"I can show you *{TITLE}* at:" in sent["message"]
        assert "1) Sat" in sent["message"] and "2) Sat" in sent["message"]


def _listing_id(rows: list[dict[str, Any]]) -> uuid.UUID:
    return uuid.UUID(rows[0]["id"].split(":")[1])
