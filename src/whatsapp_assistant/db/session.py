"""session_scope: the only code that commits; side effects registered on a session run after it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

logger = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT_KEY = "after_commit"


def on_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the surrounding session_scope has committed (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def commit_before_waiting(session: AsyncSession) -> None:
    """Commit what a request wrote so far, before it waits on another service.

    On SQLite an open write transaction holds the database's only write lock: webhooks would
    queue behind a slow provider call. Allowed only before any after-commit side effect was
    registered (those run when session_scope commits, and would be skipped here).
    """
    assert not session.info.get(_AFTER_COMMIT_KEY), "after-commit callbacks registered"
    await session.commit()


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Copied into every session's `info`: how commit-time side effects (the pub/sub of
    # infra/pubsub.py) find their collaborators without a global.
    info: Mapping[str, object] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            session.info.update(self.info)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
        for callback in callbacks:
            # A lost side effect is re-derived from rows (docs/architecture.md, invariant 2): log,
            # never undo the commit.
            try:
                await callback()
            except Exception:
                logger.exception("after-commit callback failed")

    async def dispose(self) -> None:
        await self.engine.dispose()
