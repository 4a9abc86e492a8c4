"""Connecting a Meta Cloud API number: checked against Graph before it is saved, its secrets
never returned by any GET, and each refusal a clear error that saves nothing."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.conftest import ApiAccount, lifespan
from tests.conversations.meta_harness import (
    APP_SECRET,
    VERIFY_TOKEN,
    WABA_ID,
    meta_channel_body,
)
from tests.fakes.meta_graph import FakeMetaGraph
from tests.settings import tuned
from tests.web.signin import sign_in
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings


async def _listed(client: httpx.AsyncClient, account: ApiAccount) -> list[dict[str, object]]:
    response = await client.get("/api/v1/channels", headers=account.headers)
    assert response.status_code == 200
    listed: list[dict[str, object]] = response.json()
    return listed


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TestConnect:
    async def test_a_number_graph_knows_is_saved_and_its_secrets_stay_inside(
        self, client: httpx.AsyncClient, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        created = await client.post(
            "/api/v1/channels", headers=api_account.headers, json=meta_channel_body(fake_meta_graph)
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["type"], body["external_id"], body["waba_id"]) == (
            "meta_cloud",
            fake_meta_graph.phone_number_id,
            WABA_ID,
        )
        assert body["webhook_url"].endswith("/webhooks/meta")
        assert body["state"] == "authorized"
        [asked] = fake_meta_graph.requests
        assert asked.method == "GET"
        assert asked.path.startswith(f"/v26.0/{fake_meta_graph.phone_number_id}?")
        secrets = (fake_meta_graph.token, APP_SECRET, VERIFY_TOKEN)
        listed = await _listed(client, api_account)
        assert len(listed) == 1
        for text in (created.text, str(listed)):
            assert not any(secret in text for secret in secrets)

    async def test_the_channels_page_shows_the_webhook_but_no_secret(
        self, client: httpx.AsyncClient, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        created = await client.post(
            "/api/v1/channels", headers=api_account.headers, json=meta_channel_body(fake_meta_graph)
        )
        assert created.status_code == 201
        await sign_in(client, api_account.email)
        page = await client.get("/channels")
        assert page.status_code == 200
        assert "/webhooks/meta" in page.text
        assert fake_meta_graph.phone_number_id in page.text
        assert not any(s in page.text for s in (fake_meta_graph.token, APP_SECRET, VERIFY_TOKEN))

    async def test_a_token_graph_refuses_is_a_clear_422_and_nothing_is_saved(
        self, client: httpx.AsyncClient, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        body = meta_channel_body(fake_meta_graph, access_token="not-the-graph-token")
        response = await client.post("/api/v1/channels", headers=api_account.headers, json=body)
        assert response.status_code == 422
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("channel_refused", "access_token")
        assert "not-the-graph-token" not in response.text
        assert await _listed(client, api_account) == []

    async def test_a_number_graph_does_not_know_names_the_phone_number_id(
        self, client: httpx.AsyncClient, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        body = meta_channel_body(fake_meta_graph, phone_number_id="998877665544332")
        response = await client.post("/api/v1/channels", headers=api_account.headers, json=body)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "phone_number_id"
        assert await _listed(client, api_account) == []

    async def test_graph_out_of_reach_names_the_url_and_nothing_is_saved(
        self, client: httpx.AsyncClient, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        body = meta_channel_body(
            fake_meta_graph, graph_url=f"http://127.0.0.1:{_closed_port()}/v26.0"
        )
        response = await client.post("/api/v1/channels", headers=api_account.headers, json=body)
        assert response.status_code == 422
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("provider_unreachable", "graph_url")
        assert await _listed(client, api_account) == []

    async def test_a_number_connected_elsewhere_is_a_409(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        other_account: ApiAccount,
        fake_meta_graph: FakeMetaGraph,
    ) -> None:
        body = meta_channel_body(fake_meta_graph)
        assert (
            await client.post("/api/v1/channels", headers=api_account.headers, json=body)
        ).status_code == 201
        again = await client.post("/api/v1/channels", headers=other_account.headers, json=body)
        assert again.status_code == 409
        assert again.json()["error"]["field"] == "phone_number_id"
        assert await _listed(client, other_account) == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"phone_number_id": "12ab"}, "phone_number_id"),
            ({"waba_id": ""}, "waba_id"),
            ({"app_secret": "short"}, "app_secret"),
            ({"access_token": "tokén com acento"}, "access_token"),
            ({"verify_token": None}, "verify_token"),
            ({"graph_url": "not a url"}, "graph_url"),
            ({"id_instance": "1101823456"}, "id_instance"),
            ({"type": "telegram"}, "type"),
        ],
        ids=["number", "waba", "secret", "ascii-token", "verify", "url", "green-field", "type"],
    )
    async def test_a_bad_field_is_named_and_graph_is_not_asked(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        fake_meta_graph: FakeMetaGraph,
        change: dict[str, object],
        field: str,
    ) -> None:
        body = meta_channel_body(fake_meta_graph, **change)
        response = await client.post("/api/v1/channels", headers=api_account.headers, json=body)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
        assert fake_meta_graph.requests == []
        assert await _listed(client, api_account) == []

    async def test_graph_url_defaults_to_the_configured_graph(
        self, settings: Settings, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
    ) -> None:
        body = meta_channel_body(fake_meta_graph)
        del body["graph_url"]
        app = create_app(tuned(settings, meta_cloud_graph_url=fake_meta_graph.base_url))
        async with lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/api/v1/channels", headers=api_account.headers, json=body
                )
        assert response.status_code == 201, response.text
        assert response.json()["api_url"] == fake_meta_graph.base_url
        assert len(fake_meta_graph.requests) == 1
