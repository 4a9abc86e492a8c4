"""The tools the model may call (provider-neutral), their argument checks and the account runner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from whatsapp_assistant.ai import photo_tools, viewing_tools
from whatsapp_assistant.ai.slots import listing_slots
from whatsapp_assistant.ai.types import HANDOFF_REASONS, Handoff, ToolSpec
from whatsapp_assistant.ai.viewing_tools import Booking, Slots
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties import service as properties_service
from whatsapp_assistant.properties.formatting import format_listings
from whatsapp_assistant.properties.schemas import MAX_PLACES, Place, PropertyFilters, places_list

SEARCH_PROPERTIES = "search_properties"
HANDOFF_TO_HUMAN = "handoff_to_human"
MAX_RESULTS = 5
NO_MATCH_PREFIX = "No listings match"


SEARCH_TOOL = ToolSpec(
    name=SEARCH_PROPERTIES,
    description=(
        "Search the agent's own AVAILABLE listings. Returns up to 5 listings as text, or a text "
        "saying none match. This is the only source of facts about listings: prices, places, "
        "sizes, features and availability. All parameters are optional; send only what the "
        "customer asked for."
    ),
    parameters={
        "type": "object",
        "properties": {
            "location": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": MAX_PLACES,
                "description": "Cities, neighbourhoods or streets, e.g. ['Lisbon'] or "
                "['Graça', 'Campo de Ourique']; a listing in any of them matches.",
            },
            "listing_type": {"type": "string", "enum": ["sale", "rent"]},
            "property_type": {
                "type": "string",
                "description": "apartment, house, villa, studio, ...",
            },
            "min_price": {"type": "number", "minimum": 0},
            "max_price": {
                "type": "number",
                "minimum": 0,
                "description": "Upper budget; for rent, per month.",
            },
            "min_bedrooms": {"type": "integer", "minimum": 0},
            "text": {
                "type": "string",
                "description": "Free words to find in title, description or features.",
            },
        },
        "additionalProperties": False,
    },
)

HANDOFF_TOOL = ToolSpec(
    name=HANDOFF_TO_HUMAN,
    description=(
        "Hand the conversation to the human agent instead of answering. Use it for offers, "
        "counter-offers or discount requests; complaints or objections about the service; "
        "legal, tax, mortgage or contract advice; or when the customer asks for a person."
    ),
    parameters={
        "type": "object",
        "properties": {
            "reason": {"type": "string", "enum": list(HANDOFF_REASONS)},
            "detail": {
                "type": "string",
                "description": "One short sentence for the agent: what the customer wants.",
            },
        },
        "required": ["reason", "detail"],
        "additionalProperties": False,
    },
)

TOOLS: tuple[ToolSpec, ...] = (
    SEARCH_TOOL,
    HANDOFF_TOOL,
    viewing_tools.FIND_SLOTS_SPEC,
    viewing_tools.BOOK_SPEC,
    viewing_tools.CANCEL_SPEC,
    viewing_tools.RESCHEDULE_SPEC,
    photo_tools.PHOTOS_SPEC,
)


class ToolRunner(Protocol):
    """What the AI may do against the agent's data; one account (and conversation) per runner,
    one runner per draft."""

    @property
    def shown(self) -> dict[uuid.UUID, str]:
        """The listings this draft's searches returned, in order, each once, with their titles."""
        ...

    async def search_properties(
        self, filters: PropertyFilters, *, language: str = "en", with_ids: bool = False
    ) -> str:
        """The matching listings as text; `language` is the listing lines' few fixed words;
        `with_ids` adds each listing's id, which the model passes to the viewing tools."""
        ...

    async def places_with_listings(self, places: Sequence[str]) -> set[str]:
        """Those of `places` where a search finds some listing; a first cut before searching."""
        ...

    async def viewing_slots(
        self,
        property_id: uuid.UUID,
        *,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        limit: int = viewing_tools.MAX_SLOTS,
    ) -> Slots:
        """Free viewing starts of the listing; dates are whole days in the account's zone."""
        ...

    async def book_viewing(
        self, property_id: uuid.UUID, starts_at: datetime, customer_name: str
    ) -> Booking:
        """Book one of the starts that viewing_slots returned (or the conversation offered)."""
        ...

    async def cancel_viewing(self, viewing_id: uuid.UUID) -> Booking: ...

    async def reschedule_viewing(self, viewing_id: uuid.UUID, starts_at: datetime) -> Booking: ...

    async def send_listing_photos(self, property_id: uuid.UUID, count: int) -> ToolOutcome:
        """Choose the listing's first `count` photos to go after the reply, or say why not."""
        ...


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool = False


