"""Escalation: the conversation goes to the agent, with the reason kept and the agent alerted."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.conversations import live, outbox
from whatsapp_assistant.conversations.events import record_event
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.snapshot import Snapshot
from whatsapp_assistant.conversations.states import Author, Mode
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.escalation import messages
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.phone import chat_id_from_phone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffPlan:
    reason: (
        str  # negotiation | objection | legal | financing | human_request | ai_unavailable | other
    )
    detail: str
    actor: str  # "rules:<rule id>" | "ai" | "system"


async def escalate(
    session: AsyncSession, conversation: Conversation, snapshot: Snapshot, plan: HandoffPlan
) -> list[Message]:
    """Inside the guarded transaction: record, switch to human, and alert the agent.

    Returns the alert rows to send (the customer's handoff text is queued by the caller).
    """
    session.add(
        Escalation(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            message_id=snapshot.pending_ids[-1],
            reason=plan.reason,
            detail=plan.detail[:2000],
        )
    )
    conversation.mode = Mode.HUMAN
    conversation.version += 1
    conversation.escalated = True
    record_event(session, conversation, "escalated", actor=plan.actor, reason=plan.reason)
    record_event(session, conversation, "mode_changed", actor=plan.actor, mode=Mode.HUMAN)
    await live.publish_conversation(session, conversation)
    return await _alert_agent(session, conversation, snapshot, plan)


async def _alert_agent(
    session: AsyncSession, conversation: Conversation, snapshot: Snapshot, plan: HandoffPlan
) -> list[Message]:
    text = messages.agent_alert_text(
        customer=snapshot.contact_label, reason=plan.reason, excerpt=snapshot.pending_text[:300]
    )
    return await alert_owner(
        session,
        conversation,
        owner_phone=snapshot.owner_phone,
        text=text,
        max_length=snapshot.max_length,
    )


async def alert_owner(
    session: AsyncSession,
    conversation: Conversation,
    *,
    owner_phone: str | None,
    text: str,
    max_length: int,
) -> list[Message]:
    """A WhatsApp message about `conversation` to the agent's own number, through the same
    channel; nothing when the account has no usable owner phone."""
    if not owner_phone:
        return []
    channel = await session.get(Channel, conversation.channel_id)
    assert channel is not None
    try:
        owner_chat = chat_id_from_phone(owner_phone)
    except ValueError:
        logger.warning("account %s has an unusable owner phone", conversation.account_id)
        return []
    owner = await open_conversation(session, channel, owner_chat, name="You (alerts)")
    owner.mode = Mode.HUMAN  # the assistant never answers the agent's own alert thread
    return outbox.queue_automated(
        session,
        owner,
        text,
        author=Author.SYSTEM,
        max_length=max_length,
        data={"alert_for": str(conversation.id)},
    )


async def flag_for_agent(
    session: AsyncSession, conversation: Conversation, snapshot: Snapshot, *, reason: str
) -> None:
    """The inbox's "needs you" flag without a hand-over: the AI keeps the conversation."""
    await flag_message(session, conversation, snapshot.pending_ids[-1], reason=reason)


async def flag_message(
    session: AsyncSession, conversation: Conversation, message_id: uuid.UUID, *, reason: str
) -> None:
    """`flag_for_agent` for one message; a conversation already flagged stays as it is."""
    if conversation.escalated:
        return
    session.add(
        Escalation(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            message_id=message_id,
            reason=reason,
        )
    )
    conversation.escalated = True
    record_event(session, conversation, "escalated", actor="system", reason=reason)
    await live.publish_conversation(session, conversation)
