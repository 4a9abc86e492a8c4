"""Polling: the worker pulls each polling channel's notifications (docs/providers.md, G17), stores
each through the webhook's own path, commits, and only then deletes it (docs/decisions.md, 26)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from typing import Protocol, runtime_checkable

from sqlalchemy.exc import OperationalError

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.base import ChannelAdapter
from whatsapp_assistant.channels.errors import PayloadError, SendError
from whatsapp_assistant.channels.models import Channel, ReceiveMode
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.types import Notification
from whatsapp_assistant.conversations.ingest import record_webhook
from whatsapp_assistant.conversations.receive import receive
from whatsapp_assistant.conversations.runtime import Runtime

logger = logging.getLogger(__name__)

# After a failure (Green API down, our database down), wait this long, doubling up to the last.
BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


@runtime_checkable
class PullsNotifications(Protocol):
    """An adapter with a notification queue to pull from (Green API's)."""

    async def receive_notification(
        self, channel: Channel, *, wait_seconds: int
    ) -> Notification | None: ...

    async def delete_notification(self, channel: Channel, receipt_id: int) -> bool: ...


async def run(runtime: Runtime) -> None:
    """Until cancelled: one puller per channel in polling mode, the list re-read every
    POLLING_SCAN_SECONDS, so a channel switched to polling (or back) is picked up (or let go)."""
    pullers: dict[uuid.UUID, asyncio.Task[None]] = {}
    try:
        while True:
            try:
                wanted = await _polling_channels(runtime)
            except Exception:
                logger.exception("could not read the channels to poll")
                wanted = set(pullers)
            for channel_id in [key for key, task in pullers.items() if task.done()]:
                del pullers[channel_id]  # it let go (no longer polled): the scan decides again
            for channel_id in set(pullers) - wanted:
                pullers.pop(channel_id).cancel()
            for channel_id in wanted - set(pullers):
                pullers[channel_id] = asyncio.create_task(
                    pull(runtime, channel_id), name=f"poll-{channel_id}"
                )
            await asyncio.sleep(runtime.settings.polling.scan_seconds)
    finally:
        for task in pullers.values():
            task.cancel()
        for task in pullers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _polling_channels(runtime: Runtime) -> set[uuid.UUID]:
    async with runtime.db.session_scope() as session:
        return {channel.id for channel in await channels.list_polling_channels(session)}


async def pull(runtime: Runtime, channel_id: uuid.UUID) -> None:
    """Pull one channel's queue until cancelled; failures back off and try again."""
    failures = 0
    while True:
        try:
            handled = await pull_once(runtime, channel_id)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("polling channel %s failed", channel_id)
            delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
            failures += 1
            await asyncio.sleep(delay)
            continue
        if handled is None:
            return  # the channel is gone or no longer polled: the scan lets it go


async def pull_once(runtime: Runtime, channel_id: uuid.UUID) -> bool | None:
    """Receive one notification, store it, commit, delete it: True when one was handled,
    False when the queue stayed empty for the wait, None when the channel is not polled.

    A crash or a failed delete after the commit leaves the notification at the head of the
    queue: it comes again and the raw log's dedup key makes it a no-op (docs/architecture.md,
    invariant 1). A database outage raises before the delete, so nothing is lost.
    """
    async with runtime.db.session_scope() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not channel.active or channel.receive_mode != ReceiveMode.POLLING:
            return None
        session.expunge(channel)
    adapter = adapter_for(runtime.channels, channel.type)
    if not isinstance(adapter, PullsNotifications):
        return None
    wait = runtime.settings.polling.receive_timeout_seconds
    notification = await adapter.receive_notification(channel, wait_seconds=wait)
    if notification is None:
        return False
    await _store(runtime, adapter, channel, notification.body)
    try:
        await adapter.delete_notification(channel, notification.receipt_id)
    except SendError as exc:
        # Stored and committed: the next receive hands it over again and it is a duplicate.
        logger.warning("could not delete notification %s: %s", notification.receipt_id, exc)
    return True


async def _store(runtime: Runtime, adapter: ChannelAdapter, channel: Channel, body: object) -> None:
    """As the webhook does (web/webhooks/router.py): an unidentifiable body is logged and
    dropped, a body our processing fails on is kept raw with outcome `error`; only a database
    outage raises, so the notification is not deleted."""
    try:
        parsed = adapter.parse_webhook(body)
    except PayloadError as exc:
        logger.warning("dropped an unreadable notification of channel %s: %s", channel.id, exc)
        return
    if parsed.external_id != channel.external_id:
        logger.warning("dropped a notification of another instance on channel %s", channel.id)
        return
    try:
        async with runtime.db.session_scope() as session:
            row = await session.get(Channel, channel.id)
            assert row is not None
            await receive(runtime, session, row, parsed, raw=body)
    except OperationalError:
        raise
    except Exception:
        logger.exception("could not process a polled %s notification", parsed.event_type)
        async with runtime.db.session_scope() as session:
            await record_webhook(
                session,
                provider=channel.type,
                channel=None,
                parsed=None,
                payload=body,
                outcome="error",
                detail=traceback.format_exc(limit=3),
            )
