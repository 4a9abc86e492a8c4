"""How many model calls draft at once: in this process, and for one account.

A reply job mostly waits on the model, so the reply queue runs many at once, more than the
model calls allowed: a job over its account's share waits here, in its slot, without a query,
and the free slots and calls are left to other accounts' customers (docs/architecture.md,
invariant 9).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ModelCalls:
    def __init__(self, *, total: int, per_account: int) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_account = per_account
        self._accounts: dict[uuid.UUID, asyncio.Semaphore] = {}
        self._users: dict[uuid.UUID, int] = {}

    @asynccontextmanager
    async def claim(self, account_id: uuid.UUID) -> AsyncIterator[None]:
        """Wait for one of the account's calls, then for one of the process's."""
        share = self._accounts.setdefault(account_id, asyncio.Semaphore(self._per_account))
        self._users[account_id] = self._users.get(account_id, 0) + 1
        try:
            async with share, self._total:
                yield
        finally:
            self._users[account_id] -= 1
            if not self._users[account_id]:  # forget idle accounts: the map stays small
                del self._users[account_id], self._accounts[account_id]
