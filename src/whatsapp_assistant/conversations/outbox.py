"""The outbox: outbound messages are rows first (queued), then sent once by a job
(docs/architecture.md, invariant 5)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.types import OutboundMessage
from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import SEND_JOB, Runtime
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus, Mode
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id
from whatsapp_assistant.kit.text import split_text

logger = logging.getLogger(__name__)

# The confirmation of STOP is the last automated message an opted-out contact receives.
OPT_NOTICE = "opt_notice"


# What a person wrote; every other outbound author is automated and passes the guard.
AUTOMATED = (Author.AI, Author.SYSTEM)


def may_receive(contact: Contact, message: Message) -> bool:
    """Automated messages stop at opt-out; what the agent writes by hand still goes."""
    if contact.opted_out_at is None or message.author == Author.HUMAN:
        return True
    return bool(message.data.get(OPT_NOTICE))


def queue_human(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    max_length: int,
    data: dict[str, Any] | None = None,
) -> list[Message]:
    """What the agent wrote: never cancelled by a takeover, sent whatever the mode."""
    return _queue(session, conversation, text, Author.HUMAN, None, max_length, data)


def queue_automated(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    author: Author,
    max_length: int,
    data: dict[str, Any] | None = None,
) -> list[Message]:
    """The one way an automated message (AI reply, hand-over or holding notice, opt-out
    confirmation, alert, follow-up, reminder) enters the outbox: it remembers the version of
    `conversation` it was decided under and leaves only while that version holds, so a takeover
    cancels it (docs/architecture.md, invariant 3)."""
    assert author in AUTOMATED, author
    return _queue(session, conversation, text, author, conversation.version, max_length, data)


def _queue(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    author: Author,
    guard_version: int | None,
    max_length: int,
    data: dict[str, Any] | None,
) -> list[Message]:
    """Outbound rows for `text`, split where the provider's limit requires (docs/providers.md,
    G8)."""
    rows = [
        Message(
            id=new_id(),  # known before the flush: the send job is deferred with it
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            direction=Direction.OUT,
            author=author,
            kind="text",
            text=part,
            data=dict(data or {}),
            status=MessageStatus.QUEUED,
            guard_version=guard_version,
            created_at=utcnow(),
        )
        for part in split_text(text, max_length)
    ]
    session.add_all(rows)
    conversation.last_message_at = utcnow()
    for row in rows:
        live.publish_message(session, row)
    return rows


def send_on_commit(runtime: Runtime, session: AsyncSession, messages: list[Message]) -> None:
    for message in messages:
        runtime.queue.defer_on_commit(session, SEND_JOB, message_id=str(message.id))


def guard_holds() -> ColumnElement[bool]:
    """The send-time half of the guard (docs/architecture.md, invariant 3), as SQL on `messages`: a
    person's message
    always goes; an automated one only while its conversation is at the version it was queued
    under, and an AI one only while the conversation is in AI mode."""
    current = select(Conversation.id).where(
        Conversation.id == Message.conversation_id,
        Conversation.version == Message.guard_version,
        or_(Message.author != Author.AI, Conversation.mode == Mode.AI),
    )
    return or_(Message.author == Author.HUMAN, current.exists())


async def _claim(runtime: Runtime, message_id: uuid.UUID) -> tuple[Message, Channel, str] | None:
    """queued -> sending in one statement, so two workers never send the same row
    (docs/architecture.md, invariant 5).

    The guard is part of that statement: a takeover either committed first (the row is not
    claimed, and is cancelled here if the takeover did not already), or it waits for this
    claim's row lock and then, after its commit, for the send to finish (control.py).
    """
    async with runtime.db.session_scope() as session:
        claimed = await session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.status == MessageStatus.QUEUED,
                guard_holds(),
            )
            .values(status=MessageStatus.SENDING, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            await _cancel_stale(session, message_id)
            return None
        # The row, its number and its customer in one read: a send is on every reply's path.
        message, channel, contact = (
            await session.execute(
                select(Message, Channel, Contact)
                .join(Channel, Channel.id == Message.channel_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Message.id == message_id)
            )
        ).one()
        if not may_receive(contact, message):
            message.status = MessageStatus.CANCELLED
            message.error = "cancelled: the contact opted out"
            live.publish_status(session, message)
            return None
        if not channel.active:
            message.status = MessageStatus.FAILED
            message.error = "the number was disconnected"
            live.publish_status(session, message)
            return None
        return message, channel, contact.chat_id


async def _cancel_stale(session: AsyncSession, message_id: uuid.UUID) -> None:
    """An automated row whose conversation changed hands since it was queued never leaves."""
    error = "cancelled: the conversation changed hands"
    cancelled = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.QUEUED, ~guard_holds())
        .values(status=MessageStatus.CANCELLED, error=error)
        .execution_options(synchronize_session=False)
    )
    if getattr(cancelled, "rowcount", 0) == 1:
        message = await session.get(Message, message_id)
        assert message is not None
        live.publish_status(session, message)


async def send_message(runtime: Runtime, message_id: uuid.UUID) -> str:
    """Send one queued message; returns its final state for this attempt."""
    claimed = await _claim(runtime, message_id)
    if claimed is None:
        return "skipped"
    message, channel, chat_id = claimed
    adapter = adapter_for(runtime.channels, channel.type)
    try:
        receipt = await adapter.send_text(
            channel, OutboundMessage(chat_id=chat_id, text=message.text)
        )
    except SendError as exc:
        return await _record_failure(runtime, message, exc)
    async with runtime.db.session_scope() as session:
        done = await session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.SENDING)
            .values(
                status=MessageStatus.SENT,
                provider_message_id=receipt.provider_message_id,
                sent_at=utcnow(),
            )
        )
        if getattr(done, "rowcount", 0) == 1:
            live.publish_updated_status(
                session, message, status=MessageStatus.SENT, error=message.error
            )
    return "sent"


async def _record_failure(runtime: Runtime, message: Message, exc: SendError) -> str:
    delays = runtime.settings.send.retry_delays_seconds
    attempts = int(message.data.get("send_attempts", 0)) + 1
    retry = exc.retryable and attempts <= len(delays)
    logger.warning("send of %s failed (%s), retry=%s", message.id, exc.status_code, retry)
    status = MessageStatus.QUEUED if retry else MessageStatus.FAILED
    async with runtime.db.session_scope() as session:
        done = await session.execute(
            update(Message)
            .where(Message.id == message.id, Message.status == MessageStatus.SENDING)
            .values(
                status=status, error=exc.message, data=message.data | {"send_attempts": attempts}
            )
        )
        if getattr(done, "rowcount", 0) == 1:
            live.publish_updated_status(session, message, status=status, error=exc.message)
        if retry:
            runtime.queue.defer_on_commit(
                session,
                SEND_JOB,
                message_id=str(message.id),
                delay_seconds=delays[attempts - 1],
            )
    return "retrying" if retry else "failed"
