"""free_slots: the viewing start times an account can offer, from its rules alone (no I/O)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Rules:
    """How viewings are offered: the zone the agent's hours are in and the lengths in minutes."""

    time_zone: str
    viewing_minutes: int
    buffer_minutes: int
    notice_minutes: int
    horizon_days: int


@dataclass(frozen=True, order=True)
class WeeklyRange:
    """A weekly range of wall-clock time in the account's zone: weekday 0 is Monday, start and
    end are minutes after local midnight (end may be 1440, midnight at the end of the day)."""

    weekday: int
    start: int
    end: int


Interval = tuple[datetime, datetime]


def free_slots(
    *,
    rules: Rules,
    weekly: Iterable[WeeklyRange],
    dates_off: Collection[date],
    busy: Iterable[Interval],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[datetime]:
    """The free viewing start times in [start, end), as aware UTC datetimes in order.

    Within each weekly range the starts step by the viewing length, and a viewing ends inside its
    range. None starts before `now` plus the notice or after `now` plus the horizon, on a date off
    (a date in the account's zone), or within the buffer of a busy interval. Ranges are wall-clock
    time on each date, so a range keeps its local hours across a DST change: a wall time the change
    skips is not offered, and one it repeats is offered once, at its first occurrence.
    """
    for moment in (start, end, now):
        if moment.tzinfo is None:
            raise ValueError("free_slots takes aware datetimes")
    zone = ZoneInfo(rules.time_zone)
    length = timedelta(minutes=rules.viewing_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    earliest = max(start, now + timedelta(minutes=rules.notice_minutes))
    latest = now + timedelta(days=rules.horizon_days)
    blocked = [(begin - buffer, finish + buffer) for begin, finish in busy]
    found: set[datetime] = set()
    for day in _local_dates(earliest, min(end, latest), zone):
        if day in dates_off:
            continue
        for moment in _starts_on(day, weekly, rules.viewing_minutes, zone):
            if not (earliest <= moment < end and moment <= latest):
                continue
            if any(moment < finish and moment + length > begin for begin, finish in blocked):
                continue
            found.add(moment)
    return sorted(found)


def _local_dates(earliest: datetime, latest: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every date in the zone that an instant in [earliest, latest] falls on."""
    day = earliest.astimezone(zone).date()
    last = latest.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _starts_on(
    day: date, weekly: Iterable[WeeklyRange], minutes: int, zone: ZoneInfo
) -> Iterator[datetime]:
    for weekly_range in weekly:
        if weekly_range.weekday != day.weekday():
            continue
        for offset in range(weekly_range.start, weekly_range.end - minutes + 1, minutes):
            moment = _instant(day, offset, zone)
            if moment is not None:
                yield moment


def _instant(day: date, offset: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall time on a date, or None when a DST change skips that wall time.

    zoneinfo gives a skipped wall time the offset from before the change, so it does not come back
    unchanged from UTC; fold=0 picks the first of a repeated wall time.
    """
    wall = datetime.combine(day, time(offset // 60, offset % 60))
    moment = wall.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment


def _ranges_on(day: date, weekly: Iterable[WeeklyRange], zone: ZoneInfo) -> Iterator[Interval]:
    """The day's weekly ranges as UTC intervals; a bound a DST change skips moves to the
    wall time's first instant after it (zoneinfo's reading of a skipped wall time)."""
    for weekly_range in weekly:
        if weekly_range.weekday != day.weekday():
            continue
        begin = datetime.combine(day, time()) + timedelta(minutes=weekly_range.start)
        finish = datetime.combine(day, time()) + timedelta(minutes=weekly_range.end)
        yield (
            begin.replace(tzinfo=zone).astimezone(UTC),
            finish.replace(tzinfo=zone).astimezone(UTC),
        )


def next_open(weekly: Collection[WeeklyRange], zone: ZoneInfo, at: datetime) -> datetime:
    """`at` when it falls inside the weekly ranges, else the next start of one. Without any
    range the hours do not restrict (every moment is open)."""
    if at.tzinfo is None:
        raise ValueError("next_open takes an aware datetime")
    if not weekly:
        return at
    day = at.astimezone(zone).date()
    for offset in range(8):
        starts = []
        for begin, finish in _ranges_on(day + timedelta(days=offset), weekly, zone):
            if begin <= at < finish:
                return at
            if begin > at:
                starts.append(begin)
        if starts:
            return min(starts)
    return at  # unreachable: a non-empty week opens within 8 days


def last_open(weekly: Collection[WeeklyRange], zone: ZoneInfo, at: datetime) -> datetime:
    """`at` when it falls inside the weekly ranges, else the last minute of the latest range
    that closed before it. Without any range every moment is open."""
    if at.tzinfo is None:
        raise ValueError("last_open takes an aware datetime")
    if not weekly:
        return at
    day = at.astimezone(zone).date()
    for offset in range(8):
        ends = []
        for begin, finish in _ranges_on(day - timedelta(days=offset), weekly, zone):
            if begin <= at < finish:
                return at
            if finish <= at:
                ends.append(finish - timedelta(minutes=1))
        if ends:
            return max(ends)
    return at
