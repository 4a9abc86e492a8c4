"""What the agent does to a conversation through the API: switch its mode, write as themself."""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.conversations import control, inbox, live, outbox
from whatsapp_assistant.conversations.inbox import get_conversation
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.db.session import on_commit
from whatsapp_assistant.kit.clock import utcnow


async def set_mode(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    mode: Mode,
    actor: str,
) -> Conversation:
    conversation = await get_conversation(session, account_id, conversation_id)
    if mode == Mode.HUMAN:
        await _take_over(runtime, session, conversation, actor=actor, reason="takeover")
        return conversation
    account = await session.get(Account, account_id)
    assert account is not None
    wants_reply = await control.hand_back(
        session, conversation, actor=actor, answer_pending=account.answer_pending_on_hand_back
    )
    if wants_reply:
        defer_reply(runtime, session, conversation.id, conversation.account_id)
    return conversation


async def send_as_agent(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *,
    text: str,
    actor: str,
) -> list[Message]:
    """The agent writes: the conversation becomes human (the AI stops) and the text is queued.

    Opted-out contacts still get what the agent writes by hand (only automated messages stop).
    """
    conversation = await get_conversation(session, account_id, conversation_id)
    await _take_over(runtime, session, conversation, actor=actor, reason="agent_message")
    channel = await session.get(Channel, conversation.channel_id)
    assert channel is not None
    max_length = adapter_for(runtime.channels, channel.type).max_text_length
    rows = outbox.queue_human(
        session, conversation, text, max_length=max_length, data={"by": actor}
    )
    conversation.last_human_at = utcnow()
    await session.flush()
    outbox.send_on_commit(runtime, session, rows)
    return rows


async def mark_read(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """The agent opened the thread; other open inboxes of the account drop its unread badge."""
    conversation = await get_conversation(session, account_id, conversation_id)
    if await inbox.mark_read(session, conversation):
        await live.publish_conversation(session, conversation)
    return conversation


async def _take_over(
    runtime: Runtime, session: AsyncSession, conversation: Conversation, *, actor: str, reason: str
) -> None:
    """Take over, and answer the caller only once no automated send is still on the wire
    (docs/architecture.md, invariant 3)."""
    await control.take_over(session, conversation, actor=actor, reason=reason)
    on_commit(
        session,
        partial(
            control.wait_for_inflight_automated,
            runtime.db,
            conversation.id,
            stale_after_seconds=runtime.settings.send.stale_after_seconds,
        ),
    )
