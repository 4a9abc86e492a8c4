"""Benchmark: the agent's pages (inbox, its filters and search, a thread, listings, persona).

Runs the real application (jobs in-process, offline AI, no debounce) on SQLite in a temp folder
and, when the server answers, on a fresh PostgreSQL database (TEST_POSTGRES_URL, default the test
server's), dropped at the end. The data goes in through the real paths: 200 customers write
through the simulator API and the assistant answers each message (some ask for a person and are
escalated, some are taken over), one customer writes a ~30-message thread, the persona's try-it
chat has a few messages, and 100 listings are added through the properties service. A user then
signs in as a browser does (login form, CSRF field, session cookie) and each page is read in turn
with that cookie; the thread read marks the thread read, a write, as opening it does. The
baseline is GET /healthz through the same client in the same run. Besides p50/p99 and the ratio
to the baseline, each page reports its HTML size (what one live re-read of the page costs) and
the SQL statements one read of it runs.
Usage: .venv/bin/python bench/page_latency.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import and_, event, func, or_, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary
from tests.web.signin import sign_in

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.app import build_database, create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.simulator import SANDBOX_PHONE
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties import service as properties
from whatsapp_assistant.properties.schemas import PropertyCreate

EMAIL = "bench@example.com"
PASSWORD = "bench-pass"  # noqa: S105 - a throwaway bench credential

CONVERSATIONS = 200
LISTINGS = 100
THREAD_TURNS = 15  # customer + assistant: ~30 messages in the thread the bench opens
WARMUP = 5
SETTLE_SECONDS = 60  # the longest the seeding waits for the assistant to catch up
SEARCH_WORD = "dog"  # only the customers with i % 8 == 0 write it
HOODS = ["Alfama", "Graça", "Campo de Ourique", "Estrela", "Parque das Nações", "Benfica"]
KINDS = ["apartment", "house", "studio", "penthouse"]


def listing(i: int) -> PropertyCreate:
    rent = i % 4 == 3
    return PropertyCreate(
        reference=f"BENCH-{i:03d}",
        title=f"{KINDS[i % len(KINDS)].title()} T{i % 4 + 1} in {HOODS[i % len(HOODS)]} no. {i}",
        listing_type="rent" if rent else "sale",
        property_type=KINDS[i % len(KINDS)],
        price=Decimal(900 + 25 * i) if rent else Decimal(180_000 + 4_000 * i),
        city="Lisbon",
        neighborhood=HOODS[i % len(HOODS)],
        bedrooms=i % 4 + 1,
        bathrooms=i % 2 + 1,
        area_sqm=Decimal(40 + i),
        description="Bright rooms, renovated kitchen, close to the tram and the river.",
        features=["balcony", "lift"] if i % 2 else ["terrace"],
        status="under_offer" if i % 10 == 9 else "available",
    )


async def prepare(settings: Settings) -> str:
    db = build_database(settings)
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name="Bench", email=EMAIL, password=PASSWORD)
        )
        for i in range(LISTINGS):
            await properties.create_property(session, created.account_id, listing(i))
    await db.dispose()
    return created.api_key


def customer_text(i: int, turn: int) -> str:
    """Three turns: a search, a follow-up (a tenth ask for a person), a viewing."""
    hood = HOODS[i % len(HOODS)]
    if turn == 0:
        return f"Hello, I'm looking for a T{i % 4 + 1} in {hood}, what do you have?"
    if turn == 1 and i % 10 == 0:
        return "I want to talk to a real person please"
    if turn == 1:
        return "Is there a garden for my dog?" if i % 8 == 0 else "Is it close to a metro stop?"
    return "Thanks, could I visit on Saturday morning?"


async def settled(reader: Database) -> None:
    """Every customer message in an AI conversation is answered and nothing waits to be sent."""
    waiting_reply = select(func.count()).where(
        Conversation.mode == "ai",
        Conversation.last_inbound_at.is_not(None),
        or_(
            Conversation.answered_through.is_(None),
            Conversation.answered_through < Conversation.last_inbound_at,
        ),
    )
    waiting_send = select(func.count()).where(Message.status.in_(["queued", "sending"]))
    deadline = time.perf_counter() + SETTLE_SECONDS
    while time.perf_counter() < deadline:
        async with reader.session_scope() as session:
            replies = (await session.execute(waiting_reply)).scalar_one()
            sends = (await session.execute(waiting_send)).scalar_one()
        if replies == 0 and sends == 0:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{replies} replies and {sends} sends still pending after {SETTLE_SECONDS}s")


async def simulate(
    client: httpx.AsyncClient, auth: dict[str, str], phone: str, customer: str, text: str
) -> None:
    response = await client.post(
        "/api/v1/simulator/messages",
        headers=auth,
        json={"text": text, "customer": customer, "phone": phone},
    )
    assert response.status_code == 202, response.text


async def seed(client: httpx.AsyncClient, auth: dict[str, str], reader: Database) -> dict[str, Any]:
    """The conversations, through the simulator API; the assistant's replies through the jobs."""
    t0 = time.perf_counter()
    for turn in range(3):
        for i in range(CONVERSATIONS):
            phone = f"35191{i:07d}"
            await simulate(client, auth, phone, f"Customer {i:03d}", customer_text(i, turn))
        await settled(reader)
    long_phone = "351929999999"
    for turn in range(THREAD_TURNS):
        hood = HOODS[turn % len(HOODS)]
        text = f"And what about a T{turn % 4 + 1} in {hood}? What is the price?"
        await simulate(client, auth, long_phone, "Long Thread", text)
        await settled(reader)
    for text in ("Hello!", "Do you have a T2 in Alfama?", "Thanks"):
        await simulate(client, auth, SANDBOX_PHONE, "You (try it)", text)
        await settled(reader)

    by_chat: dict[str, str] = {}
    for offset in (0, 200):  # 201 customer conversations, 200 at most per page
        listed = await client.get(
            "/api/v1/conversations", headers=auth, params={"limit": 200, "offset": offset}
        )
        by_chat |= {row["contact"]["chat_id"]: row["id"] for row in listed.json()}
    for i in range(5, CONVERSATIONS, 10):  # a tenth more taken over by the agent
        conversation_id = by_chat[f"35191{i:07d}@c.us"]
        taken = await client.post(
            f"/api/v1/conversations/{conversation_id}/mode", headers=auth, json={"mode": "human"}
        )
        assert taken.status_code == 200, taken.text
    await settled(reader)

    async with reader.session_scope() as session:
        counted = (
            await session.execute(
                select(
                    func.count(Conversation.id),
                    func.count(Conversation.id).filter(Conversation.escalated.is_(True)),
                    func.count(Conversation.id).filter(
                        and_(Conversation.mode == "human", Conversation.escalated.is_(False))
                    ),
                )
            )
        ).one()
        messages = (await session.execute(select(func.count(Message.id)))).scalar_one()
        thread_id = by_chat[f"{long_phone}@c.us"]
        in_thread = (
            await session.execute(
                select(func.count(Message.id)).where(
                    Message.conversation_id == uuid.UUID(thread_id)
                )
            )
        ).scalar_one()
    return {
        "conversations": counted[0],
        "escalated": counted[1],
        "taken_over": counted[2],
        "messages": messages,
        "thread_messages": in_thread,
        "listings": LISTINGS,
        "thread_id": thread_id,
        "seconds": round(time.perf_counter() - t0, 1),
    }


