"""Tenants never see each other: every route with another account's id answers 404."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database


@pytest.fixture
async def owned(client: httpx.AsyncClient, db: Database, api_account: ApiAccount) -> dict[str, str]:
    """One object of each kind, owned by api_account."""
    async with db.session_scope() as session:
        prop = await create_property(session, api_account.account_id)
    await client.post(
        "/api/v1/simulator/messages", headers=api_account.headers, json={"text": "hello"}
    )
    [conversation] = (await client.get("/api/v1/conversations", headers=api_account.headers)).json()
    channels = (await client.get("/api/v1/channels", headers=api_account.headers)).json()
    return {
        "property": str(prop.id),
        "conversation": conversation["id"],
        "channel": channels[0]["id"],
    }


class TestEveryRouteIsScopedToTheCaller:
    async def test_another_accounts_objects_answer_404_everywhere(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        other_account: ApiAccount,
        owned: dict[str, str],
    ) -> None:
        routes = [
            ("GET", f"/api/v1/properties/{owned['property']}"),
            ("PATCH", f"/api/v1/properties/{owned['property']}"),
            ("DELETE", f"/api/v1/properties/{owned['property']}"),
            ("GET", f"/api/v1/conversations/{owned['conversation']}"),
            ("GET", f"/api/v1/conversations/{owned['conversation']}/messages"),
            ("DELETE", f"/api/v1/channels/{owned['channel']}"),
        ]
        for method, url in routes:
            body = {"title": "stolen"} if method == "PATCH" else None
            response = await client.request(method, url, headers=other_account.headers, json=body)
            assert response.status_code == 404, (method, url, response.text)
        # ... and nothing changed for the owner.
        prop = await client.get(
            f"/api/v1/properties/{owned['property']}", headers=api_account.headers
        )
        assert prop.json()["title"] == "Sunny T2 in Graça with terrace"
        url = f"/api/v1/conversations/{owned['conversation']}"
        assert (await client.get(url, headers=api_account.headers)).status_code == 200
        channels = (await client.get("/api/v1/channels", headers=api_account.headers)).json()
        assert [c["id"] for c in channels] == [owned["channel"]]

    async def test_lists_hold_only_the_callers_rows(
        self, client: httpx.AsyncClient, other_account: ApiAccount, owned: dict[str, str]
    ) -> None:
        for url in ("/api/v1/conversations", "/api/v1/channels"):
            assert (await client.get(url, headers=other_account.headers)).json() == []
        props = (await client.get("/api/v1/properties", headers=other_account.headers)).json()
        items = props["items"] if isinstance(props, dict) else props
        assert items == []
