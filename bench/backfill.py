"""Benchmark: a backfill of 10,000 history messages, its time and its peak memory.

Runs on SQLite in a temp folder and on a fresh PostgreSQL database (see bench/support.py). The
fake Green API (tests/fakes/green_api.py, a real HTTP server on 127.0.0.1) holds N journal
entries from 1,000 customers over the last five hours: seven in ten from the last half hour
(answered: their reply jobs are deferred, not run), the rest older (flagged for the agent).
Timed: the first backfill, which stores every message in its own transaction through the
webhook's path, and a second one, which finds every key known and stores nothing. Memory: the
peak of Python's allocations during the first run (tracemalloc, on a run of its own so its cost
does not count in the time) and the process's peak resident size (getrusage; the language
models alone hold about 110 MB, and a PostgreSQL run after SQLite's shares its process).
Usage: .venv/bin/python bench/backfill.py [N]
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main
from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.app import running_services
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.backfill import BackfillReport, backfill
from whatsapp_assistant.conversations.runtime import Runtime

CUSTOMERS = 1_000
WINDOW = timedelta(hours=6)


def fill_journal(fake: FakeGreenAPI, n: int, *, prefix: str) -> None:
    now = time.time()
    for i in range(n):
        young = i % 10 < 7
        minutes_ago = (i % 29) + 0.5 if young else 60 + i % 240
        chat = f"3519{i % CUSTOMERS:08d}@c.us"
        fake.add_incoming(
            {
                "type": "incoming",
                "idMessage": f"{prefix}{i:016d}",
                "timestamp": int(now - minutes_ago * 60),
                "typeMessage": "textMessage",
                "chatId": chat,
                "senderId": chat,
                "senderName": f"Customer {i % CUSTOMERS}",
                "senderContactName": "",
                "textMessage": f"Hello, is listing {i % 97} still available?",
            }
        )


async def seed(runtime: Runtime, fake: FakeGreenAPI) -> uuid.UUID:
    async with runtime.db.session_scope() as session:
        account = Account(name="Bench agency")
        session.add(account)
        await session.flush()
        channel = Channel(
            account_id=account.id,
            type="green_api",
            external_id=fake.id_instance,
            api_url=fake.base_url,
            api_token=fake.token,
        )
        session.add(channel)
        await session.flush()
        return channel.id


def _figures(report: BackfillReport, seconds: float) -> dict[str, object]:
    return {
        "seconds": round(seconds, 2),
        "messages_per_second": round(report.read / seconds, 1) if seconds else None,
        "read": report.read,
        "stored": report.stored,
        "known": report.known,
        "answered_conversations": report.answered,
        "flagged_conversations": report.flagged,
    }


async def _timed(runtime: Runtime, channel_id: uuid.UUID) -> tuple[BackfillReport, float]:
    t0 = time.perf_counter()
    report = await backfill(runtime, channel_id, since=WINDOW)
    return report, time.perf_counter() - t0


async def run(settings: Settings, n: int) -> dict[str, object]:
    with run_fake_green_api() as fake:
        async with running_services(settings, run_worker_here=False) as runtime:
            channel_id = await seed(runtime, fake)
            fill_journal(fake, n, prefix="3EB0A")
            first, first_seconds = await _timed(runtime, channel_id)
            second, second_seconds = await _timed(runtime, channel_id)
            assert first.stored == n and second.known == n, (first, second)
        # The memory run: fresh message ids in the same database store as many rows again (the
        # journal then lists the first N too, all known).
        async with running_services(settings, run_worker_here=False) as runtime:
            fill_journal(fake, n, prefix="3EB0B")
            tracemalloc.start()
            traced = await backfill(runtime, channel_id, since=WINDOW)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert traced.stored == n, traced
    return {
        "history_messages": n,
        "first_backfill": _figures(first, first_seconds),
        "second_backfill_all_known": _figures(second, second_seconds),
        "peak_python_allocations_mb": round(peak / 2**20, 1),
        "peak_resident_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    main("backfill", run, default_n=10_000)
