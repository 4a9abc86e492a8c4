"""Green API sample webhooks and builders shared by the payload tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import InboundMessage, ParsedWebhook

# The repo keeps its own copy so a fresh clone runs; FIXTURES_DIR may point at another root
# (e.g. ../shared/fixtures). The copy is checked against ../shared when that checkout exists.
REPO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURES_DIR = Path(os.environ.get("FIXTURES_DIR", str(REPO_FIXTURES))) / "greenapi"
FIXTURE_NAMES = sorted(path.name for path in FIXTURES_DIR.glob("*.json"))

INSTANCE = {"idInstance": 1101823456, "wid": "351210000000@c.us", "typeInstance": "whatsapp"}
BOT_REPLY_ID = "3EB0C767D097B7C7C030"
JAMES = "447700900123@c.us"
ANA = "351912345678@c.us"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))
    return data


def only_event(parsed: ParsedWebhook) -> Any:
    assert len(parsed.events) == 1
    return parsed.events[0]


def message(name: str) -> InboundMessage:
    event = only_event(parse_webhook(load(name)))
    assert isinstance(event, InboundMessage)
    return event


def webhook(message_data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """An incoming-message webhook around `message_data`; keywords override the envelope."""
    body: dict[str, Any] = {
        "typeWebhook": "incomingMessageReceived",
        "instanceData": dict(INSTANCE),
        "timestamp": 1795000000,
        "idMessage": "3EB0AAAABBBBCCCCDDDD",
        "senderData": {"chatId": ANA, "sender": ANA, "senderName": "Ana Ferreira"},
        "messageData": message_data,
    }
    body.update(envelope)
    return body


def parse_message(message_data: dict[str, Any], **envelope: Any) -> InboundMessage:
    event = only_event(parse_webhook(webhook(message_data, **envelope)))
    assert isinstance(event, InboundMessage)
    return event
