"""GET /api/v1/events: a webhook, the AI's reply and a takeover appear live, per account."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount, lifespan
from tests.conversations.harness import INSTANCE, WEBHOOK_TOKEN, fixture
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from tests.web.sse import REDIS_URL, EventReader, event_stream, serving, unique_prefix
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.infra.pubsub import InProcessPubSub
from whatsapp_assistant.web.realtime import EventStream


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """One web process on a real port, and a client of it."""
    async with (
        serving(create_app(settings)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        yield http


async def connect_green_api(
    http: httpx.AsyncClient, account: ApiAccount, green_api: FakeGreenAPI
) -> None:
    response = await http.post(
        "/api/v1/channels",
        headers=account.headers,
        json={
            "type": "green_api",
            "id_instance": INSTANCE,
            "api_token": green_api.token,
            "api_url": green_api.base_url,
            "webhook_token": WEBHOOK_TOKEN,
        },
    )
    assert response.status_code == 201, response.text


async def post_customer_message(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/webhooks/green-api",
        json=fixture("incoming_text"),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    )
    assert response.status_code == 200, response.text


def is_type(kind: str) -> Any:
    return lambda event: event["type"] == kind


async def expect_reply_loop(stream: EventReader) -> str:
    """Customer message, the AI's queued reply, then its tick to sent; the conversation id."""
    customer = await stream.expect(is_type("message"))
    assert customer["message"]["author"] == "customer"
    assert customer["message"]["text"].startswith("Hi! I'm moving to Lisbon")
    conversation_id: str = customer["conversation_id"]
    reply = await stream.expect(lambda e: e["type"] == "message" and e["message"]["author"] == "ai")
    assert reply["conversation_id"] == conversation_id
    assert reply["message"]["status"] == "queued"
    sent = await stream.expect(
        lambda e: e["type"] == "message_status" and e["message_id"] == reply["message"]["id"]
    )
    assert sent == {
        "type": "message_status",
        "conversation_id": conversation_id,
        "message_id": reply["message"]["id"],
        "status": "sent",
        "error": None,
    }
    return conversation_id


async def expect_takeover(
    http: httpx.AsyncClient, account: ApiAccount, stream: EventReader, conversation_id: str
) -> None:
    url = f"/api/v1/conversations/{conversation_id}/mode"
    taken = await http.post(url, headers=account.headers, json={"mode": "human"})
    assert taken.status_code == 200, taken.text
    changed = await stream.expect(is_type("conversation"))
    assert changed["conversation"]["id"] == conversation_id
    assert changed["conversation"]["mode"] == "human"
    assert changed["conversation"]["contact"]["chat_id"] == "447700900123@c.us"


@pytest.fixture(params=["in_process", "redis"])
def live_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "in_process":
        return settings  # REDIS_URL unset: the embedded default
    return tuned(settings, redis_url=REDIS_URL, redis_prefix=unique_prefix())


class TestEventStream:
    async def test_webhook_reply_and_takeover_arrive_live_on_the_accounts_streams_only(
        self,
        live_settings: Settings,
        api_account: ApiAccount,
        other_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with served(live_settings) as http:
            await connect_green_api(http, api_account, fake_green_api)
            async with (
                event_stream(http, api_account.headers) as stream,
                event_stream(http, api_account.headers) as second_screen,
                event_stream(http, other_account.headers) as other,
            ):
                await post_customer_message(http)
                conversation_id = await expect_reply_loop(stream)
                await expect_takeover(http, api_account, stream, conversation_id)
                # The second screen sees the takeover too (after the conversation's earlier
                # changes, such as its language being detected).
                taken = await second_screen.expect(
                    lambda event: (
                        event["type"] == "conversation" and event["conversation"]["mode"] == "human"
                    )
                )
                assert taken["conversation"]["id"] == conversation_id
                await other.expect_nothing()

    async def test_the_stream_needs_a_valid_api_key(
        self, settings: Settings, api_account: ApiAccount
    ) -> None:
        async with served(settings) as http:
            anonymous = await http.get("/api/v1/events")
            wrong = await http.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
        assert anonymous.status_code == 401
        assert wrong.status_code == 401


class TestTwoWebProcesses:
    async def test_an_event_caused_on_one_instance_reaches_a_stream_on_the_other(
        self, settings: Settings, api_account: ApiAccount, fake_green_api: FakeGreenAPI
    ) -> None:
        shared = tuned(settings, redis_url=REDIS_URL, redis_prefix=unique_prefix())
        instance_a = create_app(shared)
        async with (
            lifespan(instance_a),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=instance_a), base_url="http://a.test"
            ) as via_a,
            served(shared) as via_b,
        ):
            await connect_green_api(via_a, api_account, fake_green_api)
            async with event_stream(via_b, api_account.headers) as stream_on_b:
                await post_customer_message(via_a)
                conversation_id = await expect_reply_loop(stream_on_b)
                await expect_takeover(via_a, api_account, stream_on_b, conversation_id)


class TestEventStreamProtocol:
    """The stream's own duties, on the ASGI interface: heartbeats, framing, hanging up."""

    async def test_frames_events_sends_heartbeats_and_unsubscribes_on_disconnect(self) -> None:
        pubsub, account_id = InProcessPubSub(), uuid.uuid4()
        sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        hang_up = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await hang_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            await sent.put(message)

        stream = EventStream(pubsub, account_id, heartbeat_seconds=0.05)
        task = asyncio.create_task(stream({"type": "http"}, receive, send))
        start = await sent.get()
        headers = dict(start["headers"])
        assert headers[b"content-type"].startswith(b"text/event-stream")
        assert headers[b"x-accel-buffering"] == b"no"
        assert b"content-length" not in headers
        assert (await sent.get())["body"] == b"retry: 3000\n\n"
        assert (await sent.get())["body"] == b": keep-alive\n\n"
        await pubsub.publish(account_id, {"type": "message", "text": "olá"})
        body = await _next_body(sent, skip=b": keep-alive\n\n")
        assert body == 'event: message\ndata: {"type":"message","text":"olá"}\n\n'.encode()
        hang_up.set()
        await asyncio.wait_for(task, 2)
        assert pubsub.listeners(account_id) == 0

    async def test_a_client_gone_without_a_goodbye_ends_the_stream(self) -> None:
        pubsub, account_id = InProcessPubSub(), uuid.uuid4()
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if message.get("body", b"").startswith(b":"):
                raise OSError("connection reset")  # what uvicorn raises on a dead socket

        stream = EventStream(pubsub, account_id, heartbeat_seconds=0.05)
        await asyncio.wait_for(stream({"type": "http"}, receive, send), 2)
        assert pubsub.listeners(account_id) == 0


async def _next_body(sent: asyncio.Queue[dict[str, Any]], *, skip: bytes) -> bytes:
    while True:
        body: bytes = (await sent.get())["body"]
        if body != skip:
            return body
