"""The persona page: saving the persona, and the "try it" chat that runs the real pipeline."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.settings import tuned
from tests.web.signin import sign_in
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations import sandbox
from whatsapp_assistant.db.session import Database

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
LISTING = "Sunny T2 in Graça with terrace"
ASK = "Hi, I want a 2-bedroom flat in Lisbon"
TYPING = "The assistant is typing…"


async def page_token(client: httpx.AsyncClient) -> str:
    response = await client.get("/persona")
    assert response.status_code == 200, response.text
    match = _CSRF_INPUT.search(response.text)
    assert match is not None
    return match.group(1)


def persona_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "style": "premium",
        "agent_name": "Rita Almeida",
        "agency_name": "Casa Lusa Imóveis",
        "custom_instructions": "Viewings are on weekdays only.",
        "default_language": "pt",
    }
    return form | changes


async def api_persona(client: httpx.AsyncClient, account: ApiAccount) -> dict[str, object]:
    response = await client.get("/api/v1/persona", headers=account.headers)
    assert response.status_code == 200, response.text
    persona: dict[str, object] = response.json()
    return persona


async def until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not in time")
        await asyncio.sleep(0.1)


async def try_page_shows(client: httpx.AsyncClient, text: str) -> None:
    async def shown() -> bool:
        return text in (await client.get("/persona")).text

    await until(shown)


async def send_try(client: httpx.AsyncClient, text: str) -> httpx.Response:
    token = await page_token(client)
    return await client.post("/persona/try", data={"csrf_token": token, "text": text})


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    await sign_in(client, api_account.email)
    return client


@pytest.fixture
async def with_listing(db: Database, api_account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)


class TestPersonaForm:
    async def test_the_page_shows_the_saved_persona_with_hints(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await signed_in.put(
            "/api/v1/persona", headers=api_account.headers, json={"agent_name": "Rita Almeida"}
        )
        html = (await signed_in.get("/persona")).text
        assert 'value="Rita Almeida"' in html
        assert '<label for="f-agent_name">Your name</label>' in html
        assert "you will follow up personally" in html  # what the field does for the customer

    async def test_saved_persona_is_what_the_assistant_uses(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        token = await page_token(signed_in)
        response = await signed_in.post("/persona", data=persona_form(token))
        assert response.status_code == 303
        assert response.headers["location"] == "/persona?done=persona-saved"
        shown = await signed_in.get(response.headers["location"])
        assert "Persona saved." in shown.text
        assert await api_persona(signed_in, api_account) == {
            "style": "premium",
            "agent_name": "Rita Almeida",
            "agency_name": "Casa Lusa Imóveis",
            "custom_instructions": "Viewings are on weekdays only.",
            "default_language": "pt",
        }

    async def test_no_language_chosen_means_the_customers_language(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        token = await page_token(signed_in)
        await signed_in.post("/persona", data=persona_form(token, default_language=""))
        assert (await api_persona(signed_in, api_account))["default_language"] is None

    async def test_too_long_instructions_are_refused_beside_the_field_and_nothing_saved(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        before = await api_persona(signed_in, api_account)
        token = await page_token(signed_in)
        form = persona_form(token, agent_name="Typed Name", custom_instructions="x" * 5000)
        response = await signed_in.post("/persona", data=form)

        assert response.status_code == 422
        html = response.text
        assert "Nothing was saved" in html
        error = re.search(r'<p class="field-error" id="f-custom_instructions-error">([^<]+)', html)
        assert error is not None
        assert "5,000 characters" in error.group(1)
        assert "4,000" in error.group(1)
        assert 'value="Typed Name"' in html  # what was typed is kept
        assert "x" * 5000 in html
        assert await api_persona(signed_in, api_account) == before

    async def test_unstorable_characters_are_dropped_as_in_the_api(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        token = await page_token(signed_in)
        form = persona_form(token, agent_name="Rita\x00 Almeida")
        response = await signed_in.post("/persona", data=form)
        assert response.status_code in (200, 303), response.text
        assert (await api_persona(signed_in, api_account))["agent_name"] == "Rita Almeida"

    async def test_an_unknown_style_is_refused(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        token = await page_token(signed_in)
        response = await signed_in.post("/persona", data=persona_form(token, style="pirate"))
        assert response.status_code == 422
        assert 'id="f-style-error">Choose one of the options.' in response.text
        assert (await api_persona(signed_in, api_account))["style"] == "friendly"

    async def test_a_post_without_the_csrf_token_changes_nothing(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        before = await api_persona(signed_in, api_account)
        form = persona_form("")
        del form["csrf_token"]
        response = await signed_in.post("/persona", data=form)
        assert response.status_code == 403
        wrong = await signed_in.post("/persona", data=persona_form("not-the-token"))
        assert wrong.status_code == 403
        assert await api_persona(signed_in, api_account) == before

    async def test_signed_out_goes_to_the_login_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/persona")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fpersona"


class TestTryIt:
    @pytest.mark.usefixtures("with_listing")
    async def test_the_offline_assistant_answers_with_a_listing(
        self, signed_in: httpx.AsyncClient
    ) -> None:
        response = await send_try(signed_in, ASK)
        assert response.status_code == 303
        assert response.headers["location"] == "/persona#try"

        await try_page_shows(signed_in, LISTING)
        html = (await signed_in.get("/persona")).text
        assert ASK in html
        assert "offline assistant" in html
        assert TYPING not in html
        assert html.index(ASK) < html.index(LISTING)  # the reply comes after the question

    async def test_an_empty_message_is_refused(self, signed_in: httpx.AsyncClient) -> None:
        response = await send_try(signed_in, "   ")
        assert response.status_code == 422
        assert "Write a message first." in response.text
        assert "No messages yet" in response.text

    async def test_sending_needs_the_csrf_token(self, signed_in: httpx.AsyncClient) -> None:
        response = await signed_in.post("/persona/try", data={"text": ASK})
        assert response.status_code == 403
        assert ASK not in (await signed_in.get("/persona")).text

    async def test_start_over_needs_the_csrf_token(self, signed_in: httpx.AsyncClient) -> None:
        await send_try(signed_in, ASK)
        response = await signed_in.post("/persona/try/reset", data={"csrf_token": "forged"})
        assert response.status_code == 403
        assert ASK in (await signed_in.get("/persona")).text

    @pytest.mark.usefixtures("with_listing")
    async def test_start_over_clears_the_chat(
        self, signed_in: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        await send_try(signed_in, ASK)
        await try_page_shows(signed_in, LISTING)

        token = await page_token(signed_in)
        response = await signed_in.post("/persona/try/reset", data={"csrf_token": token})
        assert response.status_code == 303
        html = (await signed_in.get("/persona")).text
        assert "No messages yet" in html
        assert ASK not in html
        assert LISTING not in html
        async with db.session_scope() as session:
            assert await sandbox.find_sandbox(session, api_account.account_id) is None

    async def test_a_handed_over_chat_says_so_and_start_over_brings_the_assistant_back(
        self, signed_in: httpx.AsyncClient
    ) -> None:
        await send_try(signed_in, "Can I talk to a real person please?")
        await try_page_shows(signed_in, "handed this chat over to you")
        html = (await signed_in.get("/persona")).text
        assert "the customer asked for a person" in html
        assert TYPING not in html

        token = await page_token(signed_in)
        await signed_in.post("/persona/try/reset", data={"csrf_token": token})
        await send_try(signed_in, ASK)
        await try_page_shows(signed_in, "offline assistant")
        assert "handed this chat over" not in (await signed_in.get("/persona")).text

    @pytest.mark.usefixtures("with_listing")
    async def test_another_account_never_sees_nor_resets_this_sandbox(
        self, signed_in: httpx.AsyncClient, app: FastAPI, other_account: ApiAccount
    ) -> None:
        await send_try(signed_in, ASK)
        await try_page_shows(signed_in, LISTING)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            await sign_in(other, other_account.email)
            html = (await other.get("/persona")).text
            assert ASK not in html
            assert LISTING not in html
            assert "No messages yet" in html
            token = await page_token(other)
            await other.post("/persona/try/reset", data={"csrf_token": token})

        assert LISTING in (await signed_in.get("/persona")).text


class TestTypingIndicator:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """A debounce long enough to see the reply pending."""
        return tuned(settings, reply_debounce_seconds=1.5)

    @pytest.mark.usefixtures("with_listing")
    async def test_typing_shows_until_the_reply_lands(self, signed_in: httpx.AsyncClient) -> None:
        await send_try(signed_in, ASK)
        pending = (await signed_in.get("/persona")).text
        assert TYPING in pending
        assert LISTING not in pending

        await try_page_shows(signed_in, LISTING)
        assert TYPING not in (await signed_in.get("/persona")).text
