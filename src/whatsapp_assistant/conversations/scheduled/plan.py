"""Creating and cancelling scheduled rows, each in the caller's transaction; the job of a new row
is deferred on commit for its due time (docs/decisions.md, 25)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations.errors import (
    DueInThePast,
    OnlyRemindersKept,
    ScheduledNotFound,
    ScheduledNotPending,
)
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.runtime import SCHEDULED_JOB
from whatsapp_assistant.conversations.scheduled.followups import get_followups
from whatsapp_assistant.conversations.scheduled.models import (
    ScheduledKind,
    ScheduledMessage,
    ScheduledStatus,
)
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.infra.queue import JobQueue
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import load_calendar
from whatsapp_assistant.scheduling.wording import Notice

# What a takeover or an opt-out stops: everything automated. The agent's own rows stay.
AUTOMATED_KINDS = (ScheduledKind.FOLLOWUP, ScheduledKind.REMINDER, ScheduledKind.AFTER_VIEWING)
VIEWING_KINDS = (ScheduledKind.REMINDER, ScheduledKind.AFTER_VIEWING)
# (notice, how long before the viewing)
REMINDERS = ((Notice.REMINDER_DAY, timedelta(days=1)), (Notice.REMINDER_HOUR, timedelta(hours=1)))


def defer_send(queue: JobQueue, session: AsyncSession, row: ScheduledMessage) -> None:
    """The row's wake-up for its due time, once per row (its queueing lock). The delay is
    counted on kit/clock.py's time, which tests may move forward."""
    delay = max(0.0, (row.due_at - utcnow()).total_seconds())
    queue.defer_on_commit(
        session,
        SCHEDULED_JOB,
        scheduled_id=str(row.id),
        queueing_lock=f"scheduled:{row.id}",
        delay_seconds=delay,
    )


def _add(
    session: AsyncSession,
    queue: JobQueue,
    conversation: Conversation | Viewing,
    *,
    conversation_id: uuid.UUID,
    kind: ScheduledKind,
    due_at: datetime,
    created_by: str,
    data: dict[str, Any],
    text: str = "",
) -> ScheduledMessage:
    row = ScheduledMessage(
        id=new_id(),
        account_id=conversation.account_id,
        conversation_id=conversation_id,
        kind=kind,
        due_at=due_at,
        status=ScheduledStatus.PENDING,
        text=text,
        data=data,
        keep_in_human=False,
        created_at=utcnow(),
        created_by=created_by,
    )
    session.add(row)
    defer_send(queue, session, row)
    return row


