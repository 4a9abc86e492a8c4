"""Benchmark: webhooks accepted per second under wrk, against a bare one-INSERT app.

On one scratch PostgreSQL database: (a) bench/bare_app.py, the baseline; (b) `serve` with one
process (its in-process worker idle: REPLY_DEBOUNCE_SECONDS is high, so no reply work runs);
(c) `serve --workers 2` with one `worker` process. wrk: 2 threads, 64 connections, 10 s,
Green API bodies of about 1 KB with a unique idMessage per request over 1,000 chats. Prints
requests per second, p50 and p99, the ratios to the baseline, what the database connections
were doing half-way (pg_stat_activity), and with PROFILE=1 a py-spy profile of (b).
Needs wrk (`apt-get install wrk`). Usage: .venv/bin/python bench/webhook_ingest.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import POSTGRES_URL, RESULTS, postgres_problem
from tests.scratch_db import scratch_postgres_database

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database
from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.schemas import GreenAPIChannelCreate
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db import migrate

BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "fixtures" / "greenapi" / "incoming_text.json"
INSTANCE = "1101823456"
TOKEN = "bench-webhook-token-0123456789"  # noqa: S105 - a throwaway scratch channel
CHATS = 1000
DURATION = "10s"
CONNECTIONS = 64
TEXT = (
    "Hi! I'm moving to Lisbon in spring with my family and looking to buy a 2-bedroom flat, "
    "ideally in Graça or Campo de Ourique, close to a school and the tram. Our budget is up to "
    "€400k, a bit more for a terrace or a lift. We would like to see a few places in the first "
    "week of March, when we are there. Do you have anything like that, or coming soon?"
)


def body_parts() -> list[str]:
    """The body as text pieces around the message id and (twice) the chat id, for the Lua."""
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    payload["idMessage"] = "@ID@"
    payload["senderData"]["chatId"] = payload["senderData"]["sender"] = "@CHAT@"
    payload["messageData"]["textMessageData"]["textMessage"] = TEXT
    raw = json.dumps(payload, ensure_ascii=False)
    before_id, rest = raw.split('"@ID@"')
    return [before_id, *rest.split('"@CHAT@"')]


def lua_script(parts: list[str]) -> str:
    pieces = ", ".join(f"[==[{part}]==]" for part in parts)
    return f"""
