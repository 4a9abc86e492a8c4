"""The inbox's live events: what changed in a conversation, published once its commit is done.

Events (all JSON-safe; `message` and `conversation` carry the API's read shapes):
  {"type": "message", "conversation_id", "message": MessageRead}  new or changed (upsert by id)
  {"type": "message_status", "conversation_id", "message_id", "status", "error"}
  {"type": "conversation", "conversation": ConversationRead}       mode, escalation, opt-out
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from whatsapp_assistant.conversations import inbox
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.schemas import MessageRead
from whatsapp_assistant.conversations.states import MessageStatus
from whatsapp_assistant.infra.pubsub import Event, publish_on_commit


def message_event(message: Message) -> Event:
    return {
        "type": "message",
        "conversation_id": str(message.conversation_id),
        "message": MessageRead.model_validate(message).model_dump(mode="json"),
    }


def status_event(
    conversation_id: uuid.UUID, message_id: uuid.UUID, status: str, error: str | None
) -> Event:
    return {
        "type": "message_status",
        "conversation_id": str(conversation_id),
        "message_id": str(message_id),
        "status": status,
        "error": error,
    }


def publish_message(session: AsyncSession, message: Message) -> None:
    """The message as it is at commit, shaped then: nothing of it costs the transaction."""

    async def event() -> Event:
        return message_event(message)

    publish_on_commit(session, message.account_id, event)


def publish_status(session: AsyncSession, message: Message) -> None:
    event = status_event(message.conversation_id, message.id, message.status, message.error)
    publish_on_commit(session, message.account_id, event)


def publish_updated_status(
    session: AsyncSession, message: Message, *, status: str, error: str | None
) -> None:
    """For an UPDATE statement that changed the row behind `message`, not the object itself."""
    event = status_event(message.conversation_id, message.id, status, error)
    publish_on_commit(session, message.account_id, event)


def publish_cancelled(
    session: AsyncSession, conversation: Conversation, message_ids: list[uuid.UUID], error: str
) -> None:
    for message_id in message_ids:
        event = status_event(conversation.id, message_id, MessageStatus.CANCELLED, error)
        publish_on_commit(session, conversation.account_id, event)


async def publish_conversation(session: AsyncSession, conversation: Conversation) -> None:
    """The conversation as the inbox API shows it, once the change has committed.

    On PostgreSQL the inbox's queries run after the commit, on another connection: a webhook's
    transaction stays short. On SQLite they run inside the transaction, as before: there one
    process's writes queue behind one lock anyway, and a reading connection opened after each
    commit held concurrent webhooks off the lock past its busy timeout (tests/races).
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.flush()  # the escalation or opt-out made in this transaction is read back
        read = await inbox.describe(session, conversation)
        shaped: Event = {"type": "conversation", "conversation": read.model_dump(mode="json")}
        publish_on_commit(session, conversation.account_id, shaped)
        return
    engine = session.bind
    # Held from now: the contact the transaction loaded, so it is not read again.
    contact = session.identity_map.get(identity_key(Contact, conversation.contact_id))

    async def event() -> Event:
        async with AsyncSession(engine) as reader:
            # The rows as committed (nothing pending since), joining the reader unread.
            committed = await reader.merge(conversation, load=False)
            held = None if contact is None else await reader.merge(contact, load=False)
            read = await inbox.describe(reader, committed)
            del held
        return {"type": "conversation", "conversation": read.model_dump(mode="json")}

    publish_on_commit(session, conversation.account_id, event)
