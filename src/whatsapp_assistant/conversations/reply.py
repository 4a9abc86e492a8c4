"""The AI reply: debounce, read, draft outside any transaction, commit only if nobody took over.

Invariant 3 lives in `_commit_draft`: one conditional UPDATE checks mode, version and that these
messages were not answered yet, in the same transaction as the outbox insert.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.ai.errors import LLMRejected, LLMUnavailable
from whatsapp_assistant.ai.tools import AccountTools
from whatsapp_assistant.ai.types import PersonaSpec, ReplyDraft, ReplyRequest, Turn
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import REPLY_JOB, Runtime
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)

RESEND_TEXT = (
    "Sorry, your last message did not come through. Could you send it again? / "
    "Lo siento, tu mensaje no llegó bien. ¿Puedes reenviarlo? / "
    "Desculpe, a sua mensagem não chegou bem. Pode reenviá-la?"
)
HANDOFF_TEXT = "Thank you! I'm passing this to {agent} personally, who will reply here shortly."
MAX_DEBOUNCE_WAITS = 5


class Outcome(StrEnum):
    NOTHING_TO_ANSWER = "nothing_to_answer"
    NOT_AI_MODE = "not_ai_mode"
    SENT = "queued"
    HANDED_OFF = "handed_off"
    DROPPED_AFTER_TAKEOVER = "dropped_after_takeover"
    AI_FAILED = "ai_failed"


@dataclass(frozen=True)
class Snapshot:
    """What the draft was built from: the version it must still match when committed."""

    conversation_id: uuid.UUID
    account_id: uuid.UUID
    version: int
    newest_pending: datetime
    pending_ids: list[uuid.UUID]
    request: ReplyRequest
    only_undecryptable: bool
    max_length: int


def defer_reply(runtime: Runtime, session: AsyncSession, conversation_id: uuid.UUID) -> None:
    """One pending reply job per conversation, run one at a time per conversation (invariant 4)."""
    key = f"conversation:{conversation_id}"
    runtime.queue.defer_on_commit(
        session,
        REPLY_JOB,
        conversation_id=str(conversation_id),
        lock=key,
        queueing_lock=key,
        delay_seconds=runtime.settings.reply_debounce_seconds,
    )


async def answer_pending(runtime: Runtime, conversation_id: uuid.UUID) -> Outcome:
    snapshot = await _wait_for_quiet(runtime, conversation_id)
    if isinstance(snapshot, Outcome):
        return snapshot
    if snapshot.only_undecryptable:
        return await _commit_text(runtime, snapshot, RESEND_TEXT, data={"template": "resend"})
    tools = AccountTools(runtime.db, snapshot.account_id)
    try:
        draft = await runtime.llm.draft_reply(snapshot.request, tools)
    except (LLMUnavailable, LLMRejected) as exc:
        # Left unanswered on purpose: the recovery sweep retries from the rows (invariant 2).
        logger.warning("AI reply for %s failed: %s", conversation_id, exc)
        return Outcome.AI_FAILED
    return await _commit_draft(runtime, snapshot, draft)


async def _wait_for_quiet(runtime: Runtime, conversation_id: uuid.UUID) -> Snapshot | Outcome:
    """Wait until the customer has been quiet for the debounce window, so a burst gets one reply."""
    debounce = runtime.settings.reply_debounce_seconds
    for _ in range(MAX_DEBOUNCE_WAITS):
        snapshot = await _read(runtime, conversation_id)
        if isinstance(snapshot, Outcome):
            return snapshot
        quiet_for = (utcnow() - snapshot.newest_pending).total_seconds()
        if quiet_for >= debounce:
            return snapshot
        await asyncio.sleep(debounce - quiet_for)
    return await _read(runtime, conversation_id)


async def _read(runtime: Runtime, conversation_id: uuid.UUID) -> Snapshot | Outcome:
    async with runtime.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.is_group:
            return Outcome.NOTHING_TO_ANSWER
        if conversation.mode != "ai":
            return Outcome.NOT_AI_MODE
        pending = await _pending_messages(session, conversation)
        if not pending:
            return Outcome.NOTHING_TO_ANSWER
        history = await _history(session, conversation, runtime.settings.llm.history_messages)
        persona = await accounts.get_persona(session, conversation.account_id)
        contact = await session.get(Contact, conversation.contact_id)
        channel_type = await _channel_type(session, conversation)
        return Snapshot(
            conversation_id=conversation.id,
            account_id=conversation.account_id,
            version=conversation.version,
            newest_pending=max(m.created_at for m in pending),
            pending_ids=[m.id for m in pending],
            request=ReplyRequest(
                persona=PersonaSpec.from_model(persona),
                history=history,
                contact_name=contact.name if contact else "",
            ),
            only_undecryptable=all(m.kind == "undecryptable" for m in pending),
            max_length=adapter_for(runtime.channels, channel_type).max_text_length,
        )


async def _channel_type(session: AsyncSession, conversation: Conversation) -> str:
    from whatsapp_assistant.channels.models import Channel

    channel = await session.get(Channel, conversation.channel_id)
    assert channel is not None
    return channel.type


async def _pending_messages(session: AsyncSession, conversation: Conversation) -> list[Message]:
    stmt = select(Message).where(
        Message.conversation_id == conversation.id,
        Message.author == "customer",
        Message.deleted_at.is_(None),
        Message.kind.not_in(["reaction", "sticker", "unsupported", "poll_update"]),
    )
    if conversation.answered_through is not None:
        stmt = stmt.where(Message.created_at > conversation.answered_through)
    return list((await session.execute(stmt.order_by(Message.created_at))).scalars())


async def _history(session: AsyncSession, conversation: Conversation, limit: int) -> list[Turn]:
    """The last `limit` messages as turns: customer text is data in messages, never the prompt."""
    stmt = (
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.deleted_at.is_(None),
            Message.author.in_(["customer", "ai", "human"]),
            Message.kind.not_in(["reaction", "sticker", "undecryptable", "call"]),
            or_(Message.direction == "in", Message.status.not_in(["cancelled", "failed"])),
        )
        .order_by(Message.created_at.desc())
        .limit(limit)
    )
    rows = list(reversed((await session.execute(stmt)).scalars().all()))
    return [
        Turn(role="user" if m.author == "customer" else "assistant", text=_as_text(m))
        for m in rows
        if _as_text(m)
    ]


def _as_text(message: Message) -> str:
    if message.kind == "location":
        return f"[location shared] {message.text}"
    if message.kind in {"image", "video", "document", "audio"}:
        caption = f": {message.text}" if message.text else ""
        return f"[{message.kind} sent{caption}]"
    return message.text


async def _commit_draft(runtime: Runtime, snapshot: Snapshot, draft: ReplyDraft) -> Outcome:
    data = {
        "provider": draft.provider,
        "model": draft.model,
        "offline": draft.offline,
        "tools": [call.name for call in draft.tool_calls],
    }
    if draft.handoff is None:
        return await _commit_text(runtime, snapshot, draft.text, data=data)
    persona = snapshot.request.persona
    text = draft.text or HANDOFF_TEXT.format(agent=persona.agent_name or "our agent")
    return await _commit_text(
        runtime,
        snapshot,
        text,
        data=data | {"handoff": draft.handoff.reason},
        handoff=(draft.handoff.reason, draft.handoff.detail),
    )


async def _commit_text(
    runtime: Runtime,
    snapshot: Snapshot,
    text: str,
    *,
    data: dict[str, object],
    handoff: tuple[str, str] | None = None,
) -> Outcome:
    async with runtime.db.session_scope() as session:
        guard = await session.execute(
            update(Conversation)
            .where(
                Conversation.id == snapshot.conversation_id,
                Conversation.mode == "ai",
                Conversation.version == snapshot.version,
                or_(
                    Conversation.answered_through.is_(None),
                    Conversation.answered_through < snapshot.newest_pending,
                ),
            )
            .values(answered_through=snapshot.newest_pending)
        )
        if getattr(guard, "rowcount", 0) != 1:
            return Outcome.DROPPED_AFTER_TAKEOVER
        conversation = await session.get(Conversation, snapshot.conversation_id)
        assert conversation is not None
        rows = outbox.queue_text(
            session, conversation, text, author="ai", max_length=snapshot.max_length, data=data
        )
        if handoff is not None:
            _escalate(session, conversation, snapshot, reason=handoff[0], detail=handoff[1])
        await session.flush()
        outbox.send_on_commit(runtime, session, rows)
    return Outcome.HANDED_OFF if handoff else Outcome.SENT


def _escalate(
    session: AsyncSession,
    conversation: Conversation,
    snapshot: Snapshot,
    *,
    reason: str,
    detail: str,
) -> None:
    session.add(
        Escalation(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            message_id=snapshot.pending_ids[-1],
            reason=reason,
            detail=detail,
        )
    )
    conversation.mode = "human"
    conversation.version += 1
