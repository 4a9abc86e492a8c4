"""Scheduled messages and each account's follow-up settings (docs/decisions.md, 25)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.clock import utcnow


class ScheduledKind(StrEnum):
    FOLLOWUP = "followup"  # the ladder after an AI message the customer left unanswered
    REMINDER = "reminder"  # before a booked viewing
    AFTER_VIEWING = "after_viewing"  # how did it go, and similar listings
    MANUAL = "manual"  # the agent's "send later"


class ScheduledStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # its outbox row was queued (message_id)
    CANCELLED = "cancelled"  # by a reply, an opt-out, a takeover, the agent, a viewing change
    SKIPPED = "skipped"  # the send-time check refused it (reason)


def _listed(values: type[StrEnum]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class ScheduledMessage(IdMixin, TenantMixin, Base):
    __tablename__ = "scheduled_messages"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_listed(ScheduledKind)})", name="kind"),
        CheckConstraint(f"status IN ({_listed(ScheduledStatus)})", name="status"),
        # The sweep: the due pending rows in order of due time, one statement.
        Index("ix_scheduled_messages_status_due_at", "status", "due_at"),
        # Cancelling a conversation's pending rows, listing its rows.
        Index("ix_scheduled_messages_conversation_status", "conversation_id", "status"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(13))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(9), default=ScheduledStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(200))  # why cancelled or skipped
    text: Mapped[str] = mapped_column(Text, default="")  # the agent's, for manual ones
    # step (follow-ups), viewing_id and starts_at (reminders), listings discussed, ...
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    keep_in_human: Mapped[bool] = mapped_column(default=False)  # a reminder the agent keeps
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))  # ai | system | user:<id> | api_key:<id>


class FollowupSettings(IdMixin, TimestampMixin, TenantMixin, Base):
    """At most one per account; without one the account has the defaults (followups.py)."""

    __tablename__ = "followup_settings"
    __table_args__ = (UniqueConstraint("account_id"),)

    enabled: Mapped[bool]
    steps_hours: Mapped[list[int]] = mapped_column(JSON)
    reminder_day_before: Mapped[bool]
    reminder_hour_before: Mapped[bool]
