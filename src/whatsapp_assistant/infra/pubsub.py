"""Live inbox events per account: published after commit, fanned out in process or through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Protocol, runtime_checkable

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub as RedisListener
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database, on_commit
from whatsapp_assistant.errors import Unavailable

logger = logging.getLogger(__name__)

Event = dict[str, object]
PUBSUB_KEY = "pubsub"  # where Database.info (and so every session's info) holds the PubSub
MAX_QUEUED = 256
# Sent instead of events a listener missed (it fell behind, or Redis reconnected): the page
# re-reads what it shows. Pub/sub is a wake-up call; the database stays the truth
# (docs/architecture.md, invariant 2).
RESYNC: Event = {"type": "resync"}
_ACK_TIMEOUT_SECONDS = 5.0
_READ_TIMEOUT_SECONDS = 5.0  # a bounded read lets redis-py ping a silent connection
_RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


class PubSubUnavailable(Unavailable):
    code = "realtime_unavailable"


class Subscription:
    """One listener's events, in order. Offering never blocks: a listener `max_queued` events
    behind loses its backlog and gets one RESYNC instead, so a slow browser never slows a commit.
    """

    def __init__(self, max_queued: int = MAX_QUEUED) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=max_queued)

    def offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()


@runtime_checkable
class PubSub(Protocol):
    async def publish(self, account_id: uuid.UUID, event: Mapping[str, object]) -> None: ...

    def subscribe(self, account_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]: ...

    async def aclose(self) -> None: ...


class _Fanout:
    """The listeners of this process, by account."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        self._listeners: dict[uuid.UUID, set[Subscription]] = {}

    def attach(self, account_id: uuid.UUID) -> tuple[Subscription, bool]:
        """A new listener, and whether it is this account's first in the process."""
        subscription = Subscription(self.max_queued)
        listeners = self._listeners.setdefault(account_id, set())
        listeners.add(subscription)
        return subscription, len(listeners) == 1

    def detach(self, account_id: uuid.UUID, subscription: Subscription) -> bool:
        """Forget a listener; True when it was the account's last one."""
        listeners = self._listeners.get(account_id, set())
        listeners.discard(subscription)
        if listeners:
            return False
        self._listeners.pop(account_id, None)
        return True

    def deliver(self, account_id: uuid.UUID, event: Event) -> None:
        for subscription in self._listeners.get(account_id, ()):
            subscription.offer(event)

    def count(self, account_id: uuid.UUID) -> int:
        return len(self._listeners.get(account_id, ()))


def _encode(event: Mapping[str, object]) -> str:
    # Both transports go through JSON, so an event that is not JSON-safe fails in tests too.
    return json.dumps(event, separators=(",", ":"))


class InProcessPubSub:
    """The embedded default: one process, so its own listeners are everyone."""

    def __init__(self, *, max_queued: int = MAX_QUEUED) -> None:
        self._fanout = _Fanout(max_queued)

    async def publish(self, account_id: uuid.UUID, event: Mapping[str, object]) -> None:
        decoded: Event = json.loads(_encode(event))
        self._fanout.deliver(account_id, decoded)

    @asynccontextmanager
    async def subscribe(self, account_id: uuid.UUID) -> AsyncIterator[Subscription]:
        subscription, _ = self._fanout.attach(account_id)
        try:
            yield subscription
        finally:
            self._fanout.detach(account_id, subscription)

    def listeners(self, account_id: uuid.UUID) -> int:
        return self._fanout.count(account_id)

    async def aclose(self) -> None:
        return None


