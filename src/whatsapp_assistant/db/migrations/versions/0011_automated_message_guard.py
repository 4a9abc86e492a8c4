"""messages.guard_version: the version an automated row was queued under

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00

Every automated outbound row (AI reply, hand-over or holding notice, opt-out confirmation,
alert) is sent only while its conversation is still at the version it was queued under
(docs/architecture.md, invariant 3). Rows still waiting to leave take their conversation's
current version, so an upgrade neither sends nor drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guard_version", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE messages SET guard_version = (SELECT conversations.version FROM conversations "
        "WHERE conversations.id = messages.conversation_id) "
        "WHERE direction = 'out' AND author IN ('ai', 'system') "
        "AND status IN ('queued', 'sending')"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("guard_version")
