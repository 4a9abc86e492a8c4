"""meta cloud channels: the verify token of Meta's webhook handshake and the WABA id

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:30:00

A Meta channel keeps its phone number id in external_id, its Graph URL in api_url, its access
token in api_token and its app secret in webhook_token; the two new columns hold what Green API
has no use for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verify_token", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("waba_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("waba_id")
        batch_op.drop_column("verify_token")
