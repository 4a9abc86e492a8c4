"""Rush hour on two machines: two `serve` and two `worker` processes on one PostgreSQL and Redis.

Three agencies, twenty customers each (the same twenty phone numbers write to every agency),
start writing within five seconds. Some customers send two or three messages at once, and some
first messages are delivered twice, once to each web process, as Green API re-sends what it is
unsure was received (docs/providers.md, G3). Every webhook goes over real HTTP to one of the two
`serve` processes in turn, as a load balancer would; the replies are drafted in two `worker`
processes by the fake model, each draft taking a moment, so dozens are in flight at once. Six
conversations per agency are taken over through one `serve` process while their draft is in
flight; for half of them the fake model answers only after the takeover call returned.

A burst is what a customer writes within the debounce window: all their messages are posted at
once, and if every one was answered 200 less than DEBOUNCE_SECONDS after the first was posted,
the reply job (deferred DEBOUNCE_SECONDS after the first commit, and waiting until the newest
message is that old) reads all of them, so they get exactly one reply (docs/architecture.md,
invariant 4). The fake model quotes the tags of the messages in the last customer turn, which
are the messages that reply answers.

Once the job queue has drained, the test checks, from the database, the fake Green API
instances and each agency's live stream: every message is stored once; every message of a
customer left alone is answered by exactly one reply, a burst by one reply; nothing automated
was committed after a takeover, nor reached a customer after the takeover call returned
(invariant 3); no reply was sent twice (invariant 5); every reply went to its own agency's
number, and each agency's stream carried its own events only (invariant 6).
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import ApiAccount, make_api_account
from tests.conversations.harness import WEBHOOK_TOKEN, drained, rows_settled
from tests.fakes.anthropic_server import FakeAnthropic, last_user_text, text_reply
from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api
from tests.fakes.llm_base import JSON, FakeResponse
from tests.races.conftest import LISTING, Processes, claude_env, customer_text
from tests.settings import tuned
from tests.web.sse import REDIS_URL, event_stream, unique_prefix
from whatsapp_assistant.app import running_services
from whatsapp_assistant.channels.models import WebhookEvent
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import (
    Contact,
    Conversation,
    ConversationEvent,
    Message,
)
from whatsapp_assistant.conversations.outbox import AUTOMATED
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Direction, MessageStatus, Mode
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.pubsub import RedisPubSub

pytestmark = pytest.mark.postgres

ACCOUNTS = 3
CUSTOMERS = 20  # per agency
TAKEN_OVER = 6  # per agency, half of them held (see Drafts)
DEBOUNCE_SECONDS = 3.0  # the default
STAGGER_SECONDS = 0.08  # one customer after another: sixty start within five seconds
DRAFT_SECONDS = (0.4, 0.9)
TAKEOVER_WITHIN = 0.8  # seconds after the model got an unheld draft's request
HELD_EXTRA_SECONDS = 0.3  # a held draft answers this long (at most) after its takeover returned
HOLD_LIMIT_SECONDS = 30.0  # a held draft gives up waiting (a failed test must not hang)
DRAINED_WITHIN = 60.0
REDELIVERIES = 50  # of a webhook answered 503
# Four processes and this one share PostgreSQL's 100 connections with whatever else runs on
# the server (README, "Sizing"): at most 4 + 2 + 6 per process.
SMALL_POOLS = {
    "DATABASE_POOL_SIZE": "4",
    "DATABASE_MAX_OVERFLOW": "2",
    "DATABASE_JOB_POOL_MAX": "6",
}
BARRIER = "test_barrier"
_TAG = re.compile(r"a(\d) c(\d\d) m(\d)")

Key = tuple[int, int]  # (agency, customer)


@dataclass(frozen=True)
class Customer:
    agency: int
    index: int
    messages: int  # posted at once
    redelivered: bool  # the first message is delivered to both web processes

    @property
    def key(self) -> Key:
        return (self.agency, self.index)

    @property
    def chat_id(self) -> str:
        return f"35191{self.index:07d}@c.us"  # the same person writes to every agency

    def tag(self, number: int) -> str:
        return f"a{self.agency} c{self.index:02d} m{number}"

    def message_id(self, number: int) -> str:
        return f"3EB0RUSH{self.agency:02d}{self.index:04d}{number:06d}"

    def text(self, number: int) -> str:
        return f"[{self.tag(number)}] Hello, I am looking for a 2 bedroom flat to buy in Lisbon"


@dataclass(frozen=True)
class Agency:
    account: ApiAccount
    green_api: FakeGreenAPI
    webhook_token: str


@dataclass(frozen=True)
class Burst:
    redelivery: tuple[httpx.Response, httpx.Response] | None  # the first message's two answers
    within_window: bool  # every message answered 200 within the debounce window


@dataclass(frozen=True)
class Takeover:
    version: int  # the conversation's version the takeover committed
    sent_before: int  # messages the customer had received when the takeover call returned


class Drafts:
    """The fake model's responder (run in the fake server's threads): each draft takes a
    moment and quotes the tags of the messages in the last customer turn. A draft of a
    conversation chosen for takeover tells the test it arrived; a held one answers only once the
    test released it, just after its takeover returned."""

    def __init__(self, seed: int, chosen: set[Key], held: set[Key]) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self.arrived = {key: asyncio.Event() for key in chosen}
        self._held = {key: threading.Event() for key in held}

    def release(self, key: Key) -> None:
        if key in self._held:
            self._held[key].set()

    def release_all(self) -> None:
        for hold in self._held.values():
            hold.set()

    def __call__(self, body: JSON) -> FakeResponse:
        text = last_user_text(body)
        tags, keys = quoted(text), quoted_keys(text)
        with self._lock:
            delay = self._random.uniform(*DRAFT_SECONDS)
            extra = self._random.uniform(0, HELD_EXTRA_SECONDS)
        for key in keys & self.arrived.keys():
            self._loop.call_soon_threadsafe(self.arrived[key].set)
        held = [self._held[key] for key in keys & self._held.keys()]
        if held:
            time.sleep(delay)
            for hold in held:
                hold.wait(timeout=HOLD_LIMIT_SECONDS)
            delay = extra
        reply = text_reply(f"Answering {' | '.join(tags)}: the {LISTING}, €372,000, is available.")
        return FakeResponse(reply.status, reply.body, reply.headers, delay)


def quoted(text: str) -> list[str]:
    """The message tags a text quotes."""
    return [match.group(0) for match in _TAG.finditer(text)]


def quoted_keys(text: str) -> set[Key]:
    """The customers whose messages a text quotes."""
    return {(int(match[1]), int(match[2])) for match in _TAG.finditer(text)}


@pytest.fixture
async def agencies(db: Database, api_account: ApiAccount) -> AsyncIterator[list[Agency]]:
    """Three accounts, each with its own fake Green API instance (its own WhatsApp number)."""
    accounts = [api_account] + [
        await make_api_account(db, name=f"Agency {n}", email=f"boss{n}@agency{n}.example")
        for n in range(1, ACCOUNTS)
    ]
    with ExitStack() as stack:
        fakes = [
            stack.enter_context(run_fake_green_api(f"110182345{n}", f"test-token-{n}"))
            for n in range(ACCOUNTS)
        ]
        yield [
            Agency(account, fake, f"{WEBHOOK_TOKEN}-{n}")
            for n, (account, fake) in enumerate(zip(accounts, fakes, strict=True))
        ]


@pytest.fixture
async def job_queue(settings: Settings, db: Database) -> AsyncIterator[Runtime]:
    """A runtime in this process that runs no jobs: drained() reads the shared job queue."""
    few = tuned(
        settings,
        database_pool_size=2,
        database_max_overflow=0,
        database_job_pool_min=1,
        database_job_pool_max=2,
    )
    async with running_services(few, run_worker_here=False) as runtime:
        yield runtime


@dataclass
class Rush:
    """The running system as the outside sees it: clients of the two web processes (behind no
    load balancer: the test picks one per request), and the agencies."""

    webs: list[httpx.AsyncClient]
    agencies: list[Agency]
    redis_prefix: str
    customers: list[Customer] = field(default_factory=list)

    async def post(self, web: int, customer: Customer, number: int) -> httpx.Response:
        agency = self.agencies[customer.agency]
        payload = customer_text(
            customer.chat_id,
            customer.message_id(number),
            customer.text(number),
            instance=agency.green_api.id_instance,
        )
        headers = {"Authorization": f"Bearer {agency.webhook_token}"}
        for _ in range(REDELIVERIES):
            answer = await self.webs[web].post("/webhooks/green-api", json=payload, headers=headers)
            if answer.status_code != 503:
                return answer
            # The database refused a connection (the server is shared): Green API sends the
            # notification again until it is answered 200 (docs/providers.md, G3).
            await asyncio.sleep(0.2)
        return answer

    async def take_over(self, customer: Customer, conversation_id: uuid.UUID) -> Takeover:
        """Through the first web process, as the agent's inbox would."""
        agency = self.agencies[customer.agency]
        answer = await self.webs[0].post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=agency.account.headers,
            json={"mode": "human"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["mode"] == "human"
        sent = sends_to(agency.green_api, customer.chat_id)
        return Takeover(version=answer.json()["version"], sent_before=len(sent))


def sends_to(green_api: FakeGreenAPI, chat_id: str) -> list[str]:
    return [sent["message"] for sent in green_api.sent_messages if sent["chatId"] == chat_id]


@asynccontextmanager
async def running(
    processes: Processes, fake_anthropic: FakeAnthropic, agencies: list[Agency]
) -> AsyncIterator[Rush]:
    """Two `serve` processes (jobs off) and two `worker` processes, started side by side; each
    agency's number is connected through one of the web processes."""
    prefix = unique_prefix()
    env = (
        claude_env(fake_anthropic)
        | SMALL_POOLS
        | {
            "REPLY_DEBOUNCE_SECONDS": str(DEBOUNCE_SECONDS),
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
        }
    )
    web_a, web_b, _ = await asyncio.gather(
        processes.serve(**env, WORKER_IN_PROCESS="false"),
        processes.serve(**env, WORKER_IN_PROCESS="false"),
        processes.workers(2, **env),
    )
    async with AsyncExitStack() as stack:
        webs = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, trust_env=False, timeout=60)
            )
            for _, base in (web_a, web_b)
        ]
        for n, agency in enumerate(agencies):
            created = await webs[n % 2].post(
                "/api/v1/channels",
                headers=agency.account.headers,
                json={
                    "type": "green_api",
                    "id_instance": agency.green_api.id_instance,
                    "api_token": agency.green_api.token,
                    "api_url": agency.green_api.base_url,
                    "webhook_token": agency.webhook_token,
                },
            )
            assert created.status_code == 201, created.text
        yield Rush(webs, agencies, prefix)


