"""What an invitation and a customer's viewing texts know about one viewing: plain values.

A viewing's row (and its listing's) is mapped onto these by whoever reads it, so the texts and the
`.ics` never touch the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAPS_SEARCH = "https://www.google.com/maps/search/"


class ViewingStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the agent's approval
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    DONE = "done"
    NO_SHOW = "no_show"


def location(address: str | None, neighborhood: str | None, city: str) -> str:
    """ "Rua das Flores 12, Chiado, Lisboa": the parts known, each once."""
    parts: list[str] = []
    for part in (address, neighborhood, city):
        text = " ".join((part or "").split())
        if text and text.casefold() not in (seen.casefold() for seen in parts):
            parts.append(text)
    return ", ".join(parts)


def map_link(address: str | None, neighborhood: str | None, city: str) -> str:
    """A Google Maps search for the place, which every phone opens in its maps app."""
    return MAPS_SEARCH + "?" + urlencode({"api": 1, "query": location(address, neighborhood, city)})


@dataclass(frozen=True)
class Place:
    """The listing being shown: its title and where it is, in the agent's own words."""

    title: str
    city: str
    address: str | None = None
    neighborhood: str | None = None

    @property
    def location(self) -> str:
        return location(self.address, self.neighborhood, self.city)

    @property
    def map_url(self) -> str:
        return map_link(self.address, self.neighborhood, self.city)


def zone_info(zone: str) -> ZoneInfo:
    """The account's IANA zone; an unknown name is a ValueError, not a KeyError."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {zone!r}") from exc


@dataclass(frozen=True)
class ViewingFacts:
    """One viewing. Times are UTC-aware; `zone` is the account's, in which they are shown.
    `sequence` grows with every reschedule, so calendars replace the event they hold."""

    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    zone: str
    place: Place
    agent_name: str
    agency_name: str
    status: ViewingStatus
    sequence: int = 0
    customer_name: str | None = None

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("a viewing's times must be timezone-aware")
        if self.ends_at <= self.starts_at:
            raise ValueError("a viewing must end after it starts")
        if self.sequence < 0:
            raise ValueError("sequence cannot be negative")
        zone_info(self.zone)

    @property
    def tz(self) -> ZoneInfo:
        return zone_info(self.zone)
