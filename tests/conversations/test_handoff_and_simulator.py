"""The assistant hands over by itself, and the simulator plays a customer without WhatsApp."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, drained, eventually, fixture
from tests.fakes.anthropic_server import FakeAnthropic
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.escalation.models import Escalation


class TestHandoffToHuman:
    async def test_handoff_tool_switches_to_human_and_tells_the_customer_once(
        self, claude_service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.queue_tool_call(
            "handoff_to_human", {"reason": "negotiation", "detail": "offers 380k"}
        )
        payload = fixture("incoming_text")
        payload["messageData"]["textMessageData"]["textMessage"] = "Would they take 380k?"
        await claude_service.post_webhook(payload)

        [handoff] = await claude_service.wait_for_sends(1)
        assert handoff["chatId"] == "447700900123@c.us"
        [conversation] = await claude_service.conversations()
        assert conversation.mode == "human"
        async with claude_service.db.session_scope() as session:
            [escalation] = (await session.execute(select(Escalation))).scalars()
        assert escalation.reason == "negotiation"
        assert escalation.message_id is not None

        follow_up = fixture("incoming_text")
        follow_up["idMessage"] = "3EB0FFFFFFFFFFFFFFF1"
        await claude_service.post_webhook(follow_up)
        await drained(claude_service)
        assert len(claude_service.green_api.sent_messages) == 1  # silent while escalated

    async def test_model_outage_past_the_retries_escalates_with_one_holding_message(
        self, claude_service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.queue_error(503, count=10)  # down: a 429 or 529 would only slow it
        await claude_service.post_webhook(fixture("incoming_text"))

        [holding] = await claude_service.wait_for_sends(1)
        [conversation] = await claude_service.conversations()
        assert conversation.mode == "human"
        assert conversation.escalated
        async with claude_service.db.session_scope() as session:
            [escalation] = (await session.execute(select(Escalation))).scalars()
        assert escalation.reason == "ai_unavailable"
        assert holding["chatId"] == "447700900123@c.us"
        await drained(claude_service)
        assert len(claude_service.green_api.sent_messages) == 1
        [stored] = await claude_service.messages(author="customer")
        assert stored.text.startswith("Hi! I'm moving to Lisbon")


class TestSimulator:
    async def test_simulated_customer_gets_an_offline_reply_naming_a_listing(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            await create_property(session, api_account.account_id)
        response = await client.post(
            "/api/v1/simulator/messages",
            headers=api_account.headers,
            json={"text": "Hi! Looking to buy a 2 bedroom flat in Lisbon up to 400k"},
        )
        assert response.status_code == 202, response.text
        conversations = (
            await client.get("/api/v1/conversations", headers=api_account.headers)
        ).json()
        [conversation] = conversations
        assert conversation["contact"]["name"] == "Simulated customer"

        async def replied() -> bool:
            url = f"/api/v1/conversations/{conversation['id']}/messages"
            rows = (await client.get(url, headers=api_account.headers)).json()
            return any(m["author"] == "ai" and m["status"] == "sent" for m in rows)

        await eventually(replied)
        url = f"/api/v1/conversations/{conversation['id']}/messages"
        [_, reply] = (await client.get(url, headers=api_account.headers)).json()
        assert "Sunny T2 in Graça with terrace" in reply["text"]
        assert reply["data"]["offline"] is True

    async def test_simulator_refuses_an_empty_message(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await client.post(
            "/api/v1/simulator/messages", headers=api_account.headers, json={"text": "  "}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "text"
        listed = await client.get("/api/v1/conversations", headers=api_account.headers)
        assert listed.json() == []
