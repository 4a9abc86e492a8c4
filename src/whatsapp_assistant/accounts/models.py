"""Accounts (the tenant), their users, sign-in sessions, API keys and the assistant's persona."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.clock import utcnow


class Account(IdMixin, TimestampMixin, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    # The agent's own WhatsApp number, for notifications (escalations).
    owner_phone: Mapped[str | None] = mapped_column(String(32))
    # A message the agent types on the phone switches that conversation to human mode.
    takeover_on_phone_message: Mapped[bool] = mapped_column(default=True)
    # Hand a human conversation back to the AI after this many hours without a human message.
    auto_resume_hours: Mapped[int | None]
    # On hand-back, answer a customer message that is still unanswered.
    answer_pending_on_hand_back: Mapped[bool] = mapped_column(default=True)
    # Sent when the AI is unavailable past its retries; None: the default text in the language.
    holding_message: Mapped[str | None] = mapped_column(Text)


class User(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))


class UserSession(IdMixin, TenantMixin, Base):
    """A signed-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class ApiKey(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Persona(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("account_id"),)

    style: Mapped[str] = mapped_column(String(20), default="friendly")
    agent_name: Mapped[str] = mapped_column(String(200), default="")
    agency_name: Mapped[str] = mapped_column(String(200), default="")
    custom_instructions: Mapped[str] = mapped_column(Text, default="")
    default_language: Mapped[str | None] = mapped_column(String(8))
