"""Backfill: messages a number received while nothing listened, read from Green API's journal and
stored once with the webhook's dedup key; recent ones answered, older ones flagged
(docs/decisions.md, 26)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.conftest import ApiAccount
from tests.conversations.harness import (
    ANA,
    FIXTURES,
    JAMES,
    Service,
    conversation_of,
    customer_text,
    drained,
    eventually,
    journal_entry,
    phone_journal_entry,
    start_service,
)
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.channels.models import Channel, WebhookEvent
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.backfill import backfill
from whatsapp_assistant.conversations.runtime import BACKFILL_JOB
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.escalation.models import Escalation

SIX_HOURS = timedelta(hours=6)


async def channel_id(db: Database) -> uuid.UUID:
    async with db.session_scope() as session:
        return (
            await session.execute(select(Channel.id).where(Channel.type == "green_api"))
        ).scalar_one()


def sends_per_chat(fake: FakeGreenAPI) -> Counter[str]:
    return Counter(body["chatId"] for body in fake.sent_messages)


class TestBackfill:
    async def test_recent_messages_are_stored_and_each_conversation_answered_once(
        self, service: Service, db: Database
    ) -> None:
        fake = service.green_api
        fake.add_incoming(journal_entry("Hi, is the T2 in Graça free?", minutes_ago=6))
        fake.add_incoming(journal_entry("And does it have a lift?", minutes_ago=5))
        fake.add_incoming(journal_entry("Olá, procuro um T1", chat_id=ANA, minutes_ago=10))

        report = await backfill(service.runtime, await channel_id(db), since=SIX_HOURS)
        await drained(service)

        assert (report.read, report.stored, report.known) == (3, 3, 0)
        assert (report.answered, report.flagged) == (2, 0)
        assert sends_per_chat(fake) == Counter({JAMES: 1, ANA: 1})
        texts = [m.text for m in await service.messages(author="customer")]
        assert texts == [
            "Olá, procuro um T1",
            "Hi, is the T2 in Graça free?",
            "And does it have a lift?",
        ]

    async def test_messages_older_than_the_answer_window_are_flagged_not_answered(
        self, service: Service, db: Database
    ) -> None:
        fake = service.green_api
        fake.add_incoming(journal_entry("Still available?", chat_id=ANA, minutes_ago=120))

        report = await backfill(service.runtime, await channel_id(db), since=SIX_HOURS)
        await drained(service)

        assert (report.stored, report.answered, report.flagged) == (1, 0, 1)
        assert fake.sent_messages == []
        conversation = await conversation_of(db, ANA)
        assert conversation.escalated
        assert conversation.last_inbound_at is None  # the recovery will not answer it either
        async with db.session_scope() as session:
            reasons = (await session.execute(select(Escalation.reason))).scalars().all()
        assert reasons == ["missed_message"]

    async def test_a_message_already_received_by_webhook_is_not_stored_again(
        self, service: Service, db: Database
    ) -> None:
        entry = journal_entry("Do you allow pets?", minutes_ago=3, message_id="3EB0SEENBYWEBHOOK01")
        service.green_api.add_incoming(entry)
        webhook = customer_text("Do you allow pets?", message_id="3EB0SEENBYWEBHOOK01")
        assert (await service.post_webhook(webhook)).status_code == 200
        await service.wait_for_sends(1)

        report = await backfill(service.runtime, await channel_id(db), since=SIX_HOURS)
        again = await backfill(service.runtime, await channel_id(db), since=SIX_HOURS)
        await drained(service)

        assert (report.known, report.stored) == (1, 0)
        assert (again.known, again.stored) == (1, 0)
        assert len(service.green_api.sent_messages) == 1
        assert len(await service.messages(author="customer")) == 1

    async def test_a_customer_the_agent_answered_from_the_phone_meanwhile_is_left_to_them(
        self, service: Service, db: Database
    ) -> None:
        fake = service.green_api
        fake.add_incoming(journal_entry("Is the Graça flat still free?", minutes_ago=20))
        fake.add_outgoing(phone_journal_entry("Yes James, it is. Rita here.", minutes_ago=15))
        fake.add_incoming(journal_entry("Olá, procuro um T1", chat_id=ANA, minutes_ago=10))
        # Our own API send in Ana's chat is already a row: it is not the agent typing.
        fake.add_outgoing(phone_journal_entry("Olá Ana!", chat_id=ANA, minutes_ago=9, by_api=True))

        report = await backfill(service.runtime, await channel_id(db), since=SIX_HOURS)
        await drained(service)

        assert (report.read, report.stored, report.answered) == (3, 3, 1)
        assert sends_per_chat(fake) == Counter({ANA: 1})
        james = await conversation_of(db, JAMES)
        assert james.mode == Mode.HUMAN
        assert (await conversation_of(db, ANA)).mode == Mode.AI
        texts = [m.text for m in await service.messages(author="human")]
        assert texts == ["Yes James, it is. Rita here."]

    async def test_backfill_and_webhooks_at_the_same_time_store_and_answer_each_once(
        self, service: Service, db: Database
    ) -> None:
        fake = service.green_api
        chats = [f"3519100000{n:02d}@c.us" for n in range(12)]
        ids = [f"3EB0OVERLAP{n:09d}" for n in range(12)]
        for chat, message_id in zip(chats, ids, strict=True):
            fake.add_incoming(
                journal_entry(
                    "Any flat near the river?", chat_id=chat, message_id=message_id, minutes_ago=2
                )
            )
        webhooks = [
            service.post_webhook(
                customer_text("Any flat near the river?", chat_id=chat, message_id=message_id)
            )
            for chat, message_id in zip(chats, ids, strict=True)
        ]

        results = await asyncio.gather(
            backfill(service.runtime, await channel_id(db), since=SIX_HOURS), *webhooks
        )
        await drained(service, within=60)

        report = results[0]
        assert report.stored + report.known == 12
        assert all(response.status_code == 200 for response in results[1:])
        assert sends_per_chat(fake) == Counter(dict.fromkeys(chats, 1))
        async with db.session_scope() as session:
            raw = await session.scalar(select(func.count()).select_from(WebhookEvent))
        assert raw == 12
        assert len(await service.messages(author="customer")) == 12


class TestAutomaticBackfill:
    async def test_a_number_linked_again_looks_for_what_it_missed(self, service: Service) -> None:
        service.green_api.add_incoming(journal_entry("Are you there?", chat_id=ANA))
        state = _state_webhook("authorized")
        assert (await service.post_webhook(state)).status_code == 200

        sent = await service.wait_for_sends(1)
        await drained(service)

        assert [body["chatId"] for body in sent] == [ANA]
        assert [m.text for m in await service.messages(author="customer")] == ["Are you there?"]

    async def test_a_start_looks_for_what_came_in_while_the_service_was_down(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        first = start_service(settings, db, api_account, fake_green_api)
        assert isinstance(first, AsyncGenerator)
        await anext(first)
        await first.aclose()  # connected, then stopped
        fake_green_api.add_incoming(journal_entry("Hello? Anyone?", chat_id=ANA))

        running = start_service(settings, db, api_account, fake_green_api, connect=False)
        assert isinstance(running, AsyncGenerator)
        again = await anext(running)
        try:
            await again.wait_for_sends(1)
            await drained(again)
        finally:
            await running.aclose()
        assert sends_per_chat(fake_green_api) == Counter({ANA: 1})

    async def test_messages_from_before_the_number_was_connected_are_left_alone(
        self, service: Service
    ) -> None:
        service.green_api.add_incoming(journal_entry("An old chat", chat_id=ANA, minutes_ago=90))
        assert (await service.post_webhook(_state_webhook("authorized"))).status_code == 200
        await _backfill_done(service)
        await drained(service)

        assert await service.messages(author="customer") == []


def _state_webhook(state: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / "state_changed.json").read_text())
    body["stateInstance"] = state
    body["timestamp"] = int(time.time())
    return body


async def _backfill_done(service: Service) -> None:
    """Until the backfill job has read the journal and finished."""

    async def read_and_idle() -> bool:
        asked = any("lastIncomingMessages" in r.path for r in service.green_api.requests)
        if not asked:
            return False
        manager = service.runtime.queue.app.job_manager
        jobs = [
            job
            for status in ("todo", "doing")
            for job in await manager.list_jobs_async(status=status)
            if job.task_name == BACKFILL_JOB
        ]
        return not jobs

    await eventually(read_and_idle)
