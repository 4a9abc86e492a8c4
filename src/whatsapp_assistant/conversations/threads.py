"""Finding or opening the contact and conversation of a chat, safely under concurrent webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.conversations.models import Contact, Conversation
from whatsapp_assistant.db.engine import bound_values, dialect_of, insert_for
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id
from whatsapp_assistant.kit.phone import is_group_chat, phone_from_chat_id

# The rows come back as the session's objects, refreshed if the session held them already.
_REFRESH = {"populate_existing": True}


async def find_conversation(
    session: AsyncSession, channel: Channel, chat_id: str
) -> Conversation | None:
    stmt = (
        select(Conversation)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(
            Conversation.channel_id == channel.id,
            Contact.chat_id == chat_id,
            Conversation.account_id == channel.account_id,
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_conversation(
    session: AsyncSession, channel: Channel, chat_id: str, *, name: str = ""
) -> Conversation:
    """The conversation of this chat, created with its contact on first contact.

    One upsert for the contact and one for the conversation: two webhooks of a new chat racing
    meet in the unique constraints, and both get the one row (no savepoint, no re-read). The
    contact stays in the session, so reading it afterwards costs nothing.
    """
    return (await open_thread(session, channel, chat_id, name=name)).conversation


@dataclass(frozen=True)
class Thread:
    """A chat's rows as `open_thread` left them in the session (held here: the session's
    identity map keeps no row alive by itself, and a dropped one would be read again)."""

    conversation: Conversation
    contact: Contact
    opened: bool  # the conversation was created just now, so it has no history yet


async def open_thread(
    session: AsyncSession,
    channel: Channel,
    chat_id: str,
    *,
    name: str = "",
    phone: str | None = None,
) -> Thread:
    """`open_conversation`, with its contact and whether it was created just now.

    `phone` is the customer's number when the chat id is not one (a Meta user id): it fills
    the contact's number if it has none yet, and may be absent (docs/decisions.md, 27).
    """
    contact = await _upsert_contact(session, channel, chat_id, name=name, phone=phone)
    conversation, opened = await _upsert_conversation(session, channel, contact, chat_id)
    return Thread(conversation, contact, opened)


_CONTACT_COLUMNS = (
    "id",
    "account_id",
    "channel_id",
    "chat_id",
    "phone",
    "name",
    "created_at",
    "updated_at",
)
_CONVERSATION_COLUMNS = ("id", "account_id", "channel_id", "contact_id", "is_group")


@cache
def _contact_upsert(dialect: str) -> ReturningInsert[Any]:
    stmt = insert_for(dialect, Contact).values(bound_values(Contact, _CONTACT_COLUMNS))
    # A name or number learnt later fills an empty one; what the contact has is kept.
    return stmt.on_conflict_do_update(
        index_elements=[Contact.channel_id, Contact.chat_id],
        set_={
            "name": case((Contact.name == "", stmt.excluded.name), else_=Contact.name),
            "phone": func.coalesce(Contact.phone, stmt.excluded.phone),
        },
    ).returning(Contact)


@cache
def _conversation_upsert(dialect: str) -> ReturningInsert[Any]:
    stmt = insert_for(dialect, Conversation).values(
        bound_values(Conversation, _CONVERSATION_COLUMNS)
    )
    # A no-op update: ON CONFLICT DO NOTHING would return no row for a known conversation.
    return stmt.on_conflict_do_update(
        index_elements=[Conversation.channel_id, Conversation.contact_id],
        set_={"is_group": Conversation.is_group},
    ).returning(Conversation)


async def _upsert_contact(
    session: AsyncSession, channel: Channel, chat_id: str, *, name: str, phone: str | None
) -> Contact:
    now = utcnow()
    values = {
        "id": new_id(),
        "account_id": channel.account_id,
        "channel_id": channel.id,
        "chat_id": chat_id,
        "phone": phone_from_chat_id(chat_id) or phone,
        "name": name,
        "created_at": now,
        "updated_at": now,
    }
    stmt = _contact_upsert(dialect_of(session))
    contact: Contact = (await session.scalars(stmt, values, execution_options=_REFRESH)).one()
    return contact


async def _upsert_conversation(
    session: AsyncSession, channel: Channel, contact: Contact, chat_id: str
) -> tuple[Conversation, bool]:
    values = {
        "id": new_id(),
        "account_id": channel.account_id,
        "channel_id": channel.id,
        "contact_id": contact.id,
        "is_group": is_group_chat(chat_id),
    }
    stmt = _conversation_upsert(dialect_of(session))
    result = await session.scalars(stmt, values, execution_options=_REFRESH)
    conversation: Conversation = result.one()
    return conversation, conversation.id == values["id"]
