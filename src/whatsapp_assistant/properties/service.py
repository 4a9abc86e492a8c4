"""Listings: create, read, update, delete and the one search path for API, pages and the AI."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.properties import search
from whatsapp_assistant.properties.errors import PropertyNotFound, ReferenceTaken
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import (
    PropertyCreate,
    PropertyFilters,
    PropertyPage,
    PropertyRead,
    PropertyUpdate,
    StatusFilter,
)
from whatsapp_assistant.properties.search import normalise_property_type


def _dump(data: PropertyCreate | PropertyUpdate, *, partial: bool) -> dict[str, object]:
    values = data.model_dump(exclude_unset=partial, mode="python")
    if values.get("url") is not None:
        values["url"] = str(values["url"])
    photos = values.get("photo_urls")
    if isinstance(photos, list):
        values["photo_urls"] = [str(url) for url in photos]
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


async def search_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> Sequence[Property]:
    found = await search.find_page(session, search.Search.of(session, account_id, filters, ""))
    return found.rows


async def places_with_listings(
    session: AsyncSession,
    account_id: uuid.UUID,
    places: Sequence[str],
    *,
    status: StatusFilter = "available",
) -> set[str]:
    """Which of `places` a search's `location` would find a listing in, in one statement."""
    return await search.places_with_listings(session, account_id, places, status=status)


async def list_properties(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters
) -> PropertyPage:
    """The same search as search_properties, with the number of matches beyond the page."""
    return await list_properties_matching(session, account_id, filters, "")


async def list_properties_matching(
    session: AsyncSession, account_id: uuid.UUID, filters: PropertyFilters, query: str
) -> PropertyPage:
    """list_properties, keeping the listings where every word of `query` appears somewhere."""
    wanted = search.Search.of(session, account_id, filters, query)
    page = await search.find_page(session, wanted)
    items = [PropertyRead.model_validate(prop) for prop in page.rows]
    # A full page or a later page may have matches beyond it; otherwise the page is the count.
    if len(items) < filters.limit and (items or filters.offset == 0):
        return PropertyPage(items=items, total=filters.offset + len(items), total_exact=True)
    # Counted up to COUNT_LIMIT, or to the end of this page when it lies further.
    ceiling = max(search.COUNT_LIMIT, filters.offset + filters.limit)
    counted = await search.count_matches(session, wanted, page, ceiling=ceiling)
    return PropertyPage(items=items, total=min(counted, ceiling), total_exact=counted <= ceiling)


async def has_properties(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Whether the account has any listing at all, whatever its status."""
    stmt = for_account(select(Property.id), Property, account_id)
    return bool((await session.execute(select(stmt.exists()))).scalar())
