"""The double-booking race: twenty bookings of one slot at once leave exactly one viewing.

A gate makes the race certain rather than likely: one connection holds a lock on `viewings` that
lets every booking read (so each finds the slot free) but holds each one's INSERT. Once all
twenty wait on it, the gate opens and the twenty inserts meet. Only the unique index on active
viewings (migration 0016) then stops the nineteen: without it, all twenty are booked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import eventually
from tests.races.conftest import Processes, processes  # noqa: F401 - the fixture
from whatsapp_assistant.db.engine import make_sessionmaker
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.errors import SlotTaken
from whatsapp_assistant.scheduling.models import Viewing

pytestmark = pytest.mark.postgres

CUSTOMERS = 20


async def _waiting_on_locks(db: Database, count: int) -> bool:
    async with db.engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return waiting == count


@asynccontextmanager
async def gate(db: Database) -> AsyncIterator[AsyncConnection]:
    """SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE an INSERT takes, not with reads."""
    async with db.engine.connect() as conn:
        await conn.execute(text("LOCK TABLE viewings IN SHARE ROW EXCLUSIVE MODE"))
        try:
            yield conn
        finally:
            await conn.rollback()


async def race(db: Database, bookings: list[Awaitable[object]]) -> list[object]:
    """Runs the bookings at once behind the gate; opens it once every one waits on it."""
    async with gate(db) as held:
        running = asyncio.gather(*bookings, return_exceptions=True)
        await eventually(lambda: _waiting_on_locks(db, len(bookings)))
        await held.rollback()
        return await running


async def rows(db: Database, account: ApiAccount) -> int:
    async with db.session_scope() as session:
        stmt = select(func.count()).select_from(Viewing)
        return int(await session.scalar(stmt.where(Viewing.account_id == account.account_id)))


async def first_free_slot(db: Database, account: ApiAccount, property_id: uuid.UUID) -> datetime:
    async with db.session_scope() as session:
        now = utcnow()
        [slot] = await viewings.free_for_listing(
            session,
            account.account_id,
            property_id,
            start=now,
            end=now + timedelta(days=14),
            now=now,
            limit=1,
        )
        return slot


class TestTwentyCustomersOneSlot:
    async def test_separate_connections_leave_one_booking_and_nineteen_slot_taken(
        self, db: Database, database_url: str, api_account: ApiAccount
    ) -> None:
        """Customers' bookings (the free-slot path), each on its own engine and connection."""
        async with db.session_scope() as session:
            property_id = (await create_property(session, api_account.account_id)).id
        slot = await first_free_slot(db, api_account, property_id)
        engines = [create_async_engine(database_url) for _ in range(CUSTOMERS)]

        async def customer(number: int) -> uuid.UUID:
            own = Database(engine=engines[number], sessionmaker=make_sessionmaker(engines[number]))
            async with own.session_scope() as session:
                viewing = await viewings.book(
                    session,
                    api_account.account_id,
                    property_id=property_id,
                    starts_at=slot,
                    customer_name=f"Customer {number}",
                    conversation_id=None,
                    now=utcnow(),
                )
                return viewing.id

        try:
            outcomes = await race(db, [customer(number) for number in range(CUSTOMERS)])
        finally:
            for engine in engines:
                await engine.dispose()
        taken = [outcome for outcome in outcomes if isinstance(outcome, SlotTaken)]
        booked = [outcome for outcome in outcomes if isinstance(outcome, uuid.UUID)]
        assert (len(booked), len(taken)) == (1, CUSTOMERS - 1), outcomes
        assert all(error.next_slots and error.next_slots[0] > slot for error in taken)
        assert await rows(db, api_account) == 1

    async def test_two_serve_processes_leave_one_booking_and_nineteen_409s(
        self,
        db: Database,
        api_account: ApiAccount,
        processes: Processes,  # noqa: F811 - the fixture imported above
    ) -> None:
        """The same over HTTP, half of the requests to each of two `serve` processes."""
        async with db.session_scope() as session:
            property_id = (await create_property(session, api_account.account_id)).id
        slot = await first_free_slot(db, api_account, property_id)
        pools = {"DATABASE_POOL_SIZE": str(CUSTOMERS), "WORKER_IN_PROCESS": "false"}
        started = await asyncio.gather(processes.serve(**pools), processes.serve(**pools))
        clients = [
            httpx.AsyncClient(base_url=base, trust_env=False, timeout=60) for _, base in started
        ]

        def post(number: int) -> Awaitable[httpx.Response]:
            body = {
                "property_id": str(property_id),
                "starts_at": slot.isoformat(),
                "customer_name": f"Customer {number}",
            }
            http = clients[number % 2]
            return http.post("/api/v1/viewings", json=body, headers=api_account.headers)

        try:
            answers = await race(db, [post(number) for number in range(CUSTOMERS)])
        finally:
            for http in clients:
                await http.aclose()
        statuses = sorted(
            answer.status_code if isinstance(answer, httpx.Response) else repr(answer)
            for answer in answers
        )
        assert statuses == [201] + [409] * (CUSTOMERS - 1), statuses
        codes = {
            answer.json()["error"]["code"]
            for answer in answers
            if isinstance(answer, httpx.Response) and answer.status_code == 409
        }
        assert codes == {"slot_taken"}
        assert await rows(db, api_account) == 1
