"""auto-resume index: human conversations nobody is waiting on, per account

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:20:00

The auto-resume job used to load every human conversation of every account each minute; it now
asks for the due ones in one query, over this partial index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("mode = 'human' AND NOT escalated")


def upgrade() -> None:
    op.create_index(
        "ix_conversations_auto_resume",
        "conversations",
        ["account_id"],
        postgresql_where=_WHERE,
        sqlite_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_auto_resume", table_name="conversations")
