"""ChannelAdapter: what every WhatsApp provider (Green API, Meta, simulator) offers the product."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import OutboundMessage, ParsedWebhook, SendReceipt


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

    async def aclose(self) -> None: ...
