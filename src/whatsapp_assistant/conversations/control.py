"""Who speaks in a conversation: take_over and hand_back bump the version (invariant 3)."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations.models import Conversation, Message

logger = logging.getLogger(__name__)


async def take_over(session: AsyncSession, conversation: Conversation, *, actor: str) -> None:
    """The AI goes silent here: drafts in flight fail their version check, queued AI sends stop."""
    conversation.version += 1
    if conversation.mode != "human":
        conversation.mode = "human"
        logger.info("conversation %s taken over by %s", conversation.id, actor)
    await session.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.author == "ai",
            Message.status == "queued",
        )
        .values(status="cancelled", error=f"cancelled: taken over by {actor}")
    )


async def hand_back(session: AsyncSession, conversation: Conversation, *, actor: str) -> None:
    conversation.version += 1
    conversation.mode = "ai"
    logger.info("conversation %s handed back to the AI by %s", conversation.id, actor)
