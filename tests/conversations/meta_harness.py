"""A running service with a Meta Cloud API channel wired to the fake Graph; signed webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ApiAccount, lifespan
from tests.conversations.harness import wait_until
from tests.fakes.meta_graph import FakeMetaGraph, signed_headers
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.web.deps import AppState

META_FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta_cloud"
APP_SECRET = "meta-app-secret-0123456789abcdef"
VERIFY_TOKEN = "meta-verify-token-0123456789"
WABA_ID = "102938475610293"
ANA_PHONE = "+351912345678"
ANA_USER_ID = "PT.1502576394655843"


def meta_fixture_bytes(name: str) -> bytes:
    """A sample body exactly as on disk: signed as it is, never re-serialised."""
    return (META_FIXTURES / f"{name}.json").read_bytes()


def meta_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(meta_fixture_bytes(name))
    return data


def meta_channel_body(graph: FakeMetaGraph, **changes: object) -> dict[str, object]:
    """The POST /api/v1/channels body for the fake Graph's number, with `changes`."""
    return {
        "type": "meta_cloud",
        "phone_number_id": graph.phone_number_id,
        "waba_id": WABA_ID,
        "access_token": graph.token,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_url": graph.base_url,
    } | changes


@dataclass
class MetaService:
    """The application under test with one Meta channel, and the fake Graph behind it."""

    client: httpx.AsyncClient
    db: Database
    account: ApiAccount
    graph: FakeMetaGraph
    runtime: Runtime

    async def post_webhook(
        self, payload: object = None, *, raw: bytes | None = None, secret: str = APP_SECRET
    ) -> httpx.Response:
        """POST a body signed with `secret` over the exact bytes sent."""
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        return await self.client.post(
            "/webhooks/meta", content=body, headers=signed_headers(secret, body)
        )

    async def wait_for_sends(self, count: int, within: float = 15.0) -> list[dict[str, Any]]:
        await wait_until(lambda: len(self.graph.sent_messages) >= count, within)
        return self.graph.sent_messages


async def start_meta_service(
    settings: Settings, db: Database, account: ApiAccount, graph: FakeMetaGraph
) -> AsyncIterator[MetaService]:
    app = create_app(settings)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/api/v1/channels", headers=account.headers, json=meta_channel_body(graph)
            )
            assert response.status_code == 201, response.text
            state: AppState = app.state.app_state
            yield MetaService(
                client=client, db=db, account=account, graph=graph, runtime=state.runtime
            )
