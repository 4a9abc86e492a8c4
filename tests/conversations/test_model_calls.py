"""ModelCalls under rate limits: a pause every new call waits out, and fewer calls at once (AIMD).

Plain asyncio: holders claim a call and keep it until the test lets go, so what each test sees is
decided by the order of events, not by timing. A pause is checked from below only (no call starts
before it ends), which a slow machine cannot break.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from whatsapp_assistant.conversations.model_calls import ModelCall, ModelCalls, PausedTooLong

ACCOUNT = uuid.uuid4()
OTHER_ACCOUNT = uuid.uuid4()


class Holder:
    """A task that claims a call, says when it has one, and keeps it until released."""

    def __init__(
        self, calls: ModelCalls, account: uuid.UUID = ACCOUNT, *, deadline: float | None = None
    ) -> None:
        self.entered = asyncio.Event()
        self.entered_at: float | None = None
        self.call: ModelCall | None = None
        self._release = asyncio.Event()
        self.task = asyncio.create_task(self._run(calls, account, deadline))

    async def _run(self, calls: ModelCalls, account: uuid.UUID, deadline: float | None) -> None:
        async with calls.claim(account, deadline=deadline) as call:
            self.call = call
            self.entered_at = asyncio.get_running_loop().time()
            self.entered.set()
            await self._release.wait()

    async def release(self) -> None:
        self._release.set()
        await self.task

    def rate_limited(self, wait: float) -> None:
        assert self.call is not None
        self.call.rate_limited(wait)

    def succeeded(self) -> None:
        assert self.call is not None
        self.call.succeeded()


async def holding(calls: ModelCalls, count: int) -> list[Holder]:
    holders = [Holder(calls) for _ in range(count)]
    await asyncio.gather(*(holder.entered.wait() for holder in holders))
    return holders


async def paused(wait: float, *, deadline_in: float) -> tuple[ModelCalls, float]:
    """Calls that heard a rate limit asking for `wait` seconds from a call now ended, and a
    deadline `deadline_in` seconds from now."""
    calls = ModelCalls(total=2, per_account=2)
    [limited] = await holding(calls, 1)
    limited.rate_limited(wait)
    await limited.release()
    return calls, asyncio.get_running_loop().time() + deadline_in


async def settle() -> None:
    """Let every ready task run until it blocks again."""
    for _ in range(10):
        await asyncio.sleep(0)


@contextmanager
def cleaned_up(holders: list[Holder]) -> Iterator[list[Holder]]:
    try:
        yield holders
    finally:
        for holder in holders:
            holder.task.cancel()


class TestPause:
    async def test_no_call_starts_before_the_wait_the_provider_asked_for(self) -> None:
        calls = ModelCalls(total=4, per_account=4)
        [limited] = await holding(calls, 1)
        limited.rate_limited(0.2)
        pause_ends = asyncio.get_running_loop().time() + 0.2
        await limited.release()

        same, other = Holder(calls), Holder(calls, OTHER_ACCOUNT)
        await settle()
        assert not same.entered.is_set()
        assert not other.entered.is_set()  # the whole process waits, not only that account
        # Let go at once: each enters when it can (one at a time, in either order) and leaves.
        await asyncio.gather(same.release(), other.release())
        assert same.entered_at is not None and other.entered_at is not None
        assert min(same.entered_at, other.entered_at) >= pause_ends

    async def test_a_call_queued_before_the_limit_came_waits_it_out_too(self) -> None:
        calls = ModelCalls(total=1, per_account=1)
        [drafting] = await holding(calls, 1)
        queued = Holder(calls)
        await settle()
        assert not queued.entered.is_set()  # in line behind the one call allowed

        drafting.rate_limited(0.2)
        pause_ends = asyncio.get_running_loop().time() + 0.2
        await drafting.release()  # hands its call on to the one in line, during the pause
        await queued.entered.wait()

        assert queued.entered_at is not None and queued.entered_at >= pause_ends
        await queued.release()

    async def test_a_pause_past_the_deadline_fails_at_once_instead_of_waiting(self) -> None:
        calls, deadline = await paused(60.0, deadline_in=1.0)

        with pytest.raises(PausedTooLong) as raised:
            async with calls.claim(ACCOUNT, deadline=deadline):
                pytest.fail("a call started during the pause")

        assert raised.value.remaining > 59.0  # it did not wait for any of it
        assert calls.in_use == 0

    async def test_a_pause_that_ends_before_the_deadline_is_waited_out(self) -> None:
        calls, deadline = await paused(0.1, deadline_in=30.0)

        waiting = Holder(calls, deadline=deadline)
        await waiting.entered.wait()

        assert calls.paused_for() == 0
        await waiting.release()


class TestFewerCallsAtOnce:
    async def test_a_rate_limit_halves_what_was_drafting_once_for_all_the_calls_it_refused(
        self,
    ) -> None:
        calls = ModelCalls(total=8, per_account=8)
        with cleaned_up(await holding(calls, 6)) as drafting:
            for holder in drafting:  # one limit: every call under way hears it
                holder.rate_limited(0.0)
            assert calls.limit == 3  # half of the six drafting, not of the ceiling of eight
            for holder in drafting:
                await holder.release()

    async def test_only_the_reduced_number_starts_and_each_success_lets_one_more_in(
        self,
    ) -> None:
        calls = ModelCalls(total=4, per_account=10)
        drafting = await holding(calls, 4)
        drafting[0].rate_limited(0.0)
        for holder in drafting:
            await holder.release()
        assert calls.limit == 2

        with cleaned_up([Holder(calls) for _ in range(5)]) as burst:
            await settle()
            assert [holder.entered.is_set() for holder in burst] == [
                True,
                True,
                False,
                False,
                False,
            ]
            burst[0].succeeded()  # 2 -> 3: one more may start
            await settle()
            assert sum(holder.entered.is_set() for holder in burst) == 3
            burst[1].succeeded()  # 3 -> 4, the ceiling
            burst[2].succeeded()  # stays 4
            await settle()
            assert calls.limit == 4
            assert sum(holder.entered.is_set() for holder in burst) == 4
            await burst[0].release()  # a call freed: the last in line starts
            await burst[4].entered.wait()
            for holder in burst[1:]:
                await holder.release()
        assert calls.in_use == 0

    async def test_a_limit_met_after_the_slow_down_halves_again_down_to_one(self) -> None:
        calls = ModelCalls(total=4, per_account=4)
        first = await holding(calls, 4)
        first[0].rate_limited(0.0)
        for holder in first:
            await holder.release()
        assert calls.limit == 2

        second = await holding(calls, 2)
        second[0].rate_limited(0.0)  # started after the first slow-down: a new limit
        assert calls.limit == 1
        second[1].rate_limited(0.0)  # the same limit again
        assert calls.limit == 1
        for holder in second:
            await holder.release()

        [alone] = await holding(calls, 1)
        alone.rate_limited(0.0)
        assert calls.limit == 1  # never below one
        await alone.release()

    async def test_a_job_cancelled_in_line_leaves_its_place_to_the_next(self) -> None:
        calls = ModelCalls(total=1, per_account=5)
        [drafting] = await holding(calls, 1)
        cancelled, next_one = Holder(calls), Holder(calls)
        await settle()
        cancelled.task.cancel()
        await settle()

        await drafting.release()
        await next_one.entered.wait()

        assert calls.in_use == 1
        await next_one.release()
        assert calls.in_use == 0
