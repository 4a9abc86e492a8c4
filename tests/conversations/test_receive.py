"""receive: one call stores a notification and, on commit, sets off its replies and notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conversations.harness import Service, fixture
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.conversations.receive import receive


async def _receive(service: Service, payload: dict[str, Any], *, raw: object) -> int:
    async with service.db.session_scope() as session:
        channel = (
            await session.execute(select(Channel).where(Channel.type == "green_api"))
        ).scalar_one()
        result = await receive(service.runtime, session, channel, parse_webhook(payload), raw=raw)
    return result.stored


class TestReceive:
    async def test_a_customer_message_is_stored_and_answered_after_commit(
        self, service: Service
    ) -> None:
        payload = fixture("incoming_text")
        assert await _receive(service, payload, raw=payload) == 1
        [sent] = await service.wait_for_sends(1)
        assert sent["chatId"] == payload["senderData"]["chatId"]

    async def test_stop_queues_its_confirmation_without_an_ai_reply(self, service: Service) -> None:
        payload = fixture("incoming_text")
        payload["messageData"] = {
            "typeMessage": "textMessage",
            "textMessageData": {"textMessage": "STOP"},
        }
        await _receive(service, payload, raw=payload)
        [sent] = await service.wait_for_sends(1)
        [confirmation] = await service.messages(author="system")
        assert sent["message"] == confirmation.text

    async def test_a_redelivered_body_is_stored_once(self, service: Service) -> None:
        payload = fixture("incoming_text")
        assert await _receive(service, payload, raw=payload) == 1
        assert await _receive(service, payload, raw=payload) == 0
        assert len(await service.messages(author="customer")) == 1
