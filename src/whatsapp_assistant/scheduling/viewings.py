"""Viewings: the free slots of a listing, booking them without double-booking, and each change.

One slot is never given to two customers: the unique partial index on (account_id, starts_at)
over active viewings refuses the second insert, on SQLite and PostgreSQL alike, however many
processes book at once (docs/decisions.md, 21). The checks against the free slots before it
give the clear answer in the common case; the index is what holds under a race.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.scheduling.errors import (
    ConversationNotFound,
    ListingNotFound,
    SlotNotOffered,
    SlotTaken,
    TransitionRefused,
    ViewingNotFound,
    ViewingsOff,
)
from whatsapp_assistant.scheduling.facts import ViewingStatus
from whatsapp_assistant.scheduling.models import (
    ACTIVE_STATUSES,
    BookedBy,
    CancelReason,
    Viewing,
)
from whatsapp_assistant.scheduling.service import Calendar, load_calendar
from whatsapp_assistant.scheduling.slots import Interval

# By table name, as the foreign keys are: scheduling does not import the listings' or the
# conversations' packages (docs/decisions.md, 18).
_listings = table("properties", column("id"), column("account_id"), column("viewings"))
_conversations = table("conversations", column("id"), column("account_id"))

NEXT_SLOTS = 3  # offered when the slot asked for was taken
# Wide enough for any buffer (at most 240 minutes) around the intervals asked about.
_MARGIN = timedelta(days=1)


async def busy(
    session: AsyncSession,
    account_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    ignore: Interval | None = None,
) -> list[Interval]:
    """The account's active viewings that overlap [start, end), as (starts_at, ends_at), but
    `ignore` (the viewing being moved)."""
    stmt = for_account(select(Viewing.starts_at, Viewing.ends_at), Viewing, account_id).where(
        Viewing.status.in_(ACTIVE_STATUSES), Viewing.starts_at < end, Viewing.ends_at > start
    )
    taken = [(row.starts_at, row.ends_at) for row in await session.execute(stmt)]
    return [interval for interval in taken if interval != ignore]


async def free_for_listing(
    session: AsyncSession,
    account_id: uuid.UUID,
    property_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int,
) -> list[datetime]:
    """The first `limit` free starts in [start, end) a customer may book for the listing."""
    await _bookable_status(session, account_id, property_id)
    calendar = await load_calendar(session, account_id)
    return (await _free(session, account_id, calendar, start=start, end=end, now=now))[:limit]


async def book(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    property_id: uuid.UUID,
    starts_at: datetime,
    customer_name: str,
    conversation_id: uuid.UUID | None,
    now: datetime,
) -> Viewing:
    """A customer's booking: only a free slot, confirmed, or requested when the listing needs the
    agent's approval. Raises SlotTaken (with the next free slots) or SlotNotOffered."""
    return await _book(
        session,
        account_id,
        property_id=property_id,
        starts_at=starts_at,
        customer_name=customer_name,
        conversation_id=conversation_id,
        now=now,
        by=BookedBy.AI,
    )


async def book_by_agent(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    property_id: uuid.UUID,
    starts_at: datetime,
    customer_name: str,
    conversation_id: uuid.UUID | None,
    now: datetime,
) -> Viewing:
    """The agent's booking, confirmed: any time from now on, inside the weekly slots or not, and
    whatever the listing's setting (it governs customers), but never over an active viewing."""
    return await _book(
        session,
        account_id,
        property_id=property_id,
        starts_at=starts_at,
        customer_name=customer_name,
        conversation_id=conversation_id,
        now=now,
        by=BookedBy.AGENT,
    )


async def _book(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    property_id: uuid.UUID,
    starts_at: datetime,
    customer_name: str,
    conversation_id: uuid.UUID | None,
    now: datetime,
    by: BookedBy,
) -> Viewing:
    if by == BookedBy.AI:
        status = await _bookable_status(session, account_id, property_id)
    else:
        await _listing_policy(session, account_id, property_id)
        status = ViewingStatus.CONFIRMED
    await _check_conversation(session, account_id, conversation_id)
    calendar = await load_calendar(session, account_id)
    ends_at = starts_at + timedelta(minutes=calendar.rules.viewing_minutes)
    await _check_time(session, account_id, calendar, (starts_at, ends_at), now=now, by=by)
    viewing = Viewing(
        account_id=account_id,
        property_id=property_id,
        conversation_id=conversation_id,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        customer_name=customer_name,
        booked_by=by,
    )
    await _hold(session, calendar, viewing, now=now)
    return viewing


