"""Photo and location rows of the outbox: queued first, sent once through the fake Green API,
and cancelled, never sent, when a person took over in between (docs/architecture.md,
invariants 3 and 5)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    conversation_of,
    drained,
    fixture,
    start_service,
)
from tests.fakes.green_api import FakeGreenAPI
from tests.web.signin import sign_in
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties.photos import photo_url, store_photo

PHOTO = "https://casalusa.example/photos/cl-001-living.jpg"


@pytest.fixture
async def service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    async for running in start_service(settings, db, api_account, fake_green_api):
        yield running


async def _answered_conversation(service: Service) -> uuid.UUID:
    await service.post_webhook(fixture("incoming_text"))
    await service.wait_for_sends(1)
    conversation = await conversation_of(service.db, JAMES)
    await drained(service, conversation.id)
    return conversation.id


async def _queue_photo_and_pin(service: Service, conversation_id: uuid.UUID) -> list[uuid.UUID]:
    async with service.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        photo = outbox.queue_image(session, conversation, url=PHOTO, caption="The living room")
        pin = outbox.queue_location(
            session,
            conversation,
            latitude=38.7101,
            longitude=-9.1366,
            name="Sunny T2",
            address="Rua Augusta 100",
        )
        return [photo.id, pin.id]


async def _statuses(service: Service, ids: list[uuid.UUID]) -> list[str]:
    rows = {row.id: row for row in await service.messages()}
    return [rows[message_id].status for message_id in ids]


async def test_a_photo_and_a_pin_are_sent_once_each(service: Service) -> None:
    conversation_id = await _answered_conversation(service)
    ids = await _queue_photo_and_pin(service, conversation_id)
    await outbox.send_committed(service.runtime, ids)
    await outbox.send_committed(service.runtime, ids)  # a second sender finds them claimed
    assert await _statuses(service, ids) == ["sent", "sent"]
    [image] = service.green_api.sent_images
    assert (image["chatId"], image["urlFile"], image["caption"]) == (
        JAMES,
        PHOTO,
        "The living room",
    )
    assert image["fileName"] == "cl-001-living.jpg"
    [pin] = service.green_api.sent_locations
    assert (pin["latitude"], pin["longitude"], pin["nameLocation"]) == (
        38.7101,
        -9.1366,
        "Sunny T2",
    )


async def test_a_takeover_after_queueing_cancels_the_photo_and_the_pin(service: Service) -> None:
    conversation_id = await _answered_conversation(service)
    ids = await _queue_photo_and_pin(service, conversation_id)
    taken = await service.client.post(
        f"/api/v1/conversations/{conversation_id}/mode",
        headers=service.account.headers,
        json={"mode": "human"},
    )
    assert taken.status_code == 200, taken.text
    await outbox.send_committed(service.runtime, ids)
    await drained(service, conversation_id)
    assert await _statuses(service, ids) == ["cancelled", "cancelled"]
    assert service.green_api.sent_images == service.green_api.sent_locations == []


async def test_the_thread_page_shows_the_sent_photo_and_pin(service: Service) -> None:
    conversation_id = await _answered_conversation(service)
    ids = await _queue_photo_and_pin(service, conversation_id)
    await outbox.send_committed(service.runtime, ids)
    await sign_in(service.client, service.account.email)
    thread = await service.client.get(f"/inbox/{conversation_id}")
    assert thread.status_code == 200
    assert f'<img src="{PHOTO}"' in thread.text
    assert "The living room" in thread.text
    assert "📍 Sunny T2" in thread.text and "Rua Augusta 100" in thread.text


async def test_a_photo_stored_here_goes_as_its_bytes(service: Service, settings: Settings) -> None:
    content = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
    name = store_photo(settings.photos.dir, content, max_bytes=settings.photos.max_bytes)
    conversation_id = await _answered_conversation(service)
    async with service.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        url = photo_url(settings.public_base_url, name)
        row = outbox.queue_image(session, conversation, url=url, caption="Kitchen")
    await outbox.send_committed(service.runtime, [row.id])
    assert await _statuses(service, [row.id]) == ["sent"]
    [upload] = service.green_api.sent_files
    assert upload["file"] == (name, "image/png", content)
    assert upload["caption"] == "Kitchen"
    assert service.green_api.sent_images == []


async def test_a_stored_photo_whose_file_is_gone_fails_with_that_reason(
    service: Service, settings: Settings
) -> None:
    conversation_id = await _answered_conversation(service)
    async with service.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        url = photo_url(settings.public_base_url, "0" * 32 + ".jpg")
        row = outbox.queue_image(session, conversation, url=url)
    await outbox.send_committed(service.runtime, [row.id])
    [failed] = [message for message in await service.messages() if message.id == row.id]
    assert (failed.status, failed.error) == ("failed", "the photo's file is no longer stored")
    assert service.green_api.sent_files == service.green_api.sent_images == []
