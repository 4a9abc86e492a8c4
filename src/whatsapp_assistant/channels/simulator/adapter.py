"""The simulator channel: a customer's phone played by the CLI or a page; no WhatsApp needed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import (
    OutboundFile,
    OutboundImage,
    OutboundLocation,
    OutboundMessage,
    ParsedWebhook,
    SendReceipt,
)
from whatsapp_assistant.kit.ids import new_token

SIMULATOR_EXTERNAL_PREFIX = "sim-"


class SimulatorAdapter:
    """Sends succeed at once: the 'phone' reads the reply from the conversation itself."""

    name = "simulator"
    max_text_length = 20_000

    def parse_webhook(self, payload: Any) -> ParsedWebhook:
        raise PayloadError("the simulator has no webhook; post to /api/v1/simulator/messages")

    def authenticate(self, channel: Channel, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    async def send_text(self, channel: Channel, message: OutboundMessage) -> SendReceipt:
        return SendReceipt(provider_message_id="SIM" + new_token(nbytes=12))

    async def send_file(self, channel: Channel, file: OutboundFile) -> SendReceipt:
        return SendReceipt(provider_message_id="SIM" + new_token(nbytes=12))

    async def send_image(self, channel: Channel, image: OutboundImage) -> SendReceipt:
        return SendReceipt(provider_message_id="SIM" + new_token(nbytes=12))

    async def send_location(self, channel: Channel, location: OutboundLocation) -> SendReceipt:
        return SendReceipt(provider_message_id="SIM" + new_token(nbytes=12))

    async def aclose(self) -> None:
        return None
