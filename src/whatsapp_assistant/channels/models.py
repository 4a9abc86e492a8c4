"""Connected WhatsApp numbers (channels) and the raw webhook log kept for audit and replay."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.clock import utcnow


class Channel(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "channels"
    # One Green API instance (or Meta phone number id) belongs to one channel across all tenants.
    __table_args__ = (UniqueConstraint("type", "external_id"),)

    type: Mapped[str] = mapped_column(String(20))  # green_api | meta_cloud | simulator
    name: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str] = mapped_column(String(64))  # idInstance, phone_number_id, ...
    api_url: Mapped[str] = mapped_column(String(500), default="")
    api_token: Mapped[str] = mapped_column(String(500), default="")  # secret: never returned
    webhook_token: Mapped[str] = mapped_column(String(500), default="")  # secret: never returned
    own_chat_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), default="unknown")
    active: Mapped[bool] = mapped_column(default=True)


class WebhookEvent(IdMixin, Base):
    """Every webhook body as received; dedup_key makes a redelivery a no-op (docs/architecture.md,
    invariant 1)."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "dedup_key"),)

    provider: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(64), default="")
    dedup_key: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(32), default="received")
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
