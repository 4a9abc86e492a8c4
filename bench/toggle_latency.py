"""Benchmark: how long from POST /conversations/{id}/mode until the mode is committed.

Runs the real application (jobs in-process, offline AI) on SQLite in a temp folder and, when the
server answers, on a fresh PostgreSQL database (TEST_POSTGRES_URL, default the test server's),
dropped at the end. Each toggle alternates takeover and hand-back; after the call returns, the
mode is read back through a separate connection, as another process would see it. The baseline
is GET /healthz through the same client in the same run.
Usage: .venv/bin/python bench/toggle_latency.py [N]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary
from tests.fakes.green_api import run_fake_green_api

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database, create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.db.session import Database

FIXTURE = ROOT / "tests" / "fixtures" / "greenapi" / "incoming_text.json"
WEBHOOK_TOKEN = "bench-webhook-token-0001"  # noqa: S105 - a throwaway bench credential


async def prepare(settings: Settings) -> str:
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name="Bench", email="bench@example.com", password="bench-pass")
        )
    await db.dispose()
    return created.api_key


async def committed_mode(db: Database, conversation_id: uuid.UUID) -> str:
    async with db.session_scope() as session:
        mode = (
            await session.execute(
                select(Conversation.mode).where(Conversation.id == conversation_id)
            )
        ).scalar_one()
        return str(mode)


async def open_conversation(client: httpx.AsyncClient, auth: dict[str, str], fake_url: str) -> str:
    """A channel and one answered customer message: the conversation the toggles switch."""
    channel = await client.post(
        "/api/v1/channels",
        headers=auth,
        json={
            "type": "green_api",
            "id_instance": "1101823456",
            "api_token": "bench-token",
            "api_url": fake_url,
            "webhook_token": WEBHOOK_TOKEN,
        },
    )
    assert channel.status_code == 201, channel.text
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    hook = await client.post(
        "/webhooks/green-api", json=payload, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    assert hook.status_code == 200, hook.text
    [conversation] = (await client.get("/api/v1/conversations", headers=auth)).json()
    conversation_id: str = conversation["id"]
    return conversation_id


async def run(settings: Settings, n: int) -> dict[str, object]:
    api_key = await prepare(settings)
    auth = {"Authorization": f"Bearer {api_key}"}
    reader = build_database(settings)  # a connection of its own, as another process would have
    with run_fake_green_api(token="bench-token") as fake:
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                conversation_id = await open_conversation(client, auth, fake.base_url)
                while not fake.sent_messages:  # the AI's reply is out: nothing runs behind us
                    await asyncio.sleep(0.01)
                baseline: list[float] = []
                call: list[float] = []
                committed: dict[str, list[float]] = {"human": [], "ai": []}
                for i in range(n):
                    t0 = time.perf_counter()
                    await client.get("/healthz")
                    baseline.append(time.perf_counter() - t0)

                    mode = "human" if i % 2 == 0 else "ai"
                    t0 = time.perf_counter()
                    response = await client.post(
                        f"/api/v1/conversations/{conversation_id}/mode",
                        headers=auth,
                        json={"mode": mode},
                    )
                    call.append(time.perf_counter() - t0)
                    assert response.status_code == 200, response.text
                    seen = await committed_mode(reader, uuid.UUID(conversation_id))
                    committed[mode].append(time.perf_counter() - t0)
                    assert seen == mode, f"toggle {i}: read {seen!r} after setting {mode!r}"
    await reader.dispose()

    base = statistics.median(baseline)
    both = committed["human"] + committed["ai"]
    return {
        "n": n,
        "baseline_healthz": summary(baseline),
        "toggle_call": summary(call),
        "toggle_to_committed": summary(both),
        "takeover_to_committed": summary(committed["human"]),
        "hand_back_to_committed": summary(committed["ai"]),
        "call_over_baseline": round(statistics.median(call) / base, 1),
        "committed_over_baseline": round(statistics.median(both) / base, 1),
    }


if __name__ == "__main__":
    main("toggle_latency", run, default_n=200)
