"""Many customers at once, a model that takes SECONDS per call (two calls per reply: a search,
then the answer): how many are answered within the two calls plus one second, and how long
one agency's single customer waits while another agency's burst drafts.

Each scenario runs twice in the same run, on the same database: with the reply queue worked 10
at a time (what one shared 10-slot queue gave) as the baseline, and with the settings' defaults.

    python bench/reply_burst.py [N]      # N customers, spread over agencies of 50 each
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, percentile
from tests.conftest import lifespan
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api
from tests.fakes.llm_base import JSON, FakeResponse, _delayed
from tests.settings import tuned

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database, create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.states import MessageStatus, Mode
from whatsapp_assistant.properties.importer import import_csv
from whatsapp_assistant.properties.samples import sample_listings_text

SECONDS = 2.0  # per model call
CALLS = 2  # per reply
PER_AGENCY = 50
BURST = 500  # one agency's burst, beside another agency's single customer
DEADLINE = 60.0  # seconds: what is not answered by then counts as not answered in time
FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "greenapi" / "incoming_text.json"


def slow_model(fake: FakeAnthropic) -> None:
    def answer(body: JSON) -> FakeResponse:
        reply = fake.default_responder(body)
        response = fake.text_response(reply, body) if isinstance(reply, str) else reply
        return _delayed(response, SECONDS)

    fake.responder = answer


async def _agency(settings: Settings, index: int, green_api: FakeGreenAPI) -> tuple[str, str]:
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session,
            AccountCreate(
                name=f"Agency {index}",
                email=f"bench{green_api.id_instance}@example.com",
                password="bench-pass",
            ),
        )
        await import_csv(session, created.account_id, sample_listings_text())
    await db.dispose()
    return created.api_key, green_api.id_instance


_INSTANCES = itertools.count(1101800000)


@contextmanager
def _green_apis(count: int) -> Iterator[list[FakeGreenAPI]]:
    """One fake instance per agency, with ids no earlier burst of this run used."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(run_fake_green_api(str(next(_INSTANCES)), "bench-token"))
            for _ in range(count)
        ]


async def _burst(
    settings: Settings, sizes: list[int], *, until: int | None = None
) -> list[list[float]]:
    """Every agency's customers write at once; the seconds until each one's reply went out
    (all of them, or only until agency `until` is answered; at most DEADLINE seconds)."""
    payload: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    with _green_apis(len(sizes)) as green_apis:
        keys = [await _agency(settings, i, g) for i, g in enumerate(green_apis)]
        app = create_app(settings)
        async with lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for (api_key, instance), green_api in zip(keys, green_apis, strict=True):
                    connected = await client.post(
                        "/api/v1/channels",
                        headers={"Authorization": f"Bearer {api_key}"},
                        json={
                            "type": "green_api",
                            "id_instance": instance,
                            "api_token": "bench-token",
                            "api_url": green_api.base_url,
                            "webhook_token": f"bench-webhook-token-{instance}",
                        },
                    )
                    assert connected.status_code == 201, connected.text
                started = time.perf_counter()
                posts = []
                for agency, size in enumerate(sizes):
                    instance = keys[agency][1]
                    for chat in range(size):
                        body = json.loads(json.dumps(payload))
                        body["instanceData"]["idInstance"] = int(instance)
                        body["idMessage"] = f"3EB0{agency:04d}{chat:012d}"
                        body["senderData"]["chatId"] = f"4477{agency:03d}{chat:05d}@c.us"
                        body["senderData"]["sender"] = body["senderData"]["chatId"]
                        headers = {"Authorization": f"Bearer bench-webhook-token-{instance}"}
                        posts.append(client.post("/webhooks/green-api", json=body, headers=headers))
                answers = await asyncio.gather(*posts)
                assert all(answer.status_code == 200 for answer in answers)
                waits: list[list[float]] = [[] for _ in sizes]
                deadline = started + DEADLINE
                watched = range(len(sizes)) if until is None else [until]
                while any(len(green_apis[a].sent_messages) < sizes[a] for a in watched):
                    now = time.perf_counter()
                    for agency, green_api in enumerate(green_apis):
                        while len(waits[agency]) < len(green_api.sent_messages):
                            waits[agency].append(now - started)
                    if now > deadline:
                        break
                    await asyncio.sleep(0.02)
                now = time.perf_counter()
                for agency, green_api in enumerate(green_apis):
                    while len(waits[agency]) < len(green_api.sent_messages):
                        waits[agency].append(now - started)
    await _set_aside(settings)
    return waits


async def _set_aside(settings: Settings) -> None:
    """What a burst left unanswered must not load the next one: its conversations go to the
    agent and its unsent rows are cancelled (the next app's recovery would take them up)."""
    db = build_database(settings)
    async with db.session_scope() as session:
        await session.execute(update(Conversation).values(mode=Mode.HUMAN))
        await session.execute(
            update(Message)
            .where(Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
            .values(status=MessageStatus.CANCELLED)
        )
    await db.dispose()


def _share_within(waits: list[float], expected: int, limit: float) -> float:
    return round(sum(wait <= limit for wait in waits) / expected, 3)


async def _scenarios(settings: Settings, n: int) -> dict[str, object]:
    limit = CALLS * SECONDS + 1.0
    agencies = max(1, n // PER_AGENCY)
    sizes = [PER_AGENCY] * agencies
    everyone = await _burst(settings, sizes)
    flat = [wait for agency in everyone for wait in agency]
    single_beside_burst = await _burst(settings, [BURST, 1], until=1)
    lone = single_beside_burst[1]
    return {
        "customers": sum(sizes),
        "answered": len(flat),
        "share_within_limit": _share_within(flat, sum(sizes), limit),
        "limit_s": limit,
        "p50_s": round(percentile(flat, 0.5), 2) if flat else None,
        "p99_s": round(percentile(flat, 0.99), 2) if flat else None,
        "single_beside_burst_of_500_s": round(lone[0], 2) if lone else None,
    }


async def run(settings: Settings, n: int) -> dict[str, object]:
    with FakeAnthropic() as fake:
        slow_model(fake)
        claude = tuned(
            settings,
            llm_provider="anthropic",
            anthropic_api_key="bench-key",
            anthropic_base_url=fake.base_url,
            llm_max_retries=0,
            reply_debounce_seconds=0,
        )
        baseline = await _scenarios(tuned(claude, worker_concurrency_reply=10), n)
        now = await _scenarios(claude, n)
    return {"model_seconds_per_call": SECONDS, "ten_reply_slots": baseline, "defaults": now}


if __name__ == "__main__":
    main("reply_burst", run, default_n=200)
