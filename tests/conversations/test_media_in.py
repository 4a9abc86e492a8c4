"""Files customers send (docs/decisions.md, 31): downloaded by a job after the webhook answered,
kept under MEDIA_DIR under a name of ours, the reply drafted after it with the picture, and a
file that cannot be kept leaving the conversation going."""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    customer_text,
    drained,
    eventually,
    fixture,
    journal_entry,
    start_service,
)
from tests.conversations.meta_harness import MetaService, meta_fixture
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.ai.tools import ToolRunner
from whatsapp_assistant.ai.types import ImagePart, ReplyDraft, ReplyRequest
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations import media, recovery
from whatsapp_assistant.conversations.backfill import backfill
from whatsapp_assistant.conversations.media_files import MEDIA_KINDS, safe_filename
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2048)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(512)
PDF = b"%PDF-1.7\n" + os.urandom(1024)
OGG = b"OggS\x00\x02" + os.urandom(1024)


class RecordingLLM:
    """The offline AI, keeping every request it was asked to draft from."""

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner
        self.requests: list[ReplyRequest] = []

    async def draft_reply(self, request: ReplyRequest, tools: ToolRunner) -> ReplyDraft:
        self.requests.append(request)
        return await self.inner.draft_reply(request, tools)

    async def aclose(self) -> None:
        await self.inner.aclose()


