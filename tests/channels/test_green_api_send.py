"""GreenAPIAdapter against the loopback fake Green API: sends, retries, pacing, auth, state."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import traceback
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.fakes.green_api import QUOTA_EXCEEDED_BODY, FakeGreenAPI, run_fake_green_api
from whatsapp_assistant.channels.base import ChannelAdapter
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.green_api.adapter import GreenAPIAdapter, media_host
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import OutboundFile, OutboundMessage
from whatsapp_assistant.config import GreenAPISettings

TOKEN = "test-token"
WEBHOOK_TOKEN = "hook-secret-8d1f"
JAMES = "447700900123@c.us"
FAST = GreenAPISettings(backoff_seconds=0.01, max_attempts=3, sends_per_second=1000)


def make_channel(api_url: str, *, token: str = TOKEN, external_id: str = "1101823456") -> Channel:
    return Channel(
        type="green_api",
        external_id=external_id,
        api_url=api_url,
        api_token=token,
        webhook_token=WEBHOOK_TOKEN,
    )


def closed_port_url() -> str:
    """A loopback URL nobody listens on: the port was free a moment ago and is closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest_asyncio.fixture
async def adapter() -> AsyncIterator[GreenAPIAdapter]:
    adapter = GreenAPIAdapter(FAST)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def channel(fake_green_api: FakeGreenAPI) -> Channel:
    return make_channel(fake_green_api.base_url)


class TestGreenAPIAdapterShape:
    def test_satisfies_the_channel_adapter_protocol(self) -> None:
        adapter: ChannelAdapter = GreenAPIAdapter(FAST)
        assert adapter.name == "green_api"
        assert adapter.max_text_length == 20_000


