"""Signing in and out in a browser: cookies, CSRF on the forms, safe redirects, UserDep."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.conftest import ApiAccount, lifespan
from tests.settings import tuned
from tests.web.signin import PASSWORD, csrf_header, login_form_token, post_login, sign_in
from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.accounts.models import User, UserSession
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.web.auth import SESSION_COOKIE
from whatsapp_assistant.web.deps import UserDep


def set_cookie_header(response: httpx.Response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header.lower()


async def session_count(db: Database) -> int:
    async with db.session_scope() as session:
        return int((await session.execute(select(func.count(UserSession.id)))).scalar_one())


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """A page behind UserDep, as the inbox pages will be."""

    @app.get("/probe")
    async def probe_page(user: UserDep) -> dict[str, str]:
        return {"email": user.email, "actor": user.actor}

    @app.post("/probe")
    async def probe_form(user: UserDep) -> dict[str, str]:
        return {"changed_by": user.actor}

    return app


class TestSignIn:
    async def test_right_password_sets_a_session_cookie_and_goes_to_the_inbox(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database
    ) -> None:
        response = await post_login(client, api_account.email, PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == "/inbox"
        cookie = set_cookie_header(response, SESSION_COOKIE)
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/" in cookie
        assert "secure" not in cookie  # PUBLIC_BASE_URL is http in tests
        assert await session_count(db) == 1

    async def test_the_cookie_is_secure_behind_https(
        self, settings: Settings, db: Database, api_account: ApiAccount
    ) -> None:
        https = tuned(settings, public_base_url="https://agent.example")
        app = create_app(https)
        async with lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
                response = await post_login(http, api_account.email, PASSWORD)
        assert response.status_code == 303
        assert "secure" in set_cookie_header(response, SESSION_COOKIE)

    async def test_secure_cookies_setting_overrides_the_base_url(self, settings: Settings) -> None:
        forced = tuned(settings, secure_cookies=True)
        assert forced.cookies_secure
        assert not settings.cookies_secure

    @pytest.mark.parametrize("email", ["rita@casalusa.example", "nobody@nowhere.example"])
    async def test_wrong_password_and_unknown_email_get_the_same_answer(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database, email: str
    ) -> None:
        response = await post_login(client, email, "wrong password")
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert await session_count(db) == 0

    async def test_the_password_is_stored_as_an_argon2_hash(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            user = (await session.execute(select(User))).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash

    async def test_a_signed_in_browser_visiting_login_goes_on(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await sign_in(client, api_account.email)
        response = await client.get("/login", params={"next": "/inbox/42"})
        assert response.status_code == 303
        assert response.headers["location"] == "/inbox/42"


class TestLoginCsrf:
    @pytest.mark.parametrize("token", ["", "forged"])
    async def test_a_login_post_without_the_forms_token_is_refused(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database, token: str
    ) -> None:
        await login_form_token(client)  # the browser has the pre-session cookie
        form = {"email": api_account.email, "password": PASSWORD, "csrf_token": token}
        response = await client.post("/login", data=form)
        assert response.status_code == 403
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert await session_count(db) == 0

    async def test_a_token_without_its_cookie_is_refused(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database
    ) -> None:
        token = await login_form_token(client)
        client.cookies.clear()  # a cross-site form: the Lax cookie is not sent
        form = {"email": api_account.email, "password": PASSWORD, "csrf_token": token}
        assert (await client.post("/login", data=form)).status_code == 403
        assert await session_count(db) == 0


class TestRedirectAfterSignIn:
    @pytest.mark.parametrize(
        "next_path",
        [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/%0a/evil.example\n",
            "",
        ],
    )
    async def test_anything_but_a_local_path_goes_to_the_inbox(
        self, client: httpx.AsyncClient, api_account: ApiAccount, next_path: str
    ) -> None:
        response = await post_login(client, api_account.email, PASSWORD, next_path=next_path)
        assert response.status_code == 303
        assert response.headers["location"] == "/inbox"

    async def test_a_local_path_is_followed(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await post_login(client, api_account.email, PASSWORD, next_path="/listings?q=2")
        assert response.headers["location"] == "/listings?q=2"


class TestSignOut:
    async def test_sign_out_revokes_the_session_and_clears_the_cookie(
        self, client: httpx.AsyncClient, api_account: ApiAccount, settings: Settings
    ) -> None:
        token = await sign_in(client, api_account.email)
        csrf = csrf_header(settings, token)["X-CSRF-Token"]
        response = await client.post("/logout", data={"csrf_token": csrf})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert 'wa_session=""' in response.headers["set-cookie"]
        # The old token is dead even if a copy of the cookie survives.
        client.cookies.set(SESSION_COOKIE, token)
        assert (await client.get("/api/v1/api-keys")).status_code == 401

    @pytest.mark.parametrize("token", [None, "forged"])
    async def test_sign_out_without_the_csrf_token_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount, token: str | None
    ) -> None:
        await sign_in(client, api_account.email)
        data = {} if token is None else {"csrf_token": token}
        assert (await client.post("/logout", data=data)).status_code == 403
        assert (await client.get("/api/v1/api-keys")).status_code == 200


class TestUserDep:
    @pytest.fixture
    async def probe(self, probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=probe_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    async def test_a_page_sends_a_stranger_to_login_and_back(
        self, probe: httpx.AsyncClient
    ) -> None:
        response = await probe.get("/probe", params={"tab": "needs me"})
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fprobe%3Ftab%3Dneeds%2Bme"

    async def test_a_page_knows_the_signed_in_user(
        self, probe: httpx.AsyncClient, api_account: ApiAccount, db: Database
    ) -> None:
        await sign_in(probe, api_account.email)
        body = (await probe.get("/probe")).json()
        assert body["email"] == api_account.email
        assert body["actor"].startswith("user:")

    async def test_a_form_post_needs_the_sessions_csrf_token(
        self, probe: httpx.AsyncClient, api_account: ApiAccount, settings: Settings
    ) -> None:
        token = await sign_in(probe, api_account.email)
        assert (await probe.post("/probe", data={"x": "1"})).status_code == 403
        bad = {"csrf_token": "0" * 64}
        assert (await probe.post("/probe", data=bad)).status_code == 403
        good = {"csrf_token": csrf_header(settings, token)["X-CSRF-Token"]}
        assert (await probe.post("/probe", data=good)).status_code == 200


class TestResetPassword:
    async def test_reset_password_signs_the_user_out_everywhere(
        self, client: httpx.AsyncClient, api_account: ApiAccount, db: Database
    ) -> None:
        await sign_in(client, api_account.email)
        async with db.session_scope() as session:
            _, revoked = await sessions.reset_password(session, api_account.email, "new password!")
        assert revoked == 1
        assert (await client.get("/api/v1/api-keys")).status_code == 401
        assert (await post_login(client, api_account.email, PASSWORD)).status_code == 401
        assert (await post_login(client, api_account.email, "new password!")).status_code == 303
