"""Read and replace an account's schedule and availability; its free viewing slots."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.db.engine import dialect_insert
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.scheduling.defaults import DEFAULT_RULES, DEFAULT_WEEK
from whatsapp_assistant.scheduling.facts import zone_info
from whatsapp_assistant.scheduling.models import DateOff, HoursKind, Schedule, WeeklyHours
from whatsapp_assistant.scheduling.schemas import AvailabilityData, ScheduleData, week_of
from whatsapp_assistant.scheduling.slots import (
    Interval,
    Rules,
    WeeklyRange,
    free_slots,
    last_open,
    next_open,
)


@dataclass(frozen=True)
class Calendar:
    """Everything the account's free slots depend on but the busy intervals."""

    rules: Rules
    business_hours: tuple[WeeklyRange, ...]
    viewing_slots: tuple[WeeklyRange, ...]
    dates_off: frozenset[date]

    def free(
        self, *, start: datetime, end: datetime, now: datetime, busy: Iterable[Interval] = ()
    ) -> list[datetime]:
        """The free viewing starts in [start, end); `busy` are the times already taken."""
        return free_slots(
            rules=self.rules,
            weekly=self.viewing_slots,
            dates_off=self.dates_off,
            busy=busy,
            start=start,
            end=end,
            now=now,
        )

    def next_open(self, at: datetime) -> datetime:
        """`at` inside business hours, else the next opening (in the account's zone)."""
        return next_open(self.business_hours, zone_info(self.rules.time_zone), at)

    def last_open(self, at: datetime) -> datetime:
        """`at` inside business hours, else the last minute before the latest closing."""
        return last_open(self.business_hours, zone_info(self.rules.time_zone), at)


async def load_calendar(session: AsyncSession, account_id: uuid.UUID) -> Calendar:
    """The stored schedule, or the defaults for an account that never changed it."""
    schedule = await _find_schedule(session, account_id)
    if schedule is None:
        return Calendar(DEFAULT_RULES, DEFAULT_WEEK, DEFAULT_WEEK, frozenset())
    hours = (
        await session.execute(for_account(select(WeeklyHours), WeeklyHours, account_id))
    ).scalars()
    by_kind: dict[str, list[WeeklyRange]] = {kind: [] for kind in HoursKind}
    for row in hours:
        by_kind[row.kind].append(WeeklyRange(row.weekday, row.start_minute, row.end_minute))
    days = await session.execute(for_account(select(DateOff.day), DateOff, account_id))
    return Calendar(
        rules=Rules(
            time_zone=schedule.time_zone,
            viewing_minutes=schedule.viewing_minutes,
            buffer_minutes=schedule.buffer_minutes,
            notice_minutes=schedule.notice_minutes,
            horizon_days=schedule.horizon_days,
        ),
        business_hours=tuple(sorted(by_kind[HoursKind.BUSINESS])),
        viewing_slots=tuple(sorted(by_kind[HoursKind.VIEWING])),
        dates_off=frozenset(days.scalars()),
    )


def schedule_data(calendar: Calendar) -> ScheduleData:
    rules = calendar.rules
    return ScheduleData(
        time_zone=rules.time_zone,
        business_hours=week_of(calendar.business_hours),
        viewing_minutes=rules.viewing_minutes,
        buffer_minutes=rules.buffer_minutes,
        notice_minutes=rules.notice_minutes,
        horizon_days=rules.horizon_days,
    )


def availability_data(calendar: Calendar) -> AvailabilityData:
    return AvailabilityData(
        weekly_slots=week_of(calendar.viewing_slots), dates_off=sorted(calendar.dates_off)
    )


async def get_schedule(session: AsyncSession, account_id: uuid.UUID) -> ScheduleData:
    return schedule_data(await load_calendar(session, account_id))


async def get_availability(session: AsyncSession, account_id: uuid.UUID) -> AvailabilityData:
    return availability_data(await load_calendar(session, account_id))


async def replace_schedule(
    session: AsyncSession, account_id: uuid.UUID, data: ScheduleData
) -> ScheduleData:
    """The zone, lengths and business hours, all replaced at once; viewing slots are kept."""
    await _store_schedule(session, account_id, data)
    return await get_schedule(session, account_id)


