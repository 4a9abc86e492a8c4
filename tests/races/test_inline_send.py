"""The reply job sends the rows of its guarded commit itself (docs/decisions.md, 24): through
the same claim as a send job, so a takeover still stops it (docs/architecture.md, invariant 3)
and two senders never both send a row (invariant 5); retries and recovery keep their jobs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.builders import create_channel
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    drained,
    eventually,
    pending_jobs,
    wait_until,
)
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic, text_reply
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.llm_base import JSON, FakeResponse
from tests.races.conftest import conversation_ids, customer_text, messages_of
from tests.settings import tuned
from whatsapp_assistant.app import running_services
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations import outbox, recovery
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.recovery import STALE_QUEUED
from whatsapp_assistant.conversations.runtime import SEND_JOB
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

HELLO = "Hello, I am looking for a 2 bedroom flat to buy in Lisbon"
WIRE_SECONDS = 3.0  # Green API holds the first part this long: the takeover lands meanwhile
RETRY_AFTER = 2.0
# Longer than Green API's 20,000 characters (docs/providers.md, G8): the reply leaves in two parts.
LONG_REPLY = "Thank you for writing, I will look for flats in Lisbon for you. " * 400
STUCK_TEXT = "Here is the flat in Graça I mentioned."


def _no_send_worker(**changes: object) -> dict[str, object]:
    return {"worker_queues": ["reply", "maintenance"], **changes}


def _sends(green_api: FakeGreenAPI) -> list[str]:
    return [sent["message"] for sent in green_api.sent_messages]


class TestReplySentByItsJob:
    @pytest.fixture
    async def without_send_worker(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        # No process works the send queue: a reply that reaches Green API was sent by its job.
        async with start_claude(listing=True, **_no_send_worker()) as running:
            yield running

    async def test_reply_goes_out_once_although_nobody_works_the_send_queue(
        self, without_send_worker: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        await without_send_worker.post_webhook(customer_text(JAMES, "3EB0INLINE0000000001", HELLO))
        await without_send_worker.wait_for_sends(1)
        await drained(without_send_worker)
        [sent] = fake_green_api.sent_messages
        assert sent["chatId"] == JAMES
        [row] = await without_send_worker.messages(direction="out")
        assert (row.author, row.status, row.text) == ("ai", "sent", sent["message"])
        assert row.provider_message_id is not None
        assert not await pending_jobs(without_send_worker.runtime)  # no send job either

    async def test_a_send_job_or_recovery_after_the_reply_sent_its_row_sends_nothing(
        self, without_send_worker: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        await without_send_worker.post_webhook(customer_text(JAMES, "3EB0INLINE0000000002", HELLO))
        await without_send_worker.wait_for_sends(1)
        await drained(without_send_worker)
        [row] = await without_send_worker.messages(direction="out")

        runtime = without_send_worker.runtime
        assert await outbox.send_message(runtime, row.id) == "skipped"
        assert await recovery.recover(runtime, startup=True) == (0, 0)
        assert len(fake_green_api.sent_messages) == 1


async def _queued_ai_row(
    db: Database, account: ApiAccount, fake: FakeGreenAPI, *, age: float
) -> uuid.UUID:
    """An AI reply committed (queued, under the conversation's version) that no one sent yet:
    what a process that died between the commit and its send leaves behind."""
    async with db.session_scope() as session:
        channel = await create_channel(
            session, account.account_id, api_url=fake.base_url, api_token=fake.token
        )
        conversation = await open_conversation(session, channel, JAMES, name="James Whitfield")
        row = Message(
            account_id=account.account_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            direction="out",
            author="ai",
            kind="text",
            text=STUCK_TEXT,
            status="queued",
            guard_version=conversation.version,
            created_at=utcnow() - timedelta(seconds=age),
        )
        session.add(row)
        await session.flush()
        return row.id


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    # Recovery once an hour: only the runs a test starts itself re-defer anything.
    return tuned(settings, recovery_every_seconds=3600)


class TestTwoSendersOfOneRow:
    async def test_the_reply_and_a_send_job_at_once_send_it_once(
        self, quiet: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
    ) -> None:
        async with running_services(quiet, run_worker_here=True) as runtime:
            message_id = await _queued_ai_row(db, api_account, fake_green_api, age=0)
            await asyncio.gather(
                outbox.send_committed(runtime, [message_id]),
                outbox.send_message(runtime, message_id),
                outbox.send_message(runtime, message_id),
            )
            await drained(runtime)
        assert _sends(fake_green_api) == [STUCK_TEXT]
        assert [row.status for row in await _rows(db)] == ["sent"]


async def _rows(db: Database) -> list[Message]:
    async with db.session_scope() as session:
        stmt = select(Message).where(Message.author == "ai").order_by(Message.created_at)
        return list((await session.execute(stmt)).scalars())


class TestCrashBetweenCommitAndSend:
    """conversations/recovery.py: a queued row is re-deferred once it is older than
    STALE_QUEUED, and at start-up; sooner, its reply may be about to send it."""

    async def test_recovery_sends_a_row_left_queued_once_it_is_stale(
        self, quiet: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
    ) -> None:
        async with running_services(quiet, run_worker_here=True) as runtime:
            fresh = STALE_QUEUED.total_seconds() - 20
            await _queued_ai_row(db, api_account, fake_green_api, age=fresh)
            assert await recovery.recover(runtime) == (0, 0)  # its own reply may still send it
            await _age_rows(db, STALE_QUEUED.total_seconds() + 1)
            assert await recovery.recover(runtime) == (0, 1)
            await drained(runtime)
            assert await recovery.recover(runtime) == (0, 0)
            await drained(runtime)
        assert _sends(fake_green_api) == [STUCK_TEXT]
        [row] = await _rows(db)
        assert row.status == "sent"

    async def test_start_up_after_the_crash_sends_it_once(
        self, quiet: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
    ) -> None:
        await _queued_ai_row(db, api_account, fake_green_api, age=1)
        async with running_services(quiet, run_worker_here=True) as runtime:
            await wait_until(lambda: bool(fake_green_api.sent_messages))
            await drained(runtime)
        assert _sends(fake_green_api) == [STUCK_TEXT]
        [row] = await _rows(db)
        assert row.status == "sent"


async def _age_rows(db: Database, seconds: float) -> None:
    async with db.session_scope() as session:
        for row in (await session.execute(select(Message))).scalars():
            row.created_at = utcnow() - timedelta(seconds=seconds)


class TestTakeoverBetweenCommitAndSend:
    @pytest.fixture
    async def long_replies(
        self, start_claude: StartClaude, fake_anthropic: FakeAnthropic
    ) -> AsyncIterator[Service]:
        def long(_body: JSON) -> FakeResponse:
            return text_reply(LONG_REPLY)

        fake_anthropic.responder = long
        async with start_claude(listing=True, **_no_send_worker()) as running:
            yield running

    async def test_the_part_not_yet_sent_when_the_agent_took_over_never_leaves(
        self, long_replies: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        """Both parts are committed together; the first is on the wire when the takeover
        commits, so the second meets the takeover at its claim."""
        fake_green_api.delay_next(WIRE_SECONDS)
        await long_replies.post_webhook(customer_text(JAMES, "3EB0INLINE0000000003", HELLO))
        await wait_until(lambda: any("/sendMessage/" in r.path for r in fake_green_api.requests))
        [conversation_id] = (await conversation_ids(long_replies.db)).values()
        parts = await _parts(long_replies.db, conversation_id)
        assert [row.status for row in parts] == ["sending", "queued"]

        taken = await long_replies.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=long_replies.account.headers,
            json={"mode": "human"},
        )
        assert taken.status_code == 200, taken.text
        await drained(long_replies, conversation_id)
        first, second = await _parts(long_replies.db, conversation_id)
        assert (first.status, second.status) == ("sent", "cancelled")
        assert _sends(fake_green_api) == [first.text]


async def _parts(db: Database, conversation_id: uuid.UUID) -> list[Message]:
    """The reply's parts, the first (the longer: cut at the provider's limit) first."""
    rows = await messages_of(db, conversation_id, direction="out")
    return sorted(rows, key=lambda row: -len(row.text))


class TestFailedSendFromTheReply:
    @pytest.fixture
    async def failing_once(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        async with start_claude(
            listing=True,
            green_api_max_attempts=1,  # the client's own quick retries out of the way
            send_retry_delays_seconds=[RETRY_AFTER],
        ) as running:
            yield running

    async def test_is_retried_by_the_send_job_after_its_backoff(
        self, failing_once: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(503)
        await failing_once.post_webhook(customer_text(JAMES, "3EB0INLINE0000000004", HELLO))

        async def retry_waits_in_the_send_queue() -> bool:
            rows = await failing_once.messages(direction="out")
            jobs = await pending_jobs(failing_once.runtime)
            waiting = {
                job.task_kwargs.get("message_id") for job in jobs if job.task_name == SEND_JOB
            }
            return len(rows) == 1 and rows[0].status == "queued" and str(rows[0].id) in waiting

        await eventually(retry_waits_in_the_send_queue)
        failed_at = time.monotonic()
        await failing_once.wait_for_sends(1)
        assert time.monotonic() - failed_at >= RETRY_AFTER / 2  # not at once: after the backoff
        await drained(failing_once)
        assert len(fake_green_api.sent_messages) == 1
        assert sum("/sendMessage/" in r.path for r in fake_green_api.requests) == 2
        [row] = await failing_once.messages(direction="out")
        assert row.status == "sent"
        assert row.data["send_attempts"] == 1
