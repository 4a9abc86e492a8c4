"""Listings: create, read, update, delete and the one search path for API, pages and the AI."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.text import fold
from whatsapp_assistant.properties.errors import PropertyNotFound, ReferenceTaken
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import (
    PropertyCreate,
    PropertyFilters,
    PropertyPage,
    PropertyRead,
    PropertyUpdate,
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


def _dump(data: PropertyCreate | PropertyUpdate, *, partial: bool) -> dict[str, object]:
    values = data.model_dump(exclude_unset=partial, mode="python")
    if values.get("url") is not None:
        values["url"] = str(values["url"])
    if isinstance(values.get("property_type"), str):
        values["property_type"] = normalise_property_type(str(values["property_type"]))
    return values


def build_property(account_id: uuid.UUID, data: PropertyCreate) -> Property:
    """A new listing row, not yet added: the importer adds rows in batches."""
    return Property(account_id=account_id, **_dump(data, partial=False))


def apply_update(prop: Property, data: PropertyUpdate) -> None:
    for name, value in _dump(data, partial=True).items():
        setattr(prop, name, value)


async def _check_reference_free(
    session: AsyncSession, account_id: uuid.UUID, reference: str | None, *, keep: Property | None
) -> None:
    # The reference is how a re-import finds the listing again, so it must name one listing.
    if reference is None:
        return
    holder = await find_property_by_reference(session, account_id, reference)
    if holder is not None and holder is not keep:
        raise ReferenceTaken(f"reference {reference!r} is already used", field="reference")


async def create_property(
    session: AsyncSession, account_id: uuid.UUID, data: PropertyCreate
) -> Property:
    await _check_reference_free(session, account_id, data.reference, keep=None)
    prop = build_property(account_id, data)
    session.add(prop)
    await session.flush()
    return prop


async def find_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> Property | None:
    stmt = for_account(select(Property), Property, account_id).where(Property.id == property_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_property_by_reference(
    session: AsyncSession, account_id: uuid.UUID, reference: str
) -> Property | None:
    stmt = for_account(select(Property), Property, account_id).where(
        Property.reference == reference
    )
    return (await session.execute(stmt.order_by(Property.created_at).limit(1))).scalar()


async def properties_by_reference(
    session: AsyncSession, account_id: uuid.UUID
) -> dict[str, Property]:
    """Every referenced listing of the account, keyed by reference (the oldest wins a tie)."""
    stmt = for_account(select(Property), Property, account_id).where(
        Property.reference.is_not(None)
    )
    rows = (await session.execute(stmt.order_by(Property.created_at.desc()))).scalars()
    return {prop.reference: prop for prop in rows if prop.reference is not None}


async def get_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> Property:
    prop = await find_property(session, account_id, property_id)
    if prop is None:
        raise PropertyNotFound("no such property")
    return prop


async def update_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID, data: PropertyUpdate
) -> Property:
    prop = await get_property(session, account_id, property_id)
    if "reference" in data.model_fields_set:
        await _check_reference_free(session, account_id, data.reference, keep=prop)
    apply_update(prop, data)
    await session.flush()
    return prop


async def delete_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> None:
    await get_property(session, account_id, property_id)
    await session.execute(
        delete(Property).where(Property.account_id == account_id, Property.id == property_id)
    )


def _contains(column: InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    # The column and the word are both folded by kit/text.fold, so LIKE (escaped) is a plain
    # substring test on both databases (docs/decisions.md, 6). The whole pattern is one
    # parameter: PostgreSQL's planner sees '%graca%' and can use the trigram index, where
    # '%' || :word || '%' hides the pattern from it.
    escaped = word.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.like(f"%{escaped}%", escape="/")


def _conditions(filters: PropertyFilters, query: str = "") -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.status not in (None, "any"):
        where.append(Property.status == filters.status)
    if filters.listing_type is not None:
        where.append(Property.listing_type == filters.listing_type)
    if filters.property_type:
        where.append(Property.property_type == normalise_property_type(filters.property_type))
    if filters.min_price is not None:
        where.append(Property.price >= filters.min_price)
    if filters.max_price is not None:
        where.append(Property.price <= filters.max_price)
    if filters.min_bedrooms is not None:
        where.append(Property.bedrooms >= filters.min_bedrooms)
    if filters.location:
        # Any of the places, each inside the joined city, neighbourhood and address.
        places = [_contains(Property.place_text, fold(wanted)) for wanted in filters.location]
        where.append(or_(*places))
    if filters.text:
        where += [_contains(Property.body_text, word) for word in fold(filters.text).split()]
    # A person's one search box: each word may name the place, the reference or the text,
    # where `location` and `text` must each match on their own.
    for word in fold(query).split():
        columns = (Property.place_text, Property.body_text, Property.reference_text)
        where.append(or_(*(_contains(column, word) for column in columns)))
    return where


async def _page(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str = ""
) -> Sequence[Property]:
    stmt = for_account(select(Property), Property, account_id).where(*_conditions(filters, query))
    stmt = stmt.order_by(Property.price, Property.id).limit(filters.limit).offset(filters.offset)
    return (await session.execute(stmt)).scalars().all()


async def _count(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str = ""
) -> int:
    stmt = for_account(select(func.count()).select_from(Property), Property, account_id)
    return (await session.execute(stmt.where(*_conditions(filters, query)))).scalar_one()


async def search_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> Sequence[Property]:
    return await _page(session, account_id, filters)


async def list_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> PropertyPage:
    """The same search as search_properties, with the number of matches beyond the page."""
    return await list_properties_matching(session, account_id, filters, "")


async def list_properties_matching(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str
) -> PropertyPage:
    """list_properties, keeping the listings where every word of `query` appears somewhere."""
    page = await _page(session, account_id, filters, query)
    # A full page or a later page may have matches beyond it; otherwise the page is the count.
    if len(page) < filters.limit and (page or filters.offset == 0):
        total = filters.offset + len(page)
    else:
        total = await _count(session, account_id, filters, query)
    return PropertyPage(items=[PropertyRead.model_validate(prop) for prop in page], total=total)


async def has_properties(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Whether the account has any listing at all, whatever its status."""
    stmt = for_account(select(Property.id), Property, account_id)
    return bool((await session.execute(select(stmt.exists()))).scalar())
