"""meta window and templates: when the customer last wrote, template mappings, billable messages

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:40:00

`conversations.customer_wrote_at` opens Meta's 24-hour window; existing conversations start with
none, so a Meta channel sends them free-form only after the customer's next message
(docs/decisions.md, 30).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import whatsapp_assistant.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = ("followup", "reminder", "after_viewing")


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f(f"fk_{table}_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    moment = whatsapp_assistant.db.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_wrote_at", moment, nullable=True))
    listed = ", ".join(f"'{purpose}'" for purpose in PURPOSES)
    op.create_table(
        "template_mappings",
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("parameter_names", sa.JSON(), nullable=False),
        sa.Column("parameter_count", sa.Integer(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        *_tenant("template_mappings"),
        sa.CheckConstraint(f"purpose IN ({listed})", name=op.f("ck_template_mappings_purpose")),
        sa.UniqueConstraint(
            "channel_id", "purpose", name=op.f("uq_template_mappings_channel_id_purpose")
        ),
    )
    op.create_index(
        op.f("ix_template_mappings_account_id"), "template_mappings", ["account_id"], unique=False
    )
    op.create_table(
        "billable_messages",
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("pricing_model", sa.String(length=10), nullable=False),
        sa.Column("reported_at", moment, nullable=False),
        *_tenant("billable_messages"),
        sa.UniqueConstraint(
            "channel_id",
            "provider_message_id",
            name=op.f("uq_billable_messages_channel_id_provider_message_id"),
        ),
    )
    op.create_index(
        op.f("ix_billable_messages_account_id"), "billable_messages", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_billable_messages_account_id"), table_name="billable_messages")
    op.drop_table("billable_messages")
    op.drop_index(op.f("ix_template_mappings_account_id"), table_name="template_mappings")
    op.drop_table("template_mappings")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("customer_wrote_at")