async def _store_schedule(session: AsyncSession, account_id: uuid.UUID, data: ScheduleData) -> None:
    schedule = await _claim_schedule(session, account_id)
    schedule.time_zone = data.time_zone
    schedule.viewing_minutes = data.viewing_minutes
    schedule.buffer_minutes = data.buffer_minutes
    schedule.notice_minutes = data.notice_minutes
    schedule.horizon_days = data.horizon_days
    await _replace_hours(
        session, account_id, HoursKind.BUSINESS, [item.as_weekly() for item in data.business_hours]
    )


async def replace_availability(
    session: AsyncSession, account_id: uuid.UUID, data: AvailabilityData
) -> AvailabilityData:
    """The weekly viewing slots and the dates off, all replaced at once."""
    await _claim_schedule(session, account_id)
    await _store_availability(session, account_id, data)
    return await get_availability(session, account_id)


async def _store_availability(
    session: AsyncSession, account_id: uuid.UUID, data: AvailabilityData
) -> None:
    """Once the account's schedule row is claimed."""
    await _replace_hours(
        session, account_id, HoursKind.VIEWING, [item.as_weekly() for item in data.weekly_slots]
    )
    await session.execute(delete(DateOff).where(DateOff.account_id == account_id))
    session.add_all(DateOff(account_id=account_id, day=day) for day in data.dates_off)
    await session.flush()


async def replace_calendar(
    session: AsyncSession,
    account_id: uuid.UUID,
    schedule: ScheduleData,
    availability: AvailabilityData,
) -> None:
    """Both at once, as the availability page saves them: one claim, nothing read back."""
    await _store_schedule(session, account_id, schedule)
    await _store_availability(session, account_id, availability)


async def find_free_slots(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Iterable[Interval] = (),
) -> list[datetime]:
    """The account's free viewing starts in [start, end); `busy` are the times already taken."""
    calendar = await load_calendar(session, account_id)
    return calendar.free(start=start, end=end, now=now, busy=busy)


async def time_zone(session: AsyncSession, account_id: uuid.UUID) -> str:
    """The account's zone alone, in one read: what a text about a viewing needs of the schedule."""
    stmt = for_account(select(Schedule.time_zone), Schedule, account_id)
    return (await session.execute(stmt)).scalar_one_or_none() or DEFAULT_RULES.time_zone


async def _find_schedule(session: AsyncSession, account_id: uuid.UUID) -> Schedule | None:
    stmt = for_account(select(Schedule), Schedule, account_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _claim_schedule(session: AsyncSession, account_id: uuid.UUID) -> Schedule:
    """The account's schedule row, locked until commit so two replacements queue; created with
    the defaults (both weeks included) when the account had none."""
    values = {
        "account_id": account_id,
        "time_zone": DEFAULT_RULES.time_zone,
        "viewing_minutes": DEFAULT_RULES.viewing_minutes,
        "buffer_minutes": DEFAULT_RULES.buffer_minutes,
        "notice_minutes": DEFAULT_RULES.notice_minutes,
        "horizon_days": DEFAULT_RULES.horizon_days,
    }
    # Two first changes at once: one inserts, the other waits on its row and then finds it.
    inserted = await session.execute(
        dialect_insert(session, Schedule)
        .values(values)
        .on_conflict_do_nothing(index_elements=["account_id"])
        .returning(Schedule.id)
    )
    if inserted.first() is not None:
        for kind in HoursKind:
            await _replace_hours(session, account_id, kind, DEFAULT_WEEK)
    stmt = for_account(select(Schedule), Schedule, account_id).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()


async def _replace_hours(
    session: AsyncSession, account_id: uuid.UUID, kind: HoursKind, ranges: Sequence[WeeklyRange]
) -> None:
    await session.execute(
        delete(WeeklyHours).where(WeeklyHours.account_id == account_id, WeeklyHours.kind == kind)
    )
    session.add_all(
        WeeklyHours(
            account_id=account_id,
            kind=kind,
            weekday=weekly.weekday,
            start_minute=weekly.start,
            end_minute=weekly.end,
        )
        for weekly in ranges
    )
    await session.flush()
