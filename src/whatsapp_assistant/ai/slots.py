"""A listing's free viewing times as the assistant asks for them: a window of days or times,
read in the account's zone, and a refusal text instead of an error for the model to act on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai.viewing_tools import Slots
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.errors import ListingNotFound, ViewingsOff
from whatsapp_assistant.scheduling.facts import Place, zone_info
from whatsapp_assistant.scheduling.service import load_calendar


def _moment(value: date | datetime, zone: str, *, end: bool) -> datetime:
    """A time as given (a naive one in the account's zone); a date is its local midnight, or
    the next one for the end of a window, so `to` is the last day wanted."""
    tz = zone_info(zone)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
        return aware.astimezone(UTC)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def listing_slots(
    session: AsyncSession,
    account_id: uuid.UUID,
    property_id: uuid.UUID,
    *,
    start: date | datetime | None,
    end: date | datetime | None,
    limit: int,
) -> Slots:
    """The first `limit` free starts of the listing in the window, at most the horizon ahead."""
    columns = (
        Property.title,
        Property.status,
        Property.city,
        Property.address,
        Property.neighborhood,
    )
    stmt = for_account(select(*columns), Property, account_id).where(Property.id == property_id)
    listing = (await session.execute(stmt)).one_or_none()
    if listing is None:
        return Slots(property_id, refusal=f"No listing has the id {property_id}.")
    if listing.status != "available":
        return Slots(property_id, title=listing.title, refusal="That listing is not available.")
    calendar = await load_calendar(session, account_id)
    zone = calendar.rules.time_zone
    now = utcnow()
    latest = now + timedelta(days=calendar.rules.horizon_days)
    window_start = max(_moment(start, zone, end=False), now) if start is not None else now
    window_end = min(_moment(end, zone, end=True), latest) if end is not None else latest
    if window_start >= window_end:
        return Slots(property_id, title=listing.title, zone=zone)
    try:
        free = await viewings.free_for_listing(
            session,
            account_id,
            property_id,
            start=window_start,
            end=window_end,
            now=now,
            limit=limit,
        )
    except ListingNotFound:
        return Slots(property_id, refusal=f"No listing has the id {property_id}.")
    except ViewingsOff:
        return Slots(
            property_id,
            title=listing.title,
            zone=zone,
            refusal="This listing takes no viewings booked here: say the agent will arrange it.",
        )
    place = Place(listing.title, listing.city, listing.address, listing.neighborhood)
    return Slots(property_id, title=listing.title, zone=zone, starts=tuple(free), place=place)
