"""The Settings page: the assistant's behaviour around the agent, and API keys shown once."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ApiAccount
from tests.web.signin import sign_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NEW_KEY = re.compile(r'id="new-key" type="text" value="([^"]+)"')
_REVOKE = re.compile(r'action="(/settings/api-keys/[^"]+/revoke)"')
SHOWN_ONCE = "Copy it now: it will not be shown again."
DEFAULTS = {
    "owner_phone": None,
    "takeover_on_phone_message": True,
    "auto_resume_hours": None,
    "answer_pending_on_hand_back": True,
    "holding_message": None,
}


def text_of(response: httpx.Response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(html.unescape(without_tags).split())


def checked(page: httpx.Response, name: str) -> bool:
    tag = re.search(rf'<input id="f-{name}"[^>]*>', page.text)
    assert tag is not None, name
    return " checked" in tag.group(0)


async def csrf(client: httpx.AsyncClient) -> str:
    match = _CSRF.search((await client.get("/settings")).text)
    assert match is not None
    return match.group(1)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    await sign_in(client, api_account.email)
    return client


@pytest.fixture
async def program(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another caller of the JSON API, with no browser session: only a Bearer key counts."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def stored_settings(program: httpx.AsyncClient, account: ApiAccount) -> dict[str, Any]:
    response = await program.get("/api/v1/account/settings", headers=account.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def create_key(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post(
        "/settings/api-keys", data={"key_name": name, "csrf_token": await csrf(client)}
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_page_shows_who_is_signed_in(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    page = await signed_in.get("/settings")
    assert page.status_code == 200
    assert f"Signed in as {api_account.email}" in text_of(page)


class TestApiKeys:
    async def test_new_key_is_shown_once_works_and_stops_working_when_revoked(
        self, signed_in: httpx.AsyncClient, program: httpx.AsyncClient
    ) -> None:
        created = await create_key(signed_in, "Website sync")
        assert created.status_code == 200
        assert SHOWN_ONCE in text_of(created)
        match = _NEW_KEY.search(created.text)
        assert match is not None
        key = match.group(1)
        assert (await program.get("/api/v1/properties", headers=bearer(key))).status_code == 200

        reloaded = await signed_in.get("/settings")
        assert key not in reloaded.text
        assert SHOWN_ONCE not in text_of(reloaded)
        assert f"Website sync Active Starts with {key[:10]}…" in text_of(reloaded)
        card = text_of(reloaded).split("Website sync Active", 1)[1].split("Revoke…", 1)[0]
        assert "Last used" in card and "Never" not in card  # it was just used

        revoke_paths = _REVOKE.findall(reloaded.text)
        assert len(revoke_paths) == 2  # the sign-up key and this one
        revoked = await signed_in.post(
            revoke_paths[-1], data={"csrf_token": await csrf(signed_in)}, follow_redirects=True
        )
        assert "API key revoked." in text_of(revoked)
        assert "Website sync Revoked" in text_of(revoked)
        assert (await program.get("/api/v1/properties", headers=bearer(key))).status_code == 401

    async def test_key_without_a_name_is_not_created(self, signed_in: httpx.AsyncClient) -> None:
        response = await create_key(signed_in, "   ")
        assert response.status_code == 422
        assert 'id="f-key_name-error"' in response.text
        assert _NEW_KEY.search(response.text) is None
        assert len(_REVOKE.findall((await signed_in.get("/settings")).text)) == 1

    async def test_revoke_without_csrf_changes_nothing(
        self, signed_in: httpx.AsyncClient, program: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        [path] = _REVOKE.findall((await signed_in.get("/settings")).text)
        response = await signed_in.post(path, data={})
        assert response.status_code == 403
        assert (
            await program.get("/api/v1/properties", headers=api_account.headers)
        ).status_code == 200

    async def test_another_accounts_key_cannot_be_revoked(
        self,
        client: httpx.AsyncClient,
        program: httpx.AsyncClient,
        api_account: ApiAccount,
        other_account: ApiAccount,
    ) -> None:
        await sign_in(client, api_account.email)
        [path] = _REVOKE.findall((await client.get("/settings")).text)
        client.cookies.clear()
        await sign_in(client, other_account.email)
        response = await client.post(path, data={"csrf_token": await csrf(client)})
        assert response.status_code == 404
        assert (
            await program.get("/api/v1/properties", headers=api_account.headers)
        ).status_code == 200


class TestAccountSettings:
    async def test_saved_values_are_kept_and_shown(
        self, signed_in: httpx.AsyncClient, program: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        form = {
            "csrf_token": await csrf(signed_in),
            "owner_phone": "+351 912 345 678",
            "auto_resume_hours": "6",
            "answer_pending_on_hand_back": "on",  # takeover left unticked: absent from the form
            "holding_message": "Rita will answer you shortly.",
        }
        saved = await signed_in.post("/settings", data=form)
        assert saved.status_code == 303
        page = await signed_in.get(saved.headers["location"])
        assert "Settings saved." in text_of(page)
        assert 'value="+351 912 345 678"' in page.text
        assert 'value="6"' in page.text
        assert ">Rita will answer you shortly.</textarea>" in page.text
        assert not checked(page, "takeover_on_phone_message")
        assert checked(page, "answer_pending_on_hand_back")
        assert await stored_settings(program, api_account) == {
            "owner_phone": "+351 912 345 678",
            "takeover_on_phone_message": False,
            "auto_resume_hours": 6,
            "answer_pending_on_hand_back": True,
            "holding_message": "Rita will answer you shortly.",
        }

    async def test_emptied_fields_mean_none(
        self, signed_in: httpx.AsyncClient, program: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        first = {
            "auto_resume_hours": "6",
            "holding_message": "Back soon",
            "owner_phone": "+351912345678",
        }
        await signed_in.post("/settings", data=first | {"csrf_token": await csrf(signed_in)})
        emptied = {
            "csrf_token": await csrf(signed_in),
            "auto_resume_hours": "",
            "holding_message": "  ",
            "owner_phone": "",
            "takeover_on_phone_message": "on",
            "answer_pending_on_hand_back": "on",
        }
        assert (await signed_in.post("/settings", data=emptied)).status_code == 303
        assert await stored_settings(program, api_account) == DEFAULTS

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("auto_resume_hours", "0", "Enter a whole number of hours from 1 to 720"),
            ("auto_resume_hours", "two", "Enter a whole number of hours from 1 to 720"),
            ("owner_phone", "12", "Enter a number in international format"),
        ],
    )
    async def test_invalid_value_is_shown_at_its_field_and_nothing_is_saved(
        self,
        signed_in: httpx.AsyncClient,
        program: httpx.AsyncClient,
        api_account: ApiAccount,
        name: str,
        value: str,
        message: str,
    ) -> None:
        form = {
            "csrf_token": await csrf(signed_in),
            "owner_phone": "+351 912 345 678",
            "auto_resume_hours": "6",
            "holding_message": "Typed text stays",
        }
        response = await signed_in.post("/settings", data=form | {name: value})
        assert response.status_code == 422
        assert f'id="f-{name}-error"' in response.text
        assert message in text_of(response)
        assert f'value="{value}"' in response.text
        assert ">Typed text stays</textarea>" in response.text
        assert not checked(response, "takeover_on_phone_message")  # as it was unticked
        assert await stored_settings(program, api_account) == DEFAULTS

    async def test_without_csrf_nothing_is_saved(
        self, signed_in: httpx.AsyncClient, program: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await signed_in.post("/settings", data={"auto_resume_hours": "6"})
        assert response.status_code == 403
        assert await stored_settings(program, api_account) == DEFAULTS
