"""The simulator channel's inbound side: a typed customer message goes through the real ingest."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.simulator.sandbox import SANDBOX_CHAT_ID, SANDBOX_PHONE
from whatsapp_assistant.channels.types import InboundMessage
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.ingest import IngestResult, ingest_message
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.schemas import SimulatedMessage
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_token

__all__ = ["SANDBOX_CHAT_ID", "SANDBOX_PHONE", "find_simulated", "receive_simulated"]


async def receive_simulated(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, data: SimulatedMessage
) -> Message:
    channel = await channels.get_or_create_simulator(session, account_id)
    event = InboundMessage(
        origin="customer",
        chat_id=f"{data.phone}@c.us",
        provider_message_id="SIMIN" + new_token(nbytes=12),
        timestamp=utcnow(),
        kind="text",
        text=data.text,
        sender_id=f"{data.phone}@c.us",
        sender_name=data.customer,
    )
    result = IngestResult()
    message = await ingest_message(session, channel, event, result)
    assert message is not None  # a fresh provider id is never a duplicate
    for conversation_id in result.to_answer:
        defer_reply(runtime, session, conversation_id)
    outbox.send_on_commit(runtime, session, result.to_send)
    return message


async def find_simulated(
    session: AsyncSession, account_id: uuid.UUID, phone: str
) -> Conversation | None:
    """The account's simulator conversation with this phone number, if it has written yet."""
    stmt = (
        for_account(select(Conversation), Conversation, account_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Channel.type == "simulator", Contact.chat_id == f"{phone}@c.us")
    )
    return (await session.execute(stmt)).scalar_one_or_none()
