"""channels.receive_mode: webhook or polling, per channel

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 02:30:00

Every existing channel keeps receiving by webhook. The column is added with its CHECK in one
ALTER TABLE, which SQLite and PostgreSQL both accept, so SQLite does not rebuild `channels`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE channels ADD COLUMN receive_mode VARCHAR(10) DEFAULT 'webhook' NOT NULL "
        "CONSTRAINT ck_channels_receive_mode CHECK (receive_mode IN ('webhook', 'polling'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        # op.f: the name is already final; the naming convention must not prefix it again.
        batch_op.drop_constraint(op.f("ck_channels_receive_mode"), type_="check")
        batch_op.drop_column("receive_mode")
