"""schedules, weekly hours and dates off; a viewings setting per listing

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:30:00

An account without a `schedules` row has the defaults of scheduling/defaults.py, so no row is
created here for the accounts that exist: the defaults live in one place. `properties.viewings`
is added with ALTER TABLE ... ADD COLUMN on both backends (its CHECK on the column itself), so
SQLite does not rebuild `properties` and its FTS triggers stay as 0014 made them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWING_POLICIES: tuple[str, ...] = ("on", "approval", "off")


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _account_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_account_id"), table, ["account_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("viewing_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", whatsapp_assistant.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        *_tenant("schedules"),
        sa.CheckConstraint("viewing_minutes > 0", name=op.f("ck_schedules_viewing_minutes")),
        sa.CheckConstraint("buffer_minutes >= 0", name=op.f("ck_schedules_buffer_minutes")),
        sa.CheckConstraint("notice_minutes >= 0", name=op.f("ck_schedules_notice_minutes")),
        sa.CheckConstraint("horizon_days > 0", name=op.f("ck_schedules_horizon_days")),
        sa.UniqueConstraint("account_id", name=op.f("uq_schedules_account_id")),
    )
    _account_index("schedules")
    op.create_table(
        "weekly_hours",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        *_tenant("weekly_hours"),
        sa.CheckConstraint("kind IN ('business', 'viewing')", name=op.f("ck_weekly_hours_kind")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_weekly_hours_weekday")),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute",
            name=op.f("ck_weekly_hours_start_minute"),
        ),
        sa.CheckConstraint("end_minute <= 1440", name=op.f("ck_weekly_hours_end_minute")),
    )
    _account_index("weekly_hours")
    op.create_table(
        "dates_off",
        sa.Column("day", sa.Date(), nullable=False),
        *_tenant("dates_off"),
        sa.UniqueConstraint("account_id", "day", name=op.f("uq_dates_off_account_id_day")),
    )
    _account_index("dates_off")
    allowed = ", ".join(f"'{policy}'" for policy in VIEWING_POLICIES)
    op.add_column(
        "properties",
        sa.Column(
            "viewings",
            sa.String(length=10),
            sa.CheckConstraint(f"viewings IN ({allowed})", name=op.f("ck_properties_viewings")),
            nullable=False,
            server_default="on",
        ),
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both backends: no rebuild of `properties` here either.
    op.drop_column("properties", "viewings")
    op.drop_table("dates_off")
    op.drop_table("weekly_hours")
    op.drop_table("schedules")
