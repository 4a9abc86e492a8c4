"""Escalations: why a conversation was handed to the agent, and by which message."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin


class Escalation(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "escalations"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
