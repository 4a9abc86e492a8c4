"""Polling mode: a Green API number answered with no webhook at all, and a crash between the
commit and the delete that stores nothing twice (docs/decisions.md, 26)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    customer_text,
    drained,
    start_service,
    wait_until,
)
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.models import WebhookEvent
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


@pytest.fixture
def polling_settings(settings: Settings) -> Settings:
    # The poller notices the channel connected after start-up at its next scan.
    return tuned(settings, polling_scan_seconds=0.05)


@asynccontextmanager
async def polling(
    settings: Settings,
    db: Database,
    account: ApiAccount,
    green_api: FakeGreenAPI,
    *,
    receive_mode: str = "polling",
    connect: bool = True,
) -> AsyncIterator[Service]:
    """The service with the fake's instance connected (in polling mode unless told otherwise);
    stopped on leaving."""
    running = start_service(
        settings, db, account, green_api, receive_mode=receive_mode, connect=connect
    )
    assert isinstance(running, AsyncGenerator)
    service = await anext(running)
    try:
        yield service
    finally:
        await running.aclose()


@pytest.fixture
async def listing(db: Database, api_account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)


async def raw_rows(db: Database) -> int:
    async with db.session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


@pytest.mark.usefixtures("listing")
class TestPollingChannel:
    async def test_a_pulled_message_is_answered_with_no_webhook_at_all(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(polling_settings, db, api_account, fake_green_api) as service:
            receipt = fake_green_api.push_notification(customer_text("Any T2 in Graça?"))

            sent = await service.wait_for_sends(1)
            await wait_until(lambda: fake_green_api.deleted_receipts == [receipt])
            await drained(service)

            assert sent[0]["chatId"] == JAMES
            assert [m.text for m in await service.messages(author="customer")] == [
                "Any T2 in Graça?"
            ]
            assert fake_green_api.queued_notifications == 0

    async def test_a_failed_delete_after_the_commit_stores_and_answers_once(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(polling_settings, db, api_account, fake_green_api) as service:
            fake_green_api.fail_next_delete(400)  # committed, then the delete is refused
            receipt = fake_green_api.push_notification(customer_text("Is it still for sale?"))

            await wait_until(lambda: fake_green_api.deleted_receipts == [receipt])
            await service.wait_for_sends(1)
            await drained(service)

            deletes = [r for r in fake_green_api.requests if r.method == "DELETE"]
            assert len(deletes) == 2  # it came again after the failed delete
            assert len(fake_green_api.sent_messages) == 1
            assert len(await service.messages(author="customer")) == 1
            assert await raw_rows(db) == 1

    async def test_stopped_between_the_commit_and_the_delete_stores_and_answers_once(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(polling_settings, db, api_account, fake_green_api) as service:
            # The delete hangs, then fails: the process is stopped while it is on the wire.
            fake_green_api.fail_next_delete(500, delay_seconds=3.0)
            receipt = fake_green_api.push_notification(customer_text("Can I visit on Friday?"))
            await service.wait_for_sends(1)
            await wait_until(lambda: any(r.method == "DELETE" for r in fake_green_api.requests))
        assert fake_green_api.queued_notifications == 1  # never deleted

        async with polling(
            polling_settings, db, api_account, fake_green_api, connect=False
        ) as again:
            await wait_until(lambda: fake_green_api.deleted_receipts == [receipt], within=20)
            await drained(again)

            assert len(fake_green_api.sent_messages) == 1
            assert len(await again.messages(author="customer")) == 1
            assert await raw_rows(db) == 1

    async def test_a_notification_we_cannot_read_is_dropped_and_the_queue_moves_on(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(polling_settings, db, api_account, fake_green_api) as service:
            unreadable = fake_green_api.push_notification({"hello": "no typeWebhook here"})
            good = fake_green_api.push_notification(customer_text("Still available?"))

            await wait_until(lambda: fake_green_api.deleted_receipts == [unreadable, good])
            await service.wait_for_sends(1)
            await drained(service)

            assert [m.text for m in await service.messages(author="customer")] == [
                "Still available?"
            ]

    async def test_a_webhook_channel_is_not_pulled(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(
            polling_settings, db, api_account, fake_green_api, receive_mode="webhook"
        ) as service:
            fake_green_api.push_notification(customer_text("Hello?"))
            response = await service.post_webhook(customer_text("Hello by webhook"))
            assert response.status_code == 200
            await service.wait_for_sends(1)
            await drained(service)

            assert fake_green_api.queued_notifications == 1
            assert not any("receiveNotification" in r.path for r in fake_green_api.requests)


class TestReceiveModeSetting:
    async def test_switching_a_channel_to_polling_starts_pulling_it(
        self,
        polling_settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        async with polling(
            polling_settings, db, api_account, fake_green_api, receive_mode="webhook"
        ) as service:
            listed = await service.client.get("/api/v1/channels", headers=api_account.headers)
            [channel] = listed.json()
            assert channel["receive_mode"] == "webhook"
            changed = await service.client.patch(
                f"/api/v1/channels/{channel['id']}",
                headers=api_account.headers,
                json={"receive_mode": "polling"},
            )
            assert changed.status_code == 200, changed.text
            assert changed.json()["receive_mode"] == "polling"

            receipt = fake_green_api.push_notification(customer_text("Olá, têm um T1?"))
            await wait_until(lambda: fake_green_api.deleted_receipts == [receipt])
            await service.wait_for_sends(1)

    async def test_an_unknown_mode_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await client.post(
            "/api/v1/channels",
            headers=api_account.headers,
            json={
                "type": "green_api",
                "id_instance": "1101823456",
                "api_token": "a1b2c3d4e5f6a7b8c9d0",
            },
        )
        channel_id = created.json()["id"]
        refused = await client.patch(
            f"/api/v1/channels/{channel_id}",
            headers=api_account.headers,
            json={"receive_mode": "carrier-pigeon"},
        )
        assert refused.status_code == 422
        assert "receive_mode" in refused.text
        [listed] = (await client.get("/api/v1/channels", headers=api_account.headers)).json()
        assert listed["receive_mode"] == "webhook"

    async def test_the_simulator_has_no_receive_mode(
        self, client: httpx.AsyncClient, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            simulator = await channels.get_or_create_simulator(session, api_account.account_id)
        refused = await client.patch(
            f"/api/v1/channels/{simulator.id}",
            headers=api_account.headers,
            json={"receive_mode": "polling"},
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "channel_has_no_receive_mode"
