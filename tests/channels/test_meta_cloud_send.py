"""MetaCloudAdapter against the fake Graph over real HTTP: texts, files, read marks, the
connection check, and which failures are retried."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.fakes.meta_graph import FakeMetaGraph, signature
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.meta_cloud.adapter import MetaCloudAdapter
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import OutboundFile, OutboundMessage
from whatsapp_assistant.config import MetaCloudSettings

SECRET = "app-secret-for-signatures"


def _channel(graph: FakeMetaGraph, **changes: object) -> Channel:
    values: dict[str, object] = {
        "account_id": uuid.uuid4(),
        "type": "meta_cloud",
        "external_id": graph.phone_number_id,
        "api_url": graph.base_url,
        "api_token": graph.token,
        "webhook_token": SECRET,
    }
    return Channel(**(values | changes))


@pytest.fixture
async def adapter() -> AsyncIterator[MetaCloudAdapter]:
    made = MetaCloudAdapter(MetaCloudSettings(backoff_seconds=0.01, max_attempts=3))
    yield made
    await made.aclose()


class TestSendText:
    async def test_a_phone_chat_goes_to_the_number_and_returns_the_wamid(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        message = OutboundMessage(chat_id="351912345678@c.us", text="Olá Ana!", quoted_id="wamid.Q")
        receipt = await adapter.send_text(_channel(fake_meta_graph), message)
        [sent] = fake_meta_graph.sent_messages
        assert sent["to"] == "+351912345678" and "recipient" not in sent
        assert sent["text"]["body"] == "Olá Ana!"
        assert sent["context"] == {"message_id": "wamid.Q"}
        assert receipt.provider_message_id.startswith("wamid.")
        request = fake_meta_graph.requests[0]
        assert request.headers["authorization"] == f"Bearer {fake_meta_graph.token}"
        assert request.path == f"/v26.0/{fake_meta_graph.phone_number_id}/messages"

    async def test_a_user_id_chat_goes_as_recipient(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        message = OutboundMessage(chat_id="PT.1502576394655843", text="Olá!")
        await adapter.send_text(_channel(fake_meta_graph), message)
        [sent] = fake_meta_graph.sent_messages
        assert sent["recipient"] == "PT.1502576394655843" and "to" not in sent

    async def test_a_text_over_metas_limit_is_a_bug_of_the_caller(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        with pytest.raises(ValueError, match="4096"):
            await adapter.send_text(
                _channel(fake_meta_graph), OutboundMessage(chat_id="1@c.us", text="x" * 4097)
            )
        assert fake_meta_graph.requests == []

    async def test_a_refused_token_is_not_retried_and_not_repeated(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        channel = _channel(fake_meta_graph, api_token="a-revoked-token-123")
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id="351912345678@c.us", text="x"))
        assert (caught.value.status_code, caught.value.retryable) == (401, False)
        assert "a-revoked-token-123" not in caught.value.message
        assert len(fake_meta_graph.requests) == 1

    async def test_throttling_is_retried_until_graph_takes_it(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        fake_meta_graph.fail_next(400, 130429, count=2, message="Rate limit hit")
        receipt = await adapter.send_text(
            _channel(fake_meta_graph), OutboundMessage(chat_id="351912345678@c.us", text="x")
        )
        assert receipt.provider_message_id.startswith("wamid.")
        assert len(fake_meta_graph.requests) == 3

    async def test_a_server_fault_on_a_send_is_handed_back_without_a_second_try(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        fake_meta_graph.fail_next(500, 131000, message="Something went wrong")
        with pytest.raises(SendError) as caught:
            await adapter.send_text(
                _channel(fake_meta_graph), OutboundMessage(chat_id="351912345678@c.us", text="x")
            )
        assert (caught.value.retryable, caught.value.ambiguous) == (True, True)
        assert len(fake_meta_graph.requests) == 1

    async def test_an_invalid_parameter_is_not_retried(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        with pytest.raises(SendError) as caught:
            await adapter.send_text(
                _channel(fake_meta_graph), OutboundMessage(chat_id="not-a-chat", text="x")
            )
        assert (caught.value.status_code, caught.value.retryable) == (400, False)
        assert "recipient" in caught.value.message


class TestFilesReadMarksAndState:
    async def test_a_file_is_uploaded_then_sent_as_a_document_by_id(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        invite = OutboundFile(
            chat_id="351912345678@c.us",
            filename="visita.ics",
            mime="text/calendar",
            content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            caption="A sua visita",
        )
        await adapter.send_file(_channel(fake_meta_graph), invite)
        [(media_id, (filename, mime, content))] = fake_meta_graph.uploads.items()
        assert (filename, mime, content) == ("visita.ics", "text/plain", invite.content)
        [sent] = fake_meta_graph.sent_messages
        assert sent["type"] == "document"
        assert sent["document"] == {
            "id": media_id,
            "filename": "visita.ics",
            "caption": "A sua visita",
        }

    async def test_mark_read_names_the_wamid(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        await adapter.mark_read(_channel(fake_meta_graph), "wamid.IN1")
        assert fake_meta_graph.read_marks == ["wamid.IN1"]
        assert fake_meta_graph.sent_messages == []

    async def test_the_state_check_asks_graph_for_the_number(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        assert await adapter.get_state(_channel(fake_meta_graph)) == "authorized"
        with pytest.raises(SendError) as caught:
            await adapter.get_state(_channel(fake_meta_graph, external_id="999"))
        assert caught.value.status_code == 400


class TestSignature:
    def test_only_the_hmac_of_the_raw_body_with_the_app_secret_passes(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        channel = _channel(fake_meta_graph)
        body = '{"object":"whatsapp_business_account","entry":[]} olá'.encode()
        good = {"X-Hub-Signature-256": signature(SECRET, body)}
        assert adapter.authenticate(channel, good, body)
        assert not adapter.authenticate(channel, good, body + b" ")
        assert not adapter.authenticate(
            channel, {"X-Hub-Signature-256": signature("other", body)}, body
        )
        assert not adapter.authenticate(channel, {}, body)
        sha1 = {"X-Hub-Signature-256": signature(SECRET, body).replace("sha256=", "sha1=")}
        assert not adapter.authenticate(channel, sha1, body)
        assert not adapter.authenticate(_channel(fake_meta_graph, webhook_token=""), good, body)
