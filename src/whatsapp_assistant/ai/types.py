"""The provider-neutral shapes of the AI: a reply request in, a reply draft out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from whatsapp_assistant.accounts.models import Persona

Role = Literal["user", "assistant"]
HandoffReason = Literal["negotiation", "objection", "legal", "financing", "human_request", "other"]
HANDOFF_REASONS: tuple[HandoffReason, ...] = (
    "negotiation",
    "objection",
    "legal",
    "financing",
    "human_request",
    "other",
)


@dataclass(frozen=True)
class ToolSpec:
    """One tool as name, description and a JSON-Schema object; providers wrap it in their shape."""

    name: str
    description: str
    parameters: dict[str, object]


@dataclass(frozen=True)
class ImagePart:
    """A picture the customer sent, as its stored bytes: Claude and OpenAI-compatible models see
    it beside the turn's text (an image block; a data URL)."""

    mime: str  # image/jpeg, image/png, image/webp or image/gif: what both APIs take
    data: bytes


@dataclass(frozen=True)
class Turn:
    """One message of the conversation: the customer ("user") or the agent/AI ("assistant")."""

    role: Role
    text: str
    images: tuple[ImagePart, ...] = ()  # the customer's pictures, oldest first


@dataclass(frozen=True)
class PersonaSpec:
    style: str = "friendly"  # professional | friendly | casual | premium
    agent_name: str = ""
    agency_name: str = ""
    custom_instructions: str = ""
    default_language: str | None = None

    @classmethod
    def from_model(cls, persona: Persona) -> PersonaSpec:
        return cls(
            style=persona.style,
            agent_name=persona.agent_name,
            agency_name=persona.agency_name,
            custom_instructions=persona.custom_instructions,
            default_language=persona.default_language,
        )


@dataclass(frozen=True)
class SlotOffer:
    """Viewing times offered to the customer in the newest message, in the order shown, so the
    answer ("the second one", "sábado às 11") is read against them. `viewing_id` is set when
    the offer moves a booked viewing instead of booking a new one."""

    property_id: uuid.UUID
    title: str
    zone: str
    slots: tuple[datetime, ...]
    viewing_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BookedViewing:
    """An active viewing of this conversation: what the customer may cancel or move."""

    id: uuid.UUID
    property_id: uuid.UUID
    title: str
    starts_at: datetime
    status: str  # requested | confirmed
    zone: str  # the account's, in which the time is said


@dataclass(frozen=True)
class ReplyRequest:
    """History ends with the customer's newest message(s); same-role runs are merged later."""

    persona: PersonaSpec
    history: list[Turn]
    contact_name: str = ""
    # The conversation's language (conversations/language.py), None until it is known; pinned
    # when the agent chose it.
    language: str | None = None
    language_pinned: bool = False
    # Listings the assistant named before, newest reply first: "the flat" refers to them.
    listings: tuple[uuid.UUID, ...] = ()
    offer: SlotOffer | None = None
    viewings: tuple[BookedViewing, ...] = ()
    # None: answer the customer. FOLLOWUP: the history ends with the assistant's own message
    # that the customer left unanswered; write to them again (conversations/scheduled).
    task: str | None = None


FOLLOWUP = "followup"


@dataclass(frozen=True)
class ToolCall:
    """A tool the model (or the offline rules) ran, with what it returned."""

    name: str
    arguments: dict[str, object]
    result_text: str
    is_error: bool = False


@dataclass(frozen=True)
class Handoff:
    reason: str  # one of HANDOFF_REASONS
    detail: str


@dataclass(frozen=True)
class ReplyDraft:
    """What the AI would say. `handoff` set means: hand the conversation to the agent."""

    text: str
    provider: str
    model: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    handoff: Handoff | None = None
    offline: bool = False
    offer: SlotOffer | None = None  # viewing times this reply offers
