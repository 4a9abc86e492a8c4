"""Migration 0015 on a database with accounts and listings from before it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from tests.properties.test_search_sql import _found, _fresh_database, _insert_old_listing
from whatsapp_assistant.db.engine import make_sessionmaker
from whatsapp_assistant.db.migrate import alembic_config
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.scheduling import service as scheduling
from whatsapp_assistant.scheduling.schemas import ScheduleData


async def _viewings(url: str) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT viewings FROM properties"))).scalars().all()
    await engine.dispose()
    return list(rows)


async def _schedule(url: str, account_id: uuid.UUID) -> ScheduleData:
    engine = create_async_engine(url)
    db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
    async with db.session_scope() as session:
        schedule = await scheduling.get_schedule(session, account_id)
    await engine.dispose()
    return schedule


def test_old_listings_take_viewings_and_old_accounts_read_the_defaults(tmp_path: Path) -> None:
    with _fresh_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "0012")  # the listing's search text is 0013's backfill
        account_id, property_id = asyncio.run(_insert_old_listing(url))
        command.upgrade(alembic_config(url), "head")
        assert asyncio.run(_viewings(url)) == ["on"]
        schedule = asyncio.run(_schedule(url, account_id))
        # `properties` was not rebuilt: its text index still finds the listing.
        found = asyncio.run(_found(url, account_id, location="Sao Vicente", text="açoteia"))
        command.downgrade(alembic_config(url), "0014")
        command.upgrade(alembic_config(url), "head")
        again = asyncio.run(_found(url, account_id, text="açoteia"))
    assert (schedule.time_zone, schedule.viewing_minutes, schedule.horizon_days) == (
        "Europe/Lisbon",
        30,
        14,
    )
    assert found == again == [property_id]
