"""The audit trail of a conversation: who or what changed its mode, escalated it, opted out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations.models import Conversation, ConversationEvent
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow


def record_event(
    session: AsyncSession, conversation: Conversation, kind: str, *, actor: str, **detail: Any
) -> ConversationEvent:
    event = ConversationEvent(
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        kind=kind,
        actor=actor,
        detail=detail,
        created_at=utcnow(),
    )
    session.add(event)
    return event


async def list_events(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> Sequence[ConversationEvent]:
    stmt = (
        for_account(select(ConversationEvent), ConversationEvent, account_id)
        .where(ConversationEvent.conversation_id == conversation_id)
        .order_by(ConversationEvent.created_at, ConversationEvent.id)
    )
    return (await session.execute(stmt)).scalars().all()
