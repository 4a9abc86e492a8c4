"""Recovery: re-derive lost jobs from the rows (docs/architecture.md, invariant 2), at start-up
and every minute. Nothing else: product rules such as auto-resume have jobs of their own."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations import media, outbox
from whatsapp_assistant.conversations.media_files import MEDIA_KINDS, has_reference
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.scheduled import send as scheduled
from whatsapp_assistant.conversations.states import MessageStatus, Mode
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)

STALE_QUEUED = timedelta(seconds=30)
# Received files still without a verdict this long after they came have lost their job; older
# than the look-back they are left as references (docs/decisions.md, 31).
STALE_FETCH = timedelta(minutes=5)
FETCH_LOOK_BACK = timedelta(hours=1)
STARTUP_FETCH_LOOK_BACK = timedelta(days=1)


async def recover(runtime: Runtime, *, startup: bool = False) -> tuple[int, int]:
    """Defer a reply for every unanswered conversation and a send for every stuck queued message.

    At start-up every queued row is stuck (the jobs died with the old process); later only rows
    older than STALE_QUEUED are, so a row that its reply job or a send job is about to send is not
    deferred twice for nothing.
    A row left 'sending' by a dead process, with no echo from the provider since, goes back to
    'queued' (the echo would have marked it sent: docs/providers.md, G5).
    """
    settings = runtime.settings
    await runtime.queue.retry_stalled(seconds_since_heartbeat=settings.worker.stalled_after_seconds)
    async with runtime.db.session_scope() as session:
        stale = utcnow() - timedelta(seconds=settings.send.stale_after_seconds)
        await session.execute(
            update(Message)
            .where(
                Message.status == MessageStatus.SENDING,
                Message.provider_message_id.is_(None),
                Message.claimed_at < stale,
            )
            .values(status=MessageStatus.QUEUED)
            .execution_options(synchronize_session=False)
        )
        unanswered = (
            await session.execute(
                select(Conversation.id, Conversation.account_id).where(
                    Conversation.mode == Mode.AI,
                    Conversation.is_group.is_(False),
                    Conversation.last_inbound_at.is_not(None),
                    or_(
                        Conversation.answered_through.is_(None),
                        Conversation.answered_through < Conversation.last_inbound_at,
                    ),
                )
            )
        ).all()
        cutoff = utcnow() if startup else utcnow() - STALE_QUEUED
        queued = (
            (
                await session.execute(
                    select(Message).where(
                        Message.status == MessageStatus.QUEUED, Message.created_at <= cutoff
                    )
                )
            )
            .scalars()
            .all()
        )
        for conversation_id, account_id in unanswered:
            defer_reply(runtime, session, conversation_id, account_id)
        outbox.send_on_commit(runtime, session, list(queued))
        fetches = await _lost_fetches(runtime, session, startup=startup)
    if unanswered or queued or fetches:
        logger.info(
            "recovery: %d replies, %d sends, %d downloads re-deferred",
            len(unanswered),
            len(queued),
            fetches,
        )
    if startup:
        # The scheduled rows' jobs died with the old process too; later the sweep has its own
        # periodic job.
        await scheduled.sweep(runtime)
    return len(unanswered), len(queued)


async def _lost_fetches(runtime: Runtime, session: AsyncSession, *, startup: bool) -> int:
    """Defer the fetch of every received file without a verdict whose job is gone: at start-up
    all of the last day's, later those older than STALE_FETCH (a job retrying waits longer only
    under its queueing lock, which takes no second one)."""
    now = utcnow()
    newest = now if startup else now - STALE_FETCH
    oldest = now - (STARTUP_FETCH_LOOK_BACK if startup else FETCH_LOOK_BACK)
    rows = (
        (
            await session.execute(
                select(Message).where(
                    Message.kind.in_(sorted(MEDIA_KINDS)),
                    Message.created_at <= newest,
                    Message.created_at >= oldest,
                )
            )
        )
        .scalars()
        .all()
    )
    lost = [row for row in rows if has_reference(row)]
    for message in lost:
        media.defer_fetch(runtime, session, message)
    return len(lost)
