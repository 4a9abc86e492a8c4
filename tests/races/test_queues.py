"""Queues and model-call shares: no customer waits behind someone else's work
(docs/architecture.md, invariant 9).

The fake model holds every call of the busy account until the test lets go, so what these tests
see while it holds is decided by the queues, not by timing."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator

import pytest

from tests.builders import create_account, create_channel, create_property
from tests.conversations.harness import (
    Service,
    drained,
    wait_until,
)
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api
from tests.fakes.llm_base import JSON, FakeResponse
from tests.races.conftest import customer_text, sends_to
from whatsapp_assistant.db.session import Database

HELD_FOR = 30.0  # the longest a held call waits for the test to let go
WIRE_SECONDS = 5.0  # Green API holds the agent's message this long
OTHER_AGENCY = "Outra Imobiliária"
OTHER_INSTANCE = "1109876543"
OTHER_TOKEN = "other-hook-secret-0123456789"


class HeldModel:
    """Calls for the busy account wait until `release()`; the other agency's, and those that
    hold one of `answered`, are answered."""

    def __init__(self, fake: FakeAnthropic, *, answered: tuple[str, ...] = ()) -> None:
        self.released = threading.Event()
        self.held = 0
        self._lock = threading.Lock()
        self._answered = (OTHER_AGENCY, *answered)
        fake.responder = self.answer

    def answer(self, body: JSON) -> FakeResponse | str:
        text = json.dumps(body, ensure_ascii=False)
        if any(word in text for word in self._answered):
            return "Temos um T2 em Alfama." if OTHER_AGENCY in text else "One has a garage."
        with self._lock:
            self.held += 1
        self.released.wait(HELD_FOR)
        return "Here is what Rita has in Lisbon."

    def release(self) -> None:
        self.released.set()


def _chat(index: int) -> str:
    return f"44770090{index:04d}@c.us"


async def _burst(service: Service, customers: int) -> None:
    for index in range(customers):
        message = customer_text(_chat(index), f"3EB0BURST{index:011d}", "Any flat in Lisbon?")
        assert (await service.post_webhook(message)).status_code == 200


class TestSendsNeverWaitBehindReplies:
    @pytest.fixture
    async def busy(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        # Two reply slots, both taken by drafts the model holds: with one queue for all jobs,
        # the agent's message would wait for a free slot until the model lets go.
        async with start_claude(listing=True, worker_concurrency_reply=2) as running:
            yield running

    async def test_the_agents_message_goes_out_while_every_reply_slot_waits_on_the_model(
        self, busy: Service, fake_anthropic: FakeAnthropic, fake_green_api: FakeGreenAPI
    ) -> None:
        model = HeldModel(fake_anthropic)
        await _burst(busy, 3)
        await wait_until(lambda: model.held == 2)  # both reply slots are drafting
        conversations = await busy.client.get("/api/v1/conversations", headers=busy.account.headers)
        [waiting] = [c for c in conversations.json() if c["contact"]["chat_id"] == _chat(2)]

        written = await busy.client.post(
            f"/api/v1/conversations/{waiting['id']}/messages",
            headers=busy.account.headers,
            json={"text": "Hi, Rita here: I'll call you in five minutes."},
        )
        assert written.status_code == 202, written.text

        await wait_until(lambda: len(fake_green_api.sent_messages) == 1)
        assert not model.released.is_set()  # delivered while the model still held every draft
        [sent] = fake_green_api.sent_messages
        assert sent["chatId"] == _chat(2)
        assert sent["message"].startswith("Hi, Rita here")
        model.release()
        await drained(busy)
        assert len(fake_green_api.sent_messages) == 3  # the two drafts, then nothing else


class TestRepliesNeverWaitBehindOtherWork:
    """A committed reply is sent by its own job (docs/decisions.md, 24): neither the drafts of
    other conversations nor a full send queue stand between it and the customer."""

    @pytest.fixture
    async def busy(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        # A spare reply slot, and one send slot that the agent's slow message will hold.
        async with start_claude(
            listing=True, worker_concurrency_reply=3, worker_concurrency_send=1
        ) as running:
            yield running

    async def test_a_reply_goes_out_while_drafts_wait_on_the_model_and_a_send_is_on_the_wire(
        self, busy: Service, fake_anthropic: FakeAnthropic, fake_green_api: FakeGreenAPI
    ) -> None:
        model = HeldModel(fake_anthropic, answered=("garage",))
        await _burst(busy, 2)
        await wait_until(lambda: model.held == 2)  # two reply slots are drafting
        conversations = await busy.client.get("/api/v1/conversations", headers=busy.account.headers)
        [agents] = [c for c in conversations.json() if c["contact"]["chat_id"] == _chat(1)]
        fake_green_api.delay_next(WIRE_SECONDS)  # the agent's message holds the send slot
        written = await busy.client.post(
            f"/api/v1/conversations/{agents['id']}/messages",
            headers=busy.account.headers,
            json={"text": "Hi, Rita here: I'll call you in five minutes."},
        )
        assert written.status_code == 202, written.text
        await wait_until(lambda: any("/sendMessage/" in r.path for r in fake_green_api.requests))

        garage = customer_text(_chat(2), "3EB0BURSTGARAGE0001", "Any flat with a garage?")
        assert (await busy.post_webhook(garage)).status_code == 200
        await wait_until(lambda: len(fake_green_api.sent_messages) >= 1)
        first = fake_green_api.sent_messages[0]
        assert (first["chatId"], first["message"]) == (_chat(2), "One has a garage.")
        assert not model.released.is_set()  # both other drafts are still with the model
        model.release()
        await drained(busy)
        # The agent's message, then the untouched draft; the one it took over is dropped.
        chats = sorted(message["chatId"] for message in fake_green_api.sent_messages)
        assert chats == sorted(_chat(index) for index in range(3))
        assert sends_to(fake_green_api, _chat(1)) == [
            "Hi, Rita here: I'll call you in five minutes."
        ]


class TestOneAccountsBurst:
    @pytest.fixture
    async def shared(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        async with start_claude(
            listing=True,
            # Room in the reply queue for everyone; four model calls in all, two per account.
            worker_concurrency_reply=12,
            llm_max_concurrent_calls=4,
            llm_max_concurrent_calls_per_account=2,
        ) as running:
            yield running

    async def test_another_accounts_customer_is_answered_while_the_burst_waits(
        self,
        shared: Service,
        db: Database,
        fake_anthropic: FakeAnthropic,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        model = HeldModel(fake_anthropic)
        with run_fake_green_api(OTHER_INSTANCE) as other_green_api:
            await _other_agency(db, other_green_api)
            await self._race(shared, model, fake_green_api, other_green_api)

    async def _race(
        self,
        shared: Service,
        model: HeldModel,
        fake_green_api: FakeGreenAPI,
        other_green_api: FakeGreenAPI,
    ) -> None:
        await _burst(shared, 8)  # more than all the model calls
        await wait_until(lambda: model.held == 2)  # the burst drafts its share, no more

        ana = customer_text("351912345678@c.us", "3EB0OTHERAGENCY00001", "Olá, têm T2?")
        ana["instanceData"]["idInstance"] = int(OTHER_INSTANCE)
        answer = await shared.post_webhook(ana, token=OTHER_TOKEN)
        assert answer.status_code == 200, answer.text

        await wait_until(lambda: len(other_green_api.sent_messages) == 1)
        assert not model.released.is_set()  # answered while the burst's calls were still held
        assert model.held == 2  # and the burst never took more than its share
        model.release()
        await drained(shared)
        chats = sorted(message["chatId"] for message in fake_green_api.sent_messages)
        assert chats == sorted(_chat(index) for index in range(8))  # each of the burst, once
        assert len(other_green_api.sent_messages) == 1


async def _other_agency(db: Database, green_api: FakeGreenAPI) -> None:
    async with db.session_scope() as session:
        account = await create_account(session, name=OTHER_AGENCY)
        await create_property(
            session, account.id, title="T2 em Alfama", neighborhood="Alfama", city="Lisbon"
        )
        await create_channel(
            session,
            account.id,
            external_id=OTHER_INSTANCE,
            api_url=green_api.base_url,
            api_token=green_api.token,
            webhook_token=OTHER_TOKEN,
        )


class TestRunningRepliesPerAccount:
    """WORKER_REPLIES_PER_ACCOUNT caps an account's running reply jobs before their first read,
    where the model-call share caps only the calls: the burst's other jobs wait without having
    read anything, so their CPU stays out of the event loop until their turn."""

    @pytest.fixture
    async def capped(self, start_claude: StartClaude) -> AsyncIterator[Service]:
        async with start_claude(
            listing=True,
            # Model calls to spare: only the running-jobs share holds the burst back.
            worker_concurrency_reply=12,
            worker_replies_per_account=2,
        ) as running:
            yield running

    async def test_a_waiting_customers_next_message_is_read_with_the_first_and_answered_once(
        self,
        capped: Service,
        db: Database,
        fake_anthropic: FakeAnthropic,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        model = HeldModel(fake_anthropic)
        await _burst(capped, 6)
        await wait_until(lambda: model.held == 2)  # two of the account's jobs run, no more
        # Customer 5 waits in line and writes again: its job has read nothing yet, so the one
        # reply it gets answers both messages. Had it read before waiting, it would answer the
        # first alone and a second job the next.
        again = customer_text(_chat(5), "3EB0BURSTAGAIN00001", "And a garage, please.")
        assert (await capped.post_webhook(again)).status_code == 200
        with run_fake_green_api(OTHER_INSTANCE) as other_green_api:
            await _other_agency(db, other_green_api)
            ana = customer_text(
                "351912345678@c.us", "3EB0OTHERAGENCY00002", "Olá, têm T2?", instance=OTHER_INSTANCE
            )
            assert (await capped.post_webhook(ana, token=OTHER_TOKEN)).status_code == 200
            await wait_until(lambda: len(other_green_api.sent_messages) == 1)
            assert not model.released.is_set()  # another account is not behind the burst
            assert model.held == 2
            model.release()
            await drained(capped)
        chats = sorted(message["chatId"] for message in fake_green_api.sent_messages)
        assert chats == sorted(_chat(index) for index in range(6))  # each of the burst, once
        [both] = [
            json.dumps(body, ensure_ascii=False)
            for body in fake_anthropic.bodies
            if "And a garage" in json.dumps(body, ensure_ascii=False)
        ]
        assert "Any flat in Lisbon?" in both
