"""Connected WhatsApp numbers (channels) and the raw webhook log kept for audit and replay."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.clock import utcnow


class ReceiveMode(StrEnum):
    """How a Green API channel's notifications arrive (docs/decisions.md, 26): posted to our
    webhook, or pulled by the worker (receiveNotification), which needs no public address."""

    WEBHOOK = "webhook"
    POLLING = "polling"


class Channel(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "channels"
    # One Green API instance (or Meta phone number id) belongs to one channel across all tenants.
    __table_args__ = (UniqueConstraint("type", "external_id"),)

    type: Mapped[str] = mapped_column(String(20))  # green_api | meta_cloud | simulator
    name: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str] = mapped_column(String(64))  # idInstance, phone_number_id, ...
    api_url: Mapped[str] = mapped_column(String(500), default="")  # Meta: the Graph URL
    api_token: Mapped[str] = mapped_column(String(500), default="")  # secret: never returned
    # What a webhook is checked with: Green API's bearer token, Meta's app secret (the key of
    # the body's signature). Secret: never returned.
    webhook_token: Mapped[str] = mapped_column(String(500), default="")
    # Meta only: the token of the GET verification handshake (secret: never returned) and the
    # WhatsApp Business Account the number belongs to.
    verify_token: Mapped[str] = mapped_column(String(500), default="")
    waba_id: Mapped[str | None] = mapped_column(String(64))
    own_chat_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), default="unknown")
    active: Mapped[bool] = mapped_column(default=True)
    receive_mode: Mapped[ReceiveMode] = mapped_column(
        Enum(
            ReceiveMode,
            name="receive_mode",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=ReceiveMode.WEBHOOK,
        server_default=ReceiveMode.WEBHOOK.value,
    )


class TemplatePurpose(StrEnum):
    """The automated messages that may go as a Meta template outside the 24-hour window
    (docs/decisions.md, 30)."""

    FOLLOWUP = "followup"
    REMINDER = "reminder"
    AFTER_VIEWING = "after_viewing"


class TemplateMapping(IdMixin, TimestampMixin, TenantMixin, Base):
    """The approved template a channel sends for one purpose when the window is closed; its body
    parameters are filled in the order of `parameter_names` (docs/decisions.md, 30)."""

    __tablename__ = "template_mappings"
    __table_args__ = (
        UniqueConstraint("channel_id", "purpose"),
        CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p.value}'" for p in TemplatePurpose) + ")",
            name="purpose",
        ),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    # Named templates' parameter names in body order; positional ones are [] and counted.
    parameter_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    parameter_count: Mapped[int] = mapped_column(default=0)


class BillableMessage(IdMixin, TenantMixin, Base):
    """One message Meta reported as billable (docs/providers.md, M9): the unique key makes a
    redelivered or repeated status count once, in the database."""

    __tablename__ = "billable_messages"
    __table_args__ = (UniqueConstraint("channel_id", "provider_message_id"),)

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    month: Mapped[str] = mapped_column(String(7))  # "2026-12", UTC
    category: Mapped[str] = mapped_column(String(40))
    pricing_model: Mapped[str] = mapped_column(String(10), default="")
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


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
