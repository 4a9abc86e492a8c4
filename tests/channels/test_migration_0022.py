"""Migration 0022 up, down and up again: the window's column and the two tables come and go."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from tests.properties.test_search_sql import _fresh_database
from whatsapp_assistant.db.migrate import alembic_config


async def _shape(url: str) -> tuple[set[str], set[str]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:

        def read(sync: sa.Connection) -> tuple[set[str], set[str]]:
            inspector = sa.inspect(sync)
            columns = {c["name"] for c in inspector.get_columns("conversations")}
            return set(inspector.get_table_names()), columns

        shape = await conn.run_sync(read)
    await engine.dispose()
    return shape


def test_0022_goes_up_down_and_up_again(tmp_path: Path) -> None:
    with _fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "head")
        tables, columns = asyncio.run(_shape(url))
        assert {"template_mappings", "billable_messages"} <= tables
        assert "customer_wrote_at" in columns
        command.downgrade(alembic_config(url), "0021")
        tables, columns = asyncio.run(_shape(url))
        assert not {"template_mappings", "billable_messages"} & tables
        assert "customer_wrote_at" not in columns
        command.upgrade(alembic_config(url), "head")
        tables, columns = asyncio.run(_shape(url))
        assert {"template_mappings", "billable_messages"} <= tables
        assert "customer_wrote_at" in columns