class TestSendFile:
    @pytest.mark.asyncio
    async def test_a_file_goes_up_as_multipart_with_its_name_type_and_caption(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        content = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        file = OutboundFile(JAMES, "viewing.ics", "text/calendar", content, caption="See you")
        receipt = await adapter.send_file(channel, file)

        assert receipt.provider_message_id.startswith("3EB0")
        [request] = fake_green_api.requests
        assert request.method == "POST"
        assert request.path == "/waInstance1101823456/sendFileByUpload/test-token"
        [upload] = fake_green_api.sent_files
        assert upload["chatId"] == JAMES
        assert upload["caption"] == "See you"
        assert upload["file"] == ("viewing.ics", "text/calendar", content)

    @pytest.mark.asyncio
    async def test_a_refused_upload_is_a_send_error_without_the_token(
        self, adapter: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        channel = make_channel(fake_green_api.base_url, token="wrong-token")
        with pytest.raises(SendError) as caught:
            await adapter.send_file(channel, OutboundFile(JAMES, "a.ics", "text/calendar", b"x"))
        assert caught.value.status_code == 401
        assert "wrong-token" not in full_text(caught.value)
        assert fake_green_api.sent_files == []

    @pytest.mark.parametrize(
        ("api_url", "expected"),
        [
            ("https://1101.api.green-api.com", "https://1101.media.green-api.com"),
            ("https://api.green-api.com", "https://media.green-api.com"),
            ("https://api.greenapi.com", "https://media.greenapi.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ],
    )
    def test_uploads_go_to_the_instances_media_host(self, api_url: str, expected: str) -> None:
        assert media_host(api_url) == expected


class TestSendText:
    @pytest.mark.asyncio
    async def test_send_returns_the_fakes_id_and_posts_the_documented_request(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        receipt = await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="Olá!"))

        assert receipt.provider_message_id.startswith("3EB0")
        assert len(receipt.provider_message_id) == 20
        [request] = fake_green_api.requests
        assert request.method == "POST"
        assert request.path == f"/waInstance1101823456/sendMessage/{TOKEN}"
        assert request.json == {"chatId": JAMES, "message": "Olá!"}
        assert request.headers["user-agent"] == "whatsapp-assistant"
        assert fake_green_api.sent_messages == [{"chatId": JAMES, "message": "Olá!"}]

    @pytest.mark.asyncio
    async def test_quoted_id_is_sent_as_quoted_message_id(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        outbound = OutboundMessage(chat_id=JAMES, text="Yes!", quoted_id="3EB0C767D097B7C7C030")
        await adapter.send_text(channel, outbound)
        assert fake_green_api.sent_messages[0]["quotedMessageId"] == "3EB0C767D097B7C7C030"

    @pytest.mark.asyncio
    async def test_text_of_exactly_the_limit_is_sent(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="a" * 20_000))
        assert len(fake_green_api.sent_messages) == 1

    @pytest.mark.asyncio
    async def test_text_over_the_limit_raises_before_any_request(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        with pytest.raises(ValueError, match="split"):
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="a" * 20_001))
        assert fake_green_api.requests == []

    @pytest.mark.asyncio
    async def test_rate_limited_send_is_retried_and_delivered_once(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(429)
        receipt = await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert len(fake_green_api.requests) == 2
        assert len(fake_green_api.sent_messages) == 1
        assert receipt.provider_message_id.startswith("3EB0")

    @pytest.mark.asyncio
    @pytest.mark.parametrize("status", [502, 503])
    async def test_server_errors_are_retried_until_success(
        self,
        adapter: GreenAPIAdapter,
        channel: Channel,
        fake_green_api: FakeGreenAPI,
        status: int,
    ) -> None:
        fake_green_api.fail_next(status, count=2)
        await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert len(fake_green_api.requests) == 3
        assert len(fake_green_api.sent_messages) == 1

    @pytest.mark.asyncio
    async def test_persistent_server_errors_give_a_retryable_error_after_the_bound(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(503, count=10)
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert caught.value.retryable
        assert caught.value.status_code == 503
        assert len(fake_green_api.requests) == FAST.max_attempts

    @pytest.mark.asyncio
    async def test_invalid_request_is_not_retried_and_says_why(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id="+351 912", text="hi"))
        assert not caught.value.retryable
        assert caught.value.status_code == 400
        assert "'chatId' must be one of the next formats" in str(caught.value)
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    async def test_wrong_token_is_not_retried(
        self, adapter: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        channel = make_channel(fake_green_api.base_url, token="wrong-token")
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert (caught.value.status_code, caught.value.retryable) == (401, False)
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    async def test_wrong_instance_is_not_retried(
        self, adapter: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        channel = make_channel(fake_green_api.base_url, external_id="9999999999")
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert (caught.value.status_code, caught.value.retryable) == (403, False)
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    @pytest.mark.parametrize("status", [400, 401, 403, 404, 466])
    async def test_refused_statuses_are_not_retried(
        self,
        adapter: GreenAPIAdapter,
        channel: Channel,
        fake_green_api: FakeGreenAPI,
        status: int,
    ) -> None:
        fake_green_api.fail_next(status, body=QUOTA_EXCEEDED_BODY if status == 466 else None)
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert (caught.value.status_code, caught.value.retryable) == (status, False)
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    async def test_quota_error_carries_the_providers_description(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(466, body=QUOTA_EXCEEDED_BODY)
        with pytest.raises(SendError, match="Monthly quota has been exceeded"):
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))

    @pytest.mark.asyncio
    async def test_server_that_is_down_gives_a_retryable_error_after_the_bound(
        self, adapter: GreenAPIAdapter
    ) -> None:
        channel = make_channel(closed_port_url())
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert caught.value.retryable
        assert caught.value.status_code is None
        assert f"after {FAST.max_attempts} attempts" in str(caught.value)

    @pytest.mark.asyncio
    @pytest.mark.parametrize("status", [499, 500, 504])
    async def test_answers_that_may_have_been_executed_are_not_resent_at_once(
        self,
        adapter: GreenAPIAdapter,
        channel: Channel,
        fake_green_api: FakeGreenAPI,
        status: int,
    ) -> None:
        fake_green_api.fail_next(status, count=2)
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert caught.value.retryable
        assert caught.value.ambiguous
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    async def test_timeout_is_not_resent_at_once(
        self, fake_green_api: FakeGreenAPI, channel: Channel
    ) -> None:
        adapter = GreenAPIAdapter(FAST.model_copy(update={"timeout_seconds": 0.2}))
        fake_green_api.delay_next(1.0)
        try:
            with pytest.raises(SendError) as caught:
                await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        finally:
            await adapter.aclose()
        # The timed-out request may still be executed (docs/providers.md, G9): one request only; the
        # outbox decides later, after the echo webhook had its chance.
        assert caught.value.ambiguous
        assert len(fake_green_api.requests) == 1

    @pytest.mark.asyncio
    async def test_channel_without_token_fails_without_a_request(
        self, adapter: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        channel = make_channel(fake_green_api.base_url, token="")
        with pytest.raises(SendError) as caught:
            await adapter.send_text(channel, OutboundMessage(chat_id=JAMES, text="hi"))
        assert not caught.value.retryable
        assert fake_green_api.requests == []


class TestSendTextKeepsTheTokenSecret:
    @pytest.mark.asyncio
    @pytest.mark.parametrize("failure", ["validation", "unauthorized", "server", "down"])
    async def test_token_never_appears_in_errors_or_logs(
        self,
        adapter: GreenAPIAdapter,
        caplog: pytest.LogCaptureFixture,
        failure: str,
    ) -> None:
        secret_token = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
        with run_fake_green_api(token=secret_token) as fake:
            url = closed_port_url() if failure == "down" else fake.base_url
            token = "b" * 32 if failure == "unauthorized" else secret_token
            chat_id = "not-a-chat" if failure == "validation" else JAMES
            if failure == "server":
                fake.fail_next(500, count=5, body={"message": f"boom at {fake.base_url}"})
            caplog.set_level(logging.DEBUG)
            with pytest.raises(SendError) as caught:
                await adapter.send_text(
                    make_channel(url, token=token), OutboundMessage(chat_id=chat_id, text="hi")
                )
        for text in (str(caught.value), repr(caught.value), full_text(caught.value), caplog.text):
            assert token not in text
            assert secret_token not in text


class TestSendTextPacing:
    @pytest.mark.asyncio
    async def test_sends_to_one_instance_are_spaced_by_the_configured_rate(
        self, fake_green_api: FakeGreenAPI, channel: Channel
    ) -> None:
        adapter = GreenAPIAdapter(FAST.model_copy(update={"sends_per_second": 20}))
        started = time.monotonic()
        try:
            await asyncio.gather(
                *(adapter.send_text(channel, OutboundMessage(JAMES, f"m{i}")) for i in range(5))
            )
        finally:
            await adapter.aclose()
        assert time.monotonic() - started >= 4 * 0.05 - 0.01
        assert len(fake_green_api.sent_messages) == 5

    @pytest.mark.asyncio
    async def test_instances_are_paced_independently(self) -> None:
        adapter = GreenAPIAdapter(FAST.model_copy(update={"sends_per_second": 1}))
        with (
            run_fake_green_api(id_instance="1101000001") as first,
            run_fake_green_api(id_instance="1101000002") as second,
        ):
            channels = [
                make_channel(first.base_url, external_id="1101000001"),
                make_channel(second.base_url, external_id="1101000002"),
            ]
            started = time.monotonic()
            try:
                await asyncio.gather(
                    *(adapter.send_text(ch, OutboundMessage(JAMES, "hi")) for ch in channels)
                )
            finally:
                await adapter.aclose()
        assert time.monotonic() - started < 0.9
        assert len(first.sent_messages) == len(second.sent_messages) == 1


class TestAuthenticate:
    @pytest.fixture
    def channel(self) -> Channel:
        return make_channel("http://unused")

    @pytest.mark.parametrize(
        "headers",
        [
            {"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            {"authorization": f"Bearer {WEBHOOK_TOKEN}"},
            {"Authorization": f"bearer {WEBHOOK_TOKEN}"},
        ],
    )
    def test_right_bearer_token_is_accepted(
        self, channel: Channel, headers: dict[str, str]
    ) -> None:
        assert GreenAPIAdapter(FAST).authenticate(channel, headers, b"{}")

    def test_case_insensitive_header_maps_work(self, channel: Channel) -> None:
        headers = httpx.Headers({"AUTHORIZATION": f"Bearer {WEBHOOK_TOKEN}"})
        assert GreenAPIAdapter(FAST).authenticate(channel, headers, b"{}")

    @pytest.mark.parametrize(
        "headers",
        [
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {WEBHOOK_TOKEN}x"},
            {"Authorization": f"Basic {WEBHOOK_TOKEN}"},
            {"Authorization": WEBHOOK_TOKEN},
            {"Authorization": "Bearer "},
            {"Authorization": ""},
            {},
        ],
    )
    def test_wrong_missing_or_non_bearer_token_is_refused(
        self, channel: Channel, headers: dict[str, str]
    ) -> None:
        assert not GreenAPIAdapter(FAST).authenticate(channel, headers, b"{}")

    def test_channel_without_a_webhook_token_accepts_nothing(self, channel: Channel) -> None:
        channel.webhook_token = ""
        adapter = GreenAPIAdapter(FAST)
        assert not adapter.authenticate(channel, {"Authorization": "Bearer "}, b"{}")
        assert not adapter.authenticate(channel, {}, b"{}")


class TestGetState:
    @pytest.mark.asyncio
    async def test_returns_the_instance_state(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        assert await adapter.get_state(channel) == "authorized"
        [request] = fake_green_api.requests
        assert (request.method, request.path) == (
            "GET",
            f"/waInstance1101823456/getStateInstance/{TOKEN}",
        )

    @pytest.mark.asyncio
    async def test_reports_a_lost_link(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.state_instance = "notAuthorized"
        assert await adapter.get_state(channel) == "notAuthorized"

    @pytest.mark.asyncio
    async def test_wrong_token_raises(
        self, adapter: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        channel = make_channel(fake_green_api.base_url, token="nope")
        with pytest.raises(SendError) as caught:
            await adapter.get_state(channel)
        assert caught.value.status_code == 401


class TestAclose:
    @pytest.mark.asyncio
    async def test_closes_the_client_it_made(self) -> None:
        adapter = GreenAPIAdapter(FAST)
        await adapter.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await adapter.send_text(make_channel(closed_port_url()), OutboundMessage(JAMES, "x"))

    @pytest.mark.asyncio
    async def test_leaves_an_injected_client_open(self, fake_green_api: FakeGreenAPI) -> None:
        async with httpx.AsyncClient() as client:
            adapter = GreenAPIAdapter(FAST, client=client)
            await adapter.aclose()
            assert not client.is_closed
            channel = make_channel(fake_green_api.base_url)
            await adapter.send_text(channel, OutboundMessage(JAMES, "still works"))
        assert len(fake_green_api.sent_messages) == 1


class TestNotificationQueue:
    @pytest.mark.asyncio
    async def test_the_head_stays_until_deleted_then_the_queue_is_empty(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        receipt = fake_green_api.push_notification({"typeWebhook": "incomingMessageReceived"})

        first = await adapter.receive_notification(channel, wait_seconds=5)
        again = await adapter.receive_notification(channel, wait_seconds=5)
        assert first is not None and again is not None
        assert first.receipt_id == again.receipt_id == receipt
        assert first.body == {"typeWebhook": "incomingMessageReceived"}

        assert await adapter.delete_notification(channel, receipt) is True
        assert await adapter.delete_notification(channel, receipt) is False
        started = time.monotonic()
        assert await adapter.receive_notification(channel, wait_seconds=5) is None
        assert time.monotonic() - started >= 4  # it waited for one to come
        paths = [request.path for request in fake_green_api.requests]
        assert paths[0] == f"/waInstance1101823456/receiveNotification/{TOKEN}?receiveTimeout=5"
        assert paths[2] == f"/waInstance1101823456/deleteNotification/{TOKEN}/{receipt}"

    @pytest.mark.asyncio
    async def test_a_delete_whose_outcome_is_unknown_is_tried_again(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        receipt = fake_green_api.push_notification({"typeWebhook": "incomingMessageReceived"})
        fake_green_api.fail_next_delete(500)  # a send would not be repeated (G9); a delete is

        assert await adapter.delete_notification(channel, receipt) is True
        assert fake_green_api.deleted_receipts == [receipt]

    @pytest.mark.asyncio
    async def test_the_journal_lists_the_window_newest_first(
        self, adapter: GreenAPIAdapter, channel: Channel, fake_green_api: FakeGreenAPI
    ) -> None:
        now = int(time.time())
        for minutes_ago in (90, 20, 5):
            fake_green_api.add_incoming(
                {"idMessage": f"M{minutes_ago}", "timestamp": now - minutes_ago * 60}
            )

        entries = await adapter.last_incoming_messages(channel, minutes=60)

        assert [entry["idMessage"] for entry in entries] == ["M5", "M20"]
