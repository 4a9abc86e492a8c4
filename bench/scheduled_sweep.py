"""Benchmark: the sweep of due scheduled messages over 100,000 scheduled rows.

Runs on SQLite in a temp folder and on a fresh PostgreSQL database (see bench/support.py). The
rows (follow-ups and reminders of 1,000 conversations: most pending and due days ahead, the rest
sent, cancelled or skipped) go in by bulk insert. Timed: the sweep when nothing is due (what it
does nearly every minute), then once with a full batch due (conversations/scheduled/send.py
SWEEP_LIMIT rows re-deferred). The statements each sweep sends to the database are counted on
the engine: the promise is one.
Usage: .venv/bin/python bench/scheduled_sweep.py [N]
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary
from tests.statements import statements

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.app import running_services
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Contact, Conversation
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.scheduled.models import ScheduledMessage
from whatsapp_assistant.conversations.scheduled.send import SWEEP_LIMIT, sweep
from whatsapp_assistant.kit.clock import utcnow

CONVERSATIONS = 1_000
BATCH = 5_000
ROUNDS = 50
WARMUP = 3
KINDS = ("followup", "followup", "reminder", "manual")
DONE = ("sent", "cancelled", "skipped")


async def seed(runtime: Runtime, n: int) -> uuid.UUID:
    async with runtime.db.session_scope() as session:
        account = Account(name="Bench agency")
        session.add(account)
        await session.flush()
        channel = Channel(account_id=account.id, type="simulator", external_id="bench")
        session.add(channel)
        await session.flush()
        contacts = [
            Contact(account_id=account.id, channel_id=channel.id, chat_id=f"{i}@c.us")
            for i in range(CONVERSATIONS)
        ]
        session.add_all(contacts)
        await session.flush()
        conversations = [
            Conversation(account_id=account.id, channel_id=channel.id, contact_id=contact.id)
            for contact in contacts
        ]
        session.add_all(conversations)
        await session.flush()
        account_id, ids = account.id, [conversation.id for conversation in conversations]
    now = utcnow()
    for start in range(0, n, BATCH):
        rows = []
        for i in range(start, min(n, start + BATCH)):
            pending = i % 10 < 7
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "account_id": account_id,
                    "conversation_id": ids[i % CONVERSATIONS],
                    "kind": KINDS[i % len(KINDS)],
                    # Pending rows are due from a day to 30 days ahead; the others were due.
                    "due_at": now + timedelta(minutes=1440 + i % 41_760)
                    if pending
                    else now - timedelta(minutes=1 + i % 10_000),
                    "status": "pending" if pending else DONE[i % len(DONE)],
                    "reason": None,
                    "text": "",
                    "data": {"step": 1 + i % 2},
                    "keep_in_human": False,
                    "message_id": None,
                    "created_at": now - timedelta(days=1),
                    "created_by": "ai",
                }
            )
        async with runtime.db.session_scope() as session:
            await session.execute(insert(ScheduledMessage), rows)
    if not runtime.db.is_sqlite:
        async with runtime.db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE scheduled_messages")
    return account_id


async def make_due(runtime: Runtime, count: int) -> None:
    """`count` pending rows become due a minute ago."""
    async with runtime.db.session_scope() as session:
        chosen = select(ScheduledMessage.id).where(ScheduledMessage.status == "pending")
        ids = list((await session.execute(chosen.limit(count))).scalars())
        await session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.id.in_(ids))
            .values(due_at=utcnow() - timedelta(minutes=1))
        )


async def run(settings: Settings, n: int) -> dict[str, object]:
    async with running_services(settings, run_worker_here=False) as runtime:
        t0 = time.perf_counter()
        await seed(runtime, n)
        seeded = round(time.perf_counter() - t0, 1)
        for _ in range(WARMUP):
            await sweep(runtime)
        seconds: list[float] = []
        counts: set[int] = set()
        for _ in range(ROUNDS):
            with statements(runtime.db) as seen:
                t0 = time.perf_counter()
                found = await sweep(runtime)
                seconds.append(time.perf_counter() - t0)
            assert found == 0
            counts.add(len(seen))
        await make_due(runtime, SWEEP_LIMIT)
        with statements(runtime.db) as seen:
            t0 = time.perf_counter()
            found = await sweep(runtime)
            full = time.perf_counter() - t0
        assert found == SWEEP_LIMIT, found
        return {
            "scheduled_rows": n,
            "seed_seconds": seeded,
            "sweep_nothing_due": summary(seconds) | {"statements": sorted(counts)},
            "sweep_full_batch": {
                "due_rows": found,
                "ms": round(full * 1000, 2),
                "statements": len(seen),
                "jobs_deferred": found,
            },
        }


if __name__ == "__main__":
    main("scheduled_sweep", run, default_n=100_000)
