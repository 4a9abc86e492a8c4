"""GET /api/v1/events: the caller's account's live inbox events, as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import anyio
from fastapi import APIRouter
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from typing_extensions import override

from whatsapp_assistant.infra.pubsub import (
    Event,
    PubSub,
    PubSubUnavailable,
    Subscription,
    pubsub_of,
)
from whatsapp_assistant.web.deps import CallerDep, StateDep
from whatsapp_assistant.web.errors import spelled_out_error_responses

logger = logging.getLogger(__name__)

# Proxies and load balancers close connections idle for 30-60 s; a comment line keeps it open
# and lets us notice a client that left without closing.
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 3000  # how soon the browser's EventSource reconnects after a drop

router = APIRouter(tags=["realtime"])


class EventStream(Response):
    """An endless text/event-stream of one account's events.

    The subscription is in place before the headers leave, so a client whose `open` fired
    misses nothing committed afterwards. Events are `event: <type>` + `data: <json>`.
    """

    media_type = "text/event-stream"

    def __init__(
        self, pubsub: PubSub, account_id: uuid.UUID, *, heartbeat_seconds: float = HEARTBEAT_SECONDS
    ) -> None:
        # Response.__init__ would set a body and so a Content-Length; a stream has neither.
        self.status_code = 200
        self.background = None
        self._pubsub = pubsub
        self._account_id = account_id
        self._heartbeat_seconds = heartbeat_seconds
        # No caching, and no buffering in nginx-like proxies, or events arrive in lumps.
        self.init_headers({"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})

    @override
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._pubsub.subscribe(self._account_id) as events:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await _send_chunk(send, f"retry: {RETRY_MILLISECONDS}\n\n")
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._pump, events, send, tasks.cancel_scope)
                await _wait_for_disconnect(receive)
                tasks.cancel_scope.cancel()

    async def _pump(self, events: Subscription, send: Send, scope: anyio.CancelScope) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(self._heartbeat_seconds):
                        event = await anext(events)
                except TimeoutError:
                    await _send_chunk(send, ": keep-alive\n\n")
                    continue
                await _send_chunk(send, frame(event))
        except OSError:
            scope.cancel()  # the client is gone (uvicorn raises on send after a disconnect)


def frame(event: Event) -> str:
    # One line (no newline may appear inside `data:`), UTF-8 as text/event-stream requires.
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event.get('type', 'message')}\ndata: {data}\n\n"


async def _send_chunk(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# EventStream takes no status_code argument, so FastAPI cannot guess the success status for the
# OpenAPI document: it is declared, with the stream's media type.
@router.get(
    "/events",
    response_class=EventStream,
    status_code=200,
    responses={
        200: {
            "description": "`event: <type>` and `data: <json>` frames, never ending",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **spelled_out_error_responses(401, 503),
    },
)
async def stream_events(caller: CallerDep, state: StateDep) -> EventStream:
    """New messages, status ticks and mode changes of the caller's account, live.

    Re-read what the page shows on `open` (after any reconnect) and on a `resync` event:
    events published while the stream was down are not replayed.
    """
    pubsub = pubsub_of(state.db)
    if pubsub is None:
        raise PubSubUnavailable("live updates are not configured in this process")
    return EventStream(pubsub, caller.account_id)
