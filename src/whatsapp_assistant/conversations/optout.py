"""Opt-out: a customer who writes STOP gets no automated message until they write START."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations import live, outbox
from whatsapp_assistant.conversations.events import record_event
from whatsapp_assistant.conversations.language import notice_language
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.scheduled import plan
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.escalation import messages, rules
from whatsapp_assistant.kit.clock import utcnow

NOTICE_MAX_LENGTH = 4096


async def apply(
    session: AsyncSession, conversation: Conversation, contact: Contact, message: Message
) -> list[Message] | None:
    """Queue the confirmation when `message` is STOP or START; None for any other message."""
    opting_out = rules.is_opt_out(message.text) and contact.opted_out_at is None
    opting_in = rules.is_opt_in(message.text) and contact.opted_out_at is not None
    if not (opting_out or opting_in):
        return None
    language = await notice_language(session, conversation, keyword=message.text)
    contact.opted_out_at = utcnow() if opting_out else None
    if opting_out:
        await plan.cancel_pending(
            session, conversation.id, kinds=plan.AUTOMATED_KINDS, reason="the customer opted out"
        )
    kind = "opted_out" if opting_out else "opted_in"
    record_event(session, conversation, kind, actor="customer")
    await live.publish_conversation(session, conversation)
    text = (messages.opted_out_text if opting_out else messages.opted_in_text)(language)
    conversation.answered_through = message.created_at  # STOP/START itself wants no AI reply
    return outbox.queue_automated(
        session,
        conversation,
        text,
        author=Author.SYSTEM,
        max_length=NOTICE_MAX_LENGTH,
        data={outbox.OPT_NOTICE: True},
    )