class SearchArguments(BaseModel):
    """The model's search arguments; status, limit and offset are not the model's to choose."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: list[Place] = Field(default_factory=list, max_length=MAX_PLACES)
    listing_type: Literal["sale", "rent"] | None = None
    property_type: str | None = Field(default=None, max_length=40)
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    min_bedrooms: int | None = Field(default=None, ge=0, le=100)
    text: str | None = Field(default=None, max_length=200)

    @field_validator("listing_type", "property_type", "text", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # Models often send "" for "no preference"; that is not a filter.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("location", mode="before")
    @classmethod
    def _places(cls, value: object) -> object:
        # A model may still send one place as a plain string, or "" for none.
        return places_list(value)

    @field_validator("listing_type", mode="before")
    @classmethod
    def _lower_listing_type(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    def to_filters(self) -> PropertyFilters:
        return PropertyFilters(
            **self.model_dump(exclude_none=True), status="available", limit=MAX_RESULTS
        )


def describe_filters(filters: PropertyFilters) -> str:
    """The criteria that were set, e.g. "location=Porto, max_price=400000"."""
    shown = filters.model_dump(exclude_none=True, exclude={"status", "limit", "offset"})
    shown["location"] = " or ".join(filters.location) or None
    return (
        ", ".join(f"{key}={value}" for key, value in shown.items() if value is not None)
        or "no criteria"
    )


def no_match_text(filters: PropertyFilters) -> str:
    return (
        f"{NO_MATCH_PREFIX} this search ({describe_filters(filters)}). Say that nothing matches "
        "right now and offer that the agent follows up personally; do not suggest other places "
        "or prices from memory."
    )


def is_no_match(result_text: str) -> bool:
    """True when a search_properties result says that nothing matched."""
    return result_text.startswith(NO_MATCH_PREFIX)


_ARGUMENTS: dict[str, type[BaseModel]] = {
    SEARCH_PROPERTIES: SearchArguments,
    viewing_tools.FIND_VIEWING_SLOTS: viewing_tools.SlotsArguments,
    viewing_tools.BOOK_VIEWING: viewing_tools.BookArguments,
    viewing_tools.CANCEL_VIEWING: viewing_tools.CancelArguments,
    viewing_tools.RESCHEDULE_VIEWING: viewing_tools.RescheduleArguments,
    photo_tools.SEND_LISTING_PHOTOS: photo_tools.PhotosArguments,
}


async def run_tool(runner: ToolRunner, name: str, arguments: dict[str, object]) -> ToolOutcome:
    """Run one tool call; bad names or arguments come back as an error text, never an exception."""
    model = _ARGUMENTS.get(name)
    if model is None:
        known = ", ".join(_ARGUMENTS)
        return ToolOutcome(f"Unknown tool {name!r}; use one of {known}.", is_error=True)
    try:
        parsed = model.model_validate(arguments)
    except ValidationError as error:
        return ToolOutcome(viewing_tools.validation_text(name, error), is_error=True)
    match parsed:
        case SearchArguments():
            low, high = parsed.min_price, parsed.max_price
            if low is not None and high is not None and low > high:
                return ToolOutcome(
                    "Invalid arguments: min_price is above max_price.", is_error=True
                )
            return ToolOutcome(await runner.search_properties(parsed.to_filters(), with_ids=True))
        case viewing_tools.SlotsArguments():
            found = await runner.viewing_slots(parsed.property, start=parsed.start, end=parsed.end)
            return ToolOutcome(viewing_tools.slots_text(found), is_error=found.refusal is not None)
        case viewing_tools.BookArguments():
            booking = await runner.book_viewing(parsed.property, parsed.slot, parsed.name)
        case viewing_tools.CancelArguments():
            booking = await runner.cancel_viewing(parsed.viewing)
        case viewing_tools.RescheduleArguments():
            booking = await runner.reschedule_viewing(parsed.viewing, parsed.slot)
        case photo_tools.PhotosArguments():
            return await runner.send_listing_photos(parsed.property_id, parsed.count)
        case _:  # pragma: no cover - every model of _ARGUMENTS has its case
            raise AssertionError(name)
    return ToolOutcome(viewing_tools.booking_text(booking), is_error=booking.status == "refused")


def parse_handoff(arguments: dict[str, object]) -> Handoff:
    """Read handoff arguments leniently: a malformed call still hands over, as reason "other"."""
    reason = arguments.get("reason")
    detail = arguments.get("detail")
    return Handoff(
        reason=reason if isinstance(reason, str) and reason in HANDOFF_REASONS else "other",
        detail=detail.strip() if isinstance(detail, str) else "",
    )


NO_CONVERSATION = "Viewings are booked only inside a customer's conversation."


@dataclass(frozen=True)
class AccountTools:
    """The ToolRunner for one account: each call opens and closes its own short transaction, so
    no transaction is ever held open across an LLM call (docs/architecture.md, Layers).

    Outside a conversation nobody can be booked; conversations/assistant_tools.py adds that."""

    db: Database
    account_id: uuid.UUID
    shown: dict[uuid.UUID, str] = field(default_factory=dict)

    async def search_properties(
        self, filters: PropertyFilters, *, language: str = "en", with_ids: bool = False
    ) -> str:
        # Whatever the caller passed, the AI only ever sees this account's available listings
        # (invariants 6 and 8), at most MAX_RESULTS of them.
        scoped = filters.model_copy(
            update={"status": "available", "limit": min(filters.limit, MAX_RESULTS), "offset": 0}
        )
        async with self.db.session_scope() as session:
            found = await properties_service.search_properties(session, self.account_id, scoped)
            for prop in found:
                self.shown.setdefault(prop.id, prop.title)
            if not found:
                return no_match_text(scoped)
            return format_listings(found, language=language, with_ids=with_ids)

    async def viewing_slots(
        self,
        property_id: uuid.UUID,
        *,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        limit: int = viewing_tools.MAX_SLOTS,
    ) -> Slots:
        async with self.db.session_scope() as session:
            return await listing_slots(
                session, self.account_id, property_id, start=start, end=end, limit=limit
            )

    async def book_viewing(
        self, property_id: uuid.UUID, starts_at: datetime, customer_name: str
    ) -> Booking:
        return Booking(status="refused", message=NO_CONVERSATION)

    async def cancel_viewing(self, viewing_id: uuid.UUID) -> Booking:
        return Booking(status="refused", message=NO_CONVERSATION)

    async def reschedule_viewing(self, viewing_id: uuid.UUID, starts_at: datetime) -> Booking:
        return Booking(status="refused", message=NO_CONVERSATION)

    async def send_listing_photos(self, property_id: uuid.UUID, count: int) -> ToolOutcome:
        return ToolOutcome(photo_tools.NO_CONVERSATION, is_error=True)

    async def places_with_listings(self, places: Sequence[str]) -> set[str]:
        # The same scope as search_properties: this account's available listings only.
        async with self.db.session_scope() as session:
            return await properties_service.places_with_listings(session, self.account_id, places)
