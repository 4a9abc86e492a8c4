"""Listing search in SQL: one table of searches gives the same listings on SQLite and PostgreSQL
(the suite runs once on each), in a bounded number of statements, on columns kept folded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.builders import create_account, create_property
from tests.conftest import TEST_DATABASE_URL
from tests.properties.bulk import insert_listings
from tests.scratch_db import scratch_postgres_database
from tests.statements import statements
from whatsapp_assistant.db.engine import make_sessionmaker
from whatsapp_assistant.db.migrate import alembic_config
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties import importer, search, service
from whatsapp_assistant.properties.schemas import PropertyFilters, PropertyPage, PropertyUpdate


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
    # Words of three characters or more go through the text index (trigrams), shorter ones and
    # groups holding one are matched by LIKE alone: the same listings either way.
    ({}, "GRAÇA", ["graca"]),
    ({}, "ana", ["triana"]),
    ({}, "an", ["triana", "graca", "ourique"]),
    ({"location": "a"}, "", ["triana", "graca", "ourique", "sintra"]),
    ({"location": ["Pena", "Tr"]}, "", ["triana", "sintra"]),
    ({}, "t2 terrace", ["graca"]),
    ({"text": "giralda rio"}, "sev", ["triana"]),
    ({"location": "Lisbon", "text": "near"}, "t2", ["ourique"]),
    ({}, "and", ["graca", "ourique"]),  # a word of the index's query language is a word
    ({}, 'river"', []),  # a quote inside a phrase of the index's query language
    ({}, "ourique 100%", ["ourique"]),
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


@dataclass
class Search:
    """One row of SEARCHES, run on the `listings` portfolio."""

    session: AsyncSession
    account_id: uuid.UUID
    listings: dict[uuid.UUID, str]
    filters: dict[str, Any]
    query: str
    expected: list[str]

    def chosen(self, **paging: int) -> PropertyFilters:
        return PropertyFilters.model_validate({**self.filters, **paging})

    async def page(self, **paging: int) -> tuple[PropertyPage, list[str]]:
        """The page of `paging` and the listings on it, as PORTFOLIO names them."""
        page = await service.list_properties_matching(
            self.session, self.account_id, self.chosen(**paging), self.query
        )
        return page, [self.listings[item.id] for item in page.items]


@pytest.fixture(params=SEARCHES)
def searched(
    request: pytest.FixtureRequest,
    session: AsyncSession,
    account_id: uuid.UUID,
    listings: dict[uuid.UUID, str],
) -> Search:
    filters, query, expected = request.param
    return Search(session, account_id, listings, filters, query, expected)


class TestSearchParity:
    async def test_the_table_of_searches_finds_the_expected_listings(
        self, searched: Search
    ) -> None:
        page, found = await searched.page(limit=100)
        assert found == searched.expected
        assert page.total == len(searched.expected)
        if not searched.query:
            chosen = searched.chosen(limit=100)
            props = await service.search_properties(searched.session, searched.account_id, chosen)
            assert [searched.listings[prop.id] for prop in props] == searched.expected

    async def test_one_listing_a_page_finds_the_same_listings_and_total(
        self, searched: Search
    ) -> None:
        # Full pages come from the walk over the cheapest listings and need a count; the page
        # past the last match comes from the text index.
        seen = []
        for offset in range(len(searched.expected) + 1):
            page, found = await searched.page(limit=1, offset=offset)
            assert (page.total, page.total_exact) == (len(searched.expected), True)
            seen += found
        assert seen == searched.expected


def reads(seen: list[str]) -> list[str]:
    """The statements that read listings, without PostgreSQL's plan settings around some."""
    return [sql for sql in seen if "set_config(" not in sql]


