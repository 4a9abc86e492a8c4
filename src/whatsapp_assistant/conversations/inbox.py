"""Reading conversations for the agent: lists and threads, always scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai.language import as_language
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.simulator.sandbox import SANDBOX_CHAT_ID
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.errors import ConversationNotFound, MessageNotFound
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.schemas import (
    ContactRead,
    ConversationFilters,
    ConversationRead,
    MessagePreview,
)
from whatsapp_assistant.conversations.states import Direction, Mode
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.clock import utcnow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PREVIEW_LENGTH = 160


async def list_conversations(
    session: AsyncSession, account_id: uuid.UUID, filters: ConversationFilters
) -> list[ConversationRead]:
    """Newest first; the persona page's sandbox chat is not a customer and is left out."""
    stmt = (
        for_account(select(Conversation, Contact), Conversation, account_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(not_(and_(Channel.type == "simulator", Contact.chat_id == SANDBOX_CHAT_ID)))
        .order_by(Conversation.last_message_at.desc(), Conversation.id)
        .limit(filters.limit)
        .offset(filters.offset)
    )
    stmt = _filtered(stmt, filters)
    rows = (await session.execute(stmt)).all()
    return await _read_many(session, [(conversation, contact) for conversation, contact in rows])


def _filtered(
    stmt: Select[Conversation, Contact], filters: ConversationFilters
) -> Select[Conversation, Contact]:
    if filters.mode is not None:
        stmt = stmt.where(Conversation.mode == filters.mode)
    if filters.escalated is not None:
        stmt = stmt.where(Conversation.escalated.is_(filters.escalated))
    if filters.needs_me:
        stmt = stmt.where(or_(Conversation.escalated.is_(True), Conversation.mode == Mode.HUMAN))
    words = (filters.q or "").strip()
    if words:
        # LIKE is case-insensitive for ASCII on SQLite; lower() makes PostgreSQL agree.
        pattern = (
            "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        said = exists().where(
            Message.conversation_id == Conversation.id,
            func.lower(Message.text).like(pattern, escape="\\"),
        )
        stmt = stmt.where(
            or_(
                func.lower(Contact.name).like(pattern, escape="\\"),
                Contact.phone.like(pattern, escape="\\"),
                said,
            )
        )
    return stmt


async def mark_read(session: AsyncSession, conversation: Conversation) -> bool:
    """The agent has seen the thread: True if that cleared unread messages.

    Only then is anything written: a thread re-read on every live update stays a pure read.
    """
    if not await _unread_counts(session, [conversation]):
        return False
    conversation.agent_read_at = utcnow()
    await session.flush()
    return True


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
    return await describe(session, await get_conversation(session, account_id, conversation_id))


async def describe(session: AsyncSession, conversation: Conversation) -> ConversationRead:
    """The API's shape of a conversation the caller already loaded for its account."""
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None
    (read,) = await _read_many(session, [(conversation, contact)])
    return read


async def list_messages(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    limit: int = 200,
) -> Sequence[Message]:
    conversation = await get_conversation(session, account_id, conversation_id)
    return await thread_messages(session, conversation, limit=limit)


async def thread_messages(
    session: AsyncSession, conversation: Conversation, *, limit: int = 200
) -> Sequence[Message]:
    """The newest `limit` messages of a conversation loaded for its account, oldest first."""
    stmt = (
        for_account(select(Message), Message, conversation.account_id)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at.desc(), Message.id)
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


@dataclass(frozen=True)
class SentFile:
    filename: str
    mime: str
    content: bytes


async def sent_file(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> SentFile:
    """The file a message of the account's conversation carried (a viewing's invitation)."""
    stmt = for_account(select(Message), Message, account_id).where(
        Message.id == message_id, Message.conversation_id == conversation_id
    )
    message = (await session.execute(stmt)).scalar_one_or_none()
    attached = message.data.get(outbox.FILE) if message is not None else None
    if not isinstance(attached, dict):
        raise MessageNotFound("no such file")
    return SentFile(
        filename=str(attached["filename"]),
        mime=str(attached["mime"]),
        content=str(attached["content"]).encode(),
    )


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


async def _unread_counts(
    session: AsyncSession, conversations: list[Conversation]
) -> dict[uuid.UUID, int]:
    """Customer messages newer than the agent's last look, per conversation (zeros left out)."""
    if not conversations:
        return {}
    stmt = (
        select(Message.conversation_id, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id.in_([c.id for c in conversations]),
            Message.direction == Direction.IN,
            Message.created_at > func.coalesce(Conversation.agent_read_at, _EPOCH),
        )
        .group_by(Message.conversation_id)
    )
    return {row[0]: row[1] for row in (await session.execute(stmt)).all()}


async def _last_messages(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, MessagePreview]:
    if not conversation_ids:
        return {}
    newest = (
        select(
            Message.conversation_id,
            Message.author,
            Message.kind,
            Message.text,
            Message.status,
            Message.created_at,
            func.row_number()
            .over(
                partition_by=Message.conversation_id,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("n"),
        )
        .where(Message.conversation_id.in_(conversation_ids))
        .subquery()
    )
    stmt = select(newest).where(newest.c.n == 1)
    return {
        row.conversation_id: MessagePreview(
            author=row.author,
            kind=row.kind,
            text=_shortened(row.text),
            status=row.status,
            created_at=row.created_at,
        )
        for row in (await session.execute(stmt)).all()
    }


def _shortened(text: str) -> str:
    """A preview, not the message: a long listing reply would weigh on every list read."""
    if len(text) <= PREVIEW_LENGTH:
        return text
    return text[: PREVIEW_LENGTH - 1].rstrip() + "…"


async def _read_many(
    session: AsyncSession, rows: list[tuple[Conversation, Contact]]
) -> list[ConversationRead]:
    """The API's shape for each row, with three queries for the whole page, not three per row."""
    conversations = [conversation for conversation, _ in rows]
    ids = [c.id for c in conversations]
    reasons = await _open_escalation_reasons(session, [c.id for c in conversations if c.escalated])
    unread = await _unread_counts(session, conversations)
    last = await _last_messages(session, ids)
    return [
        _read(conversation, contact, reasons.get(conversation.id)).model_copy(
            update={
                "unread": unread.get(conversation.id, 0),
                "last_message": last.get(conversation.id),
            }
        )
        for conversation, contact in rows
    ]


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
        language=as_language(conversation.language),
        language_pinned=conversation.language_pinned,
        opted_out=contact.opted_out_at is not None,
        last_message_at=conversation.last_message_at,
        created_at=conversation.created_at,
    )
