"""Who speaks in a conversation: take_over and hand_back bump the version (docs/architecture.md,
invariant 3).

Both start with an UPDATE of the conversation row, so that row is locked first: an AI draft's
guarded commit (reply._commit) either commits before and has its queued rows cancelled here, or
waits for this transaction and then fails its version check. Every automated row remembers the
version it was queued under (outbox.queue_automated) and is claimed only while it holds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.events import record_event
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.outbox import AUTOMATED
from whatsapp_assistant.conversations.scheduled import plan
from whatsapp_assistant.conversations.snapshot import UNANSWERABLE_KINDS
from whatsapp_assistant.conversations.states import Author, MessageStatus, Mode
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)

INFLIGHT_WAIT_SECONDS = 20.0


async def _switch(session: AsyncSession, conversation: Conversation, mode: Mode) -> bool:
    """Set the mode and bump the version in one statement; returns whether the mode changed.

    The statement returns what it wrote, so the row is not read again: a takeover is as short
    as the lock it holds (docs/architecture.md, invariant 3)."""
    before = conversation.mode
    await session.flush()  # pending changes first: the UPDATE must not overwrite them
    written = (
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(mode=mode, version=Conversation.version + 1)
            .returning(Conversation.mode, Conversation.version, Conversation.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).one()
    for name in ("mode", "version", "updated_at"):
        set_committed_value(conversation, name, getattr(written, name))
    return before != mode


async def take_over(
    session: AsyncSession, conversation: Conversation, *, actor: str, reason: str = "takeover"
) -> None:
    """Nothing automated speaks from here on: drafts in flight fail their version check, and
    every queued automated row (AI reply, notice, confirmation) is cancelled in the same
    transaction. What the agent wrote is never cancelled."""
    if await _switch(session, conversation, Mode.HUMAN):
        record_event(
            session, conversation, "mode_changed", actor=actor, mode=Mode.HUMAN, reason=reason
        )
        logger.info("conversation %s taken over by %s", conversation.id, actor)
        await live.publish_conversation(session, conversation)
    error = f"cancelled: taken over by {actor}"
    cancelled = await session.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.author.in_(AUTOMATED),
            Message.status == MessageStatus.QUEUED,
        )
        .values(status=MessageStatus.CANCELLED, error=error)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    live.publish_cancelled(session, conversation, list(cancelled.scalars()), error)
    # Follow-ups, reminders and after-viewing notes stop with the mode change, in its
    # transaction; a reminder the agent keeps, and the agent's own send-later, stay.
    await plan.cancel_pending(
        session, conversation.id, kinds=plan.AUTOMATED_KINDS, reason=error, spare_kept=True
    )


async def hand_back(
    session: AsyncSession, conversation: Conversation, *, actor: str, answer_pending: bool
) -> bool:
    """Back to the AI. Returns whether an unanswered customer message now wants a reply."""
    changed = await _switch(session, conversation, Mode.AI)
    if changed:
        record_event(session, conversation, "mode_changed", actor=actor, mode=Mode.AI)
    if conversation.escalated:
        changed = True
        conversation.escalated = False
        await session.execute(
            update(Escalation)
            .where(Escalation.conversation_id == conversation.id, Escalation.resolved_at.is_(None))
            .values(resolved_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    if changed:
        await live.publish_conversation(session, conversation)
    newest = await newest_customer_message_at(session, conversation.id)
    if newest is None or (
        conversation.answered_through is not None and newest <= conversation.answered_through
    ):
        return False
    if answer_pending:
        conversation.last_inbound_at = newest
        return True
    conversation.answered_through = newest  # the agent chose: only new messages get replies
    return False


async def newest_customer_message_at(
    session: AsyncSession, conversation_id: uuid.UUID
) -> datetime | None:
    stmt = select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation_id,
        Message.author == Author.CUSTOMER,
        Message.deleted_at.is_(None),
        Message.kind.not_in(UNANSWERABLE_KINDS),
    )
    newest: datetime | None = (await session.execute(stmt)).scalar()
    return newest


async def wait_for_inflight_automated(
    db: Database, conversation_id: uuid.UUID, *, stale_after_seconds: float
) -> None:
    """After a takeover: let an automated send that was already on the wire finish (or fail),
    so that once the takeover call returns nothing automated reaches the customer any more.

    Bounded by INFLIGHT_WAIT_SECONDS. A database that is briefly unreachable (a restart) is
    waited out within the same bound rather than taken as "nothing in flight".
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + INFLIGHT_WAIT_SECONDS
    while loop.time() < deadline:
        try:
            if not await _sending(db, conversation_id, stale_after_seconds):
                return
        except (DBAPIError, OSError) as exc:
            logger.info("in-flight check for %s failed, retrying: %s", conversation_id, exc)
        await asyncio.sleep(0.05)
    logger.warning("an automated send in %s is still in flight after the takeover", conversation_id)


async def _sending(db: Database, conversation_id: uuid.UUID, stale_after_seconds: float) -> int:
    async with db.session_scope() as session:
        count: int = (
            await session.execute(
                select(func.count()).where(
                    Message.conversation_id == conversation_id,
                    Message.author.in_(AUTOMATED),
                    Message.status == MessageStatus.SENDING,
                    Message.claimed_at > utcnow() - timedelta(seconds=stale_after_seconds),
                )
            )
        ).scalar_one()
    return count