class LiveInboxes:
    """Each agency's live stream (GET /api/v1/events), read in the background until a barrier
    event the test publishes after everything else. Agencies 0 and 2 listen on the first web
    process, agency 1 on the second: either way half the webhooks were stored by the other web
    process, the replies by the workers, and agency 1's takeovers through the first."""

    def __init__(self, rush: Rush) -> None:
        self._rush = rush
        self.events: list[list[dict[str, Any]]] = [[] for _ in rush.agencies]
        self._tasks: list[asyncio.Task[None]] = []

    async def _read(self, agency: int, opened: asyncio.Event) -> None:
        web = self._rush.webs[agency % 2]
        headers = self._rush.agencies[agency].account.headers
        async with event_stream(web, headers) as reader:
            opened.set()
            while (event := await reader.next_event())["type"] != BARRIER:
                self.events[agency].append(event)

    @asynccontextmanager
    async def open(self) -> AsyncIterator[LiveInboxes]:
        opened = [asyncio.Event() for _ in self._rush.agencies]
        self._tasks = [asyncio.create_task(self._read(n, event)) for n, event in enumerate(opened)]
        try:
            for task, event in zip(self._tasks, opened, strict=True):
                waiting = asyncio.create_task(event.wait())
                await asyncio.wait([task, waiting], timeout=30, return_when="FIRST_COMPLETED")
                waiting.cancel()
                if task.done():
                    task.result()  # the stream failed to open: surface why
                assert event.is_set(), "a live stream did not open in time"
            yield self
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def read_to_the_end(self) -> None:
        """Publish a barrier on every agency's channel, after every event of the run (all were
        published before the queue drained), and read each stream up to it."""
        pubsub = RedisPubSub(REDIS_URL, prefix=self._rush.redis_prefix)
        try:
            for agency in self._rush.agencies:
                await pubsub.publish(agency.account.account_id, {"type": BARRIER})
        finally:
            await pubsub.aclose()
        done, _ = await asyncio.wait(self._tasks, timeout=30)
        for task in done:
            task.result()  # a stream that failed says why
        behind = [n for n, task in enumerate(self._tasks) if task not in done]
        assert behind == [], f"the live streams of agencies {behind} never reached the barrier"


