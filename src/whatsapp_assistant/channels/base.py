"""ChannelAdapter: what every WhatsApp provider (Green API, Meta, simulator) offers the product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import (
    DownloadedMedia,
    MediaRef,
    OutboundChoice,
    OutboundFile,
    OutboundImage,
    OutboundLocation,
    OutboundMessage,
    OutboundTemplate,
    ParsedWebhook,
    SendReceipt,
    TemplateInfo,
)


class ChannelAdapter(Protocol):
    name: str
    max_text_length: int

    def parse_webhook(self, payload: Any) -> ParsedWebhook:
        """Turn a decoded JSON body into events; PayloadError when it cannot be identified."""
        ...

    def authenticate(self, channel: Channel, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the request really comes from the provider for this channel."""
        ...

    async def send_text(self, channel: Channel, message: OutboundMessage) -> SendReceipt:
        """Send one text (at most max_text_length); raises SendError."""
        ...

    async def send_file(self, channel: Channel, file: OutboundFile) -> SendReceipt:
        """Send one file as a document, its caption under it; raises SendError."""
        ...

    async def send_image(self, channel: Channel, image: OutboundImage) -> SendReceipt:
        """Send one photo, its caption under it; raises SendError."""
        ...

    async def send_location(self, channel: Channel, location: OutboundLocation) -> SendReceipt:
        """Send one location pin; raises SendError."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class MarksRead(Protocol):
    """An adapter that can show the customer their message was read (Meta's can)."""

    async def mark_read(self, channel: Channel, provider_message_id: str) -> None: ...


@runtime_checkable
class SendsTemplates(Protocol):
    """An adapter whose provider takes free-form messages only within `service_window` of the
    customer's last message, and approved templates at any time (Meta's; docs/providers.md, M9).
    An adapter without it has no window: everything may go at any time."""

    service_window: timedelta

    async def send_template(self, channel: Channel, template: OutboundTemplate) -> SendReceipt:
        """Send one approved template; raises SendError (Graph's refusal, e.g. 132001)."""
        ...

    async def list_templates(self, channel: Channel) -> Sequence[TemplateInfo]:
        """Every template of the channel's business account, with its approval state."""
        ...


@runtime_checkable
class DownloadsMedia(Protocol):
    """An adapter that can fetch a file a customer (or the agent's phone) sent: Green API's and
    Meta's (docs/providers.md, G21, M11). The simulator has no files, so no such capability."""

    async def download_media(
        self, channel: Channel, ref: MediaRef, *, max_bytes: int
    ) -> DownloadedMedia:
        """The file's bytes; MediaTooLarge once past `max_bytes` (reading stops there),
        DownloadError when the provider does not hand it over."""
        ...


@runtime_checkable
class SendsInteractive(Protocol):
    """An adapter that can send a list the customer taps a choice in (Meta's; docs/providers.md,
    M12). Without it a choice goes as the text it carries, which names the choices too."""

    async def send_interactive(self, channel: Channel, choice: OutboundChoice) -> SendReceipt:
        """Send one list message; its texts trimmed to the provider's limits; raises SendError."""
        ...
