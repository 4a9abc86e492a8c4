"""The provider-neutral shapes of the AI: a reply request in, a reply draft out."""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Turn:
    """One message of the conversation: the customer ("user") or the agent/AI ("assistant")."""

    role: Role
    text: str


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
class ReplyRequest:
    """History ends with the customer's newest message(s); same-role runs are merged later."""

    persona: PersonaSpec
    history: list[Turn]
    contact_name: str = ""
    # The conversation's language (conversations/language.py), None until it is known; pinned
    # when the agent chose it.
    language: str | None = None
    language_pinned: bool = False


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
