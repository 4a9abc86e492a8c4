"""Text a database cannot store (NUL, lone surrogates) is a clear 422 that changes nothing.

PostgreSQL refuses NUL in text columns: without the check these answered 500 in the
PostgreSQL pass and stored the character in the SQLite one.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ApiAccount

NUL = "Rita\x00Almeida"


async def _simulated_conversation(client: httpx.AsyncClient, account: ApiAccount) -> str:
    said = await client.post(
        "/api/v1/simulator/messages", headers=account.headers, json={"text": "Hello"}
    )
    assert said.status_code == 202
    listed = await client.get("/api/v1/conversations", headers=account.headers)
    return str(listed.json()[0]["id"])


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/v1/persona", {"agent_name": NUL}, "agent_name"),
        ("PATCH", "/api/v1/account/settings", {"holding_message": NUL}, "holding_message"),
        ("POST", "/api/v1/api-keys", {"name": NUL}, "name"),
        ("POST", "/api/v1/simulator/messages", {"text": NUL}, "text"),
        ("POST", "/api/v1/simulator/messages", {"text": "hi", "customer": "\ud800"}, "customer"),
    ],
)
async def test_refused_with_the_field_named(
    client: httpx.AsyncClient,
    api_account: ApiAccount,
    method: str,
    path: str,
    body: dict[str, str],
    field: str,
) -> None:
    persona_before = (await client.get("/api/v1/persona", headers=api_account.headers)).json()
    keys_before = (await client.get("/api/v1/api-keys", headers=api_account.headers)).json()

    # JSON escapes (\u0000, \ud800), as a client's JSON encoder sends them.
    headers = api_account.headers | {"Content-Type": "application/json"}
    response = await client.request(method, path, headers=headers, content=json.dumps(body))

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert (await client.get("/api/v1/persona", headers=api_account.headers)).json() == (
        persona_before
    )
    assert (await client.get("/api/v1/api-keys", headers=api_account.headers)).json() == (
        keys_before
    )
    listed = await client.get("/api/v1/conversations", headers=api_account.headers)
    assert listed.json() == []


async def test_an_agent_message_with_nul_is_refused_and_not_sent(
    client: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    conversation_id = await _simulated_conversation(client, api_account)
    url = f"/api/v1/conversations/{conversation_id}"
    response = await client.post(f"{url}/messages", headers=api_account.headers, json={"text": NUL})
    assert response.status_code == 422
    assert (await client.get(url, headers=api_account.headers)).json()["mode"] == "ai"
    messages = (await client.get(f"{url}/messages", headers=api_account.headers)).json()
    assert all(m["author"] != "human" for m in messages)
