"""Live-stream test support: the app on a real port, an SSE reader, and a private Redis prefix."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

# CI passes TEST_REDIS_URL in the PostgreSQL pass; the server is required (never skipped).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    """Channel names of this test only, so parallel runs on one Redis never hear each other."""
    return f"wa-test-{uuid.uuid4().hex[:12]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` (lifespan included) under uvicorn on 127.0.0.1: ASGITransport cannot stream."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=_free_port(), log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


class EventReader:
    """Reads `event:` / `data:` blocks from an open text/event-stream response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def _next_block(self) -> dict[str, str]:
        block: dict[str, str] = {}
        async for line in self._lines:
            if not line:
                if block:
                    return block
                continue
            field, _, value = line.partition(":")
            block[field] = block.get(field, "") + value.removeprefix(" ")
        raise AssertionError("the event stream ended")

    async def next_event(self) -> dict[str, Any]:
        while True:
            block = await self._next_block()
            if "data" in block:
                event: dict[str, Any] = json.loads(block["data"])
                assert block["event"] == event["type"]
                return event

    async def expect(
        self, matches: Callable[[dict[str, Any]], bool], within: float = 15.0
    ) -> dict[str, Any]:
        """The first event that matches, skipping others, within the time limit."""
        async with asyncio.timeout(within):
            while True:
                event = await self.next_event()
                if matches(event):
                    return event

    async def expect_nothing(self, seconds: float = 0.5) -> None:
        try:
            async with asyncio.timeout(seconds):
                event = await self.next_event()
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {event}")


@asynccontextmanager
async def event_stream(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> AsyncIterator[EventReader]:
    """GET /api/v1/events; returns once the server subscribed (it sends `retry:` first)."""
    async with http.stream("GET", "/api/v1/events", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        first = await reader._next_block()
        assert first == {"retry": "3000"}
        yield reader
