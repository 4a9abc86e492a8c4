"""Invariant 3 under load: a reply the AI was still drafting is never sent after a takeover.

Sixty customers write within six seconds; the fake model takes 1-2 s over each draft. Fifty
conversations are taken over through the API at a random moment while their draft is in flight,
ten are left alone and must get their reply in the same run (so the test can fail). On a loaded
machine a takeover call can outlast a 1-2 s draft, so for half of the fifty the fake also holds
its answer until just after the takeover returned: those always race the guarded commit. On
PostgreSQL the drafts are made by three real `whatsapp-assistant worker` processes.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import JAMES, Service, drained, wait_until
from tests.fakes.anthropic_server import FakeAnthropic, error_response, text_reply
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.llm_base import JSON, FakeResponse
from tests.races.conftest import (
    LISTING,
    Processes,
    claude,
    claude_env,
    conversation_ids,
    customer_text,
    is_postgres,
    messages_of,
    sends_to,
    serving,
)
from tests.races.tcp_proxy import cuttable_proxy
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

TAKEN_OVER = 50
LEFT_ALONE = 10
DRAFT_SECONDS = (1.0, 2.0)
TAKEOVER_WITHIN = 0.8  # seconds after the model got the request: always inside the draft
STAGGER_SECONDS = 0.1  # customers write over 6 s, so takeovers do not all queue up at once
HELD_EXTRA_SECONDS = 0.3  # a held draft answers this long (at most) after its takeover returned
WORKER_PROCESSES = 3
_TAG = re.compile(r"\[chat (\d{3})\]")


def chat_of(index: int) -> str:
    return f"35191{index:07d}@c.us"


class SlowDrafts:
    """The fake model's responder: each draft takes a random 1-2 s and names a listing.

    It runs in the fake server's thread (one per request) and tells the test's event loop which
    chat's request has arrived. A held chat's answer also waits until the test releases it."""

    def __init__(self, seed: int, chats: range, *, held: set[int]) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self.arrived = {index: asyncio.Event() for index in chats}
        self._held = {index: threading.Event() for index in held}
        self.answer_due: dict[int, float] = {}  # chat index -> when its answer leaves the fake

    def release(self, index: int) -> None:
        if index in self._held:
            self._held[index].set()

    def __call__(self, body: JSON) -> FakeResponse:
        tags = _TAG.findall(json.dumps(body.get("messages", [])))
        index = int(tags[-1]) if tags else -1
        with self._lock:
            delay = self._random.uniform(*DRAFT_SECONDS)
            extra = self._random.uniform(0, HELD_EXTRA_SECONDS)
            self.answer_due[index] = time.monotonic() + delay
        if index in self.arrived:
            self._loop.call_soon_threadsafe(self.arrived[index].set)
        if index in self._held:
            time.sleep(delay)
            self._held[index].wait(timeout=30)
            time.sleep(extra)
            delay = 0.0
            with self._lock:
                self.answer_due[index] = time.monotonic()
        reply = text_reply(f"For chat {index:03d}: the {LISTING}, €372,000, is available.")
        return FakeResponse(reply.status, reply.body, reply.headers, delay)

    @property
    def last_answer_due(self) -> float:
        with self._lock:
            return max(self.answer_due.values(), default=0.0)


@dataclass(frozen=True)
class Takeover:
    returned_at: float
    sent_before: int  # messages the chat had received when the takeover call returned


@pytest.fixture
async def service(
    database_url: str,
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    fake_anthropic: FakeAnthropic,
    processes: Processes,
) -> AsyncIterator[Service]:
    """SQLite: one process, jobs in it. PostgreSQL: the API here, jobs in three workers."""
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    postgres = is_postgres(database_url)
    here = claude(settings, fake_anthropic, worker_in_process=not postgres)
    async with serving(here, db, api_account, fake_green_api) as running:
        if postgres:
            await processes.workers(WORKER_PROCESSES, **claude_env(fake_anthropic))
        yield running


class TestTakeoverDuringDraft:
    """reply._commit's conditional UPDATE (mode = ai and the version the draft was read at, in
    the transaction of the outbox insert), with control.take_over bumping the version and
    cancelling queued AI rows, and outbox._claim refusing AI rows of a human conversation."""

    async def test_reply_still_being_drafted_is_never_sent_after_the_takeover_returned(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        seed = random.randrange(1_000_000)
        context = f"(random seed {seed})"
        everyone = range(TAKEN_OVER + LEFT_ALONE)
        pick = random.Random(seed)
        chosen = set(pick.sample(everyone, TAKEN_OVER))
        held = set(pick.sample(sorted(chosen), TAKEN_OVER // 2))
        drafts = SlowDrafts(seed, everyone, held=held)
        fake_anthropic.responder = drafts
        takeovers: dict[int, Takeover] = {}

        async def customer(index: int) -> None:
            await asyncio.sleep(index * STAGGER_SECONDS)
            text = f"[chat {index:03d}] Hello, I am looking for a 2 bedroom flat to buy in Lisbon"
            answer = await service.post_webhook(
                customer_text(chat_of(index), f"3EB0RACE{index:012d}", text)
            )
            assert answer.status_code == 200, answer.text
            if index in chosen:
                conversation_id = (await conversation_ids(service.db))[chat_of(index)]
                await asyncio.wait_for(drafts.arrived[index].wait(), timeout=30)
                await asyncio.sleep(pick.uniform(0, TAKEOVER_WITHIN))
                takeovers[index] = await _take_over(service, chat_of(index), conversation_id)
                drafts.release(index)

        await asyncio.gather(*(customer(index) for index in everyone))
        left_alone = [index for index in everyone if index not in chosen]
        await wait_until(
            lambda: all(sends_to(service.green_api, chat_of(i)) for i in left_alone), within=30
        )
        # Wait out every draft still in flight, and the commit and send that would follow it.
        await asyncio.sleep(max(0.0, drafts.last_answer_due - time.monotonic()) + 1.5)

        for index in left_alone:
            [reply] = sends_to(service.green_api, chat_of(index))
            assert f"chat {index:03d}" in reply and LISTING in reply, context
        late = {
            index: sends_to(service.green_api, chat_of(index))
            for index, takeover in takeovers.items()
            if len(sends_to(service.green_api, chat_of(index))) != takeover.sent_before
        }
        assert late == {}, f"AI replies sent after the takeover returned {context}"
        await _assert_dropped(service, drafts, takeovers, context)
        assert held <= {i for i, t in takeovers.items() if t.returned_at < drafts.answer_due[i]}


async def _assert_dropped(
    service: Service, drafts: SlowDrafts, takeovers: dict[int, Takeover], context: str
) -> None:
    """A takeover that returned before the model even answered leaves no AI message but
    cancelled ones. (A takeover call that ended after its draft may have seen the reply go out
    before it returned, which is allowed.)"""
    mid_draft = [i for i, t in takeovers.items() if t.returned_at < drafts.answer_due[i]]
    ids = await conversation_ids(service.db)
    for index in mid_draft:
        assert takeovers[index].sent_before == 0, (index, context)
        rows = await messages_of(service.db, ids[chat_of(index)], author="ai")
        assert {row.status for row in rows} <= {"cancelled"}, (index, context)
    listed = await service.client.get(
        "/api/v1/conversations", headers=service.account.headers, params={"limit": 200}
    )
    modes = {row["id"]: row["mode"] for row in listed.json()}
    assert {modes[str(ids[chat_of(index)])] for index in takeovers} == {"human"}


async def _take_over(service: Service, chat_id: str, conversation_id: uuid.UUID) -> Takeover:
    answer = await service.client.post(
        f"/api/v1/conversations/{conversation_id}/mode",
        headers=service.account.headers,
        json={"mode": "human"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["mode"] == "human"
    return Takeover(time.monotonic(), len(sends_to(service.green_api, chat_id)))


WIRE_SECONDS = 1.5
HELLO = "Hello, I am looking for a 2 bedroom flat to buy in Lisbon"


@pytest.fixture
async def offline_service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    # Recovery once an hour: a periodic run must not tidy up the row the tests leave behind.
    quiet = tuned(settings, recovery_every_seconds=3600)
    async with serving(quiet, db, api_account, fake_green_api) as running:
        yield running


class TestTakeoverDuringSend:
    """actions._take_over waits after its commit (control.wait_for_inflight_ai) for an AI send
    that was already claimed: the call returns only once that send has finished."""

    async def test_takeover_while_the_reply_is_on_the_wire_returns_after_it_was_delivered(
        self, offline_service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.delay_next(WIRE_SECONDS)  # Green API holds the sendMessage call
        await offline_service.post_webhook(customer_text(JAMES, "3EB0WIRE000000000001", HELLO))
        await wait_until(lambda: any("/sendMessage/" in r.path for r in fake_green_api.requests))
        [conversation_id] = (await conversation_ids(offline_service.db)).values()

        started = time.monotonic()
        taken = await offline_service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=offline_service.account.headers,
            json={"mode": "human"},
        )
        took = time.monotonic() - started
        assert taken.status_code == 200, taken.text
        delivered_before_return = len(fake_green_api.sent_messages)
        await drained(offline_service, conversation_id)
        assert delivered_before_return == len(fake_green_api.sent_messages) == 1
        assert took >= WIRE_SECONDS / 2

    async def test_send_left_on_the_wire_by_a_dead_process_does_not_hold_up_the_takeover(
        self, offline_service: Service, settings: Settings
    ) -> None:
        """A row left 'sending' longer than SEND_STALE_AFTER_SECONDS ago is, by the system's
        own rule (recovery.recover), abandoned by a dead process, not a send in flight: waiting
        for it keeps the agent's takeover call hanging for control.INFLIGHT_WAIT_SECONDS."""
        await offline_service.post_webhook(customer_text(JAMES, "3EB0DEAD000000000001", HELLO))
        await offline_service.wait_for_sends(1)
        [conversation_id] = (await conversation_ids(offline_service.db)).values()
        stale = settings.send.stale_after_seconds
        async with offline_service.db.session_scope() as session:
            await session.execute(
                update(Message)
                .where(Message.conversation_id == conversation_id, Message.author == "ai")
                .values(
                    status="sending",
                    provider_message_id=None,
                    claimed_at=utcnow() - timedelta(seconds=stale + 60),
                )
            )

        started = time.monotonic()
        taken = await offline_service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=offline_service.account.headers,
            json={"mode": "human"},
        )
        assert taken.status_code == 200, taken.text
        assert time.monotonic() - started < 2.0


