"""conversation language: detected from the customer's messages or pinned by the agent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00

Every system text (hand-over, holding, opt-out, voice-note notices) reads the conversation's
language instead of guessing it from one short message.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGES: tuple[str, ...] = ("en", "es", "pt")


def upgrade() -> None:
    allowed = ", ".join(f"'{code}'" for code in LANGUAGES)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("language_pinned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint("language", f"language IN ({allowed})")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint("ck_conversations_language", type_="check")
        batch_op.drop_column("language_pinned")
        batch_op.drop_column("language")
