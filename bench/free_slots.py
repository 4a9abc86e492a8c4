"""Benchmark: a busy agent's free viewing slots, with N booked viewings (default 500) and 50
listings.

Runs on SQLite in a temp folder and, when the server answers, on a fresh PostgreSQL database
(TEST_POSTGRES_URL, default the test server's), dropped at the end. The account keeps the new
account's schedule (weekdays 09:00–19:00, Saturday 10:00–14:00, 30 minutes, 14 days ahead); its
viewings are confirmed, one on every other slot from now on, so the first 14 days hold about a
hundred of them and the rest lie beyond. Each call is the one the assistant and the API make,
`scheduling.viewings.free_for_listing`, in its own short session, for one of the 50 listings in
turn, timed as p50/p99: the first three free starts (what the assistant offers) and every free
start of the 14-day horizon (the find-slots call). The baseline is the same two calls, in the same
run, for a second account with 50 listings and no viewing booked.
Usage: .venv/bin/python bench/free_slots.py [N]   (BENCH_ROUNDS sets the calls per figure)
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.app import build_database
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property, search_texts
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.defaults import DEFAULT_RULES
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import Calendar, load_calendar

LISTINGS = 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
WARMUP = 5
HORIZON = timedelta(days=DEFAULT_RULES.horizon_days)
EVERY_FREE_START = 10_000  # more than any horizon holds


def listing(account_id: uuid.UUID, i: int, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "reference": f"REF-{i:03d}",
        "title": f"T{i % 5} em Graça, Lisboa",
        "listing_type": "sale",
        "property_type": "apartment",
        "price": Decimal(250_000 + i * 1000),
        "currency": "EUR",
        "city": "Lisboa",
        "neighborhood": "Graça",
        "address": f"Rua {i} n.º 1",
        "bedrooms": i % 5,
        "bathrooms": 1,
        "area_sqm": Decimal(60 + i),
        "description": "Luminoso e renovado.",
        "features": ["varanda"],
        "status": "available",
        "viewings": "on",
        "url": None,
        "created_at": now,
        "updated_at": now,
    }
    return values | search_texts(
        reference=str(values["reference"]),
        title=str(values["title"]),
        city="Lisboa",
        neighborhood="Graça",
        address=str(values["address"]),
        description=str(values["description"]),
        features=["varanda"],
    )


def starts(calendar: Calendar, now: datetime, n: int) -> list[datetime]:
    """Every other free start from now on, window by window, until there are n."""
    found: list[datetime] = []
    window = now
    while len(found) < n:
        found += calendar.free(start=window, end=window + HORIZON, now=window)[::2]
        window += HORIZON
    return found[:n]


async def seed_account(db: Database, name: str, now: datetime) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async with db.session_scope() as session:
        account = Account(name=name)
        session.add(account)
        await session.flush()
        account_id = account.id
    rows = [listing(account_id, i, now) for i in range(LISTINGS)]
    async with db.session_scope() as session:
        await session.execute(insert(Property), rows)
    return account_id, [uuid.UUID(str(row["id"])) for row in rows]


async def seed(db: Database, n: int, now: datetime) -> dict[str, tuple[uuid.UUID, list[uuid.UUID]]]:
    busy = await seed_account(db, "Busy agency", now)
    idle = await seed_account(db, "Idle agency", now)
    account_id, listing_ids = busy
    async with db.session_scope() as session:
        calendar = await load_calendar(session, account_id)
    length = timedelta(minutes=calendar.rules.viewing_minutes)
    rows = [
        {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "property_id": listing_ids[i % LISTINGS],
            "conversation_id": None,
            "starts_at": start,
            "ends_at": start + length,
            "status": "confirmed",
            "customer_name": f"Customer {i}",
            "booked_by": "ai",
            "sequence": 0,
            "cancel_reason": None,
            "created_at": now,
            "updated_at": now,
        }
        for i, start in enumerate(starts(calendar, now, n))
    ]
    if rows:
        async with db.session_scope() as session:
            await session.execute(insert(Viewing), rows)
    if not db.is_sqlite:
        # Committed: statistics written by ANALYZE inside a transaction that rolls back are lost.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE viewings")
            await conn.exec_driver_sql("ANALYZE properties")
    return {"busy": busy, "idle": idle}


async def timed(call: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(WARMUP):
        await call()
    seconds = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - t0)
    return summary(seconds)


async def run(settings: Settings, n: int) -> dict[str, object]:
    db = build_database(settings)
    now = utcnow()
    t0 = time.perf_counter()
    accounts = await seed(db, n, now)
    seeded = round(time.perf_counter() - t0, 1)

    def free(which: str, limit: int) -> Callable[[], Awaitable[object]]:
        account_id, listing_ids = accounts[which]
        turn = itertools.cycle(listing_ids)

        async def call() -> list[datetime]:
            async with db.session_scope() as session:
                return await viewings.free_for_listing(
                    session,
                    account_id,
                    next(turn),
                    start=now,
                    end=now + HORIZON,
                    now=now,
                    limit=limit,
                )

        return call

    async with db.session_scope() as session:
        horizon_slots = len(
            await viewings.free_for_listing(
                session,
                accounts["busy"][0],
                accounts["busy"][1][0],
                start=now,
                end=now + HORIZON,
                now=now,
                limit=EVERY_FREE_START,
            )
        )
    figures: dict[str, object] = {
        "booked_viewings": n,
        "listings": LISTINGS,
        "rounds": ROUNDS,
        "seed_seconds": seeded,
        "free_starts_in_horizon": horizon_slots,
    }
    for label, limit in (("first_3", 3), ("whole_horizon", EVERY_FREE_START)):
        base = await timed(free("idle", limit))
        busy = await timed(free("busy", limit))
        figures[f"{label}_no_viewings_baseline"] = base
        figures[f"{label}_busy"] = busy | {
            "p99_vs_baseline": round(busy["p99_ms"] / base["p99_ms"], 1)
        }
    await db.dispose()
    return figures


if __name__ == "__main__":
    main("free_slots", run, default_n=500)
