"""Contacts, conversations and messages: the record of what was said, by whom, and its delivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.ai.language import LANGUAGES
from whatsapp_assistant.conversations.states import (
    Author,
    Direction,
    MessageStatus,
    Mode,
    column_type,
)
from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.clock import utcnow


class Contact(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel_id", "chat_id"),)

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(120))  # opaque: may be @c.us, @g.us or @lid
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    # STOP: no automated message reaches this contact until START (the agent may still write).
    opted_out_at: Mapped[datetime | None]


class Conversation(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel_id", "contact_id"),
        # The auto-resume job reads only human conversations that no customer is waiting on.
        Index(
            "ix_conversations_auto_resume",
            "account_id",
            postgresql_where=text("mode = 'human' AND NOT escalated"),
            sqlite_where=text("mode = 'human' AND NOT escalated"),
        ),
        CheckConstraint(
            "language IN (" + ", ".join(f"'{code}'" for code in LANGUAGES) + ")", name="language"
        ),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    is_group: Mapped[bool] = mapped_column(default=False)
    # mode and version guard every AI send (docs/architecture.md, invariant 3): human actions bump
    # the version.
    mode: Mapped[Mode] = mapped_column(column_type(Mode, name="mode", length=10), default=Mode.AI)
    version: Mapped[int] = mapped_column(default=1)
    last_message_at: Mapped[datetime | None] = mapped_column(index=True)
    # The newest customer message that still wants an answer, and the newest one answered: the
    # reply job is re-derived from these two columns (docs/architecture.md, invariant 2).
    last_inbound_at: Mapped[datetime | None]
    answered_through: Mapped[datetime | None]
    # When the newest customer message arrived, whatever the mode: Meta's 24-hour window opens
    # from it (conversations/window.py, docs/decisions.md, 30).
    customer_wrote_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(default=False, index=True)
    last_human_at: Mapped[datetime | None]
    # When the agent last opened the thread: customer messages after it count as unread.
    agent_read_at: Mapped[datetime | None]
    # The language of every system text here and the AI's lead (conversations/language.py):
    # detected from what the customer wrote, or chosen by the agent. Pinned, detection keeps off.
    language: Mapped[str | None] = mapped_column(String(2))
    language_pinned: Mapped[bool] = mapped_column(default=False)


class Message(IdMixin, TenantMixin, Base):
    __tablename__ = "messages"
    # The provider's id is unique within a chat (docs/providers.md, G2): one row per delivery.
    __table_args__ = (
        UniqueConstraint("conversation_id", "provider_message_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(column_type(Direction, name="direction", length=3))
    author: Mapped[Author] = mapped_column(column_type(Author, name="author", length=10))
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    media_url: Mapped[str | None] = mapped_column(Text)
    media_mime: Mapped[str | None] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    reply_to_provider_id: Mapped[str | None] = mapped_column(String(128))
    sender_id: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[MessageStatus] = mapped_column(
        column_type(MessageStatus, name="status", length=12), default=MessageStatus.RECEIVED
    )
    error: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]  # when a sender claimed it: 'sending' since then
    # The conversation's version an automated row was queued under; it is sent only while that
    # version holds (docs/architecture.md, invariant 3). None for what a person wrote, which a
    # takeover never stops.
    guard_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationEvent(IdMixin, TenantMixin, Base):
    """Audit: every mode change, escalation and opt-out, with who or what did it and when."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_conversation", "conversation_id", "created_at"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))  # mode_changed | escalated | opted_out | ...
    actor: Mapped[str] = mapped_column(
        String(120)
    )  # user:<id> | api_key:<id> | phone | ai | system
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