OUTAGE_CHATS = 24  # taken over while the model is down
OUTAGE_LEFT_ALONE = 6  # must get their holding notice, once, in the same run
OUTAGE_RETRIES = 1  # so each reply makes two 503'd calls before it gives up
OUTAGE_BACKOFF = 0.1
OUTAGE_WIRE = (0.3, 0.8)  # Green API holds each sendMessage this long
OUTAGE_TAKEOVER_WITHIN = 1.0  # seconds after the model's last 503: spans queue, claim and wire
OUTAGE_STAGGER = 0.12


class Overloaded:
    """The fake model's responder during an outage: every call answers 503 (a 429 or 529 would
    only slow the queue down, tests/races/test_rate_limits.py). The test learns when a chat's
    last attempt has been refused, which is when the assistant gives up and queues its holding
    notice."""

    def __init__(self, chats: range, attempts: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._attempts = attempts
        self.calls: dict[int, int] = {}
        self.gave_up = {index: asyncio.Event() for index in chats}

    def __call__(self, body: JSON) -> FakeResponse:
        tags = _TAG.findall(json.dumps(body.get("messages", [])))
        index = int(tags[-1]) if tags else -1
        with self._lock:
            self.calls[index] = self.calls.get(index, 0) + 1
            last = self.calls[index] >= self._attempts
        if last and index in self.gave_up:
            self._loop.call_soon_threadsafe(self.gave_up[index].set)
        return error_response(503)


def outage_settings(settings: Settings, fake: FakeAnthropic, **changes: object) -> Settings:
    return claude(
        settings,
        fake,
        llm_outage_retries=OUTAGE_RETRIES,
        llm_outage_backoff_seconds=OUTAGE_BACKOFF,
        **changes,
    )


def outage_env(fake: FakeAnthropic) -> dict[str, str]:
    return claude_env(fake) | {
        "LLM_OUTAGE_RETRIES": str(OUTAGE_RETRIES),
        "LLM_OUTAGE_BACKOFF_SECONDS": str(OUTAGE_BACKOFF),
    }


@dataclass
class OutageRace:
    """Customers write while the model is down; most are taken over around the moment the
    assistant gives up, the rest are left alone. `during` runs alongside (a database cut)."""

    service: Service
    fake_anthropic: FakeAnthropic
    seed: int

    async def run(self, during: Callable[[], Awaitable[None]] | None = None) -> None:
        everyone = range(OUTAGE_CHATS + OUTAGE_LEFT_ALONE)
        pick = random.Random(self.seed)
        chosen = set(pick.sample(everyone, OUTAGE_CHATS))
        overloaded = Overloaded(everyone, OUTAGE_RETRIES + 1)
        self.fake_anthropic.responder = overloaded
        for _ in range(3 * len(everyone)):  # notices and alerts alike are slow on the wire
            self.service.green_api.delay_next(pick.uniform(*OUTAGE_WIRE))
        takeovers: dict[int, Takeover] = {}

        async def customer(index: int) -> None:
            await asyncio.sleep(index * OUTAGE_STAGGER)
            text = f"[chat {index:03d}] {HELLO}"
            await _deliver(self.service, customer_text(chat_of(index), _outage_id(index), text))
            if index in chosen:
                conversation_id = (await conversation_ids(self.service.db))[chat_of(index)]
                await asyncio.wait_for(overloaded.gave_up[index].wait(), timeout=60)
                await asyncio.sleep(pick.uniform(0, OUTAGE_TAKEOVER_WITHIN))
                takeovers[index] = await _take_over_until_answered(
                    self.service, chat_of(index), conversation_id
                )

        work = [customer(index) for index in everyone]
        await asyncio.gather(*work, *([during()] if during else []))
        ids = await conversation_ids(self.service.db)
        await drained(self.service, *ids.values(), within=90)
        await self._check(ids, takeovers, [i for i in everyone if i not in chosen])

    async def _check(
        self, ids: dict[str, uuid.UUID], takeovers: dict[int, Takeover], left_alone: list[int]
    ) -> None:
        context = f"(random seed {self.seed})"
        late = {
            index: sends_to(self.service.green_api, chat_of(index))[takeover.sent_before :]
            for index, takeover in takeovers.items()
            if len(sends_to(self.service.green_api, chat_of(index))) != takeover.sent_before
        }
        assert late == {}, f"automated messages reached customers after the takeover {context}"
        for index in left_alone:  # the outage path ran, and nothing was lost or doubled
            assert len(sends_to(self.service.green_api, chat_of(index))) == 1, (index, context)
        raced = 0
        for index in takeovers:
            rows = await messages_of(self.service.db, ids[chat_of(index)], direction="out")
            sent = [row for row in rows if row.status == "sent"]
            assert len(sent) == len(sends_to(self.service.green_api, chat_of(index))) <= 1
            assert {row.status for row in rows} <= {"sent", "cancelled"}, (index, context)
            raced += bool(rows)
        # The race was run: some takeovers came after the notice was queued, not all before.
        assert raced > 0, context


# What a request meets while the database is unreachable.
DOWN = (httpx.TransportError, DBAPIError)


def _outage_id(index: int) -> str:
    return f"3EB0DOWN{index:012d}"


async def _deliver(service: Service, payload: dict[str, object]) -> None:
    """Post a webhook as Green API does: again until it is answered 200."""
    for _ in range(200):
        try:
            answer: httpx.Response | None = await service.post_webhook(payload)
        except DOWN:  # in process, the app's 500 arrives as its exception
            answer = None
        if answer is not None and answer.status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"webhook {payload['idMessage']} never answered 200")


