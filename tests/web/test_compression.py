"""Pages travel compressed; the live event stream never does (it would arrive in lumps)."""

from __future__ import annotations

import httpx

from tests.conftest import ApiAccount
from tests.web.signin import sign_in
from tests.web.sse import serving
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


async def test_pages_are_gzipped_and_the_event_stream_is_not(
    settings: Settings, db: Database, api_account: ApiAccount
) -> None:
    async with (
        serving(create_app(settings)) as base_url,
        # A shared CI machine can take more than httpx's 5 s to open the stream.
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        await sign_in(client, api_account.email)
        page = await client.get("/inbox", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["content-encoding"] == "gzip"
        assert "<h1>Inbox</h1>" in page.text  # httpx decoded it: a real gzip body

        headers = {"Accept-Encoding": "gzip", "Authorization": f"Bearer {api_account.api_key}"}
        async with client.stream("GET", "/api/v1/events", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers
            first = await anext(stream.aiter_lines())
            assert first == "retry: 3000"  # arrived at once, not held back by a compressor
