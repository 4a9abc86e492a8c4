"""Alembic environment: runs the migrations on the async engine of the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Index
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from whatsapp_assistant.all_models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # procrastinate owns its own tables (applied by its schema manager); leave them alone.
    return not (type_ == "table" and reflected and compare_to is None)


def _include_postgres_only(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # An index marked postgresql_only (a trigram index) exists on PostgreSQL alone.
    if isinstance(obj, Index) and obj.info.get("postgresql_only"):
        return False
    return _include_object(obj, name, type_, reflected, compare_to)


def _run(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object if postgres else _include_postgres_only,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


existing = config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_run_async())
