"""Listing search in SQL: the words as conditions, the two ways to a page of matches in price
order, and the bounded count (docs/decisions.md, 6)."""

from __future__ import annotations

import functools
import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    Result,
    Select,
    Text,
    TextClause,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from whatsapp_assistant.db.engine import dialect_of
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.text import fold
from whatsapp_assistant.properties.models import SEARCH_COLUMNS, Property
from whatsapp_assistant.properties.schemas import PropertyFilters, StatusFilter

# A total beyond this many matches is reported as "more than"; counting further costs time in
# proportion to the matches, which no screen needs (docs/decisions.md, 6).
COUNT_LIMIT = 1000
# A trigram index cannot find a word shorter than one trigram: LIKE alone matches it.
TRIGRAM = 3
# The walk reads the cheapest listings in price order, WALK_PER_ROW for each row the page needs
# and at most MAX_WALK. A search that matches one listing in 40 or more fills its page there; a
# rarer one has few enough matches for the text index to find them all and sort them.
WALK_PER_ROW = 40
MAX_WALK = 10_000
# SQLite: up to this many text-index hits are read and sorted; past it, the price-order index
# is walked and each entry tested against the hits (about 2.5 µs a hit against 0.15 µs an entry).
FEW_HITS = 2000

_ROWID: ColumnElement[int] = literal_column("properties.rowid", Integer)
# SQLite's FTS5 trigram index of the search columns (migration 0014): rowid = properties.rowid.
_TEXT_INDEX = table(
    "properties_search", column("rowid", Integer), column("properties_search", Text)
)


_PROPERTY_TYPE_SYNONYMS = {
    "flat": "apartment",
    "apartamento": "apartment",
    "piso": "apartment",
    "house": "house",
    "casa": "house",
    "moradia": "house",
    "villa": "villa",
    "vivenda": "villa",
    "studio": "studio",
    "estudio": "studio",
    "estúdio": "studio",
    "loft": "studio",
}


def normalise_property_type(value: str) -> str:
    word = value.strip().lower()
    return _PROPERTY_TYPE_SYNONYMS.get(word, word)


@dataclass(frozen=True)
class Term:
    """`word` (folded) inside one search column."""

    column: str
    word: str


# A group matches when any of its terms does; a listing matches when every group does.
Group = tuple[Term, ...]


def text_groups(filters: PropertyFilters, query: str) -> list[Group]:
    groups: list[Group] = []
    if filters.location:
        # Any of the places, each inside the joined city, neighbourhood and address.
        groups.append(tuple(Term("place_text", fold(place)) for place in filters.location))
    if filters.text:
        groups += [(Term("body_text", word),) for word in fold(filters.text).split()]
    # A person's one search box: each word may name the place, the reference or the text,
    # where `location` and `text` must each match on their own.
    for word in fold(query).split():
        groups.append(tuple(Term(name, word) for name in SEARCH_COLUMNS))
    return groups


def _indexed(group: Group) -> bool:
    return all(len(term.word) >= TRIGRAM for term in group)


def fts_query(groups: Sequence[Group]) -> str | None:
    """The FTS5 query that finds every listing the groups can match, or None when no group has
    an indexable word; LIKE still decides, so the index only narrows the rows it reads."""
    parts = []
    for group in filter(_indexed, groups):
        columns: dict[str, list[str]] = {}
        for term in group:
            columns.setdefault(term.word, []).append(term.column)
        phrases = []
        for word, names in columns.items():
            # A trigram phrase is a substring test; "" doubles a quote inside an FTS5 string.
            phrase = '"' + word.replace('"', '""') + '"'
            every = set(names) == set(SEARCH_COLUMNS)
            phrases.append(phrase if every else "{" + " ".join(names) + "} : " + phrase)
        parts.append("(" + " OR ".join(phrases) + ")")
    return " AND ".join(parts) or None


