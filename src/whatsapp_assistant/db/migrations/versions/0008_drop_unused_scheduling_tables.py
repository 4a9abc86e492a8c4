"""drop the follow-up and appointment tables that no code wrote

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 19:10:00

Viewings and follow-ups are built with their own tables when the scheduling work lands; these
two were placeholders with nothing behind them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.drop_table("appointments")
    op.drop_table("followups")


def downgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("property_id", sa.Uuid(), nullable=True),
        sa.Column(
            "starts_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "followups",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
