"""Shares: at most N holders at once per key (an account), so one account's burst leaves the
rest of the process to other accounts' customers (docs/architecture.md, invariant 9).

A holder over its key's share waits here without a query. Keys nobody holds or waits for are
forgotten, so the map stays as small as the set of busy accounts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class Shares:
    def __init__(self, per_key: int) -> None:
        self._per_key = per_key
        self._shares: dict[Hashable, asyncio.Semaphore] = {}
        self._users: dict[Hashable, int] = {}  # holders and waiters, per key

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        share = self._shares.setdefault(key, asyncio.Semaphore(self._per_key))
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with share:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._shares[key]

    def busy_keys(self) -> int:
        """Keys held or waited for now."""
        return len(self._users)
