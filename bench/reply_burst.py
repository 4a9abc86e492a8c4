"""Many customers at once, a model that takes SECONDS per call (two calls per reply: a search,
then the answer): how many are answered within the two calls plus one second, and how long
one agency's single customer waits while another agency's burst of 500 drafts.

The service runs as it does in production: real `serve` (and `worker`) processes, webhooks over
HTTP. The fake Anthropic and Green API servers run in a process of their own, so their CPU is
not counted against the service, as a real provider's is not. A reply's time is its row's
`sent_at` (the fake Green API accepted it) minus the moment the burst's first webhook was
accepted: the customers wrote at once. A 503, or no answer, is posted again, as Green API
redelivers.

Scenarios, each on the same database with agencies of its own:
- `ten_reply_slots`: one `serve`, the reply queue worked 10 at a time (what one shared 10-slot
  queue gave): the baseline;
- `defaults`: one `serve` with the settings' defaults (the embedded set-up);
- `web_and_two_workers` (PostgreSQL): `serve` for the web and two `worker` processes;
- `single_beside_burst_of_500`: defaults; one agency's 500 customers write, then another
  agency's one customer; `..._uncapped` is the same with no cap on an account's running
  replies (WORKER_REPLIES_PER_ACCOUNT), its baseline.
The CPU seconds the service's processes used are reported per reply.
The reply debounce is off (REPLY_DEBOUNCE_SECONDS=0): it is a chosen quiet time, and with the
default 3 s every wait here is 3 s longer.

    python bench/reply_burst.py [N]      # N customers, spread over agencies of 50 each

Any other N is written to `results/reply_burst_<N>.json`. Past 1,000 customers
(`python bench/reply_burst.py 10000`) only `defaults` (SQLite) and `web_and_two_workers`
(PostgreSQL) run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, percentile
from tests.races.conftest import Processes

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database
from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.schemas import GreenAPIChannelCreate
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.states import Direction, MessageStatus, Mode
from whatsapp_assistant.properties.importer import import_csv
from whatsapp_assistant.properties.samples import sample_listings_text

SECONDS = 2.0  # per model call
CALLS = 2  # per reply
PER_AGENCY = 50
BURST = 500  # one agency's burst, beside another agency's single customer
DEFAULT = 200  # customers, over 4 agencies
LARGE = 1000  # customers past which only the set-ups that carry them run
DEADLINE = 90.0  # seconds: what is not answered by then counts as not answered in time
POSTERS = 64  # concurrent webhook connections, as wrk uses in the ingest benchmark
FIXTURE = ROOT / "tests" / "fixtures" / "greenapi" / "incoming_text.json"
TOKEN = "bench-token"  # noqa: S105 - throwaway fake instances

_INSTANCES = itertools.count(1101800000)
REDELIVERED = [0]  # webhooks answered 503 and posted again, in the current scenario


def _fakes(pipe: Connection, instances: list[str], seconds: float) -> None:
    """The child process: the slow fake model and one fake Green API per agency, until told."""
    from tests.fakes.anthropic_server import FakeAnthropic
    from tests.fakes.green_api import run_fake_green_api
    from tests.fakes.llm_base import FakeResponse, _delayed

    with FakeAnthropic() as fake, ExitStack() as stack:
        apis = [stack.enter_context(run_fake_green_api(i, TOKEN)) for i in instances]

        def answer(body: Any) -> FakeResponse:
            reply = fake.default_responder(body)
            response = fake.text_response(reply, body) if isinstance(reply, str) else reply
            return _delayed(response, seconds)

        fake.responder = answer
        pipe.send({"anthropic": fake.base_url, "green_api": [api.base_url for api in apis]})
        pipe.recv()  # stop


@contextmanager
def fake_services(instances: list[str]) -> Iterator[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_fakes, args=(child, instances, SECONDS), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=30)
        if process.is_alive():
            process.kill()


async def _agencies(settings: Settings, instances: list[str], urls: list[str]) -> list[Any]:
    """One account per instance, its listings imported and its Green API number connected."""
    db = build_database(settings)
    account_ids = []
    async with db.session_scope() as session:
        for instance, url in zip(instances, urls, strict=True):
            created = await accounts.sign_up(
                session,
                AccountCreate(
                    name=f"Agency {instance}",
                    email=f"bench{instance}@example.com",
                    password="bench-pass",
                ),
            )
            await import_csv(session, created.account_id, sample_listings_text())
            data = GreenAPIChannelCreate(
                type="green_api",
                id_instance=instance,
                api_token=TOKEN,
                api_url=url,
                webhook_token=f"bench-webhook-token-{instance}",
            )
            await channels.connect_green_api(session, created.account_id, data, default_url=url)
            account_ids.append(created.account_id)
    await db.dispose()
    return account_ids


def _webhook(payload: dict[str, Any], instance: str, agency: int, chat: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(payload))
    body["instanceData"]["idInstance"] = int(instance)
    body["idMessage"] = f"3EB0{instance}{chat:08d}"
    body["senderData"]["chatId"] = f"4477{agency:03d}{chat:05d}@c.us"
    body["senderData"]["sender"] = body["senderData"]["chatId"]
    return body


async def _post_all(base: str, bodies: list[tuple[str, dict[str, Any]]]) -> list[datetime]:
    """Post every webhook over `POSTERS` connections; the moment each one was accepted. A 503
    is posted again after a second, as Green API redelivers what was not accepted.

    At most `POSTERS` requests are in the client at once: httpcore's pool scans its queue of
    waiting requests on every assignment, so 10,000 queued at once made the poster, not the
    service, the bottleneck (most of its CPU in `_assign_requests_to_connections`)."""
    limits = httpx.Limits(max_connections=POSTERS, max_keepalive_connections=POSTERS)
    posters = asyncio.Semaphore(POSTERS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def post(instance: str, body: dict[str, Any]) -> datetime:
            async with posters:
                return await _deliver(client, instance, body)

        return list(await asyncio.gather(*(post(instance, body) for instance, body in bodies)))


async def _deliver(client: httpx.AsyncClient, instance: str, body: dict[str, Any]) -> datetime:
    """One webhook until it is accepted; the moment it was."""
    headers = {"Authorization": f"Bearer bench-webhook-token-{instance}"}
    while True:
        try:
            answer = await client.post("/webhooks/green-api", json=body, headers=headers)
        except httpx.TransportError:
            # A kept-alive connection the server closed as it was reused: no answer, so it is
            # delivered again, as Green API does (the dedup keeps it once).
            REDELIVERED[0] += 1
            continue
        if answer.status_code != 503:
            break
        REDELIVERED[0] += 1
        await asyncio.sleep(1.0)
    assert answer.status_code == 200, answer.text
    return datetime.now(UTC)


async def _sent_at(settings: Settings, account_ids: list[Any]) -> dict[Any, list[datetime]]:
    """When each account's replies were accepted by its fake Green API."""
    db = build_database(settings)
    async with db.session_scope() as session:
        rows = await session.execute(
            select(Message.account_id, Message.sent_at).where(
                Message.account_id.in_(account_ids),
                Message.direction == Direction.OUT,
                Message.sent_at.is_not(None),
            )
        )
        found: dict[Any, list[datetime]] = {account: [] for account in account_ids}
        for account_id, sent_at in rows:
            found[account_id].append(sent_at.replace(tzinfo=UTC))
    await db.dispose()
    return found


