"""Migration 0021 on a database with a listing from before it: no photos, then up and down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from tests.properties.test_search_sql import _fresh_database, _insert_old_listing
from whatsapp_assistant.db.migrate import alembic_config


async def _columns(url: str) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(
            lambda sync: [column["name"] for column in sa.inspect(sync).get_columns("properties")]
        )
    await engine.dispose()
    return names


async def _photos(url: str) -> list[object]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT photo_urls FROM properties"))
        values = [row[0] for row in rows]
    await engine.dispose()
    return values


def test_old_listings_have_no_photos_and_the_column_goes_on_downgrade(tmp_path: Path) -> None:
    with _fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "0020")
        asyncio.run(_insert_old_listing(url))
        command.upgrade(alembic_config(url), "0021")
        photos = asyncio.run(_photos(url))
        command.downgrade(alembic_config(url), "0020")
        columns = asyncio.run(_columns(url))
        command.upgrade(alembic_config(url), "0021")
        again = asyncio.run(_photos(url))
    assert photos in (["[]"], [[]])  # JSON text on SQLite, decoded on PostgreSQL
    assert "photo_urls" not in columns
    assert again == photos
