"""viewings: a customer's booked visit to a listing, one active booking per slot

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 21:00:00

The unique partial index on (account_id, starts_at) for requested and confirmed viewings is what
keeps two concurrent bookings of one slot from both committing, on SQLite and PostgreSQL alike.
A new table only: `properties` is not touched, so its FTS triggers stay as 0014 made them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES: tuple[str, ...] = ("requested", "confirmed", "cancelled", "done", "no_show")
REASONS: tuple[str, ...] = ("declined", "customer", "agent")
ACTIVE = "status IN ('requested', 'confirmed')"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    moment = whatsapp_assistant.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "viewings",
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("property_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", moment, nullable=False),
        sa.Column("ends_at", moment, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("customer_name", sa.String(length=120), nullable=False),
        sa.Column("booked_by", sa.String(length=5), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=10), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(f"status IN ({_listed(STATUSES)})", name=op.f("ck_viewings_status")),
        sa.CheckConstraint("booked_by IN ('ai', 'agent')", name=op.f("ck_viewings_booked_by")),
        sa.CheckConstraint(
            f"cancel_reason IS NULL OR cancel_reason IN ({_listed(REASONS)})",
            name=op.f("ck_viewings_cancel_reason"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_viewings_ends_after_start")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_viewings_sequence")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_viewings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_viewings_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_viewings_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_viewings")),
    )
    op.create_index(op.f("ix_viewings_account_id"), "viewings", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_viewings_conversation_id"), "viewings", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_viewings_property_id"), "viewings", ["property_id"], unique=False)
    op.create_index(
        "ix_viewings_account_starts_at", "viewings", ["account_id", "starts_at"], unique=False
    )
    op.create_index(
        "uq_viewings_active_slot",
        "viewings",
        ["account_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_table("viewings")
