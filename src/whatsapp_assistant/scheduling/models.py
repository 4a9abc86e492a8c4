"""Follow-ups and viewing appointments attached to a conversation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin


class Followup(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "followups"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    text: Mapped[str] = mapped_column(Text, default="")


class Appointment(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "appointments"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    property_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("properties.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    notes: Mapped[str] = mapped_column(Text, default="")