class TestSearchStatements:
    async def test_a_full_page_is_one_query_and_one_count(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        filters = PropertyFilters(status="any", limit=2, offset=1)
        for query in ("lx", "lx-10"):  # LIKE alone, then through the text index
            with statements(db) as seen:
                page = await service.list_properties_matching(session, account_id, filters, query)
            assert (len(page.items), page.total) == (2, 3)
            assert len(reads(seen)) == 2
            assert "count(" in reads(seen)[1].lower()

    async def test_a_page_that_holds_every_match_needs_no_count(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        with statements(db) as seen:
            page = await service.list_properties(session, account_id, PropertyFilters(limit=50))
        assert (len(page.items), page.total) == (4, 4)
        assert len(seen) == 1

    async def test_an_assistant_search_the_cheapest_listings_answer_is_one_query(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        with statements(db) as seen:
            found = await service.search_properties(
                session, account_id, PropertyFilters(location="lisbon", limit=2)
            )
        assert len(found) == 2
        assert len(seen) == 1

    async def test_a_search_they_cannot_answer_reads_every_match_in_at_most_three(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        # The walk, then (SQLite) how many rows the text index finds, then the matches.
        for where in ("nowhere", "x"):
            with statements(db) as seen:
                found = await service.search_properties(
                    session, account_id, PropertyFilters(location=where)
                )
            assert found == []
            assert 2 <= len(reads(seen)) <= 3

    @pytest.mark.postgres  # plan settings are PostgreSQL's
    async def test_the_plan_settings_of_the_transaction_are_as_before_the_search(
        self, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        await session.execute(sa.text("SET LOCAL enable_indexscan = off"))
        # Past the only match: the page and the count both go through the text index.
        filters = PropertyFilters(text="giralda", limit=1, offset=1)
        page = await service.list_properties_matching(session, account_id, filters, "")
        assert (page.items, page.total) == ([], 1)
        assert (await session.execute(sa.text("SHOW enable_seqscan"))).scalar() == "on"
        assert (await session.execute(sa.text("SHOW enable_indexscan"))).scalar() == "off"
        assert (await session.execute(sa.text("SHOW plan_cache_mode"))).scalar() == "auto"

    async def test_whether_an_account_has_listings_is_one_exists(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        empty = (await create_account(session, name="Vazia")).id
        with statements(db) as seen:
            assert await service.has_properties(session, account_id)
            assert not await service.has_properties(session, empty)
        assert len(seen) == 2
        assert all("exists" in sql.lower() for sql in seen)


@pytest.fixture
async def crowded(session: AsyncSession, account_id: uuid.UUID) -> uuid.UUID:
    """45 cheap listings in Porto and two dear ones in Graça; another account's 2,000 in Graça,
    half of them with two bedrooms and half with three. Returns the other account's id."""
    await insert_listings(
        session, account_id, 45, lambda _: {"city": "Porto", "neighborhood": "Bonfim"}
    )
    for price, title in [(910_000, "Second Graça flat"), (900_000, "First Graça flat")]:
        await create_property(
            session, account_id, title=title, price=Decimal(price), description="Miradouro."
        )
    other = (await create_account(session, name="Outra")).id
    await insert_listings(session, other, 2000, lambda i: {"bedrooms": 2 + i % 2})
    return other


# Whole names, parts of words, accents either way, the address, a reference, LIKE's wildcards,
# a sold listing's place, and words too short for a trigram.
PLACES = [
    *("Graca", "GRAÇA", "campo de ourique", "Ana", "lisbon graca", "Lisboa", "Pena"),
    *("Nowhere", "ferreira borges", "LX-101", "sev_7", "Alfama", "100%", "_", "Tr", "a"),
]


class TestPlacesWithListings:
    async def test_a_place_has_listings_exactly_when_its_search_finds_one(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, listings: object
    ) -> None:
        expected = set()
        for place in PLACES:
            if await service.search_properties(
                session, account_id, PropertyFilters(location=place)
            ):
                expected.add(place)

        with statements(db) as seen:
            present = await service.places_with_listings(session, account_id, PLACES)

        assert present == expected
        assert present >= {"Graca", "GRAÇA", "Ana", "Pena", "Tr"}
        assert len(reads(seen)) == 1  # however many places

    async def test_another_accounts_listings_are_not_there(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        other = (await create_account(session, name="Outra")).id
        await create_property(session, other)  # in Graça, Lisbon

        assert await service.places_with_listings(session, account_id, ["Graça"]) == set()
        assert await service.places_with_listings(session, other, ["Graça"]) == {"Graça"}


async def titles(session: AsyncSession, account_id: uuid.UUID, **filters: Any) -> list[str]:
    chosen = PropertyFilters.model_validate(filters)
    return [prop.title for prop in await service.search_properties(session, account_id, chosen)]


class TestManyListings:
    async def test_matches_dearer_than_the_listings_walked_are_found_in_price_order(
        self, db: Database, session: AsyncSession, account_id: uuid.UUID, crowded: uuid.UUID
    ) -> None:
        # One a page walks the 40 cheapest listings (all in Porto), then the text index: with
        # many hits (the other account's) on SQLite, then with few ("miradouro").
        sqlite_shapes = ["IN (SELECT properties_search.rowid", "CROSS JOIN properties ON"]
        for filters, shape in zip(
            ({"location": "graça"}, {"text": "miradouro"}), sqlite_shapes, strict=True
        ):
            with statements(db) as seen:
                first = await titles(session, account_id, limit=1, **filters)
            second = await titles(session, account_id, limit=1, offset=1, **filters)
            assert first + second == ["First Graça flat", "Second Graça flat"], filters
            assert db.is_sqlite == (shape in seen[-1]), seen[-1]
            page = await service.list_properties(
                session, account_id, PropertyFilters.model_validate({"limit": 1, **filters})
            )
            assert (page.total, page.total_exact) == (2, True)

    async def test_past_a_thousand_matches_the_total_says_more_than(
        self, session: AsyncSession, crowded: uuid.UUID
    ) -> None:
        async def total(**filters: Any) -> tuple[int, int, bool]:
            chosen = PropertyFilters.model_validate({"location": "graca", **filters})
            page = await service.list_properties(session, crowded, chosen)
            return (len(page.items), page.total, page.total_exact)

        assert await total(limit=20) == (20, 1000, False)
        assert await total(limit=20, offset=990) == (20, 1010, False)  # counted to the page's end
        assert await total(limit=20, offset=1990) == (10, 2000, True)  # the last page knows
        assert await total(limit=20, min_bedrooms=3) == (20, 1000, True)
        assert search.COUNT_LIMIT == 1000


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

    @pytest.mark.sqlite  # SQLite's FTS5 index; PostgreSQL keeps its own indexes
    async def test_the_text_index_follows_every_write(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[uuid.UUID, str]
    ) -> None:
        by_name = {name: key for key, name in listings.items()}
        change = PropertyUpdate(description="Jardim à porta.", features=[])
        await service.update_property(session, account_id, by_name["graca"], change)
        await service.delete_property(session, account_id, by_name["sintra"])
        await importer.import_csv(
            session,
            account_id,
            "reference,title,listing_type,property_type,price,city\n"
            "LX-102,Renovated T2,sale,apartment,398000,Lisboa\n"
            "LX-901,Moradia em Óbidos,sale,house,450000,Óbidos\n",
        )
        await insert_listings(session, account_id, 3)
        # With rank 1, FTS5 compares its index with the rows of `properties` themselves.
        await session.execute(
            sa.text(
                "INSERT INTO properties_search(properties_search, rank) "
                "VALUES ('integrity-check', 1)"
            )
        )
        assert await titles(session, account_id, text="fireplace") == []
        assert await titles(session, account_id, text="jardim") == [
            "Sunny T2 in Graça with terrace"
        ]


def _migrated_to_0012(url: str) -> None:
    command.upgrade(alembic_config(url), "0012")


async def _insert_old_listing(url: str) -> tuple[uuid.UUID, uuid.UUID]:
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
    return account_id, property_id


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


async def _found(url: str, account_id: uuid.UUID, **filters: Any) -> list[uuid.UUID]:
    engine = create_async_engine(url)
    db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
    async with db.session_scope() as session:
        chosen = PropertyFilters.model_validate(filters)
        found = [prop.id for prop in await service.search_properties(session, account_id, chosen)]
    await engine.dispose()
    return found


def test_the_migrations_fold_and_index_the_listings_already_stored(tmp_path: Path) -> None:
    with _fresh_database(tmp_path) as url:
        _migrated_to_0012(url)
        account_id, property_id = asyncio.run(_insert_old_listing(url))
        command.upgrade(alembic_config(url), "0013")
        place, body, reference = asyncio.run(_search_columns(url, property_id))
        command.upgrade(alembic_config(url), "head")
        # Words long enough for the text index, which 0014 built from the rows already there.
        found = asyncio.run(_found(url, account_id, location="Sao Vicente", text="açoteia"))
    assert (place, body, reference) == ("lisboa sao vicente", "casa na graca acoteia. patio", "")
    assert found == [property_id]


@pytest.mark.sqlite  # SQLite's VACUUM
def test_the_text_index_still_finds_every_listing_after_vacuum(tmp_path: Path) -> None:
    # The index is keyed by the rowid of `properties`, which VACUUM may renumber in a table
    # without INTEGER PRIMARY KEY; SQLite keeps them in a table with indexes, as this one is.
    url = f"sqlite+aiosqlite:///{tmp_path}/vacuumed.db"
    command.upgrade(alembic_config(url), "head")

    async def scenario() -> list[list[uuid.UUID]]:
        engine = create_async_engine(url)
        db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
        async with db.session_scope() as session:
            account_id = (await create_account(session)).id
            await insert_listings(session, account_id, 30, lambda i: {"title": f"Casa {i:03}"})
            await session.execute(sa.text("DELETE FROM properties WHERE rowid % 3 = 0"))
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM")
        async with db.session_scope() as session:
            await session.execute(
                sa.text(
                    "INSERT INTO properties_search(properties_search, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )
            left = (await session.execute(sa.text("SELECT title FROM properties"))).scalars()
            found = [
                await titles(session, account_id, text=title.lower()) for title in sorted(left)
            ]
        await engine.dispose()
        return found

    found = asyncio.run(scenario())
    assert len(found) == 20
    assert all(len(titles_found) == 1 for titles_found in found)
