"""Listings: create, read, update, delete and the one search path for API, pages and the AI."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.text import fold
from whatsapp_assistant.properties.errors import PropertyNotFound
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import PropertyCreate, PropertyFilters, PropertyUpdate

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


async def create_property(
    session: AsyncSession, account_id: uuid.UUID, data: PropertyCreate
) -> Property:
    prop = Property(account_id=account_id, **_dump(data, partial=False))
    session.add(prop)
    await session.flush()
    return prop


async def find_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> Property | None:
    stmt = for_account(select(Property), Property, account_id).where(Property.id == property_id)
    return (await session.execute(stmt)).scalar_one_or_none()


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
    for name, value in _dump(data, partial=True).items():
        setattr(prop, name, value)
    await session.flush()
    return prop


async def delete_property(
    session: AsyncSession, account_id: uuid.UUID, property_id: uuid.UUID
) -> None:
    await get_property(session, account_id, property_id)
    await session.execute(
        delete(Property).where(Property.account_id == account_id, Property.id == property_id)
    )


def _search_stmt(account_id: uuid.UUID, filters: PropertyFilters) -> Select[tuple[Property]]:
    stmt = for_account(select(Property), Property, account_id)
    if filters.status is not None:
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
        if fold(filters.location) not in place:
            return False
    if filters.text:
        haystack = fold(" ".join([prop.title, prop.description, *prop.features]))
        if not all(word in haystack for word in fold(filters.text).split()):
            return False
    return True


async def search_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> Sequence[Property]:
    rows = (await session.execute(_search_stmt(account_id, filters))).scalars().all()
    matching = [prop for prop in rows if _matches_words(prop, filters)]
    return matching[filters.offset : filters.offset + filters.limit]


async def count_properties(session: AsyncSession, account_id: uuid.UUID) -> int:
    stmt = for_account(select(func.count()).select_from(Property), Property, account_id)
    return int((await session.execute(stmt)).scalar_one())


