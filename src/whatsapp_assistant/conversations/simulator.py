"""The simulator channel's inbound side: a typed customer message goes through the real ingest."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.simulator.sandbox import SANDBOX_CHAT_ID, SANDBOX_PHONE
from whatsapp_assistant.channels.types import InboundMessage, ParsedWebhook
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.receive import receive
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
    parsed = ParsedWebhook(
        external_id=channel.external_id, event_type="simulated", dedup_key=None, events=[event]
    )
    result = await receive(runtime, session, channel, parsed, raw=None)
    [message] = result.messages  # a fresh provider id is never a duplicate
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