async def _take_over_until_answered(
    service: Service, chat_id: str, conversation_id: uuid.UUID
) -> Takeover:
    """The agent's takeover, retried as a person would while the service answers an error;
    what counts is the moment it answered 200."""
    for _ in range(200):
        try:
            answer: httpx.Response | None = await service.client.post(
                f"/api/v1/conversations/{conversation_id}/mode",
                headers=service.account.headers,
                json={"mode": "human"},
            )
        except DOWN:  # in process, the app's 500 arrives as its exception
            answer = None
        if answer is not None and answer.status_code == 200:
            assert answer.json()["mode"] == "human"
            return Takeover(time.monotonic(), len(sends_to(service.green_api, chat_id)))
        await asyncio.sleep(0.1)
    raise AssertionError(f"takeover of {conversation_id} never answered 200")


@pytest.fixture
async def outage_service(
    database_url: str,
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    fake_anthropic: FakeAnthropic,
    processes: Processes,
) -> AsyncIterator[Service]:
    """SQLite: one process. PostgreSQL: the API here, the jobs in real worker processes."""
    postgres = is_postgres(database_url)
    here = outage_settings(settings, fake_anthropic, worker_in_process=not postgres)
    async with serving(here, db, api_account, fake_green_api) as running:
        if postgres:
            await processes.workers(WORKER_PROCESSES, **outage_env(fake_anthropic))
        yield running


