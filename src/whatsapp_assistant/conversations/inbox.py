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
    rows = (await session.execute(stmt)).all()
    return [_read(conversation, contact) for conversation, contact in rows]


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
    return _read(conversation, contact)


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


def _read(conversation: Conversation, contact: Contact) -> ConversationRead:
    return ConversationRead(
        id=conversation.id,
        channel_id=conversation.channel_id,
        contact=ContactRead.model_validate(contact),
        is_group=conversation.is_group,
        mode=conversation.mode,
        version=conversation.version,
        last_message_at=conversation.last_message_at,
        created_at=conversation.created_at,
    )