local parts = {{{pieces}}}
local threads = 0
local counter = 0
local run = os.getenv("RUN") or "r"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {TOKEN}"

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local id = '"' .. run .. "-" .. tid .. "-" .. counter .. '"'
  local chat = '"' .. (351900000000 + (counter * 7 + tid) % {CHATS}) .. '@c.us"'
  local body = parts[1] .. id .. parts[2] .. chat .. parts[3] .. chat .. parts[4]
  return wrk.format(nil, "/webhooks/green-api", nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, '
    .. '"non_2xx": %d, "socket_errors": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            httpx.post(url, content=b"{}", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} never answered")


@contextmanager
def running(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603 - our own commands
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/webhooks/green-api", process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def wrk(port: int, script: Path, run: str, duration: str = DURATION) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603 - wrk with fixed arguments
        [
            shutil.which("wrk") or "/usr/bin/wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{duration}",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env=os.environ | {"RUN": run},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(row for row in done.stdout.splitlines() if row.startswith("RESULT "))
    figures: dict[str, object] = json.loads(line.removeprefix("RESULT "))
    seconds = float(str(figures["seconds"]))
    figures["requests_per_second"] = round(int(str(figures["requests"])) / seconds, 1)
    return figures


PROFILE_FILE = Path(tempfile.gettempdir()) / "webhook_ingest_profile.txt"


def top_frames(path: Path, count: int = 12) -> dict[str, int]:
    """py-spy's raw stacks as the functions most often on top (where the CPU went)."""
    on_top = Counter[str]()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, samples = line.rpartition(" ")
        on_top[stack.rsplit(";", 1)[-1]] += int(samples)
    return dict(on_top.most_common(count))


def activity_sampler(plain_url: str, name: str) -> tuple[threading.Event, Counter[str]]:
    """Counts what this database's connections are doing, sampled every 100 ms."""
    stop, seen = threading.Event(), Counter[str]()

    def sample() -> None:
        with psycopg.connect(plain_url, autocommit=True) as conn:
            while not stop.wait(0.1):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                ).fetchall()
                seen.update(" / ".join(str(v) for v in row) for row in rows)

    threading.Thread(target=sample, daemon=True).start()
    return stop, seen


def measure(
    port: int, script: Path, run: str, db_url: str, profile_pid: int | None = None
) -> dict[str, object]:
    wrk(port, script, f"{run}-warm", duration="3s")  # chats opened, caches and pools warm
    plain = db_url.replace("postgresql+psycopg://", "postgresql://")
    stop, seen = activity_sampler(plain, db_url.rpartition("/")[2])
    profiler = None
    spy = BIN / "py-spy"
    if profile_pid is not None and spy.exists():
        profiler = subprocess.Popen(  # noqa: S603 - py-spy with fixed arguments
            [
                str(spy),
                "record",
                "--gil",  # only what holds the interpreter: the CPU, not the waits
                "-p",
                str(profile_pid),
                "-d",
                "8",
                "-f",
                "raw",
                "-o",
                str(PROFILE_FILE),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    figures = wrk(port, script, run)
    stop.set()
    if profiler is not None:
        profiler.wait(timeout=60)
        figures["profile_self_samples"] = top_frames(PROFILE_FILE)
    total = sum(seen.values()) or 1
    figures["connections_by_state"] = {
        state: round(count / total, 3) for state, count in seen.most_common(6)
    }
    return figures


async def prepare(settings: Settings) -> None:
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name="Bench", email="bench@example.com", password="bench-pass")
        )
        data = GreenAPIChannelCreate(
            type="green_api",
            id_instance=INSTANCE,
            api_token="bench-api-token",
            api_url="http://127.0.0.1:9",
            webhook_token=TOKEN,
        )
        await channels.connect_green_api(
            session, created.account_id, data, default_url="http://127.0.0.1:9"
        )
    await db.dispose()


def bench(url: str, script: Path) -> dict[str, object]:
    migrate.upgrade(url)
    settings = Settings.model_validate({"database": {"url": url}})
    asyncio.run(prepare(settings))
    env = os.environ | {
        "DATABASE_URL": url,
        "BARE_DATABASE_URL": url,
        "LLM_PROVIDER": "offline",
        "REPLY_DEBOUNCE_SECONDS": "120",
        "ANTHROPIC_API_KEY": "",
    }
    results: dict[str, object] = {}
    port = free_port()
    bare = [
        str(BIN / "uvicorn"),
        "bench.bare_app:create",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with running(bare, env, port):
        results["bare_app"] = measure(port, script, "bare", url)
    port = free_port()
    serve = [str(BIN / "whatsapp-assistant"), "serve", "--port", str(port)]
    with running(serve, env, port) as process:
        profile = process.pid if os.environ.get("PROFILE") else None
        results["serve_1"] = measure(port, script, "one", url, profile_pid=profile)
    port = free_port()
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [str(BIN / "whatsapp-assistant"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with running([*serve[:-1], str(port), "--workers", "2"], env, port):
            results["serve_2"] = measure(port, script, "two", url)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    base = results["bare_app"]
    assert isinstance(base, dict)
    for name in ("serve_1", "serve_2"):
        figures = results[name]
        assert isinstance(figures, dict)
        figures["ratio_to_bare"] = round(
            float(figures["requests_per_second"]) / float(base["requests_per_second"]), 3
        )
        figures["p99_to_bare"] = round(float(figures["p99_ms"]) / float(base["p99_ms"]), 2)
    return results


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    problem = postgres_problem()
    if problem is not None:
        sys.exit(problem)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "webhook.lua"
        script.write_text(lua_script(body_parts()), encoding="utf-8")
        with scratch_postgres_database(POSTGRES_URL, prefix="wa_bench") as url:
            result = {"postgresql": bench(url, script)}
    (RESULTS / "webhook_ingest.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
