"""A conversation's language: followed from what the customer writes, or pinned by the agent.

`notice_language` is the one place every system text (hand-over, holding, opt-out, voice-note
notices, and later follow-ups and reminders) reads the language it is written in.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.ai.language import Language, as_language, follow, reads_latest_only
from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.events import record_event
from whatsapp_assistant.conversations.inbox import get_conversation
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.escalation.rules import keyword_languages

# Enough of the conversation to know its language; older messages say nothing newer ones don't.
RECENT_MESSAGES = 10


async def observe(
    session: AsyncSession, conversation: Conversation, message: Message, *, first: bool = False
) -> None:
    """The customer wrote `message` (already stored): follow a clear change of language.

    `first`: the conversation was opened by this message, so it is all there is to read. The
    recent messages are read only when `follow` needs them: a query per webhook otherwise.
    """
    if conversation.language_pinned or not message.text.strip():
        return
    if first or reads_latest_only(conversation.language, message.text):
        so_far = message.text
    else:
        so_far = "\n".join(await _recent_customer_text(session, conversation))
    # The detector is CPU work of a few milliseconds: off the event loop, so other webhooks and
    # replies are not held up behind it (docs/architecture.md, invariant 9).
    language = await asyncio.to_thread(
        follow, conversation.language, so_far=so_far, latest=message.text
    )
    if language is not None and language != conversation.language:
        conversation.language = language
        # A new conversation is announced by its first message's event, and every read of it
        # carries the language: its own conversation event would be an inbox read per new
        # chat, a fifth of a webhook's CPU in a rush of new leads (docs/scaling.md).
        if not first:
            await live.publish_conversation(session, conversation)


async def _recent_customer_text(session: AsyncSession, conversation: Conversation) -> list[str]:
    stmt = (
        select(Message.text)
        .where(
            Message.conversation_id == conversation.id,
            Message.author == Author.CUSTOMER,
            Message.deleted_at.is_(None),
            Message.text != "",
        )
        .order_by(Message.created_at.desc())
        .limit(RECENT_MESSAGES)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


def resolve(
    conversation: Conversation, *, default: str | None, keyword: str | None = None
) -> Language:
    """The conversation's language; until it is known, that of a bare STOP/BAJA keyword the
    customer just wrote (when only one language has it), the persona's, or English."""
    known = as_language(conversation.language)
    if known is not None:
        return known
    candidates = keyword_languages(keyword) if keyword else ()
    fallback = as_language(default)
    if candidates and fallback not in candidates:
        return as_language(candidates[0]) or "en"
    return fallback or "en"


async def notice_language(
    session: AsyncSession, conversation: Conversation, *, keyword: str | None = None
) -> Language:
    """The language of a system text to this conversation (see `resolve`)."""
    persona = await accounts.get_persona(session, conversation.account_id)
    return resolve(conversation, default=persona.default_language, keyword=keyword)


async def set_language(
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    language: Language | None,
    actor: str,
) -> Conversation:
    """The agent pins the language (detection leaves it alone), or unpins it with None."""
    conversation = await get_conversation(session, account_id, conversation_id)
    conversation.language_pinned = language is not None
    if language is not None:
        conversation.language = language
    record_event(session, conversation, "language_set", actor=actor, language=language)
    await live.publish_conversation(session, conversation)
    return conversation
