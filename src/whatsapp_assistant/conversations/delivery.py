"""Delivery state of outbound messages: statuses applied monotonically, echoes reconciled."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels import usage
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import InboundMessage, StatusUpdate
from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.states import Direction, MessageStatus
from whatsapp_assistant.conversations.threads import find_conversation
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)

_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}
# The provider's words for a message that will not arrive.
_FAILED = {"failed", "noAccount", "notInGroup", "yellowCard"}


def advance(current: MessageStatus, reported: str) -> MessageStatus:
    """Statuses arrive in any order (docs/providers.md, G6): never go back from read to delivered.

    A failure only counts before delivery; a positive status after a 'failed' wins, since the
    provider saw the message through.
    """
    if reported in _FAILED:
        failed = _RANK.get(current, -1) < _RANK[MessageStatus.DELIVERED]
        return MessageStatus.FAILED if failed else current
    if reported not in _RANK:
        return current
    status = MessageStatus(reported)
    return status if _RANK[status] > _RANK.get(current, -1) else current


async def apply_status(session: AsyncSession, channel: Channel, event: StatusUpdate) -> None:
    # Meta bills the message whether or not we know it (a send from another app of the number).
    await usage.record_billable(session, channel, event)
    conversation = await find_conversation(session, channel, event.chat_id)
    if conversation is None:
        return  # statuses of phone sends to chats we never saw must not error
    stmt = select(Message).where(
        Message.conversation_id == conversation.id,
        Message.provider_message_id == event.provider_message_id,
        Message.direction == Direction.OUT,
    )
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None:
        return
    new_status = advance(message.status, event.status)
    if new_status == message.status:
        return
    if new_status == MessageStatus.FAILED:
        message.error = event.description or event.status
    message.status = new_status
    live.publish_status(session, message)


async def reconcile_echo(session: AsyncSession, channel: Channel, event: InboundMessage) -> None:
    """Our own send echoed back (docs/providers.md, G5): link it to the outbox row, never a
    takeover.

    The echo may beat the sendMessage answer, or a timed-out send may have got through: then the
    row is still 'sending' (or 'queued' again for a retry) without an id, and the echo's id and
    text identify it, so the retry finds nothing to send (docs/architecture.md, invariant 5).
    """
    conversation = await find_conversation(session, channel, event.chat_id)
    if conversation is None:
        return
    base = select(Message).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.OUT
    )
    by_id = base.where(Message.provider_message_id == event.provider_message_id)
    if (await session.execute(by_id)).scalar_one_or_none() is not None:
        return
    pending = base.where(
        Message.provider_message_id.is_(None),
        Message.status.in_([MessageStatus.SENDING, MessageStatus.QUEUED]),
        Message.text == event.text,
    ).order_by(Message.created_at)
    message = (await session.execute(pending)).scalars().first()
    if message is None:
        logger.info("echo %s matches no outbound message", event.provider_message_id)
        return
    message.provider_message_id = event.provider_message_id
    message.status = MessageStatus.SENT
    message.sent_at = utcnow()
    live.publish_status(session, message)
