"""Failed sign-ins are limited per email and per client address, in memory or through Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis

from tests.conftest import ApiAccount, lifespan
from tests.settings import tuned
from tests.web.signin import PASSWORD, post_login
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.web.auth import SESSION_COOKIE

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOO_MANY = "Too many failed sign-in attempts"


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return tuned(settings, login_failures_per_email=3, login_failures_per_address=5)


@pytest.fixture
def redis_settings(limited: Settings) -> Iterator[Settings]:
    """Redis storage with a key prefix of its own; an unreachable Redis fails the test."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis unreachable at {TEST_REDIS_URL} (set TEST_REDIS_URL): {exc}")
    prefix = f"test-{uuid.uuid4().hex}"
    yield tuned(limited, redis_url=TEST_REDIS_URL, login_rate_limit_prefix=prefix)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@asynccontextmanager
async def browser(
    settings: Settings, address: str = "10.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app instance (its own process, as far as memory goes) and a browser at `address`."""
    app = create_app(settings)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def fail(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        assert (await post_login(client, email, "wrong password")).status_code == 401


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert TOO_MANY in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


class TestPerEmail:
    async def test_after_n_failures_even_the_right_password_is_refused(
        self, limited: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(limited) as client:
            await fail(client, api_account.email, 3)
            assert_refused(await post_login(client, api_account.email, PASSWORD))

    async def test_the_same_email_is_refused_from_another_address(
        self, limited: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(limited, "10.0.0.1") as one:
            await fail(one, api_account.email, 3)
            # Case and spaces do not make a new email.
            assert_refused(await post_login(one, " RITA@casalusa.example", PASSWORD))

    async def test_successful_sign_ins_do_not_count(
        self, limited: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(limited) as client:
            await fail(client, api_account.email, 2)
            for _ in range(3):
                client.cookies.clear()
                response = await post_login(client, api_account.email, PASSWORD)
                assert response.status_code == 303


class TestPerAddress:
    async def test_many_emails_from_one_address_are_refused_other_addresses_are_not(
        self, limited: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(limited, "10.0.0.7") as guesser:
            for n in range(5):
                await fail(guesser, f"user{n}@example.com", 1)
            assert_refused(await post_login(guesser, api_account.email, PASSWORD))
        async with browser(limited, "10.0.0.8") as agent:
            assert (await post_login(agent, api_account.email, PASSWORD)).status_code == 303


class TestThroughRedis:
    async def test_two_app_instances_share_the_failure_count(
        self, redis_settings: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(redis_settings) as first, browser(redis_settings) as second:
            await fail(first, api_account.email, 2)
            await fail(second, api_account.email, 1)
            assert_refused(await post_login(first, api_account.email, PASSWORD))
            assert_refused(await post_login(second, api_account.email, PASSWORD))

    async def test_per_address_limit_holds_across_instances(
        self, redis_settings: Settings, api_account: ApiAccount
    ) -> None:
        async with browser(redis_settings) as first, browser(redis_settings) as second:
            for n in range(5):
                await fail(first if n % 2 else second, f"user{n}@example.com", 1)
            assert_refused(await post_login(second, api_account.email, PASSWORD))

    async def test_an_unreachable_redis_refuses_sign_in_with_a_clear_page(
        self, limited: Settings, api_account: ApiAccount
    ) -> None:
        broken = tuned(limited, redis_url="redis://127.0.0.1:1/0")
        async with browser(broken) as client:
            response = await post_login(client, api_account.email, PASSWORD)
        assert response.status_code == 503
        assert "unavailable" in response.text
