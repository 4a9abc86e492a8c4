"""Invariant 2: a process that dies mid-work is recovered from the rows, with the same result.

The customer gets exactly one reply whether the process drafting it is SIGKILLed (a worker on
PostgreSQL, `serve` with its embedded jobs on SQLite), or the embedded service is stopped and
started again mid-draft; a send left 'sending' by a dead process is sent once when stale, unless
the provider's echo showed it got through.
"""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import create_channel, create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    ANA,
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
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.races.conftest import (
    LISTING,
    Process,
    Processes,
    claude,
    claude_env,
    customer_text,
    is_postgres,
    serving,
)
from tests.races.tcp_proxy import cuttable_proxy
from tests.settings import tuned
from whatsapp_assistant.app import running_services
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import InboundMessage
from whatsapp_assistant.config import QUEUES, Settings
from whatsapp_assistant.conversations import recovery
from whatsapp_assistant.conversations.ingest import IngestResult, ingest_message, ingest_webhook
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

HANG_SECONDS = 3.0
DEAD_DRAFT = "Drafted by the process that died: must never reach the customer."
RECOVERED_DRAFT = f"The {LISTING} is available: €372,000, 2 bedrooms."
# A dead worker is noticed after 2 s without a heartbeat; recovery runs every second.
FAST_RECOVERY = {
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "WORKER_STALLED_AFTER_SECONDS": "2",
    "RECOVERY_EVERY_SECONDS": "1",
}
STALE_SECONDS = 3.0
STUCK_TEXT = "The viewing is confirmed for Saturday at 11:00."


@pytest.fixture
async def listing(db: Database, api_account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)


def _scripted(fake: FakeAnthropic) -> None:
    """The first draft hangs (the process dies meanwhile); any later one answers at once."""
    fake.queue_hang(HANG_SECONDS, DEAD_DRAFT)
    fake.responder = lambda _body: RECOVERED_DRAFT


async def _exactly_one_reply(green_api: FakeGreenAPI, db: Database) -> None:
    await wait_until(lambda: bool(green_api.sent_messages), within=30)
    await rows_settled(db)  # every process's work is done: a second reply could come no more
    assert [sent["message"] for sent in green_api.sent_messages] == [RECOVERED_DRAFT]
    assert green_api.sent_messages[0]["chatId"] == JAMES


@pytest.mark.usefixtures("listing")
class TestProcessKilledMidDraft:
    """PostgreSQL: JobQueue.retry_stalled (heartbeats) puts the dead worker's job back, and the
    recovery re-derives the reply from the rows; SQLite: the start-up recovery does. Either way
    the draft that died is never sent, and the answered_through guard keeps it to one reply."""

    async def test_reply_in_flight_when_the_process_was_killed_is_sent_exactly_once(
        self,
        database_url: str,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_anthropic: FakeAnthropic,
        processes: Processes,
    ) -> None:
        _scripted(fake_anthropic)
        if is_postgres(database_url):
            await _kill_a_worker_mid_draft(
                settings, db, api_account, fake_green_api, fake_anthropic, processes
            )
        else:
            await _kill_serve_mid_draft(api_account, fake_green_api, fake_anthropic, processes)
            # The embedded default comes back: its start-up recovery re-derives the reply.
            async with running_services(claude(settings, fake_anthropic), run_worker_here=True):
                await _exactly_one_reply(fake_green_api, db)
        assert len(fake_anthropic.requests) == 2  # the dead draft, then one more


async def _kill_a_worker_mid_draft(
    settings: Settings,
    db: Database,
    account: ApiAccount,
    green_api: FakeGreenAPI,
    fake: FakeAnthropic,
    processes: Processes,
) -> None:
    """PostgreSQL: the API here, the jobs in two worker processes; the one drafting is SIGKILLed
    and a new one started. The dead worker's job is retried once its heartbeat is stale
    (JobQueue.retry_stalled), while the survivor's recovery has been re-deriving the reply."""
    env = claude_env(fake) | FAST_RECOVERY
    here = claude(settings, fake, worker_in_process=False)
    async with serving(here, db, account, green_api) as service:
        workers: dict[int, Process] = {}  # procrastinate's worker id -> its process
        for _ in range(2):  # one at a time, so each registers before the next starts
            known = await _worker_ids(db)
            [worker] = await processes.workers(1, **env)
            await eventually(functools.partial(_registered_all_queues, db, known), within=30)
            workers |= dict.fromkeys(await _worker_ids(db) - known, worker)
        assert (await service.post_webhook(fixture("incoming_text"))).status_code == 200
        await wait_until(lambda: len(fake.requests) == 1, within=20)
        workers[await _job_query(db, DRAFTING_WORKER)].kill()
        await processes.workers(1, **env)
        await _exactly_one_reply(green_api, db)


