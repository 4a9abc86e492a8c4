"""Photos and location pins through the Green API and Meta adapters, against their fakes over
real HTTP: the documented request of each, and what a refusal gives."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.channels.test_green_api_send import FAST, JAMES, make_channel
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.meta_graph import FakeMetaGraph
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.green_api.adapter import GreenAPIAdapter
from whatsapp_assistant.channels.meta_cloud.adapter import MetaCloudAdapter
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import OutboundImage, OutboundLocation
from whatsapp_assistant.config import MetaCloudSettings

PHOTO = "https://casalusa.example/photos/cl-001-living.jpg"
PIN = OutboundLocation(
    JAMES, latitude=38.7101, longitude=-9.1366, name="Sunny T2", address="Rua Augusta 100"
)


@pytest.fixture
async def green() -> AsyncIterator[GreenAPIAdapter]:
    made = GreenAPIAdapter(FAST)
    yield made
    await made.aclose()


@pytest.fixture
async def meta() -> AsyncIterator[MetaCloudAdapter]:
    made = MetaCloudAdapter(MetaCloudSettings(backoff_seconds=0.01, max_attempts=3))
    yield made
    await made.aclose()


def _meta_channel(graph: FakeMetaGraph) -> Channel:
    return Channel(
        account_id=uuid.uuid4(),
        type="meta_cloud",
        external_id=graph.phone_number_id,
        api_url=graph.base_url,
        api_token=graph.token,
        webhook_token="secret",
    )


class TestGreenAPI:
    async def test_a_photo_by_url_goes_as_send_file_by_url_with_its_caption(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        image = OutboundImage(JAMES, url=PHOTO, filename="cl-001-living.jpg", caption="Living room")
        receipt = await green.send_image(make_channel(fake_green_api.base_url), image)
        assert receipt.provider_message_id.startswith("3EB0")
        assert fake_green_api.sent_images == [
            {
                "chatId": JAMES,
                "urlFile": PHOTO,
                "fileName": "cl-001-living.jpg",
                "caption": "Living room",
            }
        ]
        assert fake_green_api.sent_messages == []

    async def test_a_photo_with_its_bytes_goes_up_as_a_file(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        content = b"\xff\xd8\xff\xe0 a jpeg"
        image = OutboundImage(JAMES, url=PHOTO, filename="a.jpg", content=content)
        await green.send_image(make_channel(fake_green_api.base_url), image)
        [upload] = fake_green_api.sent_files
        assert upload["file"] == ("a.jpg", "image/jpeg", content)

    async def test_a_location_goes_as_send_location(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        await green.send_location(make_channel(fake_green_api.base_url), PIN)
        assert fake_green_api.sent_locations == [
            {
                "chatId": JAMES,
                "latitude": 38.7101,
                "longitude": -9.1366,
                "nameLocation": "Sunny T2",
                "address": "Rua Augusta 100",
            }
        ]

    async def test_a_refused_photo_is_a_send_error_that_is_not_retried(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        image = OutboundImage("not-a-chat", url=PHOTO, filename="a.jpg")
        with pytest.raises(SendError) as caught:
            await green.send_image(make_channel(fake_green_api.base_url), image)
        assert (caught.value.status_code, caught.value.retryable) == (400, False)
        assert fake_green_api.sent_images == []


class TestMetaCloud:
    async def test_a_photo_by_url_goes_as_an_image_link(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        image = OutboundImage(JAMES, url=PHOTO, filename="a.jpg", caption="x" * 2000)
        receipt = await meta.send_image(_meta_channel(fake_meta_graph), image)
        [sent] = fake_meta_graph.sent_messages
        assert sent["type"] == "image"
        assert sent["image"] == {"link": PHOTO, "caption": "x" * 1024}
        assert receipt.provider_message_id.startswith("wamid.")

    async def test_a_photo_with_its_bytes_is_uploaded_then_sent_by_id(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        content = b"\x89PNG\r\n\x1a\n a png"
        image = OutboundImage(JAMES, url=PHOTO, filename="a.png", content=content, mime="image/png")
        await meta.send_image(_meta_channel(fake_meta_graph), image)
        [sent] = fake_meta_graph.sent_messages
        assert fake_meta_graph.uploads[sent["image"]["id"]] == ("a.png", "image/png", content)

    async def test_a_location_goes_as_type_location(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        await meta.send_location(_meta_channel(fake_meta_graph), PIN)
        [sent] = fake_meta_graph.sent_messages
        assert sent["type"] == "location"
        assert sent["location"] == {
            "latitude": 38.7101,
            "longitude": -9.1366,
            "name": "Sunny T2",
            "address": "Rua Augusta 100",
        }
