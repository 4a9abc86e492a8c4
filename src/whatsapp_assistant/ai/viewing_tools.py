"""The viewing tools the model may call: their specs, argument checks and result texts.

The model proposes only times `find_viewing_slots` returned, and `book_viewing` refuses any
other (the runner remembers what it returned: conversations/assistant_tools.py), so a time the
model made up never reaches the customer as a booking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from whatsapp_assistant.ai.types import ToolSpec
from whatsapp_assistant.scheduling import wording
from whatsapp_assistant.scheduling.facts import Place, zone_info

FIND_VIEWING_SLOTS = "find_viewing_slots"
BOOK_VIEWING = "book_viewing"
CANCEL_VIEWING = "cancel_viewing"
RESCHEDULE_VIEWING = "reschedule_viewing"
MAX_SLOTS = 6  # a model offers two or three; a few more let it pick a spread

_PROPERTY_ID = {
    "type": "string",
    "description": "The listing's id, as search_properties shows it (id: ...).",
}
_SLOT = {
    "type": "string",
    "description": "One time exactly as find_viewing_slots returned it (ISO 8601 with offset).",
}


FIND_SLOTS_SPEC = ToolSpec(
    name=FIND_VIEWING_SLOTS,
    description=(
        "The agent's real free viewing times for one listing, between `from` and `to` (dates "
        "YYYY-MM-DD or times with offset; both optional: from now to the booking horizon). "
        "Offer the customer two or three of these and no other time."
    ),
    parameters={
        "type": "object",
        "properties": {
            "property": _PROPERTY_ID,
            "from": {"type": "string", "description": "First day or time wanted."},
            "to": {"type": "string", "description": "Last day (inclusive) or time wanted."},
        },
        "required": ["property"],
        "additionalProperties": False,
    },
)

BOOK_SPEC = ToolSpec(
    name=BOOK_VIEWING,
    description=(
        "Book the viewing the customer chose: one slot find_viewing_slots returned. The customer "
        "then gets the confirmation with the address, a map link and a calendar invitation by "
        "themselves: answer in one short sentence, without repeating them."
    ),
    parameters={
        "type": "object",
        "properties": {
            "property": _PROPERTY_ID,
            "slot": _SLOT,
            "name": {"type": "string", "description": "The customer's name for the agent."},
        },
        "required": ["property", "slot", "name"],
        "additionalProperties": False,
    },
)

CANCEL_SPEC = ToolSpec(
    name=CANCEL_VIEWING,
    description=(
        "Cancel a viewing booked in this conversation when the customer says they cannot come "
        "or wants to cancel it. The customer is told by themselves."
    ),
    parameters={
        "type": "object",
        "properties": {"viewing": {"type": "string", "description": "The viewing's id."}},
        "required": ["viewing"],
        "additionalProperties": False,
    },
)

RESCHEDULE_SPEC = ToolSpec(
    name=RESCHEDULE_VIEWING,
    description=(
        "Move a viewing booked in this conversation to one slot find_viewing_slots returned for "
        "its listing. The customer is told the new time and gets a new invitation by themselves."
    ),
    parameters={
        "type": "object",
        "properties": {
            "viewing": {"type": "string", "description": "The viewing's id."},
            "slot": _SLOT,
        },
        "required": ["viewing", "slot"],
        "additionalProperties": False,
    },
)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs its offset, e.g. 2026-12-12T11:00:00+00:00")
    return value.astimezone(UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class SlotsArguments(_Strict):
    property: uuid.UUID
    start: date | datetime | None = Field(default=None, alias="from")
    end: date | datetime | None = Field(default=None, alias="to")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class BookArguments(_Strict):
    property: uuid.UUID
    slot: datetime
    name: str = Field(default="", max_length=120)

    _slot_aware = field_validator("slot")(_aware)


class CancelArguments(_Strict):
    viewing: uuid.UUID


class RescheduleArguments(_Strict):
    viewing: uuid.UUID
    slot: datetime

    _slot_aware = field_validator("slot")(_aware)


def validation_text(tool: str, error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
        for item in error.errors()
    ]
    return f"Invalid arguments for {tool}: " + "; ".join(problems)


@dataclass(frozen=True)
class Slots:
    """Free starts (UTC) of one listing, or why it has none to give."""

    property_id: uuid.UUID
    title: str = ""
    zone: str = "UTC"
    starts: tuple[datetime, ...] = ()
    refusal: str | None = None
    place: Place | None = None  # where the listing is, for the customer's offer


BookingStatus = Literal["confirmed", "requested", "cancelled", "taken", "refused"]


@dataclass(frozen=True)
class Booking:
    """What came of booking, moving or cancelling a viewing."""

    status: BookingStatus
    viewing_id: uuid.UUID | None = None
    starts_at: datetime | None = None
    zone: str = "UTC"
    next_slots: tuple[datetime, ...] = field(default=())
    message: str = ""


def slot_line(start: datetime, zone: str) -> str:
    """ "2026-12-12T11:00:00+00:00 (Sat 12 Dec, 11:00)": the exact value to send back, and how
    it reads in the account's zone."""
    local = start.astimezone(zone_info(zone))
    return f"{local.isoformat()} ({wording.slot_label(start, zone, 'en')})"


def slots_text(found: Slots) -> str:
    if found.refusal is not None:
        return found.refusal
    if not found.starts:
        return (
            f"No free viewing time for {found.title} in that period. Ask the customer for "
            "another day, or call find_viewing_slots without dates for the next free ones."
        )
    lines = "\n".join(f"- {slot_line(start, found.zone)}" for start in found.starts)
    return (
        f"Free viewing times for {found.title} (times in {found.zone}):\n{lines}\n"
        "Offer two or three of them; book only one of these exact values."
    )


def booking_text(booking: Booking) -> str:
    if booking.status in ("confirmed", "requested", "cancelled"):
        when = slot_line(booking.starts_at, booking.zone) if booking.starts_at else ""
        done = {
            "confirmed": f"Booked and confirmed for {when}.",
            "requested": f"Requested for {when}; the agent must approve it, the customer will "
            "hear when they do.",
            "cancelled": f"The viewing of {when} is cancelled.",
        }[booking.status]
        return f"{done} The customer gets the details by themselves; do not repeat them."
    if booking.status == "taken":
        if not booking.next_slots:
            return "That time was just taken and there is no other free time; say so."
        lines = "\n".join(f"- {slot_line(start, booking.zone)}" for start in booking.next_slots)
        return f"That time was just taken by someone else. The next free times:\n{lines}"
    return booking.message
