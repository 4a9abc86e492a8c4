"""An account's schedule, its weekly hours (business and viewing), its dates off, its viewings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.scheduling.facts import ViewingStatus


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


# A slot held by one of these is taken; the others free it again.
ACTIVE_STATUSES = (ViewingStatus.REQUESTED, ViewingStatus.CONFIRMED)
_ACTIVE_SQL = "status IN ('requested', 'confirmed')"


class BookedBy(StrEnum):
    AI = "ai"  # the customer, through the conversation
    AGENT = "agent"


class CancelReason(StrEnum):
    DECLINED = "declined"  # the agent refused a requested viewing
    CUSTOMER = "customer"
    AGENT = "agent"


class Viewing(IdMixin, TimestampMixin, TenantMixin, Base):
    """A customer's visit to a listing, at a time in UTC; `sequence` grows with each move, as an
    invitation's SEQUENCE must."""

    __tablename__ = "viewings"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in ViewingStatus) + ")",
            name="status",
        ),
        CheckConstraint("booked_by IN ('ai', 'agent')", name="booked_by"),
        CheckConstraint(
            "cancel_reason IS NULL OR cancel_reason IN ("
            + ", ".join(f"'{reason}'" for reason in CancelReason)
            + ")",
            name="cancel_reason",
        ),
        CheckConstraint("starts_at < ends_at", name="ends_after_start"),
        CheckConstraint("sequence >= 0", name="sequence"),
        # One active booking per start: two concurrent bookings of one slot cannot both commit,
        # on either database (docs/decisions.md, 21).
        Index(
            "uq_viewings_active_slot",
            "account_id",
            "starts_at",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_viewings_account_starts_at", "account_id", "starts_at"),
    )

    # By table name: scheduling sits beside conversations' and properties' layers, not above.
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    property_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))
    customer_name: Mapped[str] = mapped_column(String(120))
    booked_by: Mapped[str] = mapped_column(String(5))
    sequence: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(String(10))
