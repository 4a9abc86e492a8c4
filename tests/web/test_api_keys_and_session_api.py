"""API keys (create, list, revoke) and the JSON API called with a signed-in browser's cookie."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.conftest import ApiAccount
from tests.web.signin import csrf_header, sign_in
from whatsapp_assistant.accounts.models import ApiKey
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


async def create_key(client: httpx.AsyncClient, account: ApiAccount, name: str) -> dict[str, str]:
    response = await client.post("/api/v1/api-keys", headers=account.headers, json={"name": name})
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


class TestApiKeys:
    async def test_a_new_key_is_shown_once_and_listed_by_its_prefix_only(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database
    ) -> None:
        created = await create_key(client, api_account, "zapier")
        assert created["key"].startswith("wa_")
        assert created["key"].startswith(created["prefix"])
        listed = (await client.get("/api/v1/api-keys", headers=api_account.headers)).json()
        assert [k["name"] for k in listed] == ["default", "zapier"]
        assert all("key" not in k and not k["revoked"] for k in listed)
        assert created["key"] not in str(listed)
        async with db.session_scope() as session:
            hashes = (await session.execute(select(ApiKey.key_hash))).scalars().all()
        assert created["key"] not in hashes  # stored as SHA-256 only

    async def test_the_new_key_works_and_a_revoked_key_answers_401(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create_key(client, api_account, "temporary")
        headers = {"Authorization": f"Bearer {created['key']}"}
        assert (await client.get("/api/v1/api-keys", headers=headers)).status_code == 200
        url = f"/api/v1/api-keys/{created['id']}"
        assert (await client.delete(url, headers=api_account.headers)).status_code == 204
        response = await client.get("/api/v1/api-keys", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        listed = (await client.get("/api/v1/api-keys", headers=api_account.headers)).json()
        assert {k["name"]: k["revoked"] for k in listed} == {"default": False, "temporary": True}

    async def test_another_accounts_key_answers_404_and_stays_alive(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        created = await create_key(client, api_account, "mine")
        url = f"/api/v1/api-keys/{created['id']}"
        response = await client.delete(url, headers=other_account.headers)
        assert response.status_code == 404
        headers = {"Authorization": f"Bearer {created['key']}"}
        assert (await client.get("/api/v1/api-keys", headers=headers)).status_code == 200
        others = (await client.get("/api/v1/api-keys", headers=other_account.headers)).json()
        assert [k["name"] for k in others] == ["default"]

    async def test_a_name_that_is_too_long_is_a_field_error(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await client.post(
            "/api/v1/api-keys", headers=api_account.headers, json={"name": "x" * 101}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "name"


class TestTheApiWithASessionCookie:
    async def test_reading_needs_no_csrf_token(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await sign_in(client, api_account.email)
        response = await client.get("/api/v1/api-keys")
        assert response.status_code == 200
        assert [k["name"] for k in response.json()] == ["default"]

    async def test_writing_without_the_csrf_header_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await sign_in(client, api_account.email)
        for headers in ({}, {"X-CSRF-Token": "0" * 64}):
            response = await client.post("/api/v1/api-keys", json={"name": "x"}, headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "csrf_failed"
        assert len((await client.get("/api/v1/api-keys")).json()) == 1

    async def test_writing_with_the_csrf_header_acts_as_the_user(
        self, client: httpx.AsyncClient, api_account: ApiAccount, settings: Settings
    ) -> None:
        token = await sign_in(client, api_account.email)
        headers = csrf_header(settings, token)
        sent = await client.post("/api/v1/simulator/messages", json={"text": "hi"}, headers=headers)
        assert sent.status_code == 202, sent.text
        [conversation] = (await client.get("/api/v1/conversations")).json()
        url = f"/api/v1/conversations/{conversation['id']}"
        mode = await client.post(f"{url}/mode", json={"mode": "human"}, headers=headers)
        assert mode.status_code == 200, mode.text
        events = (await client.get(f"{url}/events")).json()
        assert any(e["actor"].startswith("user:") for e in events)

    async def test_without_cookie_or_key_the_api_answers_401(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/api-keys")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"

    async def test_a_bearer_key_needs_no_csrf_token_even_with_a_cookie(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await sign_in(client, api_account.email)
        await create_key(client, api_account, "script")
