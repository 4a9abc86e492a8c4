"""The offline provider's viewing dialogue, in en/es/pt: offer the agent's real free times for
the listing under discussion, read the customer's choice, book it; move or cancel a booked one.

The day asked for and the choice among the times offered are read by scheduling/choice.py
(dateparser with a few tables of its own); that is CPU work, so it runs off the event loop
(docs/architecture.md, invariant 9). Booking goes through the ToolRunner as a model's would, so
the same checks hold: only a time offered, only while the conversation is the assistant's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from whatsapp_assistant.ai.tools import ToolRunner
from whatsapp_assistant.ai.types import BookedViewing, ReplyRequest, SlotOffer
from whatsapp_assistant.ai.viewing_tools import Booking, Slots
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import wording
from whatsapp_assistant.scheduling.choice import WantedTime, pick_slot, wanted_time
from whatsapp_assistant.scheduling.intents import asks_for_viewing, viewing_intent

OFFERED = 3  # times in one offer: enough to choose, few enough to read on a phone
ALL_FREE = 500  # every free start over the horizon, filtered here by what the customer asked
SAME_DAY_GAP = timedelta(hours=1)  # times offered on one day are at least this far apart


@dataclass(frozen=True)
class Answer:
    """The reply's text ("" when a booking's own notice says it all) and any times it offers."""

    text: str
    offer: SlotOffer | None = None


def _spread(starts: Sequence[datetime], *, zone: ZoneInfo, one_per_day: bool) -> list[datetime]:
    """Up to OFFERED of the starts, in order: one per local day, or an hour apart."""
    chosen: list[datetime] = []
    for start in starts:
        if len(chosen) == OFFERED:
            break
        if chosen:
            last = chosen[-1]
            next_day = start.astimezone(zone).date() > last.astimezone(zone).date()
            if not (next_day if one_per_day else start >= last + SAME_DAY_GAP):
                continue
        chosen.append(start)
    return chosen


class ViewingDialogue:
    """One customer turn of the dialogue; `answer` is None when the turn is not about viewings."""

    def __init__(self, request: ReplyRequest, tools: ToolRunner, language: str, latest: str):
        self.request = request
        self.tools = tools
        self.language = language
        self.latest = latest
        self.now = utcnow()
        self.agent = request.persona.agent_name

    def _say(self, key: str) -> str:
        return wording.dialogue_text(key, self.language, agent_name=self.agent)

    async def answer(self, listing_named: uuid.UUID | None) -> Answer | None:
        """`listing_named`: the listing the customer's message names, if any."""
        booked = self.request.viewings[0] if self.request.viewings else None
        if booked is not None:
            intent = viewing_intent(self.latest, self.language)
            if intent == "cancel":
                return self._after(await self.tools.cancel_viewing(booked.id))
            if intent == "reschedule":
                return await self._offer(booked.property_id, moving=booked)
        offer = self.request.offer
        if offer is not None:
            chosen = await self._chosen(offer)
            if chosen is not None:
                return await self._book(offer, chosen)
            if await self._wanted(ZoneInfo(offer.zone)) is not None:
                moving = self._moving(offer)
                return await self._offer(offer.property_id, moving=moving)
        if not asks_for_viewing(self.latest, self.language):
            return None
        listing = listing_named or next(iter(self.request.listings), None)
        if listing is None:
            return Answer(self._say("which_listing"))
        return await self._offer(listing)

    def _moving(self, offer: SlotOffer) -> BookedViewing | None:
        return next((v for v in self.request.viewings if v.id == offer.viewing_id), None)

    async def _chosen(self, offer: SlotOffer) -> datetime | None:
        return await asyncio.to_thread(
            pick_slot,
            self.latest,
            offer.slots,
            zone=ZoneInfo(offer.zone),
            language=self.language,
            now=self.now,
        )

    async def _wanted(self, zone: ZoneInfo) -> WantedTime | None:
        return await asyncio.to_thread(
            wanted_time, self.latest, zone=zone, language=self.language, now=self.now
        )

    async def _book(self, offer: SlotOffer, chosen: datetime) -> Answer:
        if offer.viewing_id is not None:
            booking = await self.tools.reschedule_viewing(offer.viewing_id, chosen)
        else:
            name = self.request.contact_name.strip()
            booking = await self.tools.book_viewing(offer.property_id, chosen, name)
        if booking.status == "taken":
            again = await self._offer(
                offer.property_id, moving=self._moving(offer), after=chosen, lead="taken"
            )
            return again
        return self._after(booking)

    def _after(self, booking: Booking) -> Answer:
        # Booked, moved or cancelled: the customer's notice and invitation go by themselves.
        if booking.status in ("confirmed", "requested", "cancelled"):
            return Answer("")
        return Answer(self._say("arrange"))

    async def _offer(
        self,
        property_id: uuid.UUID,
        *,
        moving: BookedViewing | None = None,
        after: datetime | None = None,
        lead: str | None = None,
    ) -> Answer:
        """Two or three free times of the listing: on the day (and part of day) asked for when
        there are some, else the next ones from then, with a word that the day is full."""
        found = await self.tools.viewing_slots(property_id, limit=ALL_FREE)
        if found.refusal is not None or found.place is None:
            return Answer(self._say("arrange"))
        zone = ZoneInfo(found.zone)
        starts = [start for start in found.starts if after is None or start > after]
        wanted = await self._wanted(zone)
        if wanted is not None:
            fitting = [start for start in starts if wanted.start <= start < wanted.end]
            if fitting:
                return self._offered(
                    found, _spread(fitting, zone=zone, one_per_day=False), lead, moving
                )
            lead = lead or "none_then"
            starts = [start for start in starts if start >= wanted.start] or starts
        chosen = _spread(starts, zone=zone, one_per_day=True)
        if not chosen:
            return Answer(self._say("no_times"))
        return self._offered(found, chosen, lead, moving)

    def _offered(
        self,
        found: Slots,
        chosen: list[datetime],
        lead: str | None,
        moving: BookedViewing | None,
    ) -> Answer:
        assert found.place is not None
        text = wording.offer_text(
            chosen, zone=found.zone, place=found.place, language=self.language
        )
        if lead is not None:
            text = f"{self._say(lead)}\n{text}"
        offer = SlotOffer(
            property_id=found.property_id,
            title=found.title,
            zone=found.zone,
            slots=tuple(chosen),
            viewing_id=moving.id if moving is not None else None,
        )
        return Answer(text, offer)