class TestTakeoverDuringOutage:
    """The model answers 503, the assistant gives up and queues its holding notice (author
    system) while the agent takes over: outbox.queue_automated stamps the notice with the
    version, control.take_over cancels it or waits for its send, outbox._claim refuses it."""

    async def test_holding_notice_never_reaches_the_customer_after_the_takeover_returned(
        self, outage_service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        await OutageRace(outage_service, fake_anthropic, random.randrange(1_000_000)).run()


CUT_AFTER = 1.5  # seconds into the race: some customers written, some takeovers under way
CUT_FOR = 0.25  # shorter than a send on the wire, so no sent row is left looking unsent


@pytest.mark.postgres
class TestTakeoverDuringDatabaseRestart:
    """The same race with every database connection of the API process (webhooks, takeovers
    and their in-flight wait) cut mid-way and then let through again, through a loopback proxy
    (the shared PostgreSQL server is never restarted): the guard holds, and
    control.wait_for_inflight_automated waits the outage out instead of giving up. The worker
    processes connect directly."""

    async def test_holding_notice_never_follows_a_takeover_across_a_database_restart(
        self,
        database_url: str,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_anthropic: FakeAnthropic,
        processes: Processes,
    ) -> None:
        assert is_postgres(database_url)  # marked `postgres`: the SQLite pass deselects it
        async with cuttable_proxy(database_url) as (proxy, proxied_url):
            here = outage_settings(
                settings,
                fake_anthropic,
                database_url=proxied_url,
                worker_in_process=False,
                send_stale_after_seconds=5,
            )

            async def restart() -> None:
                await asyncio.sleep(CUT_AFTER)
                proxy.cut()
                await asyncio.sleep(CUT_FOR)
                proxy.restore()

            async with serving(here, db, api_account, fake_green_api) as running:
                await processes.workers(
                    WORKER_PROCESSES,
                    **outage_env(fake_anthropic),
                    RECOVERY_EVERY_SECONDS="2",
                    SEND_STALE_AFTER_SECONDS="5",
                )
                race = OutageRace(running, fake_anthropic, random.randrange(1_000_000))
                await race.run(during=restart)
        assert proxy.cuts == 1
