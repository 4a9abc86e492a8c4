"""agent read marker: unread counts in the inbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:03:26.342626
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "agent_read_at",
                whatsapp_assistant.db.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("agent_read_at")