DRAFTING_WORKER = (
    "SELECT worker_id FROM procrastinate_jobs"
    " WHERE task_name = 'conversations.reply' AND status = 'doing'"
)


async def _worker_ids(db: Database) -> set[int]:
    """procrastinate's registered workers: a process registers one per queue it works."""
    async with db.session_scope() as session:
        return set((await session.execute(text("SELECT id FROM procrastinate_workers"))).scalars())


async def _registered_all_queues(db: Database, known: set[int]) -> bool:
    return len(await _worker_ids(db) - known) == len(QUEUES)


async def _job_query(db: Database, sql: str) -> int:
    """One number from procrastinate's tables (which worker is which, who holds a job)."""
    async with db.session_scope() as session:
        value: int = (await session.execute(text(sql))).scalar_one()
        return value


async def _kill_serve_mid_draft(
    account: ApiAccount, green_api: FakeGreenAPI, fake: FakeAnthropic, processes: Processes
) -> None:
    """SQLite: `serve` runs the jobs itself; it is SIGKILLed while the model is drafting."""
    process, base = await processes.serve(**claude_env(fake))
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        channel = await http.post(
            "/api/v1/channels",
            headers=account.headers,
            json={
                "type": "green_api",
                "id_instance": INSTANCE,
                "api_token": green_api.token,
                "api_url": green_api.base_url,
                "webhook_token": WEBHOOK_TOKEN,
            },
        )
        assert channel.status_code == 201, channel.text
        hook = await http.post(
            "/webhooks/green-api",
            json=fixture("incoming_text"),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )
        assert hook.status_code == 200, hook.text
    await wait_until(lambda: len(fake.requests) == 1, within=20)
    process.kill()


@pytest.mark.usefixtures("listing")
class TestServiceRestartedMidDraft:
    """Stopping running_services waits for the draft in flight (procrastinate's graceful
    shutdown); its send job dies with the in-memory queue on SQLite and the start-up recovery
    sends the queued row, while on PostgreSQL the send job itself survives. One reply either way.
    """

    async def test_stopping_the_service_while_the_model_drafts_still_replies_exactly_once(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_anthropic: FakeAnthropic,
    ) -> None:
        """The embedded default (jobs in the serving process) stopped while the model hangs:
        whatever the stop left behind (a draft, a queued send, nothing) becomes one reply."""
        await _store_without_a_job(db, api_account, fake_green_api)
        fake_anthropic.queue_hang(HANG_SECONDS, RECOVERED_DRAFT)
        fake_anthropic.responder = lambda _body: RECOVERED_DRAFT
        embedded = claude(settings, fake_anthropic)
        async with running_services(embedded, run_worker_here=True):
            await wait_until(lambda: len(fake_anthropic.requests) == 1, within=20)
        async with running_services(embedded, run_worker_here=True):
            await _exactly_one_reply(fake_green_api, db)


async def _store_without_a_job(db: Database, account: ApiAccount, fake: FakeGreenAPI) -> None:
    """A customer message committed by a process that died before its reply job ran."""
    [event] = parse_webhook(fixture("incoming_text")).events
    assert isinstance(event, InboundMessage)
    async with db.session_scope() as session:
        channel = await _channel(session, account, fake)
        await ingest_message(session, channel, event, IngestResult())


async def _channel(session: AsyncSession, account: ApiAccount, fake: FakeGreenAPI) -> Channel:
    return await create_channel(
        session, account.account_id, api_url=fake.base_url, api_token=fake.token
    )


async def _left_sending(
    db: Database, account: ApiAccount, fake: FakeGreenAPI, *, claimed_ago: float
) -> None:
    """An AI message a dead process had claimed ('sending') and may or may not have sent."""
    async with db.session_scope() as session:
        channel = await _channel(session, account, fake)
        conversation = await open_conversation(session, channel, JAMES, name="James Whitfield")
        session.add(
            Message(
                account_id=account.account_id,
                conversation_id=conversation.id,
                channel_id=channel.id,
                direction="out",
                author="ai",
                kind="text",
                text=STUCK_TEXT,
                status="sending",
                guard_version=conversation.version,  # queued under the version it read
                claimed_at=utcnow() - timedelta(seconds=claimed_ago),
                created_at=utcnow() - timedelta(seconds=60),
            )
        )


