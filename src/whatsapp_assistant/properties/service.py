"""Listings: create, read, update, delete and the one search path for API, pages and the AI."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

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


def _search_stmt(account_id: uuid.UUID, filters: PropertyFilters) -> Select[Property]:
    stmt = for_account(select(Property), Property, account_id)
    if filters.status not in (None, "any"):
        stmt = stmt.where(Property.status == filters.status)
    if filters.listing_type is not None:
        stmt = stmt.where(Property.listing_type == filters.listing_type)
    if filters.property_type:
        stmt = stmt.where(Property.property_type == normalise_property_type(filters.property_type))
    if filters.min_price is not None:
        stmt = stmt.where(Property.price >= filters.min_price)
    if filters.max_price is not None:
        stmt = stmt.where(Property.price <= filters.max_price)
    if filters.min_bedrooms is not None:
        stmt = stmt.where(Property.bedrooms >= filters.min_bedrooms)
    return stmt.order_by(Property.price, Property.id)


def _matches_words(prop: Property, filters: PropertyFilters) -> bool:
    # Accent- and case-insensitive matching done in Python: SQLite has no unaccent, and the
    # candidate set is already narrowed to one account's listings by the SQL filters.
    if filters.location:
        place = fold(" ".join(filter(None, [prop.city, prop.neighborhood, prop.address])))
        if not any(fold(wanted) in place for wanted in filters.location):
            return False
    if filters.text:
        haystack = fold(" ".join([prop.title, prop.description, *prop.features]))
        if not all(word in haystack for word in fold(filters.text).split()):
            return False
    return True


async def _matching(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> list[Property]:
    rows = (await session.execute(_search_stmt(account_id, filters))).scalars().all()
    return [prop for prop in rows if _matches_words(prop, filters)]


async def search_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> Sequence[Property]:
    matching = await _matching(session, account_id, filters)
    return matching[filters.offset : filters.offset + filters.limit]


async def list_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> PropertyPage:
    """The same search as search_properties, with the number of matches beyond the page."""
    matching = await _matching(session, account_id, filters)
    page = matching[filters.offset : filters.offset + filters.limit]
    return PropertyPage(
        items=[PropertyRead.model_validate(prop) for prop in page], total=len(matching)
    )


def _matches_query(prop: Property, query: str) -> bool:
    # A person's one search box: each word may name the place, the reference or the text,
    # where `location` and `text` of PropertyFilters must each match on their own.
    places = [prop.reference, prop.city, prop.neighborhood, prop.address]
    haystack = fold(" ".join([*filter(None, places), prop.title, prop.description, *prop.features]))
    return all(word in haystack for word in fold(query).split())


async def list_properties_matching(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str
) -> PropertyPage:
    """list_properties, keeping the listings where every word of `query` appears somewhere."""
    matching = [
        prop
        for prop in await _matching(session, account_id, filters)
        if _matches_query(prop, query)
    ]
    page = matching[filters.offset : filters.offset + filters.limit]
    return PropertyPage(
        items=[PropertyRead.model_validate(prop) for prop in page], total=len(matching)
    )
