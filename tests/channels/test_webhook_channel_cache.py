"""Webhook authentication from the process's short-lived copy of the channel: a token changed or
a channel disconnected is refused at once in this process, and within the cache's age in any
other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from tests.conftest import ApiAccount
from tests.conversations.harness import INSTANCE, WEBHOOK_TOKEN, Service, fixture, start_service
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database

CACHE_SECONDS = 0.5
NEW_TOKEN = "hook-secret-new-0123456789abcd"


@pytest.fixture
async def cached_service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    quiet = tuned(settings, reply_debounce_seconds=120, webhook_channel_cache_seconds=CACHE_SECONDS)
    async for running in start_service(quiet, db, api_account, fake_green_api):
        yield running


async def status_of(service: Service, message_id: str, *, token: str = WEBHOOK_TOKEN) -> int:
    payload = fixture("incoming_text") | {"idMessage": message_id}
    return (await service.post_webhook(payload, token=token)).status_code


async def channel_id(service: Service) -> str:
    listed = await service.client.get("/api/v1/channels", headers=service.account.headers)
    [channel] = [c for c in listed.json() if c["external_id"] == INSTANCE]
    return str(channel["id"])


class TestWebhookChannelCache:
    async def test_a_disconnected_channel_is_refused_at_once(self, cached_service: Service) -> None:
        assert await status_of(cached_service, "CACHE-1") == 200  # the channel is cached now
        url = f"/api/v1/channels/{await channel_id(cached_service)}"
        gone = await cached_service.client.delete(url, headers=cached_service.account.headers)
        assert gone.status_code == 204
        assert await status_of(cached_service, "CACHE-2") == 401

    async def test_a_reconnected_channels_new_token_replaces_the_old_one_at_once(
        self, cached_service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        headers = cached_service.account.headers
        assert await status_of(cached_service, "CACHE-3") == 200
        url = f"/api/v1/channels/{await channel_id(cached_service)}"
        assert (await cached_service.client.delete(url, headers=headers)).status_code == 204
        again = await cached_service.client.post(
            "/api/v1/channels",
            headers=headers,
            json={
                "type": "green_api",
                "id_instance": INSTANCE,
                "api_token": fake_green_api.token,
                "api_url": fake_green_api.base_url,
                "webhook_token": NEW_TOKEN,
            },
        )
        assert again.status_code == 201, again.text
        assert await status_of(cached_service, "CACHE-4") == 401
        assert await status_of(cached_service, "CACHE-5", token=NEW_TOKEN) == 200

    async def test_a_token_changed_by_another_process_is_refused_within_the_cache_age(
        self, cached_service: Service, db: Database
    ) -> None:
        assert await status_of(cached_service, "CACHE-6") == 200
        # A plain UPDATE, as another process's change looks to this one: no ORM event here.
        async with db.engine.begin() as conn:
            await conn.execute(
                update(Channel)
                .where(Channel.external_id == INSTANCE)
                .values(webhook_token=NEW_TOKEN)
            )
        await asyncio.sleep(CACHE_SECONDS + 0.1)
        assert await status_of(cached_service, "CACHE-7") == 401
        assert await status_of(cached_service, "CACHE-8", token=NEW_TOKEN) == 200
