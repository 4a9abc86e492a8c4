"""How many model calls draft at once: in this process, and for one account.

A reply job mostly waits on the model, so the reply queue runs many at once, more than the
model calls allowed: a job over its account's share waits here, in its slot, without a query,
and the free slots and calls are left to other accounts' customers (docs/architecture.md,
invariant 9).

A rate limit (429, Anthropic's 529 overloaded) is the provider telling every caller with our key
to slow down, so the process slows down, not only the reply that heard it: no new call starts
until the wait it asked for has passed, and the number allowed at once is halved, then grows
back by one for each call that succeeds (additive increase, multiplicative decrease, as TCP
treats its window), so a burst of customers stops hammering a provider that is already refusing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from whatsapp_assistant.conversations.shares import Shares


class PausedTooLong(Exception):
    """The process's calls are paused by a rate limit past the time the caller would wait."""

    def __init__(self, remaining: float) -> None:
        super().__init__(f"model calls are paused for {remaining:.1f} s more")
        self.remaining = remaining


class ModelCall:
    """One claimed call; the caller says how it went, so the process can adapt."""

    def __init__(self, calls: ModelCalls, epoch: int) -> None:
        self._calls = calls
        self._epoch = epoch

    def succeeded(self) -> None:
        self._calls._grow()

    def rate_limited(self, wait: float) -> None:
        """The provider refused this call for a rate limit; no call starts for `wait` seconds."""
        self._calls._slow_down(self._epoch, wait)


class ModelCalls:
    def __init__(self, *, total: int, per_account: int) -> None:
        self._ceiling = total
        self._limit = total
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._paused_until = 0.0  # event loop time
        # Bumped by each slow-down: the other calls already under way when a rate limit came
        # will hear it too, and one limit must halve the number once, not once per call.
        self._epoch = 0
        self._accounts = Shares(per_account)

    @property
    def limit(self) -> int:
        """How many calls may draft at once now."""
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    def paused_for(self) -> float:
        """Seconds until calls may start again; 0 when they are not paused."""
        return max(0.0, self._paused_until - asyncio.get_running_loop().time())

    @asynccontextmanager
    async def claim(
        self, account_id: uuid.UUID, *, deadline: float | None = None
    ) -> AsyncIterator[ModelCall]:
        """Wait for one of the account's calls, then for one of the process's, which starts once
        no rate limit pauses them. `deadline` (event loop time): raise PausedTooLong rather than
        wait for a pause that ends after it."""
        async with self._accounts.hold(account_id):
            call = await self._enter(deadline)
            try:
                yield call
            finally:
                self._release()

    async def _enter(self, deadline: float | None) -> ModelCall:
        while True:
            await self._wait_out_pause(deadline)
            if self._in_use < self._limit and not self._waiters:
                self._in_use += 1
            else:
                await self._wait_for_room()
            if not self.paused_for():
                return ModelCall(self, self._epoch)
            self._release()  # a rate limit came while this one queued: wait it out first

    async def _wait_out_pause(self, deadline: float | None) -> None:
        while (remaining := self.paused_for()) > 0:
            if deadline is not None and self._paused_until > deadline:
                raise PausedTooLong(remaining)
            await asyncio.sleep(remaining)  # the pause may have grown meanwhile: look again

    async def _wait_for_room(self) -> None:
        """Wait in line; the one who frees a call hands it over (the count is already ours)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a call just as the job was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        self._in_use -= 1
        self._hand_on()

    def _hand_on(self) -> None:
        while self._waiters and self._in_use < self._limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_use += 1
                waiter.set_result(None)

    def _grow(self) -> None:
        self._limit = min(self._ceiling, self._limit + 1)
        self._hand_on()

    def _slow_down(self, epoch: int, wait: float) -> None:
        until = asyncio.get_running_loop().time() + max(wait, 0.0)
        self._paused_until = max(self._paused_until, until)
        if epoch == self._epoch:
            # Half of what was drafting (this call included), not of a ceiling never reached.
            self._limit = max(1, min(self._limit, self._in_use) // 2)
            self._epoch += 1
