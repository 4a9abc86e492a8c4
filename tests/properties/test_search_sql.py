"""Listing search in SQL: one table of searches gives the same listings on SQLite and PostgreSQL
(the suite runs once on each), in a bounded number of statements, on columns kept folded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.builders import create_account, create_property
from tests.conftest import TEST_DATABASE_URL
from tests.scratch_db import scratch_postgres_database
from whatsapp_assistant.db.migrate import alembic_config
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties import importer, service
from whatsapp_assistant.properties.schemas import PropertyFilters, PropertyUpdate


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session_scope() as session:
        yield session


@pytest.fixture
async def account_id(session: AsyncSession) -> uuid.UUID:
    return (await create_account(session)).id


PORTFOLIO: dict[str, dict[str, Any]] = {
    "graca": {"reference": "LX-101"},
    "ourique": {
        "reference": "LX-102",
        "title": "Quiet T2 in Campo de Ourique",
        "price": Decimal(398000),
        "neighborhood": "Campo de Ourique",
        "address": "Rua Ferreira Borges 12",
        "description": "Calm flat near the market, with a balcony. 100% renovated.",
        "features": ["lift", "Varanda ampla"],
    },
    "triana": {
        "reference": "SEV_7",
        "title": "Ático en Triana",
        "listing_type": "rent",
        "price": Decimal(1450),
        "city": "Sevilla",
        "neighborhood": "Triana",
        "bedrooms": 1,
        "description": "Piso luminoso junto al río, cerca de la Giralda.",
        "features": ["amueblado", "aire acondicionado"],
    },
    "sintra": {
        "title": "Family house with garden in Sintra",
        "property_type": "house",
        "price": Decimal(685000),
        "city": "Sintra",
        "neighborhood": None,
        "address": "Estrada da Pena",
        "bedrooms": 4,
        "description": "Detached house with a fireplace.",
        "features": ["garden"],
    },
    "sold": {
        "reference": "LX-103",
        "title": "T1 in Alfama with river view",
        "price": Decimal(289000),
        "neighborhood": "Alfama",
        "bedrooms": 1,
        "status": "sold",
    },
}

# (filters, the one search box's words, the listings found in price order)
SEARCHES: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"location": "Graca"}, "", ["graca"]),
    ({"location": "GRAÇA"}, "", ["graca"]),
    ({"location": "Ourique"}, "", ["ourique"]),
    ({"location": "campo de ourique"}, "", ["ourique"]),
    ({"location": "Ana"}, "", ["triana"]),  # a word inside a word, as a substring
    ({"location": "lisbon graca"}, "", ["graca"]),  # the city and neighbourhood joined
    ({"location": "Lisboa"}, "", []),  # no aliases in the service
    ({"location": ["Sintra", "Triana"]}, "", ["triana", "sintra"]),
    ({"location": ["Pena", "Nowhere"]}, "", ["sintra"]),  # the address counts
    ({"location": "ferreira borges"}, "", ["ourique"]),
    ({"location": "LX-101"}, "", []),  # a reference is not a place
    ({"text": "RIO giralda"}, "", ["triana"]),
    ({"text": "terrace river"}, "", ["graca"]),
    ({"text": "terrace garden"}, "", []),  # every word must appear
    ({"text": "varanda"}, "", ["ourique"]),  # features count
    ({"text": "Graça"}, "", ["graca"]),  # the title counts
    ({"text": "Ourique"}, "", ["ourique"]),
    ({"text": "Alfama"}, "", []),  # the sold listing is not offered by default
    ({"text": "100%"}, "", ["ourique"]),  # LIKE wildcards are plain characters
    ({"text": "%"}, "", ["ourique"]),
    ({"text": "_"}, "", []),
    ({"location": "sev_7"}, "", []),
    ({"text": "Lisbon"}, "", []),  # the city is not in the text
    ({"location": "Lisbon", "min_price": 380000, "min_bedrooms": 2}, "", ["ourique"]),
    ({"location": "Lisbon", "max_price": 380000, "min_bedrooms": 2}, "", ["graca"]),
    ({"status": "any", "location": "alfama"}, "", ["sold"]),
    ({"listing_type": "rent", "location": "triana"}, "", ["triana"]),
    ({}, "lx-102", ["ourique"]),
    ({}, "sev_7 giralda", ["triana"]),
    ({}, "lisbon terrace", ["graca"]),  # each word anywhere: the city and the text
    ({}, "garden pena", ["sintra"]),
    ({}, "fireplace lx", []),
    ({}, "  ", ["triana", "graca", "ourique", "sintra"]),
    ({"status": "any"}, "LX", ["sold", "graca", "ourique"]),
    ({"location": "Sintra"}, "lx", []),
]


@pytest.fixture
async def listings(session: AsyncSession, account_id: uuid.UUID) -> dict[uuid.UUID, str]:
    created = {}
    for key, values in PORTFOLIO.items():
        created[(await create_property(session, account_id, **values)).id] = key
    # Another account's identical listings never show.
    other = (await create_account(session, name="Outra")).id
    for values in PORTFOLIO.values():
        await create_property(session, other, **(values | {"reference": None}))
    return created


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


class TestSearchParity:
    @pytest.mark.parametrize(("filters", "query", "expected"), SEARCHES)
    async def test_the_table_of_searches_finds_the_expected_listings(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        listings: dict[uuid.UUID, str],
        filters: dict[str, Any],
        query: str,
        expected: list[str],
    ) -> None:
        chosen = PropertyFilters.model_validate({"limit": 100, **filters})
        page = await service.list_properties_matching(session, account_id, chosen, query)
        assert [listings[item.id] for item in page.items] == expected
        assert page.total == len(expected)
        if not query:
            found = await service.search_properties(session, account_id, chosen)
            assert [listings[prop.id] for prop in found] == expected


class TestSearchStatements:
    async def test_a_full_page_is_one_query_and_one_count(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        filters = PropertyFilters(status="any", limit=2, offset=1)
        with statements(db) as seen:
            page = await service.list_properties_matching(session, account_id, filters, "lx")
        assert (len(page.items), page.total) == (2, 3)
        assert len(seen) == 2
        assert "count(" in seen[1].lower()

    async def test_a_page_that_holds_every_match_needs_no_count(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        with statements(db) as seen:
            page = await service.list_properties(session, account_id, PropertyFilters(limit=50))
        assert (len(page.items), page.total) == (4, 4)
        assert len(seen) == 1

    async def test_an_assistant_search_is_one_query(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        with statements(db) as seen:
            await service.search_properties(session, account_id, PropertyFilters(location="x"))
        assert len(seen) == 1

    async def test_whether_an_account_has_listings_is_one_exists(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        empty = (await create_account(session, name="Vazia")).id
        with statements(db) as seen:
            assert await service.has_properties(session, account_id)
            assert not await service.has_properties(session, empty)
        assert len(seen) == 2
        assert all("exists" in sql.lower() for sql in seen)


class TestSearchColumnsStayFolded:
    async def test_an_update_moves_the_listing_to_its_new_place(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[uuid.UUID, str]
    ) -> None:
        graca = next(key for key, name in listings.items() if name == "graca")
        change = PropertyUpdate(neighborhood="Príncipe Real", description="Jardim à porta.")
        await service.update_property(session, account_id, graca, change)
        moved = await service.search_properties(
            session, account_id, PropertyFilters(location="principe real", text="JARDIM")
        )
        assert [prop.id for prop in moved] == [graca]
        gone = await service.search_properties(session, account_id, PropertyFilters(text="bright"))
        assert graca not in [prop.id for prop in gone]

    async def test_an_import_finds_new_and_updated_rows_by_their_folded_text(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[uuid.UUID, str]
    ) -> None:
        csv = (
            "reference,title,listing_type,property_type,price,city,neighbourhood\n"
            "LX-101,T2 na Graça renovado,sale,apartment,380000,Lisboa,São Vicente\n"
            "LX-900,Moradia em Óbidos,sale,house,450000,Óbidos,\n"
        )
        report = await importer.import_csv(session, account_id, csv)
        assert (report.created, report.updated) == (1, 1)
        for place, title in [
            ("sao vicente", "T2 na Graça renovado"),
            ("OBIDOS", "Moradia em Óbidos"),
        ]:
            found = await service.search_properties(
                session, account_id, PropertyFilters(location=place)
            )
            assert [prop.title for prop in found] == [title]


def _migrated_to_0012(url: str) -> None:
    command.upgrade(alembic_config(url), "0012")


async def _insert_old_listing(url: str) -> uuid.UUID:
    engine = create_async_engine(url)
    now = datetime.now(UTC)
    account_id, property_id = uuid.uuid4(), uuid.uuid4()
    accounts = sa.table("accounts", sa.column("id", sa.Uuid()), sa.column("name", sa.String()))
    accounts.append_column(sa.column("created_at", sa.DateTime(timezone=True)))
    accounts.append_column(sa.column("updated_at", sa.DateTime(timezone=True)))
    columns = ["id", "account_id", "title", "listing_type", "property_type", "price", "currency"]
    columns += ["city", "neighborhood", "description", "features", "status"]
    columns += ["created_at", "updated_at"]
    typed = {"id": sa.Uuid(), "account_id": sa.Uuid(), "features": sa.JSON(), "price": sa.Numeric()}
    typed |= {"created_at": sa.DateTime(timezone=True), "updated_at": sa.DateTime(timezone=True)}
    props = sa.table("properties", *(sa.column(name, typed.get(name)) for name in columns))
    async with engine.begin() as conn:
        await conn.execute(
            accounts.insert().values(id=account_id, name="Old", created_at=now, updated_at=now)
        )
        await conn.execute(
            props.insert().values(
                id=property_id,
                account_id=account_id,
                title="Casa na Graça",
                listing_type="sale",
                property_type="house",
                price=Decimal(1),
                currency="EUR",
                city="Lisboa",
                neighborhood="São Vicente",
                description="Açoteia.",
                features=["Pátio"],
                status="available",
                created_at=now,
                updated_at=now,
            )
        )
    await engine.dispose()
    return property_id


async def _search_columns(url: str, property_id: uuid.UUID) -> tuple[str, str, str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT place_text, body_text, reference_text FROM properties")
            )
        ).one()
    await engine.dispose()
    return (row[0], row[1], row[2])


@contextmanager
def _fresh_database(tmp_path: Path) -> Iterator[str]:
    if TEST_DATABASE_URL.startswith("postgresql"):
        with scratch_postgres_database(TEST_DATABASE_URL) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path}/old.db"


def test_the_migration_folds_the_listings_already_stored(tmp_path: Path) -> None:
    with _fresh_database(tmp_path) as url:
        _migrated_to_0012(url)
        property_id = asyncio.run(_insert_old_listing(url))
        command.upgrade(alembic_config(url), "0013")
        place, body, reference = asyncio.run(_search_columns(url, property_id))
    assert (place, body, reference) == ("lisboa sao vicente", "casa na graca acoteia. patio", "")
