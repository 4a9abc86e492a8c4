"""The agent's calendar of viewings: each with its listing, in the account's zone, for the
Viewings page and the user's subscribed `.ics` feed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import calendar_feeds
from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.conversations.viewing_facts import facts_for
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling import invitation
from whatsapp_assistant.scheduling.facts import Place, ViewingStatus
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import load_calendar

# The feed keeps what is past for this long (done, missed, cancelled), then lets it go: a
# subscribed calendar keeps the events it already has, and the feed stays small.
FEED_HISTORY = timedelta(days=90)


@dataclass(frozen=True)
class Entry:
    """One viewing as the calendar shows it."""

    viewing: Viewing
    place: Place

    @property
    def status(self) -> ViewingStatus:
        return ViewingStatus(self.viewing.status)


@dataclass(frozen=True)
class Agenda:
    entries: list[Entry]
    more: bool  # another page follows


async def zone_of(session: AsyncSession, account_id: uuid.UUID) -> str:
    """The account's IANA zone, in which every time is shown."""
    return (await load_calendar(session, account_id)).rules.time_zone


async def agenda(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Agenda:
    """The account's viewings starting in [start, end), by start, with their listings."""
    stmt = (
        for_account(
            select(Viewing, Property.title, Property.city, Property.address, Property.neighborhood),
            Viewing,
            account_id,
        )
        .join(Property, Property.id == Viewing.property_id)
        .order_by(Viewing.starts_at, Viewing.id)
        .offset(offset)
    )
    if start is not None:
        stmt = stmt.where(Viewing.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Viewing.starts_at < end)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    entries = [
        Entry(viewing, Place(title=title, city=city, address=address, neighborhood=neighborhood))
        for viewing, title, city, address, neighborhood in rows
    ]
    more = limit is not None and len(entries) > limit
    return Agenda(entries=entries[:limit] if more else entries, more=more)


async def feed(session: AsyncSession, token: str, *, now: datetime) -> bytes | None:
    """The `.ics` behind a feed URL's token: the account's viewings from FEED_HISTORY ago on;
    None for a token no feed has (unknown or revoked)."""
    found = await calendar_feeds.find_feed(session, token)
    if found is None:
        return None
    account_id = found.account_id
    listed = await agenda(session, account_id, start=now - FEED_HISTORY)
    events = await facts_for(session, account_id, [entry.viewing for entry in listed.entries])
    account_name = (
        await session.execute(select(Account.name).where(Account.id == account_id))
    ).scalar_one()
    return invitation.feed(events, name=f"Viewings · {account_name}", now=now)
