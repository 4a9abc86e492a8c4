"""calendar_feeds: a user's private viewings feed, kept as the hash of its secret URL token

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:30:00

One row per user (unique user_id); the token's SHA-256 is unique, so a feed is found by it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_calendar_feeds_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
        sa.UniqueConstraint("user_id", name=op.f("uq_calendar_feeds_user_id")),
    )
    op.create_index(
        op.f("ix_calendar_feeds_account_id"), "calendar_feeds", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
