"""listing search indexes: price order per account, SQLite FTS5 trigram index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 16:00:00

A search page is ordered by price: two btree indexes let it read an account's listings in that
order (with and without a status). On SQLite, `properties_search` is an FTS5 trigram index over
the three folded search columns (docs/decisions.md, 6), external content of `properties` keyed by
its rowid and kept by the triggers below on every insert, update and delete, whoever writes.

A later migration that rebuilds `properties` on SQLite (`batch_alter_table` copies it into a new
table) drops these triggers and renumbers the rowids: it must create the triggers again and run
the 'rebuild' command, as upgrade() does here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "place_text, body_text, reference_text"
_NEW = "new.place_text, new.body_text, new.reference_text"
_OLD = "old.place_text, old.body_text, old.reference_text"

# External content: the index keeps no copy of the text, so a removal names the old values.
_INSERT = (
    f"INSERT INTO properties_search(rowid, {_COLUMNS}) "  # noqa: S608 - constants, no input
    f"VALUES (new.rowid, {_NEW});"
)
_DELETE = (
    f"INSERT INTO properties_search(properties_search, rowid, {_COLUMNS}) "  # noqa: S608 - same
    f"VALUES ('delete', old.rowid, {_OLD});"
)

_SQLITE_UP = (
    f"CREATE VIRTUAL TABLE properties_search USING fts5({_COLUMNS}, "
    "content='properties', tokenize='trigram')",
    f"CREATE TRIGGER properties_search_insert AFTER INSERT ON properties BEGIN {_INSERT} END",
    f"CREATE TRIGGER properties_search_delete AFTER DELETE ON properties BEGIN {_DELETE} END",
    f"CREATE TRIGGER properties_search_update AFTER UPDATE OF {_COLUMNS} ON properties "
    f"BEGIN {_DELETE} {_INSERT} END",
    "INSERT INTO properties_search(properties_search) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER properties_search_update",
    "DROP TRIGGER properties_search_delete",
    "DROP TRIGGER properties_search_insert",
    "DROP TABLE properties_search",
)


def upgrade() -> None:
    op.create_index("ix_properties_account_price", "properties", ["account_id", "price", "id"])
    op.create_index(
        "ix_properties_account_status_price",
        "properties",
        ["account_id", "status", "price", "id"],
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    op.drop_index("ix_properties_account_status_price", table_name="properties")
    op.drop_index("ix_properties_account_price", table_name="properties")
