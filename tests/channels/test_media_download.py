"""Downloading a received file through the Green API and Meta adapters, against their fakes over
real HTTP (docs/providers.md, G21 and M11): the bytes, a renewed link, the byte limit, the token,
and which failures may pass."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from tests.channels.test_green_api_send import FAST, JAMES, make_channel
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.loopback import Answer, serving
from tests.fakes.meta_graph import FakeMetaGraph
from whatsapp_assistant.channels.base import DownloadsMedia
from whatsapp_assistant.channels.errors import DownloadError, MediaTooLarge
from whatsapp_assistant.channels.green_api.adapter import GreenAPIAdapter
from whatsapp_assistant.channels.meta_cloud.adapter import MetaCloudAdapter
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.simulator.adapter import SimulatorAdapter
from whatsapp_assistant.channels.types import MediaRef
from whatsapp_assistant.config import MetaCloudSettings

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(64 * 1024)
LIMIT = 16 * 1024 * 1024


@pytest.fixture
async def green() -> AsyncIterator[GreenAPIAdapter]:
    made = GreenAPIAdapter(FAST)
    yield made
    await made.aclose()


@pytest.fixture
async def meta() -> AsyncIterator[MetaCloudAdapter]:
    made = MetaCloudAdapter(MetaCloudSettings(backoff_seconds=0.01, max_attempts=2))
    yield made
    await made.aclose()


def _meta_channel(graph: FakeMetaGraph, *, token: str | None = None) -> Channel:
    return Channel(
        account_id=uuid.uuid4(),
        type="meta_cloud",
        external_id=graph.phone_number_id,
        api_url=graph.base_url,
        api_token=token or graph.token,
        webhook_token="secret",
    )


def test_the_simulator_has_no_files_to_download() -> None:
    assert not isinstance(SimulatorAdapter(), DownloadsMedia)
    assert isinstance(GreenAPIAdapter(FAST), DownloadsMedia)


class TestGreenAPI:
    async def test_the_download_url_gives_the_bytes(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        url = fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id="3EB0A")
        ref = MediaRef(JAMES, "3EB0A", url=url, filename="x.jpg")

        got = await green.download_media(
            make_channel(fake_green_api.base_url), ref, max_bytes=LIMIT
        )

        assert (got.content, got.mime, got.filename) == (JPEG, "image/jpeg", "x.jpg")

    async def test_a_dead_link_is_renewed_with_download_file(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        url = fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id="3EB0B")
        ref = MediaRef(JAMES, "3EB0B", url=url.replace("/download/", "/download/old-"))

        got = await green.download_media(
            make_channel(fake_green_api.base_url), ref, max_bytes=LIMIT
        )

        assert got.content == JPEG
        [asked] = [r for r in fake_green_api.requests if "/downloadFile/" in r.path]
        assert asked.json == {"chatId": JAMES, "idMessage": "3EB0B"}

    async def test_no_file_for_the_message_is_a_failure_that_will_not_pass(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        ref = MediaRef(JAMES, "3EB0NONE", url=fake_green_api.base_url + "/download/none")

        with pytest.raises(DownloadError) as caught:
            await green.download_media(make_channel(fake_green_api.base_url), ref, max_bytes=LIMIT)

        assert not caught.value.retryable
        assert fake_green_api.token not in caught.value.message

    async def test_a_server_fault_may_pass(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        url = fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id="3EB0C")
        fake_green_api.fail_next(503)

        with pytest.raises(DownloadError) as caught:
            await green.download_media(
                make_channel(fake_green_api.base_url),
                MediaRef(JAMES, "3EB0C", url=url),
                max_bytes=LIMIT,
            )

        assert caught.value.retryable
        assert caught.value.status_code == 503

    async def test_a_link_to_another_host_is_not_fetched_and_the_api_is_asked(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        """Whoever holds the webhook token may name any address as downloadUrl: an internal
        service here. It is never asked; downloadFile gives the instance's own link."""
        fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id="3EB0E")
        asked: list[str] = []

        def internal(method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
            asked.append(path)
            return Answer(200, b"secret metadata", "text/plain")

        with serving(internal) as origin:
            ref = MediaRef(JAMES, "3EB0E", url=f"{origin}/latest/meta-data/")
            got = await green.download_media(
                make_channel(fake_green_api.base_url), ref, max_bytes=LIMIT
            )

        assert got.content == JPEG
        assert asked == []
        assert [r for r in fake_green_api.requests if "/downloadFile/" in r.path]

    async def test_reading_stops_past_the_limit(
        self, green: GreenAPIAdapter, fake_green_api: FakeGreenAPI
    ) -> None:
        url = fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id="3EB0D")

        with pytest.raises(MediaTooLarge) as caught:
            await green.download_media(
                make_channel(fake_green_api.base_url),
                MediaRef(JAMES, "3EB0D", url=url),
                max_bytes=1024,
            )

        assert caught.value.size == len(JPEG)


class TestMeta:
    async def test_the_media_id_then_its_url_with_the_token(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        media_id = fake_meta_graph.add_media(JPEG, "image/jpeg")

        got = await meta.download_media(
            _meta_channel(fake_meta_graph),
            MediaRef("351912345678@c.us", "wamid.X", media_id=media_id),
            max_bytes=LIMIT,
        )

        assert (got.content, got.mime) == (JPEG, "image/jpeg")
        assert fake_meta_graph.media_downloads == 1
        assert all(
            r.headers.get("authorization") == f"Bearer {fake_meta_graph.token}"
            for r in fake_meta_graph.requests
        )

    async def test_a_wrong_token_is_refused_and_not_tried_again(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        media_id = fake_meta_graph.add_media(JPEG, "image/jpeg")

        with pytest.raises(DownloadError) as caught:
            await meta.download_media(
                _meta_channel(fake_meta_graph, token="not-the-token"),
                MediaRef("351912345678@c.us", "wamid.X", media_id=media_id),
                max_bytes=LIMIT,
            )

        assert caught.value.status_code == 401 and not caught.value.retryable
        assert fake_meta_graph.media_downloads == 0
        assert "not-the-token" not in caught.value.message

    async def test_a_file_graph_says_is_too_long_is_not_read(
        self, meta: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        media_id = fake_meta_graph.add_media(JPEG, "image/jpeg")

        with pytest.raises(MediaTooLarge) as caught:
            await meta.download_media(
                _meta_channel(fake_meta_graph),
                MediaRef("351912345678@c.us", "wamid.X", media_id=media_id),
                max_bytes=1024,
            )

        assert caught.value.size == len(JPEG)
        assert fake_meta_graph.media_downloads == 0

    async def test_the_media_url_without_the_token_answers_401(
        self, fake_meta_graph: FakeMetaGraph
    ) -> None:
        media_id = fake_meta_graph.add_media(JPEG, "image/jpeg")
        headers = {"Authorization": f"Bearer {fake_meta_graph.token}"}
        async with httpx.AsyncClient() as client:
            described = await client.get(f"{fake_meta_graph.base_url}/{media_id}", headers=headers)
            url = described.json()["url"]
            assert (await client.get(url)).status_code == 401
            assert (await client.get(url, headers=headers)).content == JPEG
