"""What every benchmark shares: percentiles, one run per database, and writing the figures.

Each benchmark supplies `run(settings, n)`; this module runs it on a fresh SQLite file and on a
scratch PostgreSQL database (dropped afterwards), prints the figures and writes them to
bench/results/<name>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
from tests.scratch_db import scratch_postgres_database

from whatsapp_assistant.config import Settings
from whatsapp_assistant.db import migrate

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

Run = Callable[[Settings, int], Awaitable[dict[str, object]]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
    }


def _settings(url: str) -> Settings:
    return Settings.model_validate(
        {"database": {"url": url}, "llm": {"provider": "offline"}, "reply": {"debounce_seconds": 0}}
    )


def bench_sqlite(run: Run, n: int) -> dict[str, object]:
    folder = tempfile.mkdtemp(prefix="wa-bench-")
    settings = _settings(f"sqlite+aiosqlite:///{folder}/bench.db")
    migrate.upgrade(settings.database.url)  # Alembic runs its own event loop: before ours
    return asyncio.run(run(settings, n))


def postgres_problem() -> str | None:
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}".strip()


def bench_postgres(run: Run, n: int) -> dict[str, object]:
    problem = postgres_problem()
    if problem is not None:
        return {"skipped": problem}
    with scratch_postgres_database(POSTGRES_URL, prefix="wa_bench") as url:
        migrate.upgrade(url)
        return asyncio.run(run(_settings(url), n))


DATABASES = {"sqlite": bench_sqlite, "postgresql": bench_postgres}


def main(name: str, run: Run, *, default_n: int) -> None:
    """`python bench/<name>.py [N]`: both databases (or those named in BENCH_DATABASES, e.g.
    `sqlite`), printed and written to results/."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else default_n
    chosen = os.environ.get("BENCH_DATABASES", ",".join(DATABASES)).split(",")
    unknown = set(chosen) - set(DATABASES)
    if unknown:
        raise SystemExit(f"BENCH_DATABASES: unknown {sorted(unknown)}; known: {list(DATABASES)}")
    result = {database: DATABASES[database](run, n) for database in chosen}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
