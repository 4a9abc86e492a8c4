"""listing search in SQL: folded search columns, trigram indexes on PostgreSQL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:00:00

Search used to load every listing of the account and match words in Python. Each listing now
carries its accent- and case-folded place, body and reference text (docs/decisions.md, 6), which
the search matches with LIKE; PostgreSQL indexes them with pg_trgm. Existing rows are backfilled
with the application's own folding, so old and new rows match alike.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from whatsapp_assistant.kit.text import fold

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
SEARCH_COLUMNS = ("place_text", "body_text", "reference_text")

_properties = sa.table(
    "properties",
    sa.column("id", sa.Uuid()),
    sa.column("reference", sa.String()),
    sa.column("title", sa.String()),
    sa.column("city", sa.String()),
    sa.column("neighborhood", sa.String()),
    sa.column("address", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("features", sa.JSON()),
    *(sa.column(name, sa.Text()) for name in SEARCH_COLUMNS),
)


def _backfill(connection: sa.Connection) -> None:
    source = [_properties.c[name] for name in ("id", "reference", "title", "city")]
    source += [_properties.c[name] for name in ("neighborhood", "address", "description")]
    rows = connection.execute(sa.select(*source, _properties.c.features)).all()
    for start in range(0, len(rows), _BATCH):
        updates: list[dict[str, object]] = []
        for row in rows[start : start + _BATCH]:
            features = row.features
            if isinstance(features, str):  # a driver that hands JSON back as text
                features = json.loads(features)
            # The same folding as properties/models.py search_texts, frozen here.
            places = " ".join(filter(None, [row.city, row.neighborhood, row.address]))
            body = " ".join([row.title, row.description or "", *(features or [])])
            values = {
                "place_text": fold(places),
                "body_text": fold(body),
                "reference_text": fold(row.reference or ""),
            }
            updates.append({"row_id": row.id, **values})
        connection.execute(
            _properties.update()
            .where(_properties.c.id == sa.bindparam("row_id"))
            .values({name: sa.bindparam(name) for name in SEARCH_COLUMNS}),
            updates,
        )


def upgrade() -> None:
    for name in SEARCH_COLUMNS:
        op.add_column("properties", sa.Column(name, sa.Text(), nullable=False, server_default=""))
    _backfill(op.get_bind())
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in SEARCH_COLUMNS:
        op.create_index(
            f"ix_properties_{name}_trgm",
            "properties",
            [name],
            postgresql_using="gin",
            postgresql_ops={name: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in SEARCH_COLUMNS:
            op.drop_index(f"ix_properties_{name}_trgm", table_name="properties")
    with op.batch_alter_table("properties") as batch:
        for name in SEARCH_COLUMNS:
            batch.drop_column(name)
