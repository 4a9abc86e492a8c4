"""Signing in over HTTP as a browser does: read the login form's CSRF token, post the form."""

from __future__ import annotations

import re

import httpx

from whatsapp_assistant.config import Settings
from whatsapp_assistant.web.auth import SESSION_COOKIE, session_csrf_token

PASSWORD = "correct horse battery"  # what tests.conftest.make_api_account signs up with
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def login_form_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    match = _CSRF_INPUT.search(page.text)
    assert match is not None, page.text
    return match.group(1)


async def post_login(
    client: httpx.AsyncClient, email: str, password: str, *, next_path: str = ""
) -> httpx.Response:
    token = await login_form_token(client)
    form = {"email": email, "password": password, "csrf_token": token, "next": next_path}
    return await client.post("/login", data=form)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Signs the client in; the session token its cookie now holds."""
    response = await post_login(client, email, password)
    assert response.status_code == 303, response.text
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    return token


def csrf_header(settings: Settings, session_token: str) -> dict[str, str]:
    """What a page's script sends on unsafe API calls (the page gets it from UserDep)."""
    return {"X-CSRF-Token": session_csrf_token(settings, session_token)}
