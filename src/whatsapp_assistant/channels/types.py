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
    # The customer's number ("+351…") when the chat id is not one: Meta keys a customer by a
    # business-scoped user id and may send no number at all (docs/providers.md, M2).
    phone: str | None = None

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
    # Meta's pricing of the message, on one of its statuses (docs/providers.md, M9): the
    # category ("service", "utility", ...) when Meta bills it, "" otherwise.
    billable_category: str = ""
    pricing_model: str = ""


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

    external_id: str  # Green API idInstance (as a string), Meta phone_number_id ("" if none)
    event_type: str
    dedup_key: str | None
    events: list[ChannelEvent]


@dataclass(frozen=True)
class OutboundMessage:
    chat_id: str
    text: str
    quoted_id: str | None = None


@dataclass(frozen=True)
class OutboundFile:
    """A file sent as a document, e.g. a viewing's `.ics` invitation, with an optional caption."""

    chat_id: str
    filename: str
    mime: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class OutboundTemplate:
    """An approved template with its body parameters, in body order; `parameter_names` for a
    named template (docs/providers.md, M9)."""

    chat_id: str
    name: str
    language: str
    parameters: tuple[str, ...]
    parameter_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateInfo:
    """One template as the provider lists it: its approval state and its body's parameters."""

    name: str
    language: str
    status: str  # APPROVED, PENDING, REJECTED, PAUSED, ...
    category: str
    body: str
    parameter_names: tuple[str, ...]  # named templates' names in body order
    parameter_count: int

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"


@dataclass(frozen=True)
class OutboundImage:
    """A photo, by a URL the provider fetches itself, or by its bytes (`content`, then `url` is
    only where it came from); the caption under it (docs/decisions.md, 29)."""

    chat_id: str
    url: str
    filename: (
        str  # with its extension: Green API decides the kind of file by it (docs/providers.md, G20)
    )
    caption: str = ""
    content: bytes | None = None
    mime: str = "image/jpeg"


@dataclass(frozen=True)
class OutboundLocation:
    """A location pin: where a place is, with its name and address under it."""

    chat_id: str
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


@dataclass(frozen=True)
class ChoiceRow:
    """One choice of a list message: the id a tap answers with, and what the row shows."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class OutboundChoice:
    """A message the customer answers by tapping one of `rows` (Meta's interactive list,
    docs/providers.md, M12); `button` opens the list, `body` is the message's text."""

    chat_id: str
    body: str
    button: str
    rows: tuple[ChoiceRow, ...]
    header: str = ""


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str


@dataclass(frozen=True)
class Notification:
    """One notification of a provider's queue (Green API's polling mode, docs/providers.md,
    G17): `body` is what a webhook would have carried, read as a webhook body is."""

    receipt_id: int
    body: object


@dataclass(frozen=True)
class MediaRef:
    """What names a received file at its provider: Green API's downloadUrl and, for a fresh
    link, the chat and message id (docs/providers.md, G21); Meta's media id (M11)."""

    chat_id: str
    provider_message_id: str
    url: str | None = None
    media_id: str | None = None
    mime: str | None = None  # as the provider claimed it: checked again against the bytes
    filename: str = ""  # the sender's own name for it, never used on disk


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    mime: str  # the provider's Content-Type or claim, parameters and all; "" when none
    filename: str = ""