class RedisPubSub:
    """Several web and worker processes: one channel per account (`<prefix>:account:<id>`).

    Each process holds one Redis subscription connection for all its listeners and subscribes
    to an account's channel only while a listener of that account is open here.
    """

    def __init__(self, url: str, *, prefix: str = "wa", max_queued: int = MAX_QUEUED) -> None:
        self._prefix = prefix
        # Short timeouts: a publish runs after a commit, in the request or job that made it,
        # and a Redis outage must cost a log line there, not a hung webhook.
        self._redis = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=2.0,
            health_check_interval=10,
            client_name=f"{prefix}-pubsub",
        )
        self._fanout = _Fanout(max_queued)
        self._listener: RedisListener | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()

    def channel(self, account_id: uuid.UUID) -> str:
        return f"{self._prefix}:account:{account_id}"

    async def publish(self, account_id: uuid.UUID, event: Mapping[str, object]) -> None:
        await self._redis.publish(self.channel(account_id), _encode(event))

    @asynccontextmanager
    async def subscribe(self, account_id: uuid.UUID) -> AsyncIterator[Subscription]:
        # Under the lock, a listener's arrival and the last one's departure cannot interleave
        # with the SUBSCRIBE / UNSUBSCRIBE they cause.
        async with self._lock:
            subscription, first = self._fanout.attach(account_id)
            if first:
                try:
                    await self._subscribe(self.channel(account_id))
                except BaseException:
                    self._fanout.detach(account_id, subscription)
                    raise
        try:
            yield subscription
        finally:
            # Shielded: a stream ends by cancellation (the browser left), and a half-done
            # departure would leave the account's listener count wrong for good.
            await asyncio.shield(self._leave(account_id, subscription))

    async def _leave(self, account_id: uuid.UUID, subscription: Subscription) -> None:
        async with self._lock:
            if self._fanout.detach(account_id, subscription):
                await self._unsubscribe(self.channel(account_id))

    async def _subscribe(self, channel: str) -> None:
        """SUBSCRIBE and wait for Redis to confirm it: from then on no publish is missed."""
        if self._listener is None:
            self._listener = self._redis.pubsub()
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[channel] = ack
        try:
            await self._listener.subscribe(channel)
            if self._reader is None:
                self._reader = asyncio.create_task(self._read_forever(), name="pubsub-reader")
            async with asyncio.timeout(_ACK_TIMEOUT_SECONDS):
                await ack
        except (RedisError, OSError, TimeoutError) as exc:
            raise PubSubUnavailable("live updates are unavailable: Redis did not answer") from exc
        finally:
            self._acks.pop(channel, None)

    async def _unsubscribe(self, channel: str) -> None:
        if self._listener is None:
            return
        try:
            await self._listener.unsubscribe(channel)
        except (RedisError, OSError):
            # Harmless: messages for an account without listeners here are dropped on arrival.
            logger.warning("could not unsubscribe from %s", channel, exc_info=True)

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._read_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                # redis-py reconnects and re-subscribes on the next read; our listeners are told
                # to re-read when the re-subscription is confirmed (see _on_subscribed).
                delay = _RECONNECT_DELAYS[min(failures, len(_RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning("Redis pub/sub read failed; retrying in %ss", delay, exc_info=True)
                await asyncio.sleep(delay)

    async def _read_once(self) -> None:
        assert self._listener is not None
        message = await self._listener.get_message(timeout=_READ_TIMEOUT_SECONDS)
        if message is None:
            return
        channel = _text(message["channel"])
        if message["type"] == "subscribe":
            self._on_subscribed(channel)
        elif message["type"] == "message":
            account_id = self._account_of(channel)
            if account_id is not None:
                self._fanout.deliver(account_id, json.loads(message["data"]))

    def _on_subscribed(self, channel: str) -> None:
        ack = self._acks.get(channel)
        if ack is not None and not ack.done():
            ack.set_result(None)
            return
        # A confirmation nobody waits for is redis-py re-subscribing after a reconnect:
        # whatever was published in between is lost to this process.
        account_id = self._account_of(channel)
        if account_id is not None:
            logger.info("Redis pub/sub re-subscribed to %s; listeners re-sync", channel)
            self._fanout.deliver(account_id, RESYNC)

    def _account_of(self, channel: str) -> uuid.UUID | None:
        _, _, tail = channel.rpartition(":")
        try:
            return uuid.UUID(tail)
        except ValueError:
            return None

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._listener is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._listener.aclose()
        await self._redis.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def make_pubsub(settings: Settings) -> PubSub:
    if settings.redis.url:
        return RedisPubSub(settings.redis.url, prefix=settings.redis.prefix)
    return InProcessPubSub()


def pubsub_of(db: Database) -> PubSub | None:
    """The PubSub the running services attached to this database (None in CLI-only paths)."""
    found = db.info.get(PUBSUB_KEY)
    return found if isinstance(found, PubSub) else None


def publish_on_commit(
    session: AsyncSession, account_id: uuid.UUID, event: Event | Callable[[], Awaitable[Event]]
) -> None:
    """Publish `event` once this session's transaction has committed; never on rollback.

    `event` may be made then, by a coroutine function: what it reads or builds then costs the
    transaction nothing. Without a PubSub on the session (CLI commands, scripts) there is nobody
    to tell: no-op.
    """
    pubsub = session.info.get(PUBSUB_KEY)
    if not isinstance(pubsub, PubSub):
        return
    on_commit(session, partial(_publish, pubsub, account_id, event))


async def _publish(
    pubsub: PubSub, account_id: uuid.UUID, event: Event | Callable[[], Awaitable[Event]]
) -> None:
    if callable(event):
        event = await event()
    try:
        await pubsub.publish(account_id, event)
    except (RedisError, OSError):
        # The rows are committed and a page that re-reads sees them; a lost live update is
        # not worth failing the request that made it.
        logger.warning("could not publish a live %s event", event.get("type"), exc_info=True)