async def cancel_pending(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    kinds: Collection[ScheduledKind],
    reason: str,
    spare_kept: bool = False,
) -> list[uuid.UUID]:
    """Cancel the conversation's pending rows of these kinds; `spare_kept` leaves the reminders
    the agent keeps in human mode. One statement."""
    stmt = update(ScheduledMessage).where(
        ScheduledMessage.conversation_id == conversation_id,
        ScheduledMessage.status == ScheduledStatus.PENDING,
        ScheduledMessage.kind.in_(list(kinds)),
    )
    if spare_kept:
        stmt = stmt.where(ScheduledMessage.keep_in_human.is_(False))
    cancelled = await session.execute(
        stmt.values(status=ScheduledStatus.CANCELLED, reason=reason)
        .returning(ScheduledMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list(cancelled.scalars())


async def cancel_followups(
    session: AsyncSession, conversation_id: uuid.UUID, *, reason: str
) -> list[uuid.UUID]:
    return await cancel_pending(
        session, conversation_id, kinds=(ScheduledKind.FOLLOWUP,), reason=reason
    )


async def schedule_followups(
    session: AsyncSession,
    conversation: Conversation,
    *,
    queue: JobQueue,
    listings: Sequence[str] = (),
) -> list[ScheduledMessage]:
    """After an AI message: the account's ladder, counted from now, in place of the
    conversation's earlier pending follow-ups."""
    await cancel_followups(session, conversation.id, reason="a newer AI message")
    settings = await get_followups(session, conversation.account_id)
    if not settings.enabled:
        return []
    now = utcnow()
    steps = settings.steps_hours
    return [
        _add(
            session,
            queue,
            conversation,
            conversation_id=conversation.id,
            kind=ScheduledKind.FOLLOWUP,
            due_at=now + timedelta(hours=hours),
            created_by="ai",
            data={"step": number, "steps": len(steps), "listings": list(listings)},
        )
        for number, hours in enumerate(steps, 1)
    ]


async def plan_viewing_reminders(
    session: AsyncSession, viewing: Viewing, *, queue: JobQueue
) -> list[ScheduledMessage]:
    """The day-before and hour-before reminders of a booked, confirmed or moved viewing, in
    place of any planned before. Each falls inside business hours: a time outside them moves
    back to the last open minute before it; one that would be past, or not after the one
    before it, is left out."""
    await cancel_for_viewing(session, viewing.id, reason="the viewing changed")
    if viewing.conversation_id is None:
        return []
    # A booking ends the ladder: the customer answered in the best way.
    await cancel_followups(session, viewing.conversation_id, reason="a viewing was booked")
    settings = await get_followups(session, viewing.account_id)
    wanted = {
        Notice.REMINDER_DAY: settings.reminder_day_before,
        Notice.REMINDER_HOUR: settings.reminder_hour_before,
    }
    calendar = await load_calendar(session, viewing.account_id)
    now = utcnow()
    rows: list[ScheduledMessage] = []
    latest: datetime | None = None
    for notice, before in REMINDERS:
        if not wanted[notice]:
            continue
        due = calendar.last_open(viewing.starts_at - before)
        if due <= now or due >= viewing.starts_at or (latest is not None and due <= latest):
            continue
        latest = due
        data = {
            "viewing_id": str(viewing.id),
            "starts_at": viewing.starts_at.isoformat(),
            "notice": str(notice),
        }
        rows.append(
            _add(
                session,
                queue,
                viewing,
                conversation_id=viewing.conversation_id,
                kind=ScheduledKind.REMINDER,
                due_at=due,
                created_by="system",
                data=data,
            )
        )
    return rows


async def plan_after_viewing(
    session: AsyncSession, viewing: Viewing, *, queue: JobQueue
) -> ScheduledMessage | None:
    """Once a viewing is done: one message asking how it went, due now (in business hours
    when it is sent)."""
    if viewing.conversation_id is None:
        return None
    await cancel_for_viewing(session, viewing.id, reason="the viewing is over")
    data = {"viewing_id": str(viewing.id), "property_id": str(viewing.property_id)}
    return _add(
        session,
        queue,
        viewing,
        conversation_id=viewing.conversation_id,
        kind=ScheduledKind.AFTER_VIEWING,
        due_at=utcnow(),
        created_by="system",
        data=data,
    )


async def cancel_for_viewing(
    session: AsyncSession, viewing_id: uuid.UUID, *, reason: str
) -> list[uuid.UUID]:
    """Cancel the pending reminders (and after-viewing note) of a viewing."""
    conversation_id = (
        await session.execute(select(Viewing.conversation_id).where(Viewing.id == viewing_id))
    ).scalar_one_or_none()
    if conversation_id is None:
        return []
    cancelled = await session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.conversation_id == conversation_id,
            ScheduledMessage.status == ScheduledStatus.PENDING,
            ScheduledMessage.kind.in_(VIEWING_KINDS),
            ScheduledMessage.data["viewing_id"].as_string() == str(viewing_id),
        )
        .values(status=ScheduledStatus.CANCELLED, reason=reason)
        .returning(ScheduledMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list(cancelled.scalars())


async def schedule_manual(
    session: AsyncSession,
    conversation: Conversation,
    *,
    queue: JobQueue,
    text: str,
    due_at: datetime,
    actor: str,
) -> ScheduledMessage:
    """The agent's "send later": their text at their time, whatever the mode then."""
    if due_at <= utcnow():
        raise DueInThePast("should be in the future", field="due_at")
    return _add(
        session,
        queue,
        conversation,
        conversation_id=conversation.id,
        kind=ScheduledKind.MANUAL,
        due_at=due_at,
        created_by=actor,
        data={},
        text=text,
    )


async def get_scheduled(
    session: AsyncSession, account_id: uuid.UUID, scheduled_id: uuid.UUID
) -> ScheduledMessage:
    stmt = for_account(select(ScheduledMessage), ScheduledMessage, account_id).where(
        ScheduledMessage.id == scheduled_id
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise ScheduledNotFound("no such scheduled message")
    return row


async def cancel_scheduled(
    session: AsyncSession, account_id: uuid.UUID, scheduled_id: uuid.UUID, *, actor: str
) -> ScheduledMessage:
    """The agent cancels a pending row; one already sent, cancelled or skipped is a conflict.
    The conditional UPDATE decides against a send job claiming it at the same moment."""
    row = await get_scheduled(session, account_id, scheduled_id)
    cancelled = await session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.id == scheduled_id,
            ScheduledMessage.status == ScheduledStatus.PENDING,
        )
        .values(status=ScheduledStatus.CANCELLED, reason=f"cancelled by {actor}")
        .execution_options(synchronize_session=False)
    )
    if getattr(cancelled, "rowcount", 0) != 1:
        await session.refresh(row)
        raise ScheduledNotPending(f"this message is {row.status} already", field="status")
    await session.refresh(row)
    return row


async def keep_in_human(
    session: AsyncSession, account_id: uuid.UUID, scheduled_id: uuid.UUID, *, keep: bool
) -> ScheduledMessage:
    """Whether a pending reminder goes on after a takeover; the same conditional UPDATE as a
    cancel, so it never changes a row a send job claimed meanwhile."""
    row = await get_scheduled(session, account_id, scheduled_id)
    if row.kind != ScheduledKind.REMINDER:
        raise OnlyRemindersKept("only a reminder can be kept in human mode", field="kind")
    changed = await session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.id == scheduled_id,
            ScheduledMessage.status == ScheduledStatus.PENDING,
        )
        .values(keep_in_human=keep)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(row)
    if getattr(changed, "rowcount", 0) != 1:
        raise ScheduledNotPending(f"this message is {row.status} already", field="status")
    return row


async def list_scheduled(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, *, limit: int = 50
) -> Sequence[ScheduledMessage]:
    """The conversation's pending rows and its most recent others, by due time."""
    base = for_account(select(ScheduledMessage), ScheduledMessage, account_id).where(
        ScheduledMessage.conversation_id == conversation_id
    )
    pending = base.where(ScheduledMessage.status == ScheduledStatus.PENDING)
    recent = base.where(ScheduledMessage.status != ScheduledStatus.PENDING).order_by(
        ScheduledMessage.due_at.desc()
    )
    rows = list((await session.execute(pending)).scalars())
    rows += list((await session.execute(recent.limit(limit))).scalars())
    return sorted(rows, key=lambda row: (row.due_at, str(row.id)))


async def next_pending(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID
) -> ScheduledMessage | None:
    """The conversation's next message to go, for the thread: one indexed read."""
    stmt = (
        for_account(select(ScheduledMessage), ScheduledMessage, account_id)
        .where(
            ScheduledMessage.conversation_id == conversation_id,
            ScheduledMessage.status == ScheduledStatus.PENDING,
        )
        .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
