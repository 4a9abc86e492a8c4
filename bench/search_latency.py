"""Benchmark: listing search over 100,000 listings of one account, in SQL.

Runs on SQLite in a temp folder and, when the server answers, on a fresh PostgreSQL database
(TEST_POSTGRES_URL, default the test server's), dropped at the end. The listings go in by bulk
insert with their folded search columns (properties/models.py search_texts, what the mapper
events write on every ORM insert). Each search is the service call the API, the pages and the
assistant make, in its own short session, timed as p50/p99; the baseline is a primary-key
lookup of one listing in the same run.
Usage: .venv/bin/python bench/search_latency.py [N]
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import main, summary

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.app import build_database
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties import service as properties
from whatsapp_assistant.properties.models import Property, search_texts
from whatsapp_assistant.properties.schemas import PropertyFilters, PropertyListQuery

ROUNDS = 100
WARMUP = 5
BATCH = 5_000
CITIES = {
    "Lisboa": ["Graça", "Alfama", "Campo de Ourique", "Estrela", "Parque das Nações", "Benfica"],
    "Porto": ["Ribeira", "Foz do Douro", "Boavista", "Bonfim", "Cedofeita"],
    "Sintra": ["São Pedro", "Colares", "Santa Maria"],
    "Cascais": ["Estoril", "Carcavelos", "Parede"],
    "Faro": ["Sé", "Montenegro"],
}
PLACES = [(city, hood) for city, hoods in CITIES.items() for hood in hoods]
KINDS = ["apartment", "house", "studio", "villa"]
WORDS = ["terraço", "varanda", "garagem", "piscina", "jardim", "lareira", "elevador", "arrecadação"]


def row(account_id: uuid.UUID, i: int, now: object) -> dict[str, object]:
    city, hood = PLACES[i % len(PLACES)]
    rent = i % 4 == 3
    kind = KINDS[i % len(KINDS)]
    features = [WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]]
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "reference": f"REF-{i:06d}",
        "title": f"{kind.title()} T{i % 5} em {hood}, {city}",
        "listing_type": "rent" if rent else "sale",
        "property_type": kind,
        "price": Decimal(600 + i % 3000) if rent else Decimal(90_000 + (i * 37) % 1_500_000),
        "currency": "EUR",
        "city": city,
        "neighborhood": hood,
        "address": f"Rua {i % 900} n.º {i % 200}",
        "bedrooms": i % 5,
        "bathrooms": i % 3 + 1,
        "area_sqm": Decimal(30 + i % 300),
        "description": "Luminoso, renovado, perto do metro e do rio. " * (1 + i % 4),
        "features": features,
        "status": "sold" if i % 10 == 9 else "available",
        "url": None,
        "created_at": now,
        "updated_at": now,
    }
    return values | search_texts(
        reference=str(values["reference"]),
        title=str(values["title"]),
        city=city,
        neighborhood=hood,
        address=str(values["address"]),
        description=str(values["description"]),
        features=features,
    )


async def seed(db: Database, n: int) -> tuple[uuid.UUID, uuid.UUID]:
    async with db.session_scope() as session:
        account = Account(name="Bench agency")
        session.add(account)
        await session.flush()
        account_id = account.id
    now = utcnow()
    first: uuid.UUID | None = None
    for start in range(0, n, BATCH):
        rows = [row(account_id, i, now) for i in range(start, min(n, start + BATCH))]
        first = first or uuid.UUID(str(rows[0]["id"]))
        async with db.session_scope() as session:
            await session.execute(insert(Property), rows)
    assert first is not None
    if not db.is_sqlite:
        # Committed: statistics written by ANALYZE inside a transaction that rolls back are lost,
        # and the planner then guesses from none.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE properties")
    return account_id, first


async def timed(call: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(WARMUP):
        await call()
    seconds = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - t0)
    return summary(seconds)


async def run(settings: Settings, n: int) -> dict[str, object]:
    db = build_database(settings)
    t0 = time.perf_counter()
    account_id, some_id = await seed(db, n)
    seeded = round(time.perf_counter() - t0, 1)

    async def page(filters: PropertyFilters, query: str = "") -> None:
        async with db.session_scope() as session:
            await properties.list_properties_matching(session, account_id, filters, query)

    async def assistant(filters: PropertyFilters) -> None:
        async with db.session_scope() as session:
            await properties.search_properties(session, account_id, filters)

    async def lookup() -> None:
        async with db.session_scope() as session:
            await properties.get_property(session, account_id, some_id)

    searches: dict[str, Callable[[], Awaitable[object]]] = {
        "pk_lookup_baseline": lookup,
        "assistant_place": lambda: assistant(PropertyFilters(location="graca")),
        "assistant_place_price_bedrooms": lambda: assistant(
            PropertyFilters(location="Campo de Ourique", max_price=400_000, min_bedrooms=2)
        ),
        "assistant_places_repeated": lambda: assistant(
            PropertyFilters(location=["Estoril", "Carcavelos", "Parede"])
        ),
        "assistant_free_text": lambda: assistant(PropertyFilters(text="piscina lareira")),
        "api_page_place_with_total": lambda: page(PropertyListQuery(location="Ribeira")),
        "listings_page_query_with_total": lambda: page(PropertyListQuery(limit=20), "sé garagem"),
        "listings_page_rare_reference": lambda: page(PropertyListQuery(limit=20), "REF-099999"),
        # Shorter than a trigram, matching nothing: no index can help, every row is read.
        "listings_page_two_letter_word": lambda: page(PropertyListQuery(limit=20), "t9"),
    }
    figures: dict[str, object] = {"listings": n, "seed_seconds": seeded}
    base = await timed(lookup)
    figures["pk_lookup_baseline"] = base
    for name, call in searches.items():
        if name == "pk_lookup_baseline":
            continue
        result = await timed(call)
        figures[name] = result | {"p99_vs_baseline": round(result["p99_ms"] / base["p99_ms"], 1)}
    await db.dispose()
    return figures


if __name__ == "__main__":
    main("search_latency", run, default_n=100_000)
