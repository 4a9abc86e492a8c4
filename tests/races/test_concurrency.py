"""Concurrency and failure at the edges: redelivery storms, bursts, hand-back, provider outages.

Each class names the mechanism it guards; every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    INSTANCE,
    JAMES,
    WEBHOOK_TOKEN,
    Service,
    drained,
    eventually,
    fixture,
    rows_settled,
    wait_until,
)
from tests.fakes.anthropic_server import FakeAnthropic, error_response
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.llm_base import JSON, FakeResponse
from tests.races.conftest import (
    LISTING,
    Processes,
    claude,
    conversation_ids,
    customer_text,
    sends_to,
    serving,
)
from tests.settings import tuned
from whatsapp_assistant.channels.models import WebhookEvent
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database

CONNECTIONS = 8
BURST = (
    "Hi, I am looking for a flat in Lisbon",
    "2 bedrooms please",
    "ideally with a terrace",
    "budget around 380 thousand euros",
    "we could move in by March",
)
# Each message comes within the debounce window of the one before, the burst outlasts it.
# Each gap is well inside the debounce window (a loaded machine may stretch it by a second),
# while the whole burst (4 gaps) outlasts it: only waiting for quiet, not the job's delay
# alone, gives one reply.
DEBOUNCE_SECONDS = 2.0
BURST_GAP_SECONDS = 0.8
DRAFT = f"The {LISTING} fits: €372,000, 2 bedrooms, a terrace."


@pytest.fixture
async def listing(db: Database, api_account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)


@pytest.fixture
async def offline_service(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    listing: None,
) -> AsyncIterator[Service]:
    async with serving(settings, db, api_account, fake_green_api) as service:
        yield service


def _hook_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}


async def _count(db: Database, model: type[Any], **where: object) -> int:
    async with db.session_scope() as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int((await session.execute(stmt)).scalar_one())


async def _one_conversation_id(db: Database) -> uuid.UUID:
    [conversation_id] = (await conversation_ids(db)).values()
    return conversation_id


class TestRedeliveredAtOnce:
    """webhook_events' unique dedup_key and messages' unique provider id per conversation (plus
    the unique contact/conversation a first message opens): the losers of the race see a
    duplicate, never a 5xx."""

    async def test_same_webhook_on_eight_connections_at_once_is_stored_once_and_answered_once(
        self, offline_service: Service, db: Database
    ) -> None:
        answers = await asyncio.gather(
            *(offline_service.post_webhook(fixture("incoming_text")) for _ in range(CONNECTIONS))
        )
        assert [answer.status_code for answer in answers] == [200] * CONNECTIONS
        assert sum(answer.json()["stored"] for answer in answers) == 1
        await offline_service.wait_for_sends(1)
        await drained(offline_service)
        assert len(offline_service.green_api.sent_messages) == 1
        assert await _count(db, Message, author="customer") == 1
        assert await _count(db, WebhookEvent) == 1

    @pytest.mark.usefixtures("listing")
    async def test_same_webhook_on_eight_tcp_connections_to_a_real_server_is_answered_once(
        self,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        processes: Processes,
    ) -> None:
        """Through `whatsapp-assistant serve` over TCP (its own connection pool and jobs)."""
        _, base = await processes.serve()
        body = json.dumps(fixture("incoming_text")).encode()
        limits = httpx.Limits(max_connections=CONNECTIONS)
        async with httpx.AsyncClient(base_url=base, trust_env=False, limits=limits) as http:
            channel = await http.post(
                "/api/v1/channels",
                headers=api_account.headers,
                json={
                    "type": "green_api",
                    "id_instance": INSTANCE,
                    "api_token": fake_green_api.token,
                    "api_url": fake_green_api.base_url,
                    "webhook_token": WEBHOOK_TOKEN,
                },
            )
            assert channel.status_code == 201, channel.text
            answers = await asyncio.gather(
                *(
                    http.post("/webhooks/green-api", content=body, headers=_hook_headers())
                    for _ in range(CONNECTIONS)
                )
            )
        assert [answer.status_code for answer in answers] == [200] * CONNECTIONS
        assert sum(answer.json()["stored"] for answer in answers) == 1
        await wait_until(lambda: bool(fake_green_api.sent_messages), within=20)
        await rows_settled(db)
        assert len(fake_green_api.sent_messages) == 1
        assert await _count(db, Message, author="customer") == 1
        assert await _count(db, WebhookEvent) == 1


class TestBurstWithinTheDebounce:
    """The reply job's debounce (reply._wait_for_quiet: reply only after the customer has been
    quiet for REPLY_DEBOUNCE_SECONDS), one pending job per conversation (queueing_lock) and the
    answered_through guard: a burst gets one reply that reads it all."""

    async def test_five_messages_within_the_debounce_get_one_reply_that_read_all_five(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_anthropic: FakeAnthropic,
        listing: None,
    ) -> None:
        fake_anthropic.responder = lambda _body: DRAFT
        debounced = claude(settings, fake_anthropic, reply_debounce_seconds=DEBOUNCE_SECONDS)
        async with serving(debounced, db, api_account, fake_green_api) as service:
            for index, text in enumerate(BURST):
                answer = await service.post_webhook(
                    customer_text(JAMES, f"3EB0BURST{index:011d}", text)
                )
                assert answer.status_code == 200
                await asyncio.sleep(BURST_GAP_SECONDS)
            await service.wait_for_sends(1)
            await drained(service)  # a second reply would come by now
        assert [sent["message"] for sent in fake_green_api.sent_messages] == [DRAFT]
        [request] = fake_anthropic.requests
        for text in BURST:
            assert text in json.dumps(request.body["messages"], ensure_ascii=False)


class TestHandBack:
    """control.hand_back and actions.set_mode: a hand-back defers a reply for an unanswered
    customer message, unless the account chose answer_pending_on_hand_back = false."""

    async def _message_while_human(self, service: Service) -> uuid.UUID:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        conversation_id = await _one_conversation_id(service.db)
        await self._mode(service, conversation_id, "human")
        later = customer_text(JAMES, "3EB0WHILEHUMAN000001", "Is the flat in Graça still free?")
        assert (await service.post_webhook(later)).status_code == 200
        await drained(service, conversation_id)
        assert len(service.green_api.sent_messages) == 1  # silent while the agent has it
        return conversation_id

    async def _mode(self, service: Service, conversation_id: uuid.UUID, mode: str) -> None:
        answer = await service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=service.account.headers,
            json={"mode": mode},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["mode"] == mode

    async def test_hand_back_answers_the_customer_message_that_came_meanwhile(
        self, offline_service: Service
    ) -> None:
        conversation_id = await self._message_while_human(offline_service)
        await self._mode(offline_service, conversation_id, "ai")
        await offline_service.wait_for_sends(2)
        await drained(offline_service)
        assert len(offline_service.green_api.sent_messages) == 2

    async def test_hand_back_leaves_it_unanswered_when_the_account_says_so(
        self, offline_service: Service
    ) -> None:
        patched = await offline_service.client.patch(
            "/api/v1/account/settings",
            headers=offline_service.account.headers,
            json={"answer_pending_on_hand_back": False},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["answer_pending_on_hand_back"] is False
        conversation_id = await self._message_while_human(offline_service)
        await self._mode(offline_service, conversation_id, "ai")
        await drained(offline_service)
        assert len(offline_service.green_api.sent_messages) == 1
        # The assistant is back all the same: the next message gets its answer.
        newer = customer_text(JAMES, "3EB0AFTERHANDBACK001", "Any flat in Graça with 2 bedrooms?")
        await offline_service.post_webhook(newer)
        await offline_service.wait_for_sends(2)


class TestGreenApiThrottles:
    """GreenAPIAdapter._call retries 429 with backoff inside one claimed send: the customer gets
    the message once, the row ends 'sent'."""

    async def test_two_429_then_success_delivers_exactly_one_message(
        self, offline_service: Service, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        fake_green_api.fail_next(429, count=2)
        await offline_service.post_webhook(fixture("incoming_text"))
        await offline_service.wait_for_sends(1)
        await drained(offline_service)
        assert len(sends_to(fake_green_api, JAMES)) == 1
        send_calls = [r for r in fake_green_api.requests if "/sendMessage/" in r.path]
        assert len(send_calls) == 3
        conversation_id = await _one_conversation_id(db)

        async def marked_sent() -> bool:
            rows = await _messages_via_api(offline_service, conversation_id)
            return [row["status"] for row in rows if row["author"] == "ai"] == ["sent"]

        await eventually(marked_sent)


async def _messages_via_api(service: Service, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    answer = await service.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=service.account.headers
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


class TestGreenApiDown:
    """outbox._record_failure: a send that keeps failing is retried after each of
    SEND_RETRY_DELAYS_SECONDS (by real scheduled jobs), then ends 'failed' with the provider's
    error, visible in the inbox."""

    async def test_message_ends_failed_with_the_error_after_bounded_retries(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        listing: None,
    ) -> None:
        attempts_per_send = 2
        delays = (0.2, 0.2, 0.2)
        down = tuned(
            settings, green_api_max_attempts=attempts_per_send, send_retry_delays_seconds=delays
        )
        async with serving(down, db, api_account, fake_green_api) as service:
            fake_green_api.fail_next(503, count=10_000)
            await service.post_webhook(fixture("incoming_text"))
            conversation_id = await _one_conversation_id(db)

            async def ended_failed() -> bool:
                rows = await _messages_via_api(service, conversation_id)
                return any(row["author"] == "ai" and row["status"] == "failed" for row in rows)

            await eventually(ended_failed)
            await drained(service, conversation_id)  # no further try after 'failed'
            [failed] = [
                r for r in await _messages_via_api(service, conversation_id) if r["author"] == "ai"
            ]
        assert failed["status"] == "failed"
        assert "503" in failed["error"]
        assert _send_calls(fake_green_api) == attempts_per_send * (len(delays) + 1)
        assert fake_green_api.sent_messages == []


def _send_calls(green_api: FakeGreenAPI) -> int:
    return sum("/sendMessage/" in request.path for request in green_api.requests)


class TestModelOutage:
    """reply._draft_with_retries then the ai_unavailable hand-off: after LLM_OUTAGE_RETRIES the
    conversation is escalated and the customer gets one holding message, never silence."""

    async def test_overloaded_model_escalates_after_the_retries_with_one_holding_message(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_anthropic: FakeAnthropic,
        listing: None,
    ) -> None:
        def overloaded(_body: JSON) -> FakeResponse:
            return error_response(503)  # down: a 429 or 529 would only slow it

        fake_anthropic.responder = overloaded
        outage = claude(
            settings, fake_anthropic, llm_outage_retries=2, llm_outage_backoff_seconds=0.05
        )
        async with serving(outage, db, api_account, fake_green_api) as service:
            await service.post_webhook(fixture("incoming_text"))
            await service.wait_for_sends(1)
            await drained(service)
            listed = await service.client.get(
                "/api/v1/conversations",
                headers=service.account.headers,
                params={"escalated": "true"},
            )
        assert len(fake_anthropic.requests) == 3  # the first try and two outage retries
        [holding] = fake_green_api.sent_messages
        assert holding["chatId"] == JAMES
        [escalated] = listed.json()
        assert escalated["contact"]["chat_id"] == JAMES
        assert escalated["escalation_reason"] == "ai_unavailable"
        assert escalated["mode"] == "human"
