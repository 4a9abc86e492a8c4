"""A listing's photos reach the customer after the reply's text: chosen by Claude's
send_listing_photos tool (fake Anthropic API) or by the offline provider, sent through the fake
Green API and the fake Graph; never of another account's listing, never after a takeover."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sqlalchemy import select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    conversation_of,
    customer_text,
    drained,
    eventually,
    start_service,
    wait_until,
)
from tests.conversations.meta_harness import MetaService, meta_fixture
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic, text_reply, tool_results, tool_use_reply
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.llm_base import JSON, FakeResponse
from tests.fakes.openai_server import FakeOpenAI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties.models import Property

PHOTOS = [
    "https://casalusa.example/photos/cl-001-living.jpg",
    "https://casalusa.example/photos/cl-001-terrace.jpg",
    "https://casalusa.example/photos/cl-001-kitchen.jpg",
]
TITLE = "Sunny T2 in Graça with terrace"
ASK = "Any flats in Graça? Can you send photos?"


async def _give_photos(db: Database, account: ApiAccount) -> None:
    async with db.session_scope() as session:
        stmt = select(Property).where(Property.account_id == account.account_id)
        for prop in (await session.execute(stmt)).scalars():
            prop.photo_urls = list(PHOTOS)


def _script_photos(fake: FakeAnthropic, property_id: uuid.UUID, count: int) -> None:
    """Claude searches, asks for `count` photos of the listing, then answers."""
    fake.queue(lambda _body: tool_use_reply("search_properties", {"location": ["Graça"]}))
    arguments = {"property_id": str(property_id), "count": count}
    fake.queue(lambda _body: tool_use_reply("send_listing_photos", arguments))

    def answer(body: JSON) -> FakeResponse:
        return text_reply(f"Here is the {TITLE}, photos below.")

    fake.queue(answer)


async def _listing_id(db: Database, account: ApiAccount, **values: Any) -> uuid.UUID:
    async with db.session_scope() as session:
        return (await create_property(session, account.account_id, **values)).id


def _kinds_in_order(service: Service) -> list[str]:
    sends = {"sendMessage": "text", "sendFileByUrl": "image", "sendLocation": "location"}
    methods = [request.path.split("/")[2] for request in service.green_api.requests]
    return [sends[method] for method in methods if method in sends]


class TestClaude:
    async def test_the_customer_gets_the_text_then_the_chosen_photos(
        self,
        start_claude: StartClaude,
        db: Database,
        api_account: ApiAccount,
        fake_anthropic: FakeAnthropic,
    ) -> None:
        property_id = await _listing_id(db, api_account, photo_urls=PHOTOS)
        _script_photos(fake_anthropic, property_id, 2)
        async with start_claude() as service:
            await service.post_webhook(customer_text(ASK))
            await eventually(lambda: _sent_images(service, 2))
            await drained(service)
            assert _kinds_in_order(service) == ["text", "image", "image"]
            first, second = service.green_api.sent_images
            assert (first["urlFile"], first["caption"], first["chatId"]) == (
                PHOTOS[0],
                TITLE,
                JAMES,
            )
            assert (second["urlFile"], "caption" in second) == (PHOTOS[1], False)
            rows = await service.messages(direction="out")
            assert [row.status for row in rows] == ["sent"] * 3
            assert {row.author for row in rows} == {"ai"}
        results = [text for body in fake_anthropic.bodies for text in tool_results(body)]
        assert any("2 photos of" in text for text in results)

    async def test_another_accounts_listing_sends_no_photo(
        self,
        start_claude: StartClaude,
        db: Database,
        api_account: ApiAccount,
        other_account: ApiAccount,
        fake_anthropic: FakeAnthropic,
    ) -> None:
        await _listing_id(db, api_account)
        rival = await _listing_id(db, other_account, title="Rival penthouse", photo_urls=PHOTOS)
        _script_photos(fake_anthropic, rival, 3)
        async with start_claude() as service:
            await service.post_webhook(customer_text(ASK))
            await service.wait_for_sends(1)
            await drained(service)
            assert service.green_api.sent_images == []
        results = [text for body in fake_anthropic.bodies for text in tool_results(body)]
        assert any("only of a listing this conversation is about" in text for text in results)
        assert not any("Rival penthouse" in text for text in results)

    async def test_a_takeover_between_queueing_and_sending_sends_no_photo(
        self,
        start_claude: StartClaude,
        db: Database,
        api_account: ApiAccount,
        fake_anthropic: FakeAnthropic,
    ) -> None:
        property_id = await _listing_id(db, api_account, photo_urls=PHOTOS)
        _script_photos(fake_anthropic, property_id, 3)
        async with start_claude() as service:
            # The text is held on the wire; the photos are queued behind it meanwhile.
            service.green_api.delay_next(1.5)
            await service.post_webhook(customer_text(ASK))
            await eventually(lambda: _text_on_the_wire(service))
            conversation = await conversation_of(db, JAMES)
            taken = await service.client.post(
                f"/api/v1/conversations/{conversation.id}/mode",
                headers=service.account.headers,
                json={"mode": "human"},
            )
            assert taken.status_code == 200, taken.text
            await drained(service, conversation.id)
            assert len(service.green_api.sent_messages) == 1
            assert service.green_api.sent_images == []
            photos = await service.messages(kind="image")
            assert [row.status for row in photos] == ["cancelled"] * 3


class TestOpenAI:
    async def test_an_openai_compatible_model_sends_photos_the_same_way(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        fake_openai: FakeOpenAI,
    ) -> None:
        property_id = await _listing_id(db, api_account, photo_urls=PHOTOS)
        fake_openai.queue_tool_call("search_properties", {"location": ["Graça"]})
        arguments = {"property_id": str(property_id), "count": 1}
        fake_openai.queue_tool_call("send_listing_photos", arguments)
        fake_openai.queue_text(f"Here is the {TITLE}, a photo below.")
        on_openai = tuned(
            settings,
            llm_provider="openai",
            openai_base_url=fake_openai.base_url,
            openai_api_key="test-key",
            llm_max_retries=0,
        )
        async for service in start_service(on_openai, db, api_account, fake_green_api):
            await service.post_webhook(customer_text(ASK))
            await wait_until(lambda: len(fake_green_api.sent_images) >= 1)
            await drained(service)
            assert _kinds_in_order(service) == ["text", "image"]
            assert [image["urlFile"] for image in fake_green_api.sent_images] == PHOTOS[:1]


class TestOffline:
    async def test_each_named_listing_goes_with_its_first_photo(
        self, service: Service, db: Database, api_account: ApiAccount
    ) -> None:
        await _give_photos(db, api_account)
        await service.post_webhook(customer_text("Any flats in Graça?"))
        await eventually(lambda: _sent_images(service, 1))
        await drained(service)
        assert _kinds_in_order(service) == ["text", "image"]
        assert TITLE in service.green_api.sent_messages[0]["message"]
        [image] = service.green_api.sent_images
        assert (image["urlFile"], image["caption"]) == (PHOTOS[0], TITLE)

    async def test_a_listing_without_photos_sends_the_text_alone(self, service: Service) -> None:
        await service.post_webhook(customer_text("Any flats in Graça?"))
        await service.wait_for_sends(1)
        await drained(service)
        assert service.green_api.sent_images == []

    async def test_on_meta_the_photo_goes_as_an_image_link_after_the_text(
        self, meta_service: MetaService, db: Database, api_account: ApiAccount
    ) -> None:
        await _give_photos(db, api_account)
        payload = copy.deepcopy(meta_fixture("inbound_text"))
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = (
            "Any flats in Graça?"
        )
        response = await meta_service.post_webhook(payload)
        assert response.status_code == 200
        sent = await meta_service.wait_for_sends(2)
        assert [body["type"] for body in sent] == ["text", "image"]
        assert sent[1]["image"] == {"link": PHOTOS[0], "caption": TITLE}


async def _sent_images(service: Service, count: int) -> bool:
    return len(service.green_api.sent_images) >= count


async def _text_on_the_wire(service: Service) -> bool:
    rows: list[Message] = await service.messages(kind="text", direction="out")
    return any(row.status == "sending" for row in rows)
