"""Scheduling errors with stable codes; a taken slot carries the next free ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from typing_extensions import override

from whatsapp_assistant.errors import Conflict, Invalid, NotFound


class ViewingNotFound(NotFound):
    code = "viewing_not_found"


class ListingNotFound(NotFound):
    """No listing of the account's with this id (another account's reads the same)."""

    code = "property_not_found"


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class ViewingsOff(Conflict):
    """The listing's `viewings` setting is off: nobody books it."""

    code = "viewings_off"


class SlotNotOffered(Invalid):
    """A time the account does not offer (outside its viewing slots, a date off, too soon)."""

    code = "slot_not_offered"


class SlotTaken(Conflict):
    """Another active viewing holds the time; `next_slots` are the free starts after it."""

    code = "slot_taken"

    def __init__(self, message: str, *, next_slots: Sequence[datetime]) -> None:
        super().__init__(message, field="starts_at")
        self.next_slots = list(next_slots)

    @override
    def details(self) -> dict[str, object]:
        return {"next_slots": [slot.isoformat() for slot in self.next_slots]}


class TransitionRefused(Conflict):
    """The viewing's status does not allow this change (confirming a cancelled one, ...)."""

    code = "viewing_transition_refused"