class StatementCounter:
    """SQL statements the app's engine runs (the job queue's own connection is not counted)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def get_page(client: httpx.AsyncClient, path: str) -> httpx.Response:
    response = await client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response


async def run(settings: Settings, n: int) -> dict[str, object]:
    api_key = await prepare(settings)
    auth = {"Authorization": f"Bearer {api_key}"}
    reader = build_database(settings)  # a connection of its own, as another process would have
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            data = await seed(client, auth, reader)
            await sign_in(client, EMAIL, PASSWORD)
            pages = {
                "inbox": "/inbox",
                "inbox_needs_me": "/inbox?view=needs-me",
                "inbox_search": f"/inbox?q={SEARCH_WORD}",
                "thread": f"/inbox/{data.pop('thread_id')}",
                "listings": "/listings",
                "persona": "/persona",
            }
            for _ in range(WARMUP):
                await client.get("/healthz")
                for path in pages.values():
                    await get_page(client, path)
            baseline: list[float] = []
            timings: dict[str, list[float]] = {name: [] for name in pages}
            for _ in range(n):
                t0 = time.perf_counter()
                await client.get("/healthz")
                baseline.append(time.perf_counter() - t0)
                for name, path in pages.items():
                    t0 = time.perf_counter()
                    await get_page(client, path)
                    timings[name].append(time.perf_counter() - t0)

            counter = StatementCounter(app.state.app_state.db)
            shape: dict[str, dict[str, float | int]] = {}
            for name, path in pages.items():
                counts, body = [], b""
                for _ in range(3):  # the fewest of three: a periodic job may run in between
                    before = counter.count
                    body = (await get_page(client, path)).content
                    counts.append(counter.count - before)
                shape[name] = {"html_kb": round(len(body) / 1024, 1), "sql_statements": min(counts)}
                if name.startswith("inbox"):
                    shape[name]["rows"] = body.count(b"data-conversation=")
    await reader.dispose()

    base = statistics.median(baseline)
    result: dict[str, object] = {"n": n, "data": data, "baseline_healthz": summary(baseline)}
    for name, values in timings.items():
        result[name] = {"path": pages[name], **summary(values), **shape[name]}
    for name, values in timings.items():
        result[f"{name}_over_baseline"] = round(statistics.median(values) / base, 1)
    return result


if __name__ == "__main__":
    main("page_latency", run, default_n=100)