def green_file(
    fake: FakeGreenAPI,
    content: bytes,
    *,
    kind: str = "imageMessage",
    mime: str = "image/jpeg",
    caption: str = "",
    file_name: str = "",
    expired: bool = False,
    from_phone: bool = False,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A notification of a file James sent (or the agent's phone sent him), served by the fake."""
    payload = copy.deepcopy(fixture("outgoing_from_phone" if from_phone else "incoming_text"))
    payload["idMessage"] = message_id or uuid.uuid4().hex.upper()[:20]
    url = fake.add_file(content, mime, chat_id=JAMES, message_id=payload["idMessage"])
    if expired:
        url = url.replace("/download/", "/download/gone-")  # a link that no longer works
    payload["messageData"] = {
        "typeMessage": kind,
        "fileMessageData": {
            "downloadUrl": url,
            "caption": caption,
            "fileName": file_name or f"{uuid.uuid4()}.jpg",
            "mimeType": mime,
        },
    }
    return payload


async def inbound(service: Service | MetaService) -> list[Message]:
    async with service.db.session_scope() as session:
        stmt = select(Message).where(Message.direction == "in").order_by(Message.created_at)
        return list((await session.execute(stmt)).scalars())


async def file_message(service: Service | MetaService) -> Message:
    messages = [m for m in await inbound(service) if m.kind in MEDIA_KINDS]
    if not messages:  # the agent's phone: stored as outgoing
        messages = [m for m in await _all(service) if m.kind in MEDIA_KINDS]
    [message] = messages
    return message


async def _all(service: Service | MetaService) -> list[Message]:
    async with service.db.session_scope() as session:
        return list((await session.execute(select(Message))).scalars())


async def verdict(service: Service | MetaService) -> dict[str, Any]:
    async def decided() -> bool:
        return "media" in (await file_message(service)).data

    await eventually(decided)
    found: dict[str, Any] = (await file_message(service)).data["media"]
    return found


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


@pytest.fixture
def recording(service: Service) -> RecordingLLM:
    recorder = RecordingLLM(service.runtime.llm)
    service.runtime.llm = recorder
    return recorder


class TestAPictureIsKeptAndSeen:
    async def test_the_picture_is_stored_under_a_name_of_ours_and_the_reply_sees_it(
        self,
        service: Service,
        recording: RecordingLLM,
        settings: Settings,
        fake_green_api: FakeGreenAPI,
        api_account: ApiAccount,
    ) -> None:
        response = await service.post_webhook(
            green_file(fake_green_api, JPEG, caption="Is it this building?")
        )
        assert response.status_code == 200

        [reply] = await service.wait_for_sends(1)
        stored = await verdict(service)
        assert stored["status"] == "stored"
        assert stored["mime"] == "image/jpeg"
        assert stored["size"] == len(JPEG)
        [on_disk] = files_under(settings.media.dir)
        assert on_disk.parent.name == str(api_account.account_id)
        assert on_disk.name != stored["filename"] and on_disk.suffix == ".jpg"
        assert stored["path"] == f"{api_account.account_id}/{on_disk.name}"
        assert on_disk.read_bytes() == JPEG
        # The draft was asked for with the picture on the customer's turn, its caption as text.
        [request] = recording.requests
        last = request.history[-1]
        assert last.images == (ImagePart(mime="image/jpeg", data=JPEG),)
        assert last.text == "Is it this building?"
        assert reply["chatId"] == JAMES

    async def test_the_webhook_answers_before_the_download(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.delay_next(1.5)  # the download is slow

        response = await service.post_webhook(green_file(fake_green_api, JPEG))

        assert response.status_code == 200
        message = await file_message(service)
        assert "media" not in message.data  # the thread says "Downloading…"
        assert (await verdict(service))["status"] == "stored"
        await service.wait_for_sends(1)

    async def test_an_image_only_message_is_answered_with_its_picture_and_no_text(
        self, service: Service, recording: RecordingLLM, fake_green_api: FakeGreenAPI
    ) -> None:
        await service.post_webhook(green_file(fake_green_api, PNG, mime="image/png"))

        await service.wait_for_sends(1)
        last = recording.requests[-1].history[-1]
        assert last.text == ""
        assert last.images[0].mime == "image/png"

    async def test_only_the_last_three_pictures_reach_the_model(
        self, service: Service, recording: RecordingLLM, fake_green_api: FakeGreenAPI
    ) -> None:
        pictures = [JPEG + bytes([index]) for index in range(4)]
        for count, picture in enumerate(pictures, start=1):
            await service.post_webhook(green_file(fake_green_api, picture, caption=f"#{count}"))
            await service.wait_for_sends(count)

        seen = [image.data for turn in recording.requests[-1].history for image in turn.images]
        assert seen == pictures[1:]

    async def test_an_expired_link_is_renewed_with_download_file(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        await service.post_webhook(green_file(fake_green_api, JPEG, expired=True))

        assert (await verdict(service))["status"] == "stored"
        asked = [r for r in fake_green_api.requests if "/downloadFile/" in r.path]
        assert [r.json["chatId"] for r in asked] == [JAMES]
        assert [path.read_bytes() for path in files_under(settings.media.dir)] == [JPEG]
        await service.wait_for_sends(1)


class TestAFileThatIsNotKept:
    async def test_a_claimed_image_that_is_not_one_is_refused_and_answered(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        await service.post_webhook(green_file(fake_green_api, svg, mime="image/png"))

        assert (await verdict(service))["status"] == "refused_type"
        await service.wait_for_sends(1)
        assert files_under(settings.media.dir) == []
        assert (await file_message(service)).media_url  # the reference stays

    async def test_a_type_we_do_not_keep_is_refused(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(
            fake_green_api,
            b"MZ\x90\x00" + os.urandom(64),
            kind="documentMessage",
            mime="application/x-msdownload",
            file_name="invoice.exe",
        )
        await service.post_webhook(payload)

        assert (await verdict(service))["status"] == "refused_type"
        assert files_under(settings.media.dir) == []
        await service.wait_for_sends(1)

    async def test_a_download_that_keeps_failing_is_marked_failed_and_answered(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        # The first try and both retries of the test settings (MEDIA_RETRY_DELAYS_SECONDS).
        tries = 1 + len(settings.media.retry_delays_seconds)
        fake_green_api.fail_next(503, count=tries)

        await service.post_webhook(green_file(fake_green_api, JPEG))

        assert (await verdict(service))["status"] == "failed"
        await service.wait_for_sends(1)
        assert files_under(settings.media.dir) == []

    async def test_a_download_that_fails_once_is_tried_again(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(503)

        await service.post_webhook(green_file(fake_green_api, JPEG))

        assert (await verdict(service))["status"] == "stored"
        assert len(fake_green_api.downloads) == 1
        assert "media_attempts" not in (await file_message(service)).data

    async def test_green_apis_too_large_marker_is_shown_without_a_download(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(fake_green_api, JPEG, kind="videoMessage", mime="video/mp4")
        payload["messageData"]["fileMessageData"]["downloadUrl"] = "{{SWE002}}"

        await service.post_webhook(payload)

        assert (await verdict(service))["status"] == "too_large"
        await service.wait_for_sends(1)
        await drained(service)
        assert fake_green_api.downloads == []


@pytest.fixture
async def small_limit(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    limited = tuned(settings, media_max_bytes=4096)
    async for running in start_service(limited, db, api_account, fake_green_api):
        yield running


async def test_a_file_over_the_limit_is_kept_as_a_reference_and_answered(
    small_limit: Service, settings: Settings, fake_green_api: FakeGreenAPI
) -> None:
    big = JPEG + os.urandom(8192)
    await small_limit.post_webhook(green_file(fake_green_api, big))

    found = await verdict(small_limit)
    assert found["status"] == "too_large"
    assert found["size"] == len(big)  # the provider said how long it is
    assert files_under(settings.media.dir) == []
    assert (await file_message(small_limit)).media_url
    await small_limit.wait_for_sends(1)


class TestOnceOnly:
    async def test_a_second_run_of_the_job_downloads_and_answers_nothing_more(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        await service.post_webhook(green_file(fake_green_api, JPEG))
        await verdict(service)
        await service.wait_for_sends(1)
        message = await file_message(service)

        assert await media.fetch_media(service.runtime, message.id) is None

        await drained(service)
        assert len(fake_green_api.downloads) == 1
        assert len(files_under(settings.media.dir)) == 1
        assert len(fake_green_api.sent_messages) == 1

    async def test_a_redelivered_notification_is_downloaded_once(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(fake_green_api, JPEG)
        await service.post_webhook(payload)
        await service.post_webhook(payload)

        await verdict(service)
        await drained(service)
        assert len(fake_green_api.downloads) == 1
        assert len(files_under(settings.media.dir)) == 1
        assert len(fake_green_api.sent_messages) == 1


class TestOtherFiles:
    async def test_a_voice_note_is_stored_and_still_gets_the_type_instead_notice(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(
            fake_green_api, OGG, kind="audioMessage", mime="audio/ogg; codecs=opus"
        )
        await service.post_webhook(payload)

        found = await verdict(service)
        assert (found["status"], found["mime"]) == ("stored", "audio/ogg")
        [notice] = await service.wait_for_sends(1)
        assert "voice" in notice["message"].lower() or "type" in notice["message"].lower()
        assert [path.suffix for path in files_under(settings.media.dir)] == [".ogg"]

    @pytest.mark.parametrize(
        "hostile",
        ["../../etc/passwd", "report\x00.pdf", "a" * 300 + ".pdf", "..", "/abs/olute.pdf"],
    )
    async def test_a_hostile_file_name_never_reaches_the_disk(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI, hostile: str
    ) -> None:
        payload = green_file(
            fake_green_api,
            PDF,
            kind="documentMessage",
            mime="application/pdf",
            file_name=hostile,
        )
        await service.post_webhook(payload)

        found = await verdict(service)
        assert found["status"] == "stored"
        [on_disk] = files_under(settings.media.dir)
        assert on_disk.parent.parent == settings.media.dir
        assert on_disk.suffix == ".pdf" and len(on_disk.stem) == 32
        shown = found["filename"]
        assert "/" not in shown and "\x00" not in shown and not shown.startswith(".")
        assert 0 < len(shown) <= 120
        assert not (settings.media.dir.parent / "etc").exists()

    async def test_a_file_from_the_agents_phone_is_kept_and_not_answered(
        self, service: Service, settings: Settings, fake_green_api: FakeGreenAPI
    ) -> None:
        await service.post_webhook(green_file(fake_green_api, JPEG, from_phone=True))

        assert (await verdict(service))["status"] == "stored"
        await drained(service)
        assert fake_green_api.sent_messages == []


class TestMeta:
    async def test_a_picture_is_fetched_by_its_media_id_with_the_token(
        self, meta_service: MetaService, settings: Settings
    ) -> None:
        graph = meta_service.graph
        payload = meta_fixture("inbound_image")
        item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        item["image"]["id"] = graph.add_media(JPEG, "image/jpeg")

        response = await meta_service.post_webhook(payload)

        assert response.status_code == 200
        found = await verdict(meta_service)
        assert (found["status"], found["mime"], found["size"]) == (
            "stored",
            "image/jpeg",
            len(JPEG),
        )
        assert [path.read_bytes() for path in files_under(settings.media.dir)] == [JPEG]
        assert graph.media_downloads == 1
        await meta_service.wait_for_sends(1)

    async def test_an_unknown_media_id_is_marked_failed_and_answered(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(meta_fixture("inbound_image"))

        assert (await verdict(meta_service))["status"] == "failed"
        await meta_service.wait_for_sends(1)


class TestFileNames:
    @pytest.mark.parametrize(
        ("given", "shown"),
        [
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\ana\\plan.pdf", "plan.pdf"),
            ("re\x00port.pdf", "re_port.pdf"),
            ("..", "document.pdf"),
            ("", "document.pdf"),
            ('a"b<c>.pdf', "a_b_c_.pdf"),
        ],
    )
    def test_a_name_is_made_safe_to_show(self, given: str, shown: str) -> None:
        assert safe_filename(given, kind="document", mime="application/pdf") == shown

    def test_a_long_name_keeps_its_extension(self) -> None:
        name = safe_filename("x" * 300 + ".docx", kind="document")
        assert len(name) == 120 and name.endswith(".docx")


async def test_a_file_whose_job_was_lost_is_fetched_by_the_recovery(
    service: Service, settings: Settings, fake_green_api: FakeGreenAPI
) -> None:
    # The webhook's commit went through, its job did not (a process killed in between).
    payload = green_file(fake_green_api, JPEG, caption="still there?")
    defer = service.runtime.queue.defer_on_commit
    service.runtime.queue.defer_on_commit = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        await service.post_webhook(payload)
    finally:
        service.runtime.queue.defer_on_commit = defer  # type: ignore[method-assign]
    assert "media" not in (await file_message(service)).data

    await recovery.recover(service.runtime, startup=True)

    assert (await verdict(service))["status"] == "stored"
    [reply] = await service.wait_for_sends(1)
    assert reply["chatId"] == JAMES


async def test_a_text_right_after_a_photo_is_answered_once_with_the_photo(
    service: Service, recording: RecordingLLM, fake_green_api: FakeGreenAPI
) -> None:
    fake_green_api.delay_next(1.0)  # the photo is still downloading when the text comes
    await service.post_webhook(green_file(fake_green_api, JPEG))
    await service.post_webhook(customer_text("Is this the one on Rua da Graça?"))

    await verdict(service)
    await drained(service)

    assert len(fake_green_api.sent_messages) == 1
    [request] = recording.requests
    assert [turn.images for turn in request.history if turn.images] == [
        (ImagePart("image/jpeg", JPEG),)
    ]
    assert request.history[-1].text == "Is this the one on Rua da Graça?"


async def test_a_photo_missed_long_ago_is_kept_for_the_agent_and_not_answered(
    service: Service, settings: Settings, fake_green_api: FakeGreenAPI
) -> None:
    # A backfill finds a photo sent two hours ago: the agent decides (docs/decisions.md, 26).
    entry = journal_entry("", minutes_ago=120, message_id="3EB0OLDPHOTO00000001")
    url = fake_green_api.add_file(JPEG, "image/jpeg", chat_id=JAMES, message_id=entry["idMessage"])
    entry |= {"typeMessage": "imageMessage", "downloadUrl": url, "mimeType": "image/jpeg"}
    entry.pop("textMessage")
    fake_green_api.add_incoming(entry)
    async with service.db.session_scope() as session:
        channel = (await session.execute(select(Channel.id))).scalar_one()

    report = await backfill(service.runtime, channel, since=timedelta(hours=6))

    assert (report.stored, report.flagged) == (1, 1)
    assert (await verdict(service))["status"] == "stored"
    await drained(service)
    assert fake_green_api.sent_messages == []


async def test_a_picture_over_5_mb_is_kept_but_not_shown_to_the_model(
    service: Service, recording: RecordingLLM, fake_green_api: FakeGreenAPI
) -> None:
    big = JPEG + os.urandom(5 * 1024 * 1024)
    await service.post_webhook(green_file(fake_green_api, big, caption="the whole street"))

    assert (await verdict(service))["status"] == "stored"
    await service.wait_for_sends(1)
    [request] = recording.requests
    assert [turn.images for turn in request.history] == [()]
    assert "the whole street" in request.history[-1].text
