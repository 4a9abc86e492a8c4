"""conversation mode and message direction, author and status: CHECK constraints

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:20:00

The columns were free strings; the code now holds them as enums (conversations/states.py) and
the database refuses any other value, so a typo can never store a state nothing reads.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "conversations": {"mode": ("ai", "human")},
    "messages": {
        "direction": ("in", "out"),
        "author": ("customer", "ai", "human", "system"),
        "status": (
            "received",
            "queued",
            "sending",
            "sent",
            "delivered",
            "read",
            "failed",
            "cancelled",
        ),
    },
}


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                allowed = ", ".join(f"'{value}'" for value in values)
                batch_op.create_check_constraint(column, f"{column} IN ({allowed})")


def downgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(f"ck_{table}_{column}", type_="check")
