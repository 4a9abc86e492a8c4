"""Benchmark: take over → committed while 200 replies are being drafted, on PostgreSQL.

The service runs as real processes, as bench/reply_burst.py sets it up (the fakes in a process
of their own, a model that takes 2 s per call): `serve` for the web and one `worker`, and the
embedded default (one `serve` that also runs the jobs). An agent's conversation is taken over
and handed back in turn over HTTP; the time runs from the POST until a separate connection
reads the new mode. Each set-up is measured idle (the baseline, same run) and while 200
customers' replies are in flight; GET /healthz is timed beside it.
Usage: .venv/bin/python bench/takeover_under_load.py [N]   # N customers in the burst
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import exists, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.reply_burst import (
    _INSTANCES,
    FIXTURE,
    PER_AGENCY,
    _agencies,
    _post_all,
    _set_aside,
    _webhook,
    fake_services,
    start_service,
)
from bench.support import POSTGRES_URL, RESULTS, postgres_problem, summary
from tests.races.conftest import Processes
from tests.scratch_db import scratch_postgres_database

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.app import build_database
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.db import migrate

TOGGLES = 100  # takeovers measured per phase (each followed by a hand-back)


async def _api_key(settings: Settings, account_id: uuid.UUID) -> str:
    db = build_database(settings)
    async with db.session_scope() as session:
        key = await accounts.create_api_key(session, account_id, name="bench")
    await db.dispose()
    return key


async def _toggles(
    base: str, key: str, conversation_id: uuid.UUID, reader: Any, count: int
) -> dict[str, object]:
    auth = {"Authorization": f"Bearer {key}"}
    taken: list[float] = []
    health: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(count):
            t0 = time.perf_counter()
            await client.get("/healthz")
            health.append(time.perf_counter() - t0)
            for mode in ("human", "ai"):
                t0 = time.perf_counter()
                answer = await client.post(
                    f"/api/v1/conversations/{conversation_id}/mode",
                    headers=auth,
                    json={"mode": mode},
                )
                assert answer.status_code == 200, answer.text
                async with reader.session_scope() as session:
                    seen = await session.scalar(
                        select(Conversation.mode).where(Conversation.id == conversation_id)
                    )
                if mode == "human":
                    taken.append(time.perf_counter() - t0)
                assert seen == mode
    return {"takeover_to_committed": summary(taken), "healthz": summary(health)}


async def _in_flight(settings: Settings, account_ids: list[uuid.UUID]) -> int:
    """Customers written to whose reply is not out yet."""
    answered = exists().where(
        Message.conversation_id == Conversation.id, Message.sent_at.is_not(None)
    )
    db = build_database(settings)
    async with db.session_scope() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.account_id.in_(account_ids), ~answered)
        )
    await db.dispose()
    return int(waiting or 0)


async def _setup(settings: Settings, n: int, *, workers: int) -> dict[str, object]:
    sizes = [PER_AGENCY] * max(1, n // PER_AGENCY)
    instances = [str(next(_INSTANCES)) for _ in range(len(sizes) + 1)]  # the last: the agent's
    payload: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    reader = build_database(settings)
    with fake_services(instances) as urls, tempfile.TemporaryDirectory() as folder:
        account_ids = await _agencies(settings, instances, urls["green_api"])
        key = await _api_key(settings, account_ids[-1])
        processes = Processes(settings.database.url, Path(folder))
        try:
            base = await start_service(processes, urls["anthropic"], {}, workers=workers)
            # The agent's own conversation: one customer message, answered, then toggled.
            own = _webhook(payload, instances[-1], 999, 0)
            await _post_all(base, [(instances[-1], own)])
            async with reader.session_scope() as session:
                conversation_id = await session.scalar(
                    select(Conversation.id).where(Conversation.account_id == account_ids[-1])
                )
            assert conversation_id is not None
            await asyncio.sleep(6)  # its reply is out: two model calls of 2 s
            idle = await _toggles(base, key, conversation_id, reader, TOGGLES)
            bodies = [
                (instances[a], _webhook(payload, instances[a], a, c))
                for a, size in enumerate(sizes)
                for c in range(size)
            ]
            await _post_all(base, bodies)
            in_flight_before = await _in_flight(settings, account_ids[:-1])
            loaded = await _toggles(base, key, conversation_id, reader, TOGGLES)
            in_flight_after = await _in_flight(settings, account_ids[:-1])
        finally:
            for process in processes.started:
                process.stop()
    await reader.dispose()
    await _set_aside(settings)
    p99 = float(loaded["takeover_to_committed"]["p99_ms"])  # type: ignore[index]
    idle_p99 = float(idle["takeover_to_committed"]["p99_ms"])  # type: ignore[index]
    return {
        "idle": idle,
        "while_replies_in_flight": loaded | {"in_flight_at_start": in_flight_before},
        "in_flight_at_end": in_flight_after,
        "loaded_p99_over_idle_p99": round(p99 / idle_p99, 2),
    }


async def run(settings: Settings, n: int) -> dict[str, object]:
    return {
        "customers_in_burst": n,
        "web_and_one_worker": await _setup(settings, n, workers=1),
        "embedded_one_serve": await _setup(settings, n, workers=0),
    }


def main() -> None:
    problem = postgres_problem()
    if problem is not None:
        sys.exit(problem)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with scratch_postgres_database(POSTGRES_URL, prefix="wa_bench") as url:
        migrate.upgrade(url)
        settings = Settings.model_validate({"database": {"url": url}})
        result = {"postgresql": asyncio.run(run(settings, n))}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "takeover_under_load.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
