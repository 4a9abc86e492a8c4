"""The pub/sub under the live inbox: fan-out per account, in process and through real Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.web.sse import REDIS_URL, unique_prefix
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.pubsub import (
    MAX_QUEUED,
    PUBSUB_KEY,
    RESYNC,
    InProcessPubSub,
    PubSub,
    PubSubUnavailable,
    RedisPubSub,
    Subscription,
    publish_on_commit,
)


async def next_event(subscription: Subscription, within: float = 5.0) -> dict[str, object]:
    async with asyncio.timeout(within):
        return await anext(subscription)


async def assert_silent(subscription: Subscription, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await next_event(subscription, within=seconds)


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return unique_prefix()


@pytest.fixture(params=["in_process", "redis"])
async def pubsub(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[PubSub]:
    made: PubSub = (
        InProcessPubSub()
        if request.param == "in_process"
        else RedisPubSub(REDIS_URL, prefix=prefix)
    )
    yield made
    await made.aclose()


class TestPublishSubscribe:
    async def test_a_subscriber_receives_its_accounts_events_in_order(self, pubsub: PubSub) -> None:
        account = uuid.uuid4()
        async with pubsub.subscribe(account) as events:
            for n in range(3):
                await pubsub.publish(account, {"type": "message", "n": n})
            assert [(await next_event(events))["n"] for _ in range(3)] == [0, 1, 2]

    async def test_accounts_never_hear_each_other(self, pubsub: PubSub) -> None:
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        async with pubsub.subscribe(mine) as my_events, pubsub.subscribe(theirs) as their_events:
            await pubsub.publish(theirs, {"type": "message", "for": "them"})
            assert (await next_event(their_events))["for"] == "them"
            await assert_silent(my_events)

    async def test_every_open_screen_of_an_account_gets_the_event(self, pubsub: PubSub) -> None:
        account = uuid.uuid4()
        async with pubsub.subscribe(account) as phone, pubsub.subscribe(account) as laptop:
            await pubsub.publish(account, {"type": "conversation"})
            assert await next_event(phone) == {"type": "conversation"}
            assert await next_event(laptop) == {"type": "conversation"}

    async def test_a_slow_subscriber_never_blocks_the_publisher_and_is_told_to_resync(
        self, pubsub: PubSub
    ) -> None:
        account = uuid.uuid4()
        async with pubsub.subscribe(account) as slow, pubsub.subscribe(account) as fast:
            received: list[object] = []
            for n in range(MAX_QUEUED + 10):
                await asyncio.wait_for(pubsub.publish(account, {"type": "message", "n": n}), 1)
                received.append((await next_event(fast))["n"])  # keeps up, misses nothing
            assert received == list(range(MAX_QUEUED + 10))
            first = await next_event(slow)
            assert first == RESYNC  # its backlog was dropped, not the publisher slowed
            await pubsub.publish(account, {"type": "message", "n": "after"})
            later = [await next_event(slow) for _ in range(10)]
            assert later[-1] == {"type": "message", "n": "after"}

    async def test_events_must_be_json(self, pubsub: PubSub) -> None:
        with pytest.raises(TypeError):
            await pubsub.publish(uuid.uuid4(), {"type": "message", "at": object()})


class TestRedisPubSub:
    async def test_an_event_published_by_one_process_reaches_a_subscriber_of_another(
        self, prefix: str
    ) -> None:
        web_a, web_b = RedisPubSub(REDIS_URL, prefix=prefix), RedisPubSub(REDIS_URL, prefix=prefix)
        account = uuid.uuid4()
        try:
            async with web_b.subscribe(account) as events:
                await web_a.publish(account, {"type": "message", "from": "a"})
                assert await next_event(events) == {"type": "message", "from": "a"}
        finally:
            await web_a.aclose()
            await web_b.aclose()

    async def test_the_channel_is_subscribed_only_while_a_listener_is_open(
        self, prefix: str, redis_client: aioredis.Redis
    ) -> None:
        pubsub, account = RedisPubSub(REDIS_URL, prefix=prefix), uuid.uuid4()
        channel = pubsub.channel(account)
        try:
            async with pubsub.subscribe(account), pubsub.subscribe(account):
                assert await redis_client.pubsub_numsub(channel) == [(channel.encode(), 1)]
            await asyncio.sleep(0.1)  # UNSUBSCRIBE is sent, not awaited
            assert await redis_client.pubsub_numsub(channel) == [(channel.encode(), 0)]
        finally:
            await pubsub.aclose()

    async def test_a_cancelled_listener_still_unsubscribes(
        self, prefix: str, redis_client: aioredis.Redis
    ) -> None:
        pubsub, account = RedisPubSub(REDIS_URL, prefix=prefix), uuid.uuid4()
        channel = pubsub.channel(account)
        subscribed = asyncio.Event()

        async def listen() -> None:
            async with pubsub.subscribe(account) as events:
                subscribed.set()
                await anext(events)

        try:
            task = asyncio.create_task(listen())
            await subscribed.wait()
            task.cancel()  # how a stream ends when the browser goes away
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.1)
            assert await redis_client.pubsub_numsub(channel) == [(channel.encode(), 0)]
        finally:
            await pubsub.aclose()

    async def test_after_a_dropped_connection_listeners_resync_and_keep_receiving(
        self, prefix: str, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
    ) -> None:
        pubsub, account = RedisPubSub(REDIS_URL, prefix=prefix), uuid.uuid4()
        caplog.set_level(logging.INFO, logger="whatsapp_assistant.infra.pubsub")
        try:
            async with pubsub.subscribe(account) as events:
                # Only this test's connection (named after its prefix): parallel runs share Redis.
                clients = await redis_client.client_list(_type="pubsub")
                ours = [c["id"] for c in clients if c["name"] == f"{prefix}-pubsub"]
                assert len(ours) == 1
                await redis_client.client_kill_filter(_id=ours[0])
                assert await next_event(events, within=15) == RESYNC
                assert "re-subscribed" in caplog.text
                await pubsub.publish(account, {"type": "message", "n": 1})
                assert await next_event(events) == {"type": "message", "n": 1}
        finally:
            await pubsub.aclose()

    async def test_subscribing_without_redis_is_a_clear_unavailable_error(self) -> None:
        pubsub = RedisPubSub("redis://127.0.0.1:1/0", prefix=unique_prefix())
        try:
            with pytest.raises(PubSubUnavailable):
                async with pubsub.subscribe(uuid.uuid4()):
                    pass
        finally:
            await pubsub.aclose()


class TestPublishOnCommit:
    @pytest.fixture
    def live_db(self, db: Database) -> tuple[Database, InProcessPubSub]:
        pubsub = InProcessPubSub()
        return Database(db.engine, db.sessionmaker, info={PUBSUB_KEY: pubsub}), pubsub

    async def test_an_event_leaves_only_after_the_commit(
        self, live_db: tuple[Database, InProcessPubSub]
    ) -> None:
        database, pubsub = live_db
        account = uuid.uuid4()
        async with pubsub.subscribe(account) as events:
            async with database.session_scope() as session:
                publish_on_commit(session, account, {"type": "message"})
                await assert_silent(events, 0.05)
            assert await next_event(events) == {"type": "message"}

    async def test_a_rolled_back_transaction_publishes_nothing(
        self, live_db: tuple[Database, InProcessPubSub]
    ) -> None:
        database, pubsub = live_db
        account = uuid.uuid4()

        async def failing_write() -> None:
            async with database.session_scope() as session:
                publish_on_commit(session, account, {"type": "message"})
                raise RuntimeError("the write failed")

        async with pubsub.subscribe(account) as events:
            with pytest.raises(RuntimeError):
                await failing_write()
            await assert_silent(events)

    async def test_without_a_pubsub_it_is_a_no_op(self, db: Database) -> None:
        async with db.session_scope() as session:
            publish_on_commit(session, uuid.uuid4(), {"type": "message"})
            assert "after_commit" not in session.info

    async def test_a_redis_outage_costs_a_log_line_not_the_commit(
        self, db: Database, caplog: pytest.LogCaptureFixture
    ) -> None:
        down = RedisPubSub("redis://127.0.0.1:1/0", prefix=unique_prefix())
        database = Database(db.engine, db.sessionmaker, info={PUBSUB_KEY: down})
        try:
            async with database.session_scope() as session:
                publish_on_commit(session, uuid.uuid4(), {"type": "message"})
        finally:
            await down.aclose()
        assert "could not publish a live message event" in caplog.text
