"""A lastIncomingMessages entry read as the webhook Green API would have posted for it: the same
content and the same dedup key (docs/providers.md, G18)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conversations.harness import JAMES, customer_text
from whatsapp_assistant.channels.green_api.journal import as_webhook
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import InboundMessage

INSTANCE = "1101823456"


def entry(**content: Any) -> dict[str, Any]:
    return {
        "type": "incoming",
        "idMessage": "3EB0JOURNAL000000001",
        "timestamp": 1795000000,
        "chatId": JAMES,
        "senderId": JAMES,
        "senderName": "James",
        "senderContactName": "James Whitfield",
        **content,
    }


def read(journal_entry: dict[str, Any]) -> InboundMessage:
    [event] = parse_webhook(as_webhook(journal_entry, INSTANCE)).events
    assert isinstance(event, InboundMessage)
    return event


class TestJournalEntry:
    def test_has_the_dedup_key_of_the_webhook_for_the_same_message(self) -> None:
        webhook = customer_text("Hello", message_id="3EB0JOURNAL000000001")
        from_journal = entry(typeMessage="textMessage", textMessage="Hello")

        assert (
            parse_webhook(as_webhook(from_journal, INSTANCE)).dedup_key
            == parse_webhook(webhook).dedup_key
        )

    @pytest.mark.parametrize(
        ("content", "kind", "text"),
        [
            ({"typeMessage": "textMessage", "textMessage": "Any T2?"}, "text", "Any T2?"),
            (
                {
                    "typeMessage": "extendedTextMessage",
                    "extendedTextMessage": {"text": "See https://example.com/t2"},
                },
                "text",
                "See https://example.com/t2",
            ),
            (
                {
                    "typeMessage": "imageMessage",
                    "downloadUrl": "https://do.example/file.jpg",
                    "caption": "this one?",
                    "mimeType": "image/jpeg",
                },
                "image",
                "this one?",
            ),
            ({"typeMessage": "someFutureMessage"}, "unsupported", ""),
        ],
    )
    def test_reads_as_the_webhook_would(
        self, content: dict[str, Any], kind: str, text: str
    ) -> None:
        message = read(entry(**content))

        assert (message.kind, message.text) == (kind, text)
        assert (message.origin, message.chat_id) == ("customer", JAMES)
        assert message.sender_name == "James Whitfield"

    def test_a_file_keeps_its_download_link(self) -> None:
        message = read(
            entry(typeMessage="documentMessage", downloadUrl="https://do.example/plan.pdf")
        )
        assert message.media_url == "https://do.example/plan.pdf"
