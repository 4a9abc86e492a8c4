"""Channel and persona routes: secrets never come back, validation names the field."""

from __future__ import annotations

import httpx

from tests.conftest import ApiAccount

GREEN = {
    "type": "green_api",
    "id_instance": "1101823456",
    "api_token": "a1b2c3d4e5f6a7b8c9d0",
    "api_url": "https://1101.api.green-api.com",
}


class TestConnectChannel:
    async def test_connect_returns_webhook_url_and_token_once(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await client.post("/api/v1/channels", headers=api_account.headers, json=GREEN)
        assert created.status_code == 201
        body = created.json()
        assert body["webhook_url"].endswith("/webhooks/green-api")
        assert len(body["webhook_token"]) >= 16
        assert "api_token" not in body

        listed = (await client.get("/api/v1/channels", headers=api_account.headers)).json()
        assert len(listed) == 1
        text = str(listed)
        assert GREEN["api_token"] not in text
        assert body["webhook_token"] not in text

    async def test_same_instance_cannot_be_connected_twice(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        await client.post("/api/v1/channels", headers=api_account.headers, json=GREEN)
        again = await client.post("/api/v1/channels", headers=other_account.headers, json=GREEN)
        assert again.status_code == 409
        assert again.json()["error"]["field"] == "id_instance"

    async def test_bad_instance_id_names_the_field_and_creates_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        bad = GREEN | {"id_instance": "12ab"}
        response = await client.post("/api/v1/channels", headers=api_account.headers, json=bad)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "id_instance"
        assert (await client.get("/api/v1/channels", headers=api_account.headers)).json() == []

    async def test_another_accounts_channel_cannot_be_deleted(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        created = await client.post("/api/v1/channels", headers=api_account.headers, json=GREEN)
        url = f"/api/v1/channels/{created.json()['id']}"
        assert (await client.delete(url, headers=other_account.headers)).status_code == 404
        assert len((await client.get("/api/v1/channels", headers=api_account.headers)).json()) == 1
        assert (await client.delete(url, headers=api_account.headers)).status_code == 204


class TestApiKeys:
    async def test_requests_without_a_valid_key_answer_401(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        assert (await client.get("/api/v1/channels")).status_code == 401
        wrong = {"Authorization": "Bearer wa_not-a-real-key"}
        response = await client.get("/api/v1/persona", headers=wrong)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


class TestPersona:
    async def test_persona_round_trip(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        persona = {
            "style": "premium",
            "agent_name": "Rita Almeida",
            "agency_name": "Casa Lusa Imóveis",
            "custom_instructions": "Always offer a viewing.",
            "default_language": "pt",
        }
        put = await client.put("/api/v1/persona", headers=api_account.headers, json=persona)
        assert put.status_code == 200
        got = (await client.get("/api/v1/persona", headers=api_account.headers)).json()
        assert got == persona

    async def test_unknown_style_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        before = (await client.get("/api/v1/persona", headers=api_account.headers)).json()
        response = await client.put(
            "/api/v1/persona", headers=api_account.headers, json={"style": "pushy"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "style"
        after = (await client.get("/api/v1/persona", headers=api_account.headers)).json()
        assert after == before
