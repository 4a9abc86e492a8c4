"""Reading conversations for the agent: lists and threads, always scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations.errors import ConversationNotFound
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.schemas import (
    ContactRead,
    ConversationFilters,
    ConversationRead,
)
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.escalation.models import Escalation


async def list_conversations(
    session: AsyncSession, account_id: uuid.UUID, filters: ConversationFilters
) -> list[ConversationRead]:
    stmt = (
        for_account(select(Conversation, Contact), Conversation, account_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id)
        .limit(filters.limit)
        .offset(filters.offset)
    )
    if filters.mode is not None:
        stmt = stmt.where(Conversation.mode == filters.mode)
    if filters.escalated is not None:
        stmt = stmt.where(Conversation.escalated.is_(filters.escalated))
    rows = (await session.execute(stmt)).all()
    reasons = await _open_escalation_reasons(session, [c.id for c, _ in rows if c.escalated])
    return [
        _read(conversation, contact, reasons.get(conversation.id)) for conversation, contact in rows
    ]


async def get_conversation(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    stmt = for_account(select(Conversation), Conversation, account_id).where(
        Conversation.id == conversation_id
    )
    conversation = (await session.execute(stmt)).scalar_one_or_none()
    if conversation is None:
        raise ConversationNotFound("no such conversation")
    return conversation


async def read_conversation(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> ConversationRead:
    conversation = await get_conversation(session, account_id, conversation_id)
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None
    reasons = await _open_escalation_reasons(session, [conversation.id])
    return _read(conversation, contact, reasons.get(conversation.id))


async def list_messages(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    limit: int = 200,
) -> Sequence[Message]:
    await get_conversation(session, account_id, conversation_id)
    stmt = (
        for_account(select(Message), Message, account_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id)
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


async def _open_escalation_reasons(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The newest unresolved escalation's reason per conversation."""
    if not conversation_ids:
        return {}
    stmt = (
        select(Escalation.conversation_id, Escalation.reason)
        .where(Escalation.conversation_id.in_(conversation_ids), Escalation.resolved_at.is_(None))
        .order_by(Escalation.created_at)
    )
    rows = (await session.execute(stmt)).all()
    return {row[0]: row[1] for row in rows}  # oldest first, so the newest reason wins


def _read(conversation: Conversation, contact: Contact, reason: str | None) -> ConversationRead:
    return ConversationRead(
        id=conversation.id,
        channel_id=conversation.channel_id,
        contact=ContactRead.model_validate(contact),
        is_group=conversation.is_group,
        mode=conversation.mode,
        version=conversation.version,
        escalated=conversation.escalated,
        escalation_reason=reason,
        opted_out=contact.opted_out_at is not None,
        last_message_at=conversation.last_message_at,
        created_at=conversation.created_at,
    )
