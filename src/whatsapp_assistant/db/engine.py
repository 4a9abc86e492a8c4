"""The async engine and session factory for the configured database URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from whatsapp_assistant.config import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        engine = create_async_engine(settings.database.url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Sized per process (README, "Sizing"): a webhook holds a connection for its one short
    # transaction, so a burst waits on the pool in asyncio, not in PostgreSQL.
    return create_async_engine(
        settings.database.url,
        pool_pre_ping=True,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def dialect_insert(session: AsyncSession, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with the backend's ON CONFLICT clause: one round trip where a savepoint and a
    re-read would take several (both backends spell `on_conflict_do_*` alike)."""
    return insert_for(dialect_of(session), entity)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(dialect: str, entity: Any) -> postgresql.Insert | sqlite.Insert:
    return sqlite.insert(entity) if dialect == "sqlite" else postgresql.insert(entity)


def bound_values(entity: Any, names: tuple[str, ...]) -> dict[str, BindParameter[Any]]:
    """`values()` of bind parameters named as the columns, so a statement is built once and run
    with plain dicts: building an INSERT ... ON CONFLICT costs more CPU than running it."""
    table = entity.__table__
    return {name: bindparam(name, type_=table.c[name].type) for name in names}