async def get_viewing(
    session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, *, lock: bool = False
) -> Viewing:
    stmt = for_account(select(Viewing), Viewing, account_id).where(Viewing.id == viewing_id)
    if lock:
        # Two changes of one viewing queue here (PostgreSQL; SQLite has one writer anyway).
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    viewing = (await session.execute(stmt)).scalar_one_or_none()
    if viewing is None:
        raise ViewingNotFound("no such viewing")
    return viewing


async def list_viewings(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[Viewing]:
    """The account's viewings starting in [start, end), of one status if given, by start; a
    page of `limit` from `offset` when given."""
    stmt = for_account(select(Viewing), Viewing, account_id)
    if start is not None:
        stmt = stmt.where(Viewing.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Viewing.starts_at < end)
    if status is not None:
        stmt = stmt.where(Viewing.status == status)
    stmt = stmt.order_by(Viewing.starts_at, Viewing.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def confirm(session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID) -> Viewing:
    viewing = await _in_status(session, account_id, viewing_id, "confirm", ViewingStatus.REQUESTED)
    viewing.status = ViewingStatus.CONFIRMED
    return await _changed(session, viewing)


async def decline(session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID) -> Viewing:
    viewing = await _in_status(session, account_id, viewing_id, "decline", ViewingStatus.REQUESTED)
    viewing.status = ViewingStatus.CANCELLED
    viewing.cancel_reason = CancelReason.DECLINED
    return await _changed(session, viewing)


async def cancel(
    session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, *, reason: CancelReason
) -> Viewing:
    viewing = await _in_status(session, account_id, viewing_id, "cancel", *ACTIVE_STATUSES)
    viewing.status = ViewingStatus.CANCELLED
    viewing.cancel_reason = reason
    return await _changed(session, viewing)


async def reschedule(
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    *,
    starts_at: datetime,
    by: BookedBy,
    now: datetime,
) -> Viewing:
    """Moves an active viewing: for a customer to a free slot, for the agent to any time from
    now on that no other active viewing holds. The sequence grows, as the invitation needs."""
    viewing = await _in_status(session, account_id, viewing_id, "reschedule", *ACTIVE_STATUSES)
    calendar = await load_calendar(session, account_id)
    ends_at = starts_at + timedelta(minutes=calendar.rules.viewing_minutes)
    # The viewing's own time is free for itself: it leaves it as it moves.
    held = (viewing.starts_at, viewing.ends_at)
    await _check_time(
        session, account_id, calendar, (starts_at, ends_at), now=now, by=by, ignore=held
    )
    await _hold(session, calendar, viewing, now=now, move_to=(starts_at, ends_at))
    return viewing


async def mark_done(
    session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, *, now: datetime
) -> Viewing:
    viewing = await _started(session, account_id, viewing_id, "mark done", now=now)
    viewing.status = ViewingStatus.DONE
    return await _changed(session, viewing)


async def mark_no_show(
    session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, *, now: datetime
) -> Viewing:
    viewing = await _started(session, account_id, viewing_id, "mark no-show", now=now)
    viewing.status = ViewingStatus.NO_SHOW
    return await _changed(session, viewing)


async def _changed(session: AsyncSession, viewing: Viewing) -> Viewing:
    await session.flush()
    return viewing


async def _in_status(
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    action: str,
    *allowed: ViewingStatus,
) -> Viewing:
    viewing = await get_viewing(session, account_id, viewing_id, lock=True)
    if viewing.status not in allowed:
        only = " or ".join(str(status) for status in allowed)
        raise TransitionRefused(
            f"cannot {action} a viewing that is {viewing.status}: only a {only} one", field="status"
        )
    return viewing


async def _started(
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    action: str,
    *,
    now: datetime,
) -> Viewing:
    viewing = await _in_status(session, account_id, viewing_id, action, ViewingStatus.CONFIRMED)
    if now < viewing.starts_at:
        raise TransitionRefused(
            f"cannot {action} a viewing before it starts ({viewing.starts_at.isoformat()})",
            field="status",
        )
    return viewing


async def _listing_policy(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> str:
    stmt = for_account(select(_listings.c.viewings), _listings.c, account_id).where(
        _listings.c.id == property_id
    )
    policy = (await session.execute(stmt)).scalar_one_or_none()
    if policy is None:
        raise ListingNotFound("no such listing", field="property_id")
    return str(policy)


async def _bookable_status(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> ViewingStatus:
    """The status a customer's booking of the listing takes; refused when viewings are off."""
    policy = await _listing_policy(session, account_id, property_id)
    if policy == "off":
        raise ViewingsOff("this listing takes no viewings", field="property_id")
    return ViewingStatus.REQUESTED if policy == "approval" else ViewingStatus.CONFIRMED


async def _check_conversation(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID | None
) -> None:
    if conversation_id is None:
        return
    stmt = for_account(select(_conversations.c.id), _conversations.c, account_id).where(
        _conversations.c.id == conversation_id
    )
    if (await session.execute(stmt)).first() is None:
        raise ConversationNotFound("no such conversation", field="conversation_id")


async def _free(
    session: AsyncSession,
    account_id: uuid.UUID,
    calendar: Calendar,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    ignore: Interval | None = None,
) -> list[datetime]:
    taken = await busy(session, account_id, start - _MARGIN, end + _MARGIN, ignore=ignore)
    return calendar.free(start=start, end=end, now=now, busy=taken)


async def _next_slots(
    session: AsyncSession, account_id: uuid.UUID, calendar: Calendar, after: datetime, now: datetime
) -> list[datetime]:
    latest = now + timedelta(days=calendar.rules.horizon_days)
    start = max(after, now)
    if start >= latest:
        return []
    return (await _free(session, account_id, calendar, start=start, end=latest, now=now))[
        :NEXT_SLOTS
    ]


async def _check_time(
    session: AsyncSession,
    account_id: uuid.UUID,
    calendar: Calendar,
    wanted: Interval,
    *,
    now: datetime,
    by: BookedBy,
    ignore: Interval | None = None,
) -> None:
    """A customer books a free slot only; the agent any time from now that no other viewing
    holds."""
    starts_at, ends_at = wanted
    if by == BookedBy.AI:
        await _check_free(session, account_id, calendar, starts_at, now=now, ignore=ignore)
    else:
        await _check_not_taken(
            session, account_id, calendar, starts_at, ends_at, now=now, ignore=ignore
        )


async def _check_free(
    session: AsyncSession,
    account_id: uuid.UUID,
    calendar: Calendar,
    starts_at: datetime,
    *,
    now: datetime,
    ignore: Interval | None = None,
) -> None:
    """A customer's start must be one of the free slots, computed here, in the transaction."""
    end = starts_at + timedelta(minutes=1)
    if starts_at in await _free(
        session, account_id, calendar, start=starts_at, end=end, now=now, ignore=ignore
    ):
        return
    if starts_at not in calendar.free(start=starts_at, end=end, now=now):
        raise SlotNotOffered(
            f"{starts_at.isoformat()} is not a viewing time this agent offers", field="starts_at"
        )
    raise await _taken(session, account_id, calendar, starts_at, now)


async def _check_not_taken(
    session: AsyncSession,
    account_id: uuid.UUID,
    calendar: Calendar,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    ignore: Interval | None = None,
) -> None:
    """The agent's time: from now on, and overlapping no other active viewing."""
    if starts_at < now:
        raise SlotNotOffered(f"{starts_at.isoformat()} is in the past", field="starts_at")
    if await busy(session, account_id, starts_at, ends_at, ignore=ignore):
        raise await _taken(session, account_id, calendar, starts_at, now)


async def _hold(
    session: AsyncSession,
    calendar: Calendar,
    viewing: Viewing,
    *,
    now: datetime,
    move_to: Interval | None = None,
) -> None:
    """Writes the new viewing, or moves it to `move_to`, in a SAVEPOINT: when a concurrent
    booking of the same start committed first, the unique index refuses this one, the outer
    transaction goes on, and the customer gets the next free slots."""
    account_id, starts_at = viewing.account_id, move_to[0] if move_to else viewing.starts_at
    try:
        # The change is made inside the savepoint: begin_nested flushes what is pending first.
        async with session.begin_nested():
            if move_to is None:
                session.add(viewing)
            else:
                viewing.starts_at, viewing.ends_at = move_to
                viewing.sequence += 1
            await session.flush()
    except IntegrityError:
        raise await _taken(session, account_id, calendar, starts_at, now) from None


async def _taken(
    session: AsyncSession,
    account_id: uuid.UUID,
    calendar: Calendar,
    starts_at: datetime,
    now: datetime,
) -> SlotTaken:
    slots = await _next_slots(session, account_id, calendar, starts_at, now)
    return SlotTaken(
        f"{starts_at.isoformat()} is already booked; the next free times are in details",
        next_slots=slots,
    )
