"""Schedule and availability shapes for the API and the pages (wall-clock "HH:MM" in the zone);
viewings in and out (instants with their offset)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from itertools import pairwise
from typing import Annotated, Literal, Self
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from whatsapp_assistant.kit.storable import StorableInput
from whatsapp_assistant.scheduling.slots import MINUTES_PER_DAY, WeeklyRange

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGES = 100
MAX_DATES_OFF = 1000

_CLOCK = re.compile(r"^([0-9]{2}):([0-9]{2})$")


def minutes_of(clock: str) -> int:
    """ "09:30" as 570; "24:00" (the end of a day) as 1440. Raises ValueError otherwise."""
    match = _CLOCK.match(clock)
    if match is None:
        raise ValueError("should be a time as HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours * 60 + minutes > MINUTES_PER_DAY:
        raise ValueError("should be a time from 00:00 to 24:00")
    return hours * 60 + minutes


def clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _valid_clock(clock: str) -> str:
    minutes_of(clock)
    return clock


# The schema documents the exact pattern; the validator's message says what is wrong in words.
Clock = Annotated[
    str,
    Field(
        max_length=5,
        examples=["09:30"],
        json_schema_extra={"pattern": r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"},
    ),
    AfterValidator(_valid_clock),
]


@cache
def _zone_names() -> frozenset[str]:
    # A known name only: ZoneInfo alone would also open a path such as "../../etc/localtime".
    return frozenset(available_timezones())


class _Input(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class TimeRange(_Input):
    """From `start` to `end` on every `weekday`, wall-clock time in the account's zone."""

    weekday: Weekday
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if minutes_of(self.start) >= minutes_of(self.end):
            raise ValueError(f"{self.weekday} {self.start}–{self.end}: end must be after start")
        return self

    def as_weekly(self) -> WeeklyRange:
        return WeeklyRange(
            WEEKDAYS.index(self.weekday), minutes_of(self.start), minutes_of(self.end)
        )

    @classmethod
    def of(cls, weekly: WeeklyRange) -> TimeRange:
        return cls(
            weekday=WEEKDAYS[weekly.weekday],
            start=clock_of(weekly.start),
            end=clock_of(weekly.end),
        )


def ordered_week(ranges: list[TimeRange]) -> list[TimeRange]:
    """In week order; refused when two ranges of one weekday overlap (touching is fine)."""
    ordered = sorted(ranges, key=TimeRange.as_weekly)
    for before, after in pairwise(ordered):
        first, second = before.as_weekly(), after.as_weekly()
        if first.weekday == second.weekday and second.start < first.end:
            raise ValueError(
                f"{after.weekday} {after.start}–{after.end} overlaps "
                f"{before.weekday} {before.start}–{before.end}"
            )
    return ordered


Week = Annotated[list[TimeRange], Field(max_length=MAX_RANGES), AfterValidator(ordered_week)]


def week_of(ranges: Iterable[WeeklyRange]) -> list[TimeRange]:
    return [TimeRange.of(weekly) for weekly in sorted(ranges)]


class ScheduleData(_Input):
    """The account's time zone, business hours and how viewings are booked (all minutes but the
    horizon, which is in days)."""

    time_zone: str = Field(max_length=64, examples=["Europe/Lisbon"])
    business_hours: Week
    viewing_minutes: int = Field(ge=5, le=480)
    buffer_minutes: int = Field(ge=0, le=240)
    notice_minutes: int = Field(ge=0, le=30 * 24 * 60)
    horizon_days: int = Field(ge=1, le=365)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _zone_names():
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Lisbon")
        return value


class AvailabilityData(_Input):
    """When customers may book a viewing: weekly slots, and whole dates without viewings."""

    weekly_slots: Week
    dates_off: list[date] = Field(max_length=MAX_DATES_OFF)

    @field_validator("dates_off")
    @classmethod
    def _each_date_once(cls, value: list[date]) -> list[date]:
        return sorted(set(value))


def _whole_minute(moment: datetime) -> datetime:
    # Slots start on whole minutes; a stray second would be a start no slot or index matches.
    if moment.second or moment.microsecond:
        raise ValueError("should be on a whole minute (no seconds)")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        # Also keeps the UTC instant and the end of a viewing inside what datetime can hold.
        raise ValueError(f"should be in the years {MIN_YEAR} to {MAX_YEAR}")
    return moment.astimezone(UTC)


MIN_YEAR, MAX_YEAR = 2000, 2199
# Aware only: a time without its offset names no instant, and is refused (422). The schema
# documents the exact shape: years 2000-2199, whole minutes, an offset or Z.
Moment = Annotated[
    AwareDatetime,
    Field(
        examples=["2027-04-03T11:00:00+01:00"],
        json_schema_extra={
            "pattern": r"^2[01][0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:00(\.0+)?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})$"
        },
    ),
    AfterValidator(_whole_minute),
]
UtcMoment = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]
CustomerName = Annotated[str, Field(min_length=1, max_length=120)]
ViewingStatusName = Literal["requested", "confirmed", "cancelled", "done", "no_show"]


class ViewingCreate(_Input):
    """The agent books by hand: any time of their choosing that no active viewing holds. The
    viewing lasts the schedule's `viewing_minutes`."""

    property_id: uuid.UUID
    starts_at: Moment
    customer_name: CustomerName
    conversation_id: uuid.UUID | None = None


class ViewingReschedule(_Input):
    starts_at: Moment


class ViewingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID | None
    property_id: uuid.UUID
    starts_at: UtcMoment
    ends_at: UtcMoment
    status: ViewingStatusName
    customer_name: str
    booked_by: Literal["ai", "agent"]
    sequence: int
    cancel_reason: Literal["declined", "customer", "agent"] | None
    created_at: UtcMoment
    updated_at: UtcMoment
