"""An account's schedule, its weekly hours (business and viewing) and its dates off."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin


class HoursKind(StrEnum):
    BUSINESS = "business"  # when the agent works
    VIEWING = "viewing"  # when customers may book a viewing


class Schedule(IdMixin, TimestampMixin, TenantMixin, Base):
    """At most one per account; without one the account has scheduling/defaults.py. Once it
    exists, the account's weekly_hours rows are the whole week (none of a kind: none at all)."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("account_id"),
        CheckConstraint("viewing_minutes > 0", name="viewing_minutes"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_minutes"),
        CheckConstraint("notice_minutes >= 0", name="notice_minutes"),
        CheckConstraint("horizon_days > 0", name="horizon_days"),
    )

    time_zone: Mapped[str] = mapped_column(String(64))  # an IANA name; times are stored in UTC
    viewing_minutes: Mapped[int]
    buffer_minutes: Mapped[int]
    notice_minutes: Mapped[int]
    horizon_days: Mapped[int]


class WeeklyHours(IdMixin, TenantMixin, Base):
    """A weekly range of wall-clock time in the account's zone; minutes after local midnight."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("kind IN ('business', 'viewing')", name="kind"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute", name="start_minute"),
        CheckConstraint("end_minute <= 1440", name="end_minute"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 is Monday
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class DateOff(IdMixin, TenantMixin, Base):
    """A date (in the account's zone) without viewings."""

    __tablename__ = "dates_off"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