async def _set_aside(settings: Settings) -> None:
    """What a scenario left unanswered must not load the next one: its conversations go to the
    agent, its unsent rows are cancelled and its jobs dropped."""
    db = build_database(settings)
    async with db.session_scope() as session:
        await session.execute(update(Conversation).values(mode=Mode.HUMAN))
        await session.execute(
            update(Message)
            .where(Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
            .values(status=MessageStatus.CANCELLED)
        )
        if not db.is_sqlite:
            await session.execute(text("TRUNCATE procrastinate_jobs CASCADE"))
    await db.dispose()


async def start_service(
    processes: Processes, anthropic_url: str, env: dict[str, str], *, workers: int
) -> str:
    """`serve` alone (jobs in-process), or `serve` for the web and `workers` worker processes,
    all talking to the fake model; the web's base URL."""
    llm = {
        "LLM_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "bench-key",
        "ANTHROPIC_BASE_URL": anthropic_url,
        "LLM_MAX_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
        # The debounce is a wait the agent chooses (3 s by default), not a wait in line: off,
        # so the figures show the queueing alone. With it, each reply comes that much later.
        "REPLY_DEBOUNCE_SECONDS": "0",
    }
    if not workers:
        return (await processes.serve(**llm, **env))[1]
    _, base = await processes.serve(**llm, **env, WORKER_IN_PROCESS="false")
    await processes.workers(workers, **llm, **env)
    return base


def _cpu_seconds(processes: Processes) -> float:
    """User plus system CPU of the service's processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in processes.started:
        try:
            fields = Path(f"/proc/{process.popen.pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


async def _scenario(
    settings: Settings,
    sizes: list[int],
    env: dict[str, str],
    *,
    workers: int = 0,
    single_after: bool = False,
) -> dict[str, object]:
    """Every agency's customers write at once (or, with `single_after`, agency 0's burst first,
    then agency 1's one customer); each reply's wait from its own webhook."""
    instances = [str(next(_INSTANCES)) for _ in sizes]
    REDELIVERED[0] = 0
    payload: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    with fake_services(instances) as urls, tempfile.TemporaryDirectory() as folder:
        account_ids = await _agencies(settings, instances, urls["green_api"])
        processes = Processes(settings.database.url, Path(folder))
        try:
            base = await start_service(processes, urls["anthropic"], env, workers=workers)
            cpu_before = _cpu_seconds(processes)
            bodies = [
                [(instances[a], _webhook(payload, instances[a], a, c)) for c in range(size)]
                for a, size in enumerate(sizes)
            ]
            if single_after:
                posted = await _post_all(base, bodies[0])
                posted += await _post_all(base, bodies[1])
            else:
                posted = await _post_all(base, [body for agency in bodies for body in agency])
            started = min(posted)
            watched = [1] if single_after else list(range(len(sizes)))
            want = sum(sizes[a] for a in watched)
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                sent = await _sent_at(settings, [account_ids[a] for a in watched])
                if sum(len(times) for times in sent.values()) >= want:
                    break
                await asyncio.sleep(0.5)
            cpu = _cpu_seconds(processes) - cpu_before
        finally:
            for process in processes.started:
                process.stop()
    sent = await _sent_at(settings, account_ids)
    await _set_aside(settings)
    if single_after:
        lone = sent[account_ids[1]]
        wait = (min(lone) - posted[-1]).total_seconds() if lone else None
        return {
            "burst": sizes[0],
            "burst_answered": len(sent[account_ids[0]]),
            "single_reply_s": round(wait, 2) if wait is not None else None,
            "limit_s": CALLS * SECONDS + 1.0,
            "webhooks_answered_503": REDELIVERED[0],
        }
    waits = sorted(
        (when - started).total_seconds() for account in account_ids for when in sent[account]
    )
    limit = CALLS * SECONDS + 1.0
    return {
        "customers": sum(sizes),
        "answered": len(waits),
        "share_within_limit": round(sum(w <= limit for w in waits) / sum(sizes), 3),
        "limit_s": limit,
        "first_s": round(waits[0], 2) if waits else None,
        "p50_s": round(percentile(waits, 0.5), 2) if waits else None,
        "p99_s": round(percentile(waits, 0.99), 2) if waits else None,
        "posting_s": round((max(posted) - started).total_seconds(), 2),
        "webhooks_answered_503": REDELIVERED[0],
        "service_cpu_ms_per_reply": round(cpu * 1000 / len(waits), 1) if waits else None,
    }


async def run(settings: Settings, n: int) -> dict[str, object]:
    sizes = [PER_AGENCY] * max(1, n // PER_AGENCY)
    result: dict[str, object] = {"model_seconds_per_call": SECONDS, "calls_per_reply": CALLS}
    if n > LARGE:
        # Thousands of customers: the set-ups that carry them, without the 10-slot baseline.
        name = "defaults" if settings.is_sqlite else "web_and_two_workers"
        result[name] = await _scenario(settings, sizes, {}, workers=0 if settings.is_sqlite else 2)
        return result
    result["ten_reply_slots"] = await _scenario(settings, sizes, {"WORKER_CONCURRENCY_REPLY": "10"})
    result["defaults"] = await _scenario(settings, sizes, {})
    if not settings.is_sqlite:
        result["web_and_two_workers"] = await _scenario(settings, sizes, {}, workers=2)
    # Baseline of the same run: no cap on an account's running replies.
    uncapped = {"WORKER_REPLIES_PER_ACCOUNT": "10000"}
    result["single_beside_burst_of_500_uncapped"] = await _scenario(
        settings, [BURST, 1], uncapped, single_after=True
    )
    result["single_beside_burst_of_500"] = await _scenario(
        settings, [BURST, 1], {}, single_after=True
    )
    return result


if __name__ == "__main__":
    # The default 200 in reply_burst.json; any other N beside it, in reply_burst_<N>.json.
    given = sys.argv[1] if len(sys.argv) > 1 and int(sys.argv[1]) != DEFAULT else None
    main(f"reply_burst_{given}" if given else "reply_burst", run, default_n=DEFAULT)
