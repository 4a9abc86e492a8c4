"""Benchmark: webhook ingest of Green API photo notifications against text ones, in one run.

Runs the real application (offline AI, replies held back by a long debounce so only ingest and
downloads run) against the loopback fake Green API, whose downloadUrl serves a 2 MB JPEG for
every photo. N text and N photo webhooks in alternating blocks of BLOCK, each block posted by
CONCURRENCY clients at once, twice: with the media queue left to another process (the
webhook's own cost), and with the downloads running as jobs in this process meanwhile
(docs/decisions.md, 31). Prints
requests per second, p50 and p99 of each, the photo/text ratios, and how long the downloads
took to finish after the last photo was taken.
Usage: BENCH_DATABASES=sqlite .venv/bin/python bench/media_ingest.py [N]
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary
from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database, create_app
from whatsapp_assistant.config import MediaSettings, ReplySettings, Settings
from whatsapp_assistant.conversations.models import Message

FIXTURE = ROOT / "tests" / "fixtures" / "greenapi" / "incoming_text.json"
PHOTO_BYTES = 2 * 1024 * 1024
CONCURRENCY = 8
BLOCK = 20
WEBHOOK_TOKEN = "bench-webhook-token-0001"  # noqa: S105 - a throwaway scratch channel


def text_payload(index: int, phase: str = "A") -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    payload["idMessage"] = f"3EB0TEXT{phase}{index:011d}"
    payload["senderData"]["chatId"] = payload["senderData"]["sender"] = f"4477008{index:05d}@c.us"
    return payload


def photo_payload(index: int, fake: FakeGreenAPI, photo: bytes, phase: str) -> dict[str, Any]:
    payload = copy.deepcopy(text_payload(index))
    payload["idMessage"] = f"3EB0FOTO{phase}{index:011d}"
    chat = f"4477009{index:05d}@c.us"
    payload["senderData"]["chatId"] = payload["senderData"]["sender"] = chat
    url = fake.add_file(photo, "image/jpeg", chat_id=chat, message_id=payload["idMessage"])
    payload["messageData"] = {
        "typeMessage": "imageMessage",
        "fileMessageData": {
            "downloadUrl": url,
            "caption": "Is it this building?",
            "fileName": f"{index}.jpg",
            "mimeType": "image/jpeg",
        },
    }
    return payload


async def post_all(
    client: httpx.AsyncClient, payloads: list[dict[str, Any]]
) -> tuple[list[float], float]:
    """Post `payloads` by CONCURRENCY clients at once: each one's latency, and the wall time."""
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    latencies: list[float] = []
    waiting = asyncio.Queue[dict[str, Any]]()
    for payload in payloads:
        waiting.put_nowait(payload)

    async def poster() -> None:
        while not waiting.empty():
            payload = waiting.get_nowait()
            started = time.perf_counter()
            response = await client.post("/webhooks/green-api", json=payload, headers=headers)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - started


async def alternating(
    client: httpx.AsyncClient, texts: list[dict[str, Any]], photos: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Blocks of BLOCK texts and BLOCK photos in turn, so neither kind always goes first."""
    figures: dict[str, dict[str, Any]] = {}
    for kind, payloads in (("text", texts), ("image", photos)):
        figures[kind] = {"latencies": [], "seconds": 0.0, "requests": len(payloads)}
    for start in range(0, len(texts), BLOCK):
        for kind, payloads in (("text", texts), ("image", photos)):
            latencies, seconds = await post_all(client, payloads[start : start + BLOCK])
            figures[kind]["latencies"] += latencies
            figures[kind]["seconds"] += seconds
    return {
        kind: {
            "requests": found["requests"],
            "requests_per_second": round(found["requests"] / found["seconds"], 1),
        }
        | summary(found["latencies"])
        for kind, found in figures.items()
    }


async def stored_count(settings: Settings, phase: str) -> int:
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            stmt = select(Message.data).where(Message.provider_message_id.like(f"3EB0FOTO{phase}%"))
            rows = (await session.execute(stmt)).scalars().all()
    finally:
        await db.dispose()
    return sum(1 for data in rows if (data.get("media") or {}).get("status") == "stored")


async def phase(
    settings: Settings, fake: FakeGreenAPI, api_key: str, photo: bytes, n: int, name: str
) -> dict[str, Any]:
    """N texts, then N photos, through one app; with the media queue worked here, the time the
    downloads took to finish after the last photo was taken."""
    photos = [photo_payload(i, fake, photo, name) for i in range(n)]
    texts = [text_payload(i, name) for i in range(n)]
    app = create_app(settings)
    # Jobs still running when the phase ends (replies, downloads) may take longer than the
    # default 5 s to wind down with hundreds queued.
    async with LifespanManager(app, shutdown_timeout=120):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            if name == "A":
                connected = await client.post(
                    "/api/v1/channels",
                    headers={"Authorization": f"Bearer {api_key}"},
                    json={
                        "type": "green_api",
                        "id_instance": "1101823456",
                        "api_token": "bench-token",
                        "api_url": fake.base_url,
                        "webhook_token": WEBHOOK_TOKEN,
                    },
                )
                assert connected.status_code == 201, connected.text
            if name == "B" and not settings.is_sqlite:
                # PostgreSQL kept A's download jobs: they run here first, before any timing.
                while await stored_count(settings, "A") < n:
                    await asyncio.sleep(0.1)
            await post_all(client, [text_payload(n + i, name) for i in range(10)])  # warm
            measured = await alternating(client, texts, photos)
            text, image = measured["text"], measured["image"]
            result: dict[str, Any] = {
                "text": text,
                "image": image,
                "image_over_text_rps": round(
                    float(image["requests_per_second"]) / float(text["requests_per_second"]), 3
                ),
                "image_over_text_p50": round(float(image["p50_ms"]) / float(text["p50_ms"]), 2),
                "image_over_text_p99": round(float(image["p99_ms"]) / float(text["p99_ms"]), 2),
            }
            if "media" in settings.worker.queues:
                taken = time.perf_counter()
                while await stored_count(settings, name) < n:
                    await asyncio.sleep(0.1)
                result["downloads_finished_seconds_after_last_photo"] = round(
                    time.perf_counter() - taken, 2
                )
    return result


async def run(settings: Settings, n: int) -> dict[str, object]:
    folder = tempfile.mkdtemp(prefix="wa-bench-media-")
    settings = settings.model_copy(
        update={
            "media": MediaSettings(dir=Path(folder)),
            "reply": ReplySettings(debounce_seconds=120),
        }
    )
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name="Bench", email="bench@example.com", password="bench-pass")
        )
    await db.dispose()
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(PHOTO_BYTES - 11)
    elsewhere = settings.worker.model_copy(
        update={"queues": tuple(q for q in settings.worker.queues if q != "media")}
    )
    with run_fake_green_api(token="bench-token") as fake:
        # A: the downloads left to another process (this one does not work the media queue):
        # what the webhook itself costs. B: they run here, sharing the CPU with the webhooks.
        alone = await phase(
            settings.model_copy(update={"worker": elsewhere}), fake, created.api_key, photo, n, "A"
        )
        shared = await phase(settings, fake, created.api_key, photo, n, "B")
    return {
        "n": n,
        "concurrency": CONCURRENCY,
        "photo_bytes": PHOTO_BYTES,
        "downloads_in_another_process": alone,
        "downloads_in_this_process": shared,
    }


if __name__ == "__main__":
    main("media_ingest", run, default_n=100)
