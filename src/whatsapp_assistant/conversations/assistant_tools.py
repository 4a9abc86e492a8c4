"""The tools of one reply draft: the account's searches and free slots, and the viewings of the
conversation being answered, booked, moved or cancelled for its customer.

A booking is its own short transaction during the draft, so the model hears at once whether the
slot was still free. That transaction first checks, under the conversation's row lock, that the
conversation is still the assistant's at the version the draft read: after a takeover the
assistant books nothing (docs/architecture.md, invariant 3). Only times offered to this customer
are booked, by the tool in this draft or in the message the customer is answering.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai import photo_tools
from whatsapp_assistant.ai.photo_tools import ListingPhotos
from whatsapp_assistant.ai.tools import AccountTools, ToolOutcome
from whatsapp_assistant.ai.types import BookedViewing, SlotOffer
from whatsapp_assistant.ai.viewing_tools import MAX_SLOTS, Booking, BookingStatus, Slots
from whatsapp_assistant.conversations import viewing_changes
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.errors import DomainError
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import PropertyFilters
from whatsapp_assistant.scheduling.errors import SlotTaken
from whatsapp_assistant.scheduling.facts import ViewingStatus
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import load_calendar

NOT_OFFERED = (
    "That time was not offered to this customer: call find_viewing_slots for the listing and "
    "book only one of the times it returns."
)
TAKEN_OVER = "The agent has taken this conversation over: do not book anything."
NOT_THIS_CONVERSATION = "No viewing with that id is booked in this conversation."

_Change = Callable[[AsyncSession, Conversation], Awaitable[Viewing]]
_OUTCOMES: dict[str, BookingStatus] = {
    ViewingStatus.CONFIRMED: "confirmed",
    ViewingStatus.REQUESTED: "requested",
    ViewingStatus.CANCELLED: "cancelled",
}


@dataclass
class ConversationTools:
    """The ToolRunner of one draft for one conversation."""

    runtime: Runtime
    account_id: uuid.UUID
    conversation_id: uuid.UUID
    version: int  # the conversation's version when the draft read it
    offer: SlotOffer | None = None  # what the customer's last message from us offered
    viewings: Sequence[BookedViewing] = ()
    listings: Sequence[uuid.UUID] = ()  # named by the assistant before this draft
    # What send_listing_photos chose, queued after the reply's text (docs/decisions.md, 29).
    photos: list[ListingPhotos] = field(default_factory=list)
    _account: AccountTools = field(init=False)
    _offered: set[tuple[uuid.UUID, datetime]] = field(init=False, default_factory=set)
    _last_found: Slots | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._account = AccountTools(self.runtime.db, self.account_id)
        if self.offer is not None:
            self._offered.update((self.offer.property_id, slot) for slot in self.offer.slots)

    @property
    def shown(self) -> dict[uuid.UUID, str]:
        return self._account.shown

    async def search_properties(
        self, filters: PropertyFilters, *, language: str = "en", with_ids: bool = False
    ) -> str:
        return await self._account.search_properties(filters, language=language, with_ids=with_ids)

    async def places_with_listings(self, places: Sequence[str]) -> set[str]:
        return await self._account.places_with_listings(places)

    async def viewing_slots(
        self,
        property_id: uuid.UUID,
        *,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        limit: int = MAX_SLOTS,
    ) -> Slots:
        found = await self._account.viewing_slots(property_id, start=start, end=end, limit=limit)
        self._offered.update((property_id, slot) for slot in found.starts)
        if found.starts:
            self._last_found = found
        return found

    @property
    def offer_made(self) -> SlotOffer | None:
        """The times this draft looked up last, kept with the reply: the customer's answer in
        the next turn may book one of them without the tool being asked again."""
        found = self._last_found
        if found is None:
            return None
        return SlotOffer(found.property_id, found.title, found.zone, found.starts)

    async def book_viewing(
        self, property_id: uuid.UUID, starts_at: datetime, customer_name: str
    ) -> Booking:
        if (property_id, starts_at) not in self._offered:
            return Booking(status="refused", message=NOT_OFFERED)

        async def book(session: AsyncSession, conversation: Conversation) -> Viewing:
            return await viewing_changes.book_for_customer(
                self.runtime,
                session,
                conversation,
                property_id=property_id,
                starts_at=starts_at,
                customer_name=customer_name.strip(),
                now=utcnow(),
            )

        return await self._change(property_id, book)

    async def cancel_viewing(self, viewing_id: uuid.UUID) -> Booking:
        booked = self._booked(viewing_id)
        if booked is None:
            return Booking(status="refused", message=NOT_THIS_CONVERSATION)

        async def cancel(session: AsyncSession, conversation: Conversation) -> Viewing:
            return await viewing_changes.cancel_for_customer(
                self.runtime, session, conversation, viewing_id
            )

        return await self._change(booked.property_id, cancel)

    async def reschedule_viewing(self, viewing_id: uuid.UUID, starts_at: datetime) -> Booking:
        booked = self._booked(viewing_id)
        if booked is None:
            return Booking(status="refused", message=NOT_THIS_CONVERSATION)
        if (booked.property_id, starts_at) not in self._offered:
            return Booking(status="refused", message=NOT_OFFERED)

        async def move(session: AsyncSession, conversation: Conversation) -> Viewing:
            return await viewing_changes.reschedule_for_customer(
                self.runtime, session, conversation, viewing_id, starts_at=starts_at, now=utcnow()
            )

        return await self._change(booked.property_id, move)

    async def send_listing_photos(self, property_id: uuid.UUID, count: int) -> ToolOutcome:
        """The listing's first `count` photos, kept for the reply's commit; only of a listing
        of this account that the conversation is about (docs/architecture.md, invariant 8)."""
        if property_id not in self.shown and property_id not in self.listings:
            return ToolOutcome(photo_tools.NOT_ABOUT_IT, is_error=True)
        async with self.runtime.db.session_scope() as session:
            stmt = for_account(select(Property), Property, self.account_id)
            prop = (await session.execute(stmt.where(Property.id == property_id))).scalar()
            if prop is None:
                return ToolOutcome(photo_tools.NOT_ABOUT_IT, is_error=True)
            chosen = ListingPhotos(prop.id, prop.title, tuple(prop.photo_urls[:count]))
        # Asked twice for one listing, the newest count holds: no photo goes twice.
        self.photos = [item for item in self.photos if item.property_id != property_id]
        if not chosen.urls:
            return ToolOutcome(photo_tools.photos_text(chosen), is_error=True)
        self.photos.append(chosen)
        return ToolOutcome(photo_tools.photos_text(chosen))

    def _booked(self, viewing_id: uuid.UUID) -> BookedViewing | None:
        return next((viewing for viewing in self.viewings if viewing.id == viewing_id), None)

    async def _change(self, property_id: uuid.UUID, change: _Change) -> Booking:
        """Run one change in its own transaction, only while the conversation is still ours;
        a refused one changes nothing (the transaction rolls back) and says why."""
        zone = "UTC"
        try:
            async with self.runtime.db.session_scope() as session:
                zone = (await load_calendar(session, self.account_id)).rules.time_zone
                conversation = await self._still_ours(session)
                if conversation is None:
                    return Booking(status="refused", message=TAKEN_OVER)
                viewing = await change(session, conversation)
                status = viewing.status
                starts_at = viewing.starts_at
                viewing_id = viewing.id
        except SlotTaken as taken:
            self._offered.update((property_id, slot) for slot in taken.next_slots)
            return Booking(status="taken", zone=zone, next_slots=tuple(taken.next_slots))
        except DomainError as refused:
            return Booking(status="refused", message=f"Not possible: {refused}.")
        return Booking(_OUTCOMES[status], viewing_id=viewing_id, starts_at=starts_at, zone=zone)

    async def _still_ours(self, session: AsyncSession) -> Conversation | None:
        stmt = (
            select(Conversation)
            .where(
                Conversation.id == self.conversation_id,
                Conversation.account_id == self.account_id,
                Conversation.mode == Mode.AI,
                Conversation.version == self.version,
            )
            .with_for_update()
        )
        return (await session.execute(stmt)).scalar_one_or_none()
