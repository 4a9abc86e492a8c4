"""properties.photo_urls: a listing's photos, an ordered JSON list of URLs

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:30:00

Every existing listing starts with no photos. ADD COLUMN and DROP COLUMN on both backends, so
SQLite never rebuilds `properties` (its text index is keyed by the table's rowids, decision 6).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "properties",
        sa.Column("photo_urls", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("properties", "photo_urls")
