"""The only shapes other folders see of a channel: webhook events, outbound sends, receipts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Origin = Literal["customer", "phone", "api_echo"]
"""Who produced a message: the customer, the agent typing on the phone, or our own API send."""

DeliveryStatus = Literal["queued", "sending", "sent", "delivered", "read", "failed", "cancelled"]


@dataclass(frozen=True)
class InboundMessage:
    """A message seen in a chat: from the customer, the agent's phone, or the echo of our send."""

    origin: Origin
    chat_id: str
    provider_message_id: str
    timestamp: datetime
    kind: str  # text | image | video | audio | document | sticker | location | contact | reaction
    text: str = ""
    sender_id: str | None = None
    sender_name: str = ""
    chat_name: str = ""
    is_group: bool = False
    media_url: str | None = None
    media_mime: str | None = None
    reply_to: str | None = None  # provider id of the quoted / reacted-to message
    data: dict[str, Any] = field(default_factory=dict)  # location, contact card, quoted text, ...
    undecryptable: bool = False  # {{SWE001}} / {{SWE003}}: never shown to the AI

    @property
    def answerable(self) -> bool:
        """Whether a customer message of this kind may get an AI reply (not reactions, stickers)."""
        return (
            self.origin == "customer"
            and not self.is_group
            and self.kind not in {"reaction", "sticker", "unsupported", "poll_update"}
        )


@dataclass(frozen=True)
class MessageEdit:
    origin: Origin
    chat_id: str
    provider_message_id: str  # the edit notification's own id
    target_id: str  # stanzaId of the edited message
    new_text: str
    timestamp: datetime


@dataclass(frozen=True)
class MessageDelete:
    origin: Origin
    chat_id: str
    provider_message_id: str
    target_id: str
    timestamp: datetime


@dataclass(frozen=True)
class StatusUpdate:
    chat_id: str
    provider_message_id: str
    status: str  # sent | delivered | read | failed | noAccount | notInGroup | yellowCard
    timestamp: datetime
    description: str = ""


@dataclass(frozen=True)
class ChannelStateChange:
    state: str  # authorized | notAuthorized | blocked | sleepMode | starting | yellowCard
    timestamp: datetime


@dataclass(frozen=True)
class CallNotice:
    chat_id: str
    provider_message_id: str
    status: str
    timestamp: datetime


@dataclass(frozen=True)
class Ignored:
    """A notification we accept (answer 200) but do not act on: logged with its reason."""

    reason: str


ChannelEvent = (
    InboundMessage
    | MessageEdit
    | MessageDelete
    | StatusUpdate
    | ChannelStateChange
    | CallNotice
    | Ignored
)


@dataclass(frozen=True)
class ParsedWebhook:
    """One webhook body: which channel it is for, its raw-log dedup key and the events it holds."""

    external_id: str  # Green API idInstance (as a string), Meta phone_number_id, ...
    event_type: str
    dedup_key: str | None
    events: list[ChannelEvent]


@dataclass(frozen=True)
class OutboundMessage:
    chat_id: str
    text: str
    quoted_id: str | None = None


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
