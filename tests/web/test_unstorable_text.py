"""Text a database cannot store (NUL, lone surrogates) in a JSON body is cleaned, never a 5xx.

PostgreSQL refuses NUL in text columns and no encoder takes a lone surrogate: unhandled, these
answered 500 in the PostgreSQL pass and stored the character in the SQLite one. Every JSON body
is cleaned once, at the edge (docs/architecture.md, invariant 7): NUL is dropped, a lone surrogate
becomes U+FFFD.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ApiAccount

NUL = "Rita\x00Almeida"


async def _send(
    client: httpx.AsyncClient, account: ApiAccount, method: str, path: str, body: object
) -> httpx.Response:
    # JSON escapes (\u0000, \ud800), as a client's JSON encoder sends them.
    headers = account.headers | {"Content-Type": "application/json"}
    return await client.request(method, path, headers=headers, content=json.dumps(body))


@pytest.mark.parametrize(
    ("method", "path", "body", "read_back", "field", "stored"),
    [
        ("PUT", "/api/v1/persona", {"agent_name": NUL}, "/api/v1/persona", "agent_name", None),
        (
            "PATCH",
            "/api/v1/account/settings",
            {"holding_message": NUL},
            "/api/v1/account/settings",
            "holding_message",
            None,
        ),
        (
            "PUT",
            "/api/v1/persona",
            {"agent_name": "Rita \ud800"},
            "/api/v1/persona",
            "agent_name",
            "Rita \ufffd",
        ),
    ],
)
async def test_stored_with_the_characters_cleaned(
    client: httpx.AsyncClient,
    api_account: ApiAccount,
    method: str,
    path: str,
    body: dict[str, str],
    read_back: str,
    field: str,
    stored: str | None,
) -> None:
    response = await _send(client, api_account, method, path, body)

    assert response.status_code == 200, response.text
    saved = (await client.get(read_back, headers=api_account.headers)).json()
    assert saved[field] == (stored or "RitaAlmeida")


async def test_a_simulated_customer_with_a_lone_surrogate_keeps_the_message(
    client: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    body = {"text": "Hel\x00lo", "customer": "Ana \ud83d"}
    said = await _send(client, api_account, "POST", "/api/v1/simulator/messages", body)

    assert said.status_code == 202, said.text
    assert said.json()["text"] == "Hello"
    [conversation] = (await client.get("/api/v1/conversations", headers=api_account.headers)).json()
    assert conversation["contact"]["name"] == "Ana \ufffd"


async def test_an_agent_message_with_nul_is_sent_without_it(
    client: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    said = await _send(client, api_account, "POST", "/api/v1/simulator/messages", {"text": "Hi"})
    assert said.status_code == 202
    listed = await client.get("/api/v1/conversations", headers=api_account.headers)
    url = f"/api/v1/conversations/{listed.json()[0]['id']}"
    response = await _send(client, api_account, "POST", f"{url}/messages", {"text": NUL})
    assert response.status_code == 202, response.text
    messages = (await client.get(f"{url}/messages", headers=api_account.headers)).json()
    assert [m["text"] for m in messages if m["author"] == "human"] == ["RitaAlmeida"]