def plan(seed: int) -> tuple[list[Customer], set[Key], set[Key]]:
    """The customers, the conversations to take over, and those whose draft is held."""
    pick = random.Random(seed)
    customers = [
        Customer(agency, index, pick.choice((1, 1, 2, 3)), redelivered=index % 4 == 1)
        for index in range(CUSTOMERS)
        for agency in range(ACCOUNTS)
    ]
    chosen: set[Key] = set()
    held: set[Key] = set()
    for agency in range(ACCOUNTS):
        taken = pick.sample(range(CUSTOMERS), TAKEN_OVER)
        chosen |= {(agency, index) for index in taken}
        held |= {(agency, index) for index in taken[: TAKEN_OVER // 2]}
    return customers, chosen, held


async def conversations_by_key(db: Database, rush: Rush) -> dict[Key, Conversation]:
    """Every conversation stored, by agency and customer."""
    agency_of = {agency.account.account_id: n for n, agency in enumerate(rush.agencies)}
    async with db.session_scope() as session:
        rows = await session.execute(
            select(Conversation, Contact.chat_id).join(
                Contact, Conversation.contact_id == Contact.id
            )
        )
        found = {
            (agency_of[conversation.account_id], _customer_of(chat_id)): conversation
            for conversation, chat_id in rows
        }
    return found


class TestRushHourOnTwoMachines:
    """Webhooks (web/webhooks), ingest's unique keys, the reply job's lock and debounce
    (conversations/reply.py), the guarded commit and send claim (reply._commit, outbox._claim),
    control.take_over and the Redis live events, all across four processes."""

    async def test_every_message_is_answered_once_and_nothing_after_a_takeover(
        self,
        db: Database,
        agencies: list[Agency],
        job_queue: Runtime,
        fake_anthropic: FakeAnthropic,
        processes: Processes,
    ) -> None:
        seed = random.randrange(1_000_000)
        context = f"(random seed {seed})"
        customers, chosen, held = plan(seed)
        drafts = Drafts(seed, chosen, held)
        fake_anthropic.responder = drafts
        pick = random.Random(seed + 1)
        lookup = asyncio.Lock()  # one connection of this process's pool, not one per takeover
        bursts: dict[Key, Burst] = {}
        takeovers: dict[Key, Takeover] = {}
        try:
            async with running(processes, fake_anthropic, agencies) as rush:
                rush.customers = customers
                async with LiveInboxes(rush).open() as inboxes:

                    async def customer(order: int, who: Customer) -> None:
                        await asyncio.sleep(order * STAGGER_SECONDS)
                        bursts[who.key] = await _write(rush, who)
                        if who.key not in chosen:
                            return
                        await _draft_arrived(drafts, who.key)
                        if who.key not in held:
                            await asyncio.sleep(pick.uniform(0, TAKEOVER_WITHIN))
                        async with lookup:
                            conversation = (await conversations_by_key(db, rush))[who.key]
                        takeovers[who.key] = await rush.take_over(who, conversation.id)
                        drafts.release(who.key)

                    await asyncio.gather(*(customer(n, c) for n, c in enumerate(customers)))
                    threads = await conversations_by_key(db, rush)
                    ids = [conversation.id for conversation in threads.values()]
                    await drained(job_queue, *ids, within=DRAINED_WITHIN)
                    await rows_settled(db)
                    await inboxes.read_to_the_end()
        finally:
            drafts.release_all()  # so no worker's shutdown waits on a held draft

        check = await Check.read(db, rush, bursts, takeovers, held, context)
        check.stored_once()
        check.left_alone_answered_once(chosen)
        check.nothing_after_takeover()
        check.sent_once_to_the_right_number()
        check.live_events_per_agency(inboxes.events)


async def _draft_arrived(drafts: Drafts, key: Key) -> None:
    try:
        await asyncio.wait_for(drafts.arrived[key].wait(), timeout=30)
    except TimeoutError:
        raise AssertionError(f"the reply to {key} was never drafted") from None


async def _write(rush: Rush, who: Customer) -> Burst:
    """All of a customer's messages at once, round-robin over the two web processes; a
    redelivered first message goes to both."""
    started = time.monotonic()
    posts = [rush.post((who.index + n) % 2, who, n) for n in range(who.messages)]
    if who.redelivered:
        posts.append(rush.post((who.index + 1) % 2, who, 0))
    answers = await asyncio.gather(*posts)
    within_window = time.monotonic() - started < DEBOUNCE_SECONDS
    for answer in answers:
        assert answer.status_code == 200, answer.text
    redelivery = (answers[0], answers[-1]) if who.redelivered else None
    return Burst(redelivery, within_window)


@dataclass
class Check:
    """What the run left behind, read once after the queue drained, and the checks on it."""

    rush: Rush
    bursts: dict[Key, Burst]
    takeovers: dict[Key, Takeover]
    held: set[Key]
    context: str
    threads: dict[Key, Conversation]
    messages: list[Message]
    events: list[ConversationEvent]
    webhooks_kept: dict[str | None, int]  # dedup key -> raw webhook rows

    @classmethod
    async def read(
        cls,
        db: Database,
        rush: Rush,
        bursts: dict[Key, Burst],
        takeovers: dict[Key, Takeover],
        held: set[Key],
        context: str,
    ) -> Check:
        threads = await conversations_by_key(db, rush)
        async with db.session_scope() as session:
            messages = await session.execute(select(Message).order_by(Message.created_at))
            events = await session.execute(select(ConversationEvent))
            kept = await session.execute(
                select(WebhookEvent.dedup_key, func.count()).group_by(WebhookEvent.dedup_key)
            )
            return cls(
                rush,
                bursts,
                takeovers,
                held,
                context,
                threads,
                list(messages.scalars()),
                list(events.scalars()),
                dict(kept.all()),
            )

    def customer(self, key: Key) -> Customer:
        [found] = [who for who in self.rush.customers if who.key == key]
        return found

    def of(self, key: Key) -> list[Message]:
        return [row for row in self.messages if row.conversation_id == self.threads[key].id]

    def story(self, key: Key) -> str:
        """A conversation as the failure message shows it: its rows and its audit events."""
        rows = [f"{r.direction}/{r.author}/{r.status}: {r.text[:50]!r}" for r in self.of(key)]
        audit = [
            f"{e.kind} by {e.actor} {e.detail}"
            for e in self.events
            if e.conversation_id == self.threads[key].id
        ]
        return f"{key} {self.context}\n  " + "\n  ".join(rows + audit)

    def stored_once(self) -> None:
        """Each message one row in its own conversation, each webhook body kept once; of the
        two deliveries of one message, one stored it and the other was told it was a
        duplicate (docs/architecture.md, invariant 1)."""
        inbound = Counter(
            (row.conversation_id, row.provider_message_id)
            for row in self.messages
            if row.direction == Direction.IN
        )
        posted = Counter(
            (self.threads[who.key].id, who.message_id(n))
            for who in self.rush.customers
            for n in range(who.messages)
        )
        assert inbound == posted, self.context
        assert len(self.webhooks_kept) == sum(posted.values()), self.context
        assert set(self.webhooks_kept.values()) == {1}, self.context
        for key, burst in self.bursts.items():
            if burst.redelivery is not None:
                stored = sorted(answer.json()["stored"] for answer in burst.redelivery)
                assert stored == [0, 1], (key, self.context)

    def left_alone_answered_once(self, chosen: set[Key]) -> None:
        """Every message of a customer left alone is quoted by exactly one reply; a burst
        written within the debounce window gets one reply that reads it all (invariant 4)."""
        left_alone = [who for who in self.rush.customers if who.key not in chosen]
        in_window = []
        for who in left_alone:
            replies = [row.text for row in self.of(who.key) if row.direction == Direction.OUT]
            assert self.threads[who.key].mode == Mode.AI, self.story(who.key)
            tags = Counter(tag for reply in replies for tag in quoted(reply))
            wanted = Counter(who.tag(n) for n in range(who.messages))
            assert tags == wanted, self.story(who.key)
            if self.bursts[who.key].within_window:
                in_window.append(who)
                assert len(replies) == 1, self.story(who.key)
        # Bursts of several messages were tested (on a machine too slow for any to fit in the
        # window the check above has nothing to say).
        assert [who for who in in_window if who.messages > 1], self.context

    def nothing_after_takeover(self) -> None:
        """No automated row was committed after the takeover's commit (it would carry the
        version the takeover left, or a later one), none reached the customer after the takeover
        call returned, and a draft that answered after the takeover left no row at all
        (docs/architecture.md, invariant 3)."""
        assert len(self.takeovers) == ACCOUNTS * TAKEN_OVER, self.context
        for key, takeover in self.takeovers.items():
            who, agency = self.customer(key), self.rush.agencies[key[0]]
            assert self.threads[key].mode == Mode.HUMAN, self.story(key)
            automated = [row for row in self.of(key) if row.author in AUTOMATED]
            late = [row.text for row in automated if (row.guard_version or 0) >= takeover.version]
            assert late == [], f"committed after the takeover: {self.story(key)}"
            sent = sends_to(agency.green_api, who.chat_id)
            assert sent[takeover.sent_before :] == [], f"sent after it: {self.story(key)}"
            if key in self.held:  # its draft answered after the takeover: it must be dropped
                assert automated == [], self.story(key)

    def sent_once_to_the_right_number(self) -> None:
        """Each sent row is one accepted sendMessage of its own agency's instance, to its own
        customer, and no text went out twice (docs/architecture.md, invariants 5 and 6)."""
        key_of = {conversation.id: key for key, conversation in self.threads.items()}
        sent_rows = [row for row in self.messages if row.status == MessageStatus.SENT]
        provider_ids = [row.provider_message_id for row in sent_rows]
        assert None not in provider_ids, self.context
        assert len(set(provider_ids)) == len(provider_ids), self.context
        for agency_index, agency in enumerate(self.rush.agencies):
            on_wire = Counter(
                (_customer_of(sent["chatId"]), sent["message"])
                for sent in agency.green_api.sent_messages
            )
            recorded = Counter(
                (key_of[row.conversation_id][1], row.text)
                for row in sent_rows
                if key_of[row.conversation_id][0] == agency_index
            )
            assert on_wire == recorded, (agency_index, self.context)
            assert set(on_wire.values()) <= {1}, (agency_index, self.context)
            for index, text in on_wire:
                assert quoted_keys(text) == {(agency_index, index)}, (text, self.context)

    def live_events_per_agency(self, events: list[list[dict[str, Any]]]) -> None:
        """Each agency's stream saw every customer message, every reply's tick to sent and
        every takeover of its own conversations, and nothing of another agency's (invariant 6),
        wherever the change was committed: either web process or either worker."""
        for agency_index, seen in enumerate(events):
            own = {str(c.id) for key, c in self.threads.items() if key[0] == agency_index}
            assert [event for event in seen if event["type"] == "resync"] == [], self.context
            strays = [event for event in seen if _conversation_of(event) not in own]
            assert strays == [], (agency_index, strays[:3], self.context)
            new = {
                event["message"]["id"]
                for event in seen
                if event["type"] == "message" and event["message"]["author"] == "customer"
            }
            sent = {
                event["message_id"]
                for event in seen
                if event["type"] == "message_status" and event["status"] == "sent"
            }
            human = {
                event["conversation"]["id"]
                for event in seen
                if event["type"] == "conversation" and event["conversation"]["mode"] == "human"
            }
            mine = [row for row in self.messages if str(row.conversation_id) in own]
            assert new == {str(r.id) for r in mine if r.direction == Direction.IN}, self.context
            assert sent == {str(r.id) for r in mine if r.status == MessageStatus.SENT}, self.context
            taken = {str(self.threads[key].id) for key in self.takeovers if key[0] == agency_index}
            assert human == taken, self.context


def _customer_of(chat_id: str) -> int:
    return int(chat_id[5:12])


def _conversation_of(event: dict[str, Any]) -> str | None:
    if "conversation_id" in event:
        return str(event["conversation_id"])
    conversation = event.get("conversation")
    return str(conversation["id"]) if isinstance(conversation, dict) else None
