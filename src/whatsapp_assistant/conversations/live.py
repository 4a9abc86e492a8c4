"""The inbox's live events: what changed in a conversation, published once its commit is done.

Events (all JSON-safe; `message` and `conversation` carry the API's read shapes):
  {"type": "message", "conversation_id", "message": MessageRead}  new or changed (upsert by id)
  {"type": "message_status", "conversation_id", "message_id", "status", "error"}
  {"type": "conversation", "conversation": ConversationRead}       mode, escalation, opt-out
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations import inbox
from whatsapp_assistant.conversations.models import Conversation, Message
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


async def conversation_event(session: AsyncSession, conversation: Conversation) -> Event:
    """The conversation as the inbox API shows it, read inside the transaction that changed it."""
    await session.flush()  # the escalation or opt-out made in this transaction is read back
    read = await inbox.read_conversation(session, conversation.account_id, conversation.id)
    return {"type": "conversation", "conversation": read.model_dump(mode="json")}


def publish_message(session: AsyncSession, message: Message) -> None:
    publish_on_commit(session, message.account_id, message_event(message))


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
    event = await conversation_event(session, conversation)
    publish_on_commit(session, conversation.account_id, event)
