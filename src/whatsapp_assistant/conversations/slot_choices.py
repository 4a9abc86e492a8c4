"""Offered viewing times as a choice to tap (a Meta list), and a tap read back as the choice it
names: the offered time, or a clear answer when the list it came from is no longer the offer
(docs/decisions.md, 33)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import select

from whatsapp_assistant.ai.types import SlotOffer, Turn
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.outbox import CHOICE
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.snapshot import OFFER, Snapshot, offer_data, offer_of
from whatsapp_assistant.scheduling import wording

ROW_PREFIX = "slot:"
MAX_ROWS = 10
TAPPED = "button_reply"  # the kind of an inbound tap on a button or list row (meta payloads)


def row_id(property_id: uuid.UUID, starts_at: datetime) -> str:
    """`slot:<listing>:<UTC start>`: names the time and the listing, whatever list it was in."""
    return f"{ROW_PREFIX}{property_id}:{starts_at.isoformat()}"


def _named(selected: str) -> tuple[uuid.UUID, datetime] | None:
    if not selected.startswith(ROW_PREFIX):
        return None
    listing, _, start = selected[len(ROW_PREFIX) :].partition(":")
    try:
        starts_at = datetime.fromisoformat(start)
        return uuid.UUID(listing), starts_at
    except ValueError:
        return None


def with_choice(data: dict[str, object], *, language: str) -> dict[str, object]:
    """A reply's data with its offer as a choice beside its text: one row per offered time."""
    offer = offer_of(data)
    if offer is None or not 1 <= len(offer.slots) <= MAX_ROWS:
        return data  # a list holds at most 10 rows (docs/providers.md, M12): the text says it
    rows = [
        {
            "id": row_id(offer.property_id, start),
            "title": wording.slot_label(start, offer.zone, language),
            "description": offer.title,
        }
        for start in offer.slots
    ]
    button = wording.dialogue_text("offer_button", language)
    return data | {CHOICE: {"button": button, "rows": rows}}


@dataclasses.dataclass(frozen=True)
class StaleTap:
    """The answer to a tap on a time that is not in the offer: said, the offer kept."""

    text: str
    data: dict[str, object]


async def read_tap(runtime: Runtime, snapshot: Snapshot) -> Snapshot | StaleTap:
    """When the newest message is a tap on a time row: the offered time it names, as its number
    in the offer (what scheduling/choice.py and a model both read against the numbered text),
    or a StaleTap when the offer does not hold that listing at that time. Any other message is
    left as it is; only a reply to an offer pays the read."""
    offer = snapshot.request.offer
    if offer is None or not snapshot.pending_ids:
        return snapshot
    async with runtime.db.session_scope() as session:
        row = (
            await session.execute(
                select(Message.kind, Message.data).where(Message.id == snapshot.pending_ids[-1])
            )
        ).one_or_none()
    if row is None or row.kind != TAPPED:
        return snapshot
    named = _named(str((row.data or {}).get("selected_id") or ""))
    if named is None:
        return snapshot
    position = _position(offer, *named)
    if position is None:
        text = wording.dialogue_text("stale_choice", snapshot.language)
        return StaleTap(text, {OFFER: offer_data(offer), "stale_choice": True})
    return _answered_with(snapshot, str(position))


def _position(offer: SlotOffer, property_id: uuid.UUID, starts_at: datetime) -> int | None:
    if property_id != offer.property_id or starts_at.tzinfo is None:
        return None
    return next((n for n, slot in enumerate(offer.slots, 1) if slot == starts_at), None)


def _answered_with(snapshot: Snapshot, text: str) -> Snapshot:
    """The snapshot with the customer's newest turn read as `text` (the thread keeps the tap's
    title)."""
    history: list[Turn] = list(snapshot.request.history)
    for index in range(len(history) - 1, -1, -1):
        if history[index].role == "user":
            history[index] = dataclasses.replace(history[index], text=text)
            break
    request = dataclasses.replace(snapshot.request, history=history)
    return dataclasses.replace(snapshot, request=request, pending_text=text)
