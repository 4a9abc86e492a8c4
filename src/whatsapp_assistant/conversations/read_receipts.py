"""Read marks: the customer sees their message was read, on channels that show it (Meta)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.base import MarksRead
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.runtime import MARK_READ_JOB, Runtime
from whatsapp_assistant.conversations.states import Author

logger = logging.getLogger(__name__)


def mark_read_on_commit(
    runtime: Runtime, session: AsyncSession, channel: Channel, messages: list[Message]
) -> None:
    """Defer one read mark for the newest customer message stored: it marks the ones before it
    too (docs/providers.md, M6), and it leaves after commit, never in the webhook's time."""
    if not isinstance(runtime.channels.get(channel.type), MarksRead):
        return
    newest = next(
        (m for m in reversed(messages) if m.author == Author.CUSTOMER and m.provider_message_id),
        None,
    )
    if newest is not None:
        runtime.queue.defer_on_commit(
            session,
            MARK_READ_JOB,
            channel_id=str(channel.id),
            provider_message_id=newest.provider_message_id,
        )


async def mark_read(runtime: Runtime, channel_id: uuid.UUID, provider_message_id: str) -> None:
    """Send the read mark. Best effort: a lost mark costs blue ticks, never a message, so a
    refusal is logged and not retried."""
    async with runtime.db.session_scope() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None or not channel.active:
        return
    adapter = adapter_for(runtime.channels, channel.type)
    if not isinstance(adapter, MarksRead):
        return
    try:
        await adapter.mark_read(channel, provider_message_id)
    except SendError as exc:
        logger.warning(
            "read mark of %s on %s failed: %s", provider_message_id, channel.id, exc.message
        )
