"""scheduled_messages and followup_settings: follow-ups, reminders and send-later as rows

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:30:00

Every message due later is a row with its due time; its job is a wake-up call re-derived from the
row by the sweep (docs/architecture.md, invariant 2). New tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS: tuple[str, ...] = ("followup", "reminder", "after_viewing", "manual")
STATUSES: tuple[str, ...] = ("pending", "sent", "cancelled", "skipped")


def _listed(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    moment = whatsapp_assistant.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "scheduled_messages",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=13), nullable=False),
        sa.Column("due_at", moment, nullable=False),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("keep_in_human", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(f"kind IN ({_listed(KINDS)})", name=op.f("ck_scheduled_messages_kind")),
        sa.CheckConstraint(
            f"status IN ({_listed(STATUSES)})", name=op.f("ck_scheduled_messages_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_scheduled_messages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_scheduled_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_scheduled_messages_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_messages")),
    )
    op.create_index(op.f("ix_scheduled_messages_account_id"), "scheduled_messages", ["account_id"])
    op.create_index(
        "ix_scheduled_messages_status_due_at", "scheduled_messages", ["status", "due_at"]
    )
    op.create_index(
        "ix_scheduled_messages_conversation_status",
        "scheduled_messages",
        ["conversation_id", "status"],
    )
    op.create_table(
        "followup_settings",
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("steps_hours", sa.JSON(), nullable=False),
        sa.Column("reminder_day_before", sa.Boolean(), nullable=False),
        sa.Column("reminder_hour_before", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_followup_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_settings")),
        sa.UniqueConstraint("account_id", name=op.f("uq_followup_settings_account_id")),
    )
    op.create_index(op.f("ix_followup_settings_account_id"), "followup_settings", ["account_id"])


def downgrade() -> None:
    op.drop_table("followup_settings")
    op.drop_table("scheduled_messages")
