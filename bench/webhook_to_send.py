"""Benchmark: webhook acknowledgement and webhook-to-sendMessage time with a zero-latency AI.

Runs the real application (SQLite in a temp folder, in-process jobs, offline AI, no debounce)
against the loopback fake Green API. The baseline is GET /healthz through the same client in the
same run, so the figures are reported as ratios as well as milliseconds.
Usage: .venv/bin/python bench/webhook_to_send.py [N]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary
from tests.fakes.green_api import run_fake_green_api

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database, create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.properties.importer import import_csv
from whatsapp_assistant.properties.samples import sample_listings_text

FIXTURE = ROOT / "tests" / "fixtures" / "greenapi" / "incoming_text.json"


async def prepare(settings: Settings) -> str:
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name="Bench", email="bench@example.com", password="bench-pass")
        )
        await import_csv(session, created.account_id, sample_listings_text())
    await db.dispose()
    return created.api_key


async def run(settings: Settings, n: int) -> dict[str, object]:
    api_key = await prepare(settings)
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    with run_fake_green_api(token="bench-token") as fake:
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.post(
                    "/api/v1/channels",
                    headers={"Authorization": f"Bearer {api_key}"},
                    json={
                        "type": "green_api",
                        "id_instance": "1101823456",
                        "api_token": "bench-token",
                        "api_url": fake.base_url,
                        "webhook_token": "bench-webhook-token-0001",
                    },
                )
                headers = {"Authorization": "Bearer bench-webhook-token-0001"}
                baseline, ack, end_to_end = [], [], []
                for i in range(n):
                    t0 = time.perf_counter()
                    await client.get("/healthz")
                    baseline.append(time.perf_counter() - t0)

                    payload["idMessage"] = f"3EB0BENCH{i:011d}"
                    payload["senderData"]["chatId"] = f"4477009{i:05d}@c.us"
                    before = len(fake.sent_messages)
                    t0 = time.perf_counter()
                    response = await client.post(
                        "/webhooks/green-api", json=payload, headers=headers
                    )
                    ack.append(time.perf_counter() - t0)
                    assert response.status_code == 200, response.text
                    while len(fake.sent_messages) <= before:
                        await asyncio.sleep(0.001)
                    end_to_end.append(time.perf_counter() - t0)

    base = statistics.median(baseline)
    return {
        "n": n,
        "baseline_healthz": summary(baseline),
        "webhook_ack": summary(ack),
        "webhook_to_send": summary(end_to_end),
        "ack_over_baseline": round(statistics.median(ack) / base, 1),
        "send_over_baseline": round(statistics.median(end_to_end) / base, 1),
    }


if __name__ == "__main__":
    main("webhook_to_send", run, default_n=100)