def _like(entity: Any, term: Term) -> ColumnElement[bool]:
    # The column and the word are both folded by kit/text.fold, so LIKE (escaped) is a plain
    # substring test on both databases. The whole pattern is one parameter: PostgreSQL's planner
    # sees '%graca%' and can use the trigram index, where '%' || :word || '%' hides it.
    escaped = term.word.replace("/", "//").replace("%", "/%").replace("_", "/_")
    condition: ColumnElement[bool] = getattr(entity, term.column).like(f"%{escaped}%", escape="/")
    return condition


def _text_conditions(entity: Any, groups: Sequence[Group]) -> list[ColumnElement[bool]]:
    return [or_(*(_like(entity, term) for term in group)) for group in groups]


def _range_conditions(entity: Any, filters: PropertyFilters) -> list[ColumnElement[bool]]:
    """What the price-order indexes answer as a range: status and price."""
    where: list[ColumnElement[bool]] = []
    if filters.status not in (None, "any"):
        where.append(entity.status == filters.status)
    if filters.min_price is not None:
        where.append(entity.price >= filters.min_price)
    if filters.max_price is not None:
        where.append(entity.price <= filters.max_price)
    return where


def _row_conditions(entity: Any, filters: PropertyFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.listing_type is not None:
        where.append(entity.listing_type == filters.listing_type)
    if filters.property_type:
        where.append(entity.property_type == normalise_property_type(filters.property_type))
    if filters.min_bedrooms is not None:
        where.append(entity.bedrooms >= filters.min_bedrooms)
    return where


class _OuterFirst(Join):
    """A join whose left side SQLite keeps as the outer loop: `CROSS JOIN` is SQLite's documented
    way to fix a join order. Without statistics its planner would otherwise walk the account's
    listings and probe the text index once per listing, hundreds of times slower."""

    inherit_cache = True


@compiles(_OuterFirst, "sqlite")
def _cross_join(join: _OuterFirst, compiler: SQLCompiler, **kw: Any) -> str:
    kw.pop("asfrom", None)
    linter = kw.get("from_linter")
    if linter is not None:  # the ON clause links both sides, as for a plain JOIN
        linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    left = join.left._compiler_dispatch(compiler, asfrom=True, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, **kw)
    assert join.onclause is not None  # every _OuterFirst is built with its ON clause
    return f"{left} CROSS JOIN {right} ON {join.onclause._compiler_dispatch(compiler, **kw)}"


@dataclass(frozen=True)
class Search:
    """One search of one account: the filters, the search box and the database that runs it."""

    account_id: uuid.UUID
    filters: PropertyFilters
    groups: list[Group]
    dialect: str

    @classmethod
    def of(
        cls, session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str
    ) -> Search:
        return cls(account_id, filters, text_groups(filters, query), dialect_of(session))

    @property
    def indexed(self) -> bool:
        return any(_indexed(group) for group in self.groups)

    def _where(self, stmt: Select[Any]) -> Select[Any]:
        stmt = for_account(stmt, Property, self.account_id)
        return stmt.where(
            *_range_conditions(Property, self.filters),
            *_row_conditions(Property, self.filters),
            *_text_conditions(Property, self.groups),
        )

    def walk(self, rows: int) -> tuple[Select[Any], dict[str, Any]]:
        """The page among the `rows` cheapest listings, read through a price-order index, and
        the values of the walk's bound parameters."""
        low, high = self.filters.min_price, self.filters.max_price
        status = None if self.filters.status == "any" else self.filters.status
        listing = _cheapest(status is not None, low is not None, high is not None)
        stmt = for_account(select(listing), listing, self.account_id).where(
            *_row_conditions(listing, self.filters), *_text_conditions(listing, self.groups)
        )
        values = {"walk_account": self.account_id, "walk_rows": rows, "walk_status": status}
        values |= {"walk_min": low, "walk_max": high}
        return _paged(stmt.order_by(listing.price, listing.id), self.filters), values

    def _text_index(self) -> str | None:
        return fts_query(self.groups) if self.dialect == "sqlite" else None

    def _led_by(self, stmt: Select[Any], rowids: list[int] | None) -> Select[Any]:
        """SQLite: `stmt` led by the text index's rows, or by the rowids it already gave."""
        if rowids is not None:
            hits = func.json_each(json.dumps(rowids)).table_valued("value")
            return stmt.select_from(_OuterFirst(hits, Property.__table__, hits.c.value == _ROWID))
        match = self._text_index()
        if match is None:
            return stmt
        joined = _OuterFirst(_TEXT_INDEX, Property.__table__, _TEXT_INDEX.c.rowid == _ROWID)
        return stmt.select_from(joined).where(_TEXT_INDEX.c.properties_search.match(match))

    def text_hits(self, most: int) -> Select[Any] | None:
        """SQLite: the rowids the text index finds (every account's), at most `most` + 1."""
        match = self._text_index()
        if match is None:
            return None
        hits = select(_TEXT_INDEX.c.rowid).where(_TEXT_INDEX.c.properties_search.match(match))
        return hits.limit(most + 1)

    def page(self, rowids: list[int] | None = None) -> Select[Any]:
        """The page among every match. On SQLite, given the text index's few hits, those rows
        are read and sorted; with many, the price-order index is walked to its end if need be,
        each entry tested against the set of rowids the text index found, which costs a
        fraction of reading the row. PostgreSQL's trigram indexes give no row without reading
        it from the table."""
        stmt = select(Property)
        match = self._text_index()
        if rowids is not None:
            stmt = self._led_by(stmt, rowids)
        elif match is not None:
            found = select(_TEXT_INDEX.c.rowid).where(_TEXT_INDEX.c.properties_search.match(match))
            stmt = stmt.where(_ROWID.in_(found))
        return _paged(self._where(stmt).order_by(Property.price, Property.id), self.filters)

    def exists(self) -> Exists:
        """Whether the search has any match; on SQLite the text index leads, so a word no
        listing holds costs no row of the table."""
        return self._where(self._led_by(select(literal(1)), None)).exists()

    def count(self, ceiling: int, rowids: list[int] | None = None) -> Select[Any]:
        """The number of matches, counting no further than ceiling + 1. On SQLite the text index
        (or the rowids it gave) leads, so the count stops after that many of its rows."""
        stmt = self._led_by(select(literal(1)), rowids)
        found = self._where(stmt).limit(ceiling + 1).subquery("found")
        return select(func.count()).select_from(found)


@functools.cache
def _cheapest(status: bool, low: bool, high: bool) -> Any:
    """The `walk_rows` cheapest listings of an account (of a status, between prices), in price
    order: a subquery built once for each shape, since building it costs more than running it
    (1.3 ms of Python). Its values are bound at execution; the caller scopes the rows it
    selects from it with for_account."""
    inner = select(Property.__table__).where(Property.account_id == bindparam("walk_account"))
    if status:
        inner = inner.where(Property.status == bindparam("walk_status"))
    if low:
        inner = inner.where(Property.price >= bindparam("walk_min"))
    if high:
        inner = inner.where(Property.price <= bindparam("walk_max"))
    inner = inner.order_by(Property.price, Property.id).limit(bindparam("walk_rows"))
    return aliased(Property, inner.subquery("cheapest"))


def _paged(stmt: Select[Any], filters: PropertyFilters) -> Select[Any]:
    return stmt.limit(filters.limit).offset(filters.offset)


# PostgreSQL settings for the statements that must find every match. Their plan depends on how
# many rows each LIKE word selects, so they are planned for their own words every time: a
# prepared statement (psycopg prepares one after 5 runs) otherwise falls back to a generic plan
# built for no words in particular, 200 ms instead of 55 for "sé garagem". And PostgreSQL
# estimates each word on its own and multiplies: two words that never meet ("piscina lareira")
# look like thousands of rows, so it walks the price index to its end (240 ms at 100,000
# listings) or reads the whole table (90 ms), where the trigram indexes find nothing in 8 ms.
# Once the walk has shown that the cheapest listings hold too few matches, it is left bitmap
# scans only. (After a walk that filled its page, matches are common and any plan of the count
# stops early.) The settings are local to the transaction, read before (in a CTE, so before
# they change) and put back after.
_CUSTOM_PLANS = {"plan_cache_mode": "force_custom_plan"}
_BITMAP_ONLY = _CUSTOM_PLANS | {"enable_seqscan": "off", "enable_indexscan": "off"}


def _set_plans(settings: dict[str, str]) -> TextClause:
    names = list(settings)
    read = ", ".join(f"current_setting('{name}') AS {name}" for name in names)
    change = ", ".join(f"set_config('{name}', :{name}, true)" for name in names)
    before = f"WITH before AS MATERIALIZED (SELECT {read}) "
    return text(before + f"SELECT *, {change} FROM before")  # noqa: S608 - constant names


def _put_back(names: list[str]) -> TextClause:
    return text("SELECT " + ", ".join(f"set_config('{name}', :{name}, true)" for name in names))


async def _run(
    session: AsyncSession, search: Search, stmt: Select[Any], *, pinned: bool
) -> Result[Any]:
    result: Result[Any]
    if not pinned or search.dialect != "postgresql":
        result = await session.execute(stmt)
        return result
    settings = _BITMAP_ONLY if search.indexed else _CUSTOM_PLANS
    before = (await session.execute(_set_plans(settings), settings)).one()
    result = await session.execute(stmt)
    # An error above leaves the transaction to roll back, which restores the settings too.
    names = list(settings)
    await session.execute(_put_back(names), {name: getattr(before, name) for name in names})
    return result


@dataclass(frozen=True)
class Page:
    rows: Sequence[Property]
    walked: bool  # found among the cheapest listings: the matches are not rare
    rowids: list[int] | None = None  # SQLite: every row the text index found, when few


async def find_page(session: AsyncSession, search: Search) -> Page:
    """One page of matches in price order."""
    filters = search.filters
    if not search.groups:  # no words: the price-order index and the planner's statistics do
        return Page((await session.execute(search.page())).scalars().all(), walked=True)
    wanted = filters.offset + filters.limit
    rows = min(MAX_WALK, WALK_PER_ROW * wanted)
    if wanted <= rows:
        # Only a full page proves that no cheaper match lies beyond the listings walked.
        walk, values = search.walk(rows)
        page = (await session.execute(walk, values)).scalars().all()
        if len(page) == filters.limit:
            return Page(page, walked=True)
    hits = search.text_hits(FEW_HITS)
    rowids = None if hits is None else list((await session.execute(hits)).scalars())
    if rowids is not None and len(rowids) > FEW_HITS:
        rowids = None
    if rowids == []:  # what the text index cannot find, LIKE would not match either
        return Page([], walked=False, rowids=rowids)
    found = await _run(session, search, search.page(rowids), pinned=True)
    return Page(found.scalars().all(), walked=False, rowids=rowids)


async def count_matches(session: AsyncSession, search: Search, page: Page, *, ceiling: int) -> int:
    """The number of matches, counting no further than ceiling + 1."""
    stmt = search.count(ceiling, page.rowids)
    found = await _run(session, search, stmt, pinned=not page.walked)
    return int(found.scalar_one())


async def places_with_listings(
    session: AsyncSession, account_id: uuid.UUID, places: Sequence[str], *, status: StatusFilter
) -> set[str]:
    """The places that a search's `location` would find a listing in (of this status): one
    EXISTS for each, all in one statement, so asking about eight places costs one round trip
    where eight searches cost eight or more."""
    checks = [
        Search.of(session, account_id, PropertyFilters(location=[place], status=status), "")
        for place in places
    ]
    if not checks:
        return set()
    if checks[0].dialect == "postgresql":
        # Each EXISTS planned for its own word: a generic plan would read every listing of the
        # account for a place none of them holds (see _CUSTOM_PLANS above). Left on for the
        # rest of the transaction, where it only plans each statement for its own values.
        await session.execute(_set_plans(_CUSTOM_PLANS), _CUSTOM_PLANS)
    found = (await session.execute(select(*(check.exists() for check in checks)))).one()
    return {place for place, present in zip(places, found, strict=True) if present}