async def _stuck_row(db: Database) -> Message:
    async with db.session_scope() as session:
        [row] = (await session.execute(select(Message).where(Message.author == "ai"))).scalars()
        return row


class TestSendLeftSendingByADeadProcess:
    """recovery.recover puts a row left 'sending' (no echo, claimed longer ago than
    SEND_STALE_AFTER_SECONDS) back to 'queued'; delivery.reconcile_echo marks one whose echo
    webhook arrived as sent, so it is not sent twice (docs/architecture.md, invariant 5)."""

    @pytest.fixture
    def recovering(self, settings: Settings) -> Settings:
        return tuned(settings, send_stale_after_seconds=STALE_SECONDS, recovery_every_seconds=1)

    async def test_send_without_an_echo_is_sent_once_after_it_went_stale(
        self,
        recovering: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        await _left_sending(db, api_account, fake_green_api, claimed_ago=0)
        claimed = time.monotonic()
        async with running_services(recovering, run_worker_here=True) as runtime:
            await wait_until(lambda: bool(fake_green_api.sent_messages), within=STALE_SECONDS + 10)
            # Sooner, and it might have been on the wire still: it would go out twice.
            assert time.monotonic() - claimed >= STALE_SECONDS
            await drained(runtime)
            assert await recovery.recover(runtime) == (0, 0)  # later runs find nothing more
            await drained(runtime)
        assert [sent["message"] for sent in fake_green_api.sent_messages] == [STUCK_TEXT]
        row = await _stuck_row(db)
        assert row.status == "sent"
        assert row.provider_message_id is not None

    async def test_send_whose_echo_arrived_is_not_sent_again(
        self,
        recovering: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        await _left_sending(db, api_account, fake_green_api, claimed_ago=10)
        echo = fixture("outgoing_api")
        echo["messageData"]["textMessageData"]["textMessage"] = STUCK_TEXT
        async with db.session_scope() as session:
            channel = (await session.execute(select(Channel))).scalar_one()
            await ingest_webhook(session, channel, parse_webhook(echo), echo)

        async with running_services(recovering, run_worker_here=True) as runtime:
            await drained(runtime)  # start-up recovery has run before running_services yields
            assert await recovery.recover(runtime) == (0, 0)  # and so would any later run
            await drained(runtime)
        assert fake_green_api.sent_messages == []
        row = await _stuck_row(db)
        assert row.status == "sent"
        assert row.provider_message_id == echo["idMessage"]


@pytest.mark.postgres
@pytest.mark.usefixtures("listing")
class TestDatabaseCut:
    """jobs/worker.run_worker: a lost database ends procrastinate's worker with an error; it is
    started again once the database answers, so the customers who write after a PostgreSQL
    restart are still answered (before, the job queue stopped for good)."""

    async def test_messages_after_a_cut_of_every_database_connection_are_answered(
        self,
        database_url: str,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        assert is_postgres(database_url)  # marked `postgres`: the SQLite pass deselects it
        async with cuttable_proxy(database_url) as (proxy, proxied_url):
            through_proxy = tuned(settings, database_url=proxied_url, worker_in_process=True)
            async with serving(through_proxy, db, api_account, fake_green_api) as service:
                before = customer_text(JAMES, "3EB0BEFORECUT0000001", "Any flat in Graça?")
                assert (await service.post_webhook(before)).status_code == 200
                await service.wait_for_sends(1)

                proxy.cut()  # what a PostgreSQL restart does to every open connection
                await asyncio.sleep(1.0)
                proxy.restore()

                after = customer_text(ANA, "3EB0AFTERCUT00000001", "Olá, têm um T2 na Graça?")
                await _post_until_stored(service, after)
                sent = await service.wait_for_sends(2, within=60)
        assert [message["chatId"] for message in sent] == [JAMES, ANA]


async def _post_until_stored(service: Service, payload: dict[str, object]) -> None:
    """Green API re-sends what was not answered 200 (docs/providers.md, G3): so does this."""
    deadline = time.monotonic() + 30
    while (await service.post_webhook(payload)).status_code != 200:
        assert time.monotonic() < deadline, "the webhook never got through after the cut"
        await asyncio.sleep(0.5)
