"""Finding or opening the contact and conversation of a chat, safely under concurrent webhooks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.conversations.models import Contact, Conversation
from whatsapp_assistant.kit.phone import is_group_chat, phone_from_chat_id


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

    Two webhooks of a new chat may race: the unique constraints decide, the loser re-reads.
    """
    existing = await find_conversation(session, channel, chat_id)
    if existing is not None:
        if name:
            await _refresh_contact_name(session, existing, name)
        return existing
    try:
        async with session.begin_nested():
            contact = Contact(
                account_id=channel.account_id,
                channel_id=channel.id,
                chat_id=chat_id,
                phone=phone_from_chat_id(chat_id),
                name=name,
            )
            session.add(contact)
            await session.flush()
            conversation = Conversation(
                account_id=channel.account_id,
                channel_id=channel.id,
                contact_id=contact.id,
                is_group=is_group_chat(chat_id),
            )
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        found = await find_conversation(session, channel, chat_id)
        if found is None:
            raise
        return found
    return conversation


async def _refresh_contact_name(
    session: AsyncSession, conversation: Conversation, name: str
) -> None:
    contact = await session.get(Contact, conversation.contact_id)
    if contact is not None and not contact.name:
        contact.name = name
