"""Sessions behind the cookie: expiry, idle time, revocation; the secret that signs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from tests.conftest import ApiAccount
from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.accounts.errors import (
    AccountNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidPassword,
)
from whatsapp_assistant.accounts.models import UserSession
from whatsapp_assistant.accounts.schemas import UserCreate
from whatsapp_assistant.config import DEV_SECRET_KEY, Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id, sha256_hex

PASSWORD = "correct horse battery"
DAY = timedelta(days=1)


async def open_session(db: Database, email: str) -> str:
    async with db.session_scope() as session:
        token, _ = await sessions.sign_in(session, email, PASSWORD, max_age=7 * DAY, ip="10.0.0.1")
    return token


async def shift(db: Database, token: str, **times: timedelta) -> None:
    """Moves the session's timestamps into the past by the given amounts."""
    async with db.session_scope() as session:
        row = (
            await session.execute(
                select(UserSession).where(UserSession.token_hash == sha256_hex(token))
            )
        ).scalar_one()
        for name, delta in times.items():
            setattr(row, name, getattr(row, name) - delta)


async def find(db: Database, token: str) -> UserSession | None:
    async with db.session_scope() as session:
        found = await sessions.find_session(session, token, idle=2 * DAY)
        return found[0] if found else None


class TestFindSession:
    async def test_a_fresh_session_is_found_and_only_its_hash_is_stored(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        token = await open_session(db, api_account.email)
        found = await find(db, token)
        assert found is not None
        assert found.token_hash == sha256_hex(token) != token
        assert found.ip == "10.0.0.1"

    async def test_an_expired_session_is_not_found(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        token = await open_session(db, api_account.email)
        await shift(db, token, expires_at=8 * DAY)
        assert await find(db, token) is None

    async def test_an_idle_session_is_not_found_and_use_keeps_it_alive(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        token = await open_session(db, api_account.email)
        await shift(db, token, last_seen_at=DAY)
        seen = await find(db, token)  # used after a day: last_seen_at moves to now
        assert seen is not None
        assert utcnow() - seen.last_seen_at < timedelta(minutes=1)
        await shift(db, token, last_seen_at=3 * DAY)
        assert await find(db, token) is None

    async def test_a_signed_out_or_unknown_token_is_not_found(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        token = await open_session(db, api_account.email)
        async with db.session_scope() as session:
            assert await sessions.sign_out(session, token)
            assert not await sessions.sign_out(session, token)
        assert await find(db, token) is None
        assert await find(db, "not-a-token") is None
        assert await find(db, "x" * 500) is None


class TestSignIn:
    async def test_wrong_password_and_unknown_email_raise_the_same_error(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            for email, password in ((api_account.email, "nope"), ("who@no.example", PASSWORD)):
                with pytest.raises(InvalidCredentials) as raised:
                    await sessions.sign_in(session, email, password, max_age=DAY)
                assert raised.value.message == "wrong email or password"


class TestUsers:
    async def test_create_user_refuses_a_taken_email_and_an_unknown_account(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        data = UserCreate(email=api_account.email, password=PASSWORD)
        async with db.session_scope() as session:
            with pytest.raises(EmailTaken):
                await accounts.create_user(session, api_account.account_id, data)
            with pytest.raises(AccountNotFound):
                await accounts.create_user(session, new_id(), data)

    async def test_reset_password_refuses_a_short_password(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            with pytest.raises(InvalidPassword):
                await sessions.reset_password(session, api_account.email, "short")


class TestSecretKey:
    def test_production_refuses_the_development_secret(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(environment="production", secret_key=DEV_SECRET_KEY)
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(environment="production", secret_key="too-short")

    def test_production_accepts_a_long_random_secret(self) -> None:
        settings = Settings(environment="production", secret_key="k" * 40)
        assert settings.secret_key == "k" * 40
