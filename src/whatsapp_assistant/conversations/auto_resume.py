"""Auto-resume: hand quiet human conversations back to the AI after the account's hours.

A product rule, not recovery: its own periodic job, one query for the due conversations over
the partial index of human, non-escalated conversations (docs/architecture.md, invariant 2: the
rows say what is due, so a missed minute is caught up by the next run).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, literal, select

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.conversations import control
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.db.base import UTCDateTime
from whatsapp_assistant.db.functions import hours_between
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)


async def resume_due(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Hand back every conversation whose agent has been quiet for the account's hours.

    Quiet since the agent last wrote, or since the conversation last changed. Escalated
    conversations are left alone: the customer is waiting for a person.
    """
    now = now or utcnow()
    quiet_since = func.coalesce(Conversation.last_human_at, Conversation.updated_at)
    due = (
        select(Conversation, Account.answer_pending_on_hand_back)
        .join(Account, Account.id == Conversation.account_id)
        .where(
            Conversation.mode == Mode.HUMAN,
            Conversation.escalated.is_(False),
            Account.auto_resume_hours.is_not(None),
            hours_between(quiet_since, literal(now, UTCDateTime())) >= Account.auto_resume_hours,
        )
        .with_for_update(of=Conversation, skip_locked=True)
    )
    async with runtime.db.session_scope() as session:
        rows = (await session.execute(due)).all()
        for conversation, answer_pending in rows:
            wants_reply = await control.hand_back(
                session, conversation, actor="auto_resume", answer_pending=answer_pending
            )
            if wants_reply:
                defer_reply(runtime, session, conversation.id, conversation.account_id)
    if rows:
        logger.info("auto-resume: %d conversations handed back to the AI", len(rows))
    return len(rows)
