"""Claude books a viewing through its tools, against the fake Anthropic API: it sees each
listing's id, gets the agent's real free times, and can book only one of them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conversations.harness import Service, customer_text, drained, wait_until
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic, text_reply, tool_results, tool_use_reply
from whatsapp_assistant.conversations.assistant_tools import (
    NOT_OFFERED,
    TAKEN_OVER,
    ConversationTools,
)
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.models import Viewing

_ID = re.compile(r"id: ([0-9a-f-]{36})")
_SLOT = re.compile(r"- (\S+) \(")


@pytest.fixture
async def service(start_claude: StartClaude) -> AsyncIterator[Service]:
    async with start_claude(listing=True, llm_outage_backoff_seconds=0.01) as running:
        yield running


async def _listing_id(service: Service) -> uuid.UUID:
    async with service.db.session_scope() as session:
        return (await session.execute(select(Property.id))).scalar_one()


async def _free(service: Service, listing_id: uuid.UUID) -> list[datetime]:
    async with service.db.session_scope() as session:
        now = utcnow()
        return await viewings.free_for_listing(
            session,
            service.account.account_id,
            listing_id,
            start=now,
            end=now + timedelta(days=14),
            now=now,
            limit=6,
        )


async def _viewings(service: Service) -> list[Viewing]:
    async with service.db.session_scope() as session:
        return list((await session.execute(select(Viewing))).scalars())


def _offer_slots(fake: FakeAnthropic, seen: dict[str, Any]) -> None:
    """Claude's first turn: search, then find the listing's slots, then offer two of them."""
    fake.queue_response(tool_use_reply("search_properties", {"location": ["Graça"]}))

    def find(body: dict[str, Any]) -> Any:
        [found] = tool_results(body)
        seen["search"] = found
        return tool_use_reply("find_viewing_slots", {"property": _ID.findall(found)[0]})

    def offer(body: dict[str, Any]) -> Any:
        [found] = tool_results(body)
        seen["slots"] = _SLOT.findall(found)
        return text_reply(f"I can show it on {seen['slots'][0]} or {seen['slots'][1]}.")

    fake.queue(find)
    fake.queue(offer)


class TestClaudeBooks:
    async def test_the_free_times_come_from_the_agents_calendar_and_one_is_booked(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        listing_id = await _listing_id(service)
        seen: dict[str, Any] = {}
        _offer_slots(fake_anthropic, seen)
        await service.post_webhook(customer_text("Can I see the Graça flat this week?"))
        await service.wait_for_sends(1)

        assert f"id: {listing_id}" in seen["search"]
        free = await _free(service, listing_id)
        assert [datetime.fromisoformat(slot) for slot in seen["slots"]] == free

        # The next turn books the first time offered, without asking for the slots again.
        chosen = seen["slots"][0]
        book = {"property": str(listing_id), "slot": chosen, "name": "James"}
        fake_anthropic.queue_response(tool_use_reply("book_viewing", book))
        fake_anthropic.queue(lambda body: text_reply(f"Done! {tool_results(body)[0][:40]}"))
        await service.post_webhook(customer_text("The first one, please"))

        await wait_until(lambda: len(service.green_api.sent_files) == 1)
        [viewing] = await _viewings(service)
        assert viewing.starts_at == datetime.fromisoformat(chosen)
        assert (viewing.status, viewing.customer_name, viewing.booked_by) == (
            "confirmed",
            "James",
            "ai",
        )
        await service.wait_for_sends(3)  # the reply, and the confirmation notice beside it
        texts = [sent["message"] for sent in service.green_api.sent_messages]
        assert any("Your viewing of *Sunny T2 in Graça with terrace* is booked" in t for t in texts)
        assert any(t.startswith("Done! Booked and confirmed") for t in texts)

    async def test_a_time_the_tool_never_returned_is_refused_and_nothing_is_booked(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        listing_id = await _listing_id(service)
        invented = (await _free(service, listing_id))[0] + timedelta(minutes=7)
        book = {"property": str(listing_id), "slot": invented.isoformat(), "name": "James"}
        fake_anthropic.queue_response(tool_use_reply("book_viewing", book))
        fake_anthropic.queue(lambda body: text_reply(tool_results(body)[0]))
        await service.post_webhook(customer_text("Book me on Saturday at 11:07"))

        [sent] = await service.wait_for_sends(1)
        assert sent["message"] == NOT_OFFERED
        [conversation] = await service.conversations()
        await drained(service, conversation.id)
        assert await _viewings(service) == []
        assert service.green_api.sent_files == []


class TestBookingAfterATakeover:
    async def test_a_draft_that_read_the_conversation_before_the_takeover_books_nothing(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        listing_id = await _listing_id(service)
        await service.post_webhook(customer_text("Hello"))
        await service.wait_for_sends(1)
        [conversation] = await service.conversations()
        await drained(service, conversation.id)
        tools = ConversationTools(
            service.runtime, service.account.account_id, conversation.id, conversation.version
        )
        [slot, *_] = (await tools.viewing_slots(listing_id)).starts
        response = await service.client.post(
            f"/api/v1/conversations/{conversation.id}/mode",
            json={"mode": "human"},
            headers=service.account.headers,
        )
        assert response.status_code == 200, response.text

        booking = await tools.book_viewing(listing_id, slot, "James")

        assert (booking.status, booking.message) == ("refused", TAKEN_OVER)
        assert await _viewings(service) == []
        async with service.db.session_scope() as session:
            row = await session.get(Conversation, conversation.id)
            assert row is not None and row.mode == "human"
