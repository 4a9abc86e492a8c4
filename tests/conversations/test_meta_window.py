"""Meta's 24-hour window: inside it the assistant answers free-form; a reply decided after it
closed is never tried free-form (the row fails, saying why), while Green API, which has no
window, sends in the same situation. The clock is moved (kit/clock.py), never slept on."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.conversations.harness import Service, customer_text, drained, fixture
from tests.conversations.meta_harness import MetaService, meta_fixture
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.states import Direction, MessageStatus
from whatsapp_assistant.conversations.window import CLOSED

Clock = Callable[[timedelta], None]


def meta_text(text: str) -> dict[str, Any]:
    """Ana's inbound_text with another text and a fresh wamid."""
    payload = copy.deepcopy(meta_fixture("inbound_text"))
    [message] = payload["entry"][0]["changes"][0]["value"]["messages"]
    message["id"] = "wamid." + uuid.uuid4().hex.upper()
    message["text"]["body"] = text
    return payload


async def outbound(db_service: MetaService | Service) -> list[Message]:
    async with db_service.db.session_scope() as session:
        stmt = select(Message).where(Message.direction == Direction.OUT)
        return list((await session.execute(stmt.order_by(Message.created_at))).scalars())


async def set_mode(service: MetaService | Service, mode: str) -> None:
    async with service.db.session_scope() as session:
        [conversation_id] = (await session.execute(select(Conversation.id))).scalars()
    response = await service.client.post(
        f"/api/v1/conversations/{conversation_id}/mode",
        headers=service.account.headers,
        json={"mode": mode},
    )
    assert response.status_code == 200, response.text


class TestInsideTheWindow:
    async def test_a_reply_within_24_hours_goes_free_form(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        await meta_service.post_webhook(meta_text("Olá, procuro um T2"))
        await meta_service.wait_for_sends(1)
        await meta_service.post_webhook(meta_text("Ainda está disponível?"))
        await meta_service.wait_for_sends(2)
        assert [m["type"] for m in meta_service.graph.sent_messages] == ["text", "text"]


class TestAfterTheWindowClosed:
    async def test_a_reply_decided_after_24_hours_is_not_sent_and_says_why(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        await meta_service.post_webhook(meta_text("Olá, procuro um T2"))
        await meta_service.wait_for_sends(1)
        await set_mode(meta_service, "human")
        await meta_service.post_webhook(meta_text("E com garagem?"))
        await drained(meta_service.runtime)
        clock(timedelta(hours=24, minutes=1))
        await set_mode(meta_service, "ai")  # the waiting message is answered now
        await drained(meta_service.runtime)

        rows = await outbound(meta_service)
        assert [row.status for row in rows] == [MessageStatus.SENT, MessageStatus.FAILED]
        assert rows[1].error == CLOSED
        assert len(meta_service.graph.sent_messages) == 1  # nothing tried free-form

    async def test_the_customers_next_message_opens_it_again(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        await meta_service.post_webhook(meta_text("Olá, procuro um T2"))
        await meta_service.wait_for_sends(1)
        clock(timedelta(hours=30))
        await meta_service.post_webhook(meta_text("Voltei: ainda tem o T2?"))
        await meta_service.wait_for_sends(2)
        assert meta_service.graph.sent_messages[1]["type"] == "text"

    async def test_green_api_has_no_window_and_sends(self, service: Service, clock: Clock) -> None:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        await set_mode(service, "human")
        await service.post_webhook(customer_text("And with parking?"))
        await drained(service)
        clock(timedelta(hours=24, minutes=1))
        await set_mode(service, "ai")
        await service.wait_for_sends(2)
        await drained(service)
        assert [row.status for row in await outbound(service)] == [MessageStatus.SENT] * 2
