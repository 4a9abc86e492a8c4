"""The outbox: outbound messages are rows first (queued), then sent once by a job (invariant 5)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import or_, select, update
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


def may_receive(contact: Contact, message: Message) -> bool:
    """Automated messages stop at opt-out; what the agent writes by hand still goes."""
    if contact.opted_out_at is None or message.author == Author.HUMAN:
        return True
    return bool(message.data.get(OPT_NOTICE))


def queue_text(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    author: Author,
    max_length: int,
    data: dict[str, Any] | None = None,
) -> list[Message]:
    """Outbound rows for `text`, split where the provider's limit requires (green-api.md 9)."""
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


async def _claim(runtime: Runtime, message_id: uuid.UUID) -> tuple[Message, Channel, str] | None:
    """queued -> sending in one statement, so two workers never send the same row.

    An AI message is claimed only while its conversation is still in AI mode (invariant 3),
    and nothing automated is claimed for a contact who opted out.
    """
    async with runtime.db.session_scope() as session:
        still_ai = select(Conversation.id).where(
            Conversation.id == Message.conversation_id, Conversation.mode == Mode.AI
        )
        claimed = await session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.status == MessageStatus.QUEUED,
                or_(Message.author != Author.AI, still_ai.exists()),
            )
            .values(status=MessageStatus.SENDING, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        message = await session.get(Message, message_id)
        assert message is not None
        conversation = await session.get(Conversation, message.conversation_id)
        channel = await session.get(Channel, message.channel_id)
        assert conversation is not None and channel is not None
        contact = await session.get(Contact, conversation.contact_id)
        assert contact is not None
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
