"""A customer's voice note end to end (docs/decisions.md, 32): downloaded by the fetch job,
transcribed through the OpenAI-compatible endpoint, and answered like typed text; the thread
shows the words under the player. Without a transcriber, or when it fails, the customer is
asked to type and the agent still has the note."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import ApiAccount
from tests.conversations.harness import Service, drained, start_service
from tests.conversations.test_media_in import file_message, green_file, verdict
from tests.fakes.audio import tone_wav
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.transcription_server import FakeTranscription
from tests.settings import tuned
from tests.web.signin import sign_in
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.escalation.messages import voice_note_text

WORDS = "Olá, procuro um T2 em Lisboa até 400 mil euros"
NOTE = tone_wav(seconds=0.4, frequency=523.0)


def voice_note(fake: FakeGreenAPI) -> dict[str, object]:
    return green_file(fake, NOTE, kind="audioMessage", mime="audio/wav", file_name="note.wav")


@pytest.fixture
async def heard(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    fake_transcription: FakeTranscription,
) -> AsyncIterator[Service]:
    """The service with a transcriber that hears NOTE as WORDS."""
    fake_transcription.register(NOTE, WORDS)
    configured = tuned(
        settings,
        transcribe_base_url=fake_transcription.base_url,
        transcribe_api_key="transcribe-key",
        transcribe_max_retries=0,
    )
    async for service in start_service(configured, db, api_account, fake_green_api):
        yield service


class TestAVoiceNoteIsUnderstood:
    async def test_its_words_are_answered_like_typed_text_and_shown_in_the_thread(
        self, heard: Service, fake_green_api: FakeGreenAPI, fake_transcription: FakeTranscription
    ) -> None:
        assert (await heard.post_webhook(voice_note(fake_green_api))).status_code == 200

        [reply] = await heard.wait_for_sends(1)
        # The offline AI searched the listings for what was said, in Lisbon, in Portuguese.
        assert "Lisboa" in reply["message"]
        assert reply["message"] not in {voice_note_text(lang) for lang in ("pt", "en", "es")}
        [asked] = fake_transcription.requests
        assert asked.file is not None and asked.file.content == NOTE
        message = await file_message(heard)
        assert message.data["transcript"] == WORDS
        assert message.text == WORDS
        await drained(heard)
        assert len(fake_green_api.sent_messages) == 1  # one answer, no type-instead notice

        await sign_in(heard.client, heard.account.email)
        thread = await heard.client.get(f"/inbox/{message.conversation_id}")
        assert "<audio" in thread.text and WORDS in thread.text

    async def test_a_transcriber_that_fails_leaves_a_voice_note_the_customer_is_asked_to_type(
        self, heard: Service, fake_green_api: FakeGreenAPI, fake_transcription: FakeTranscription
    ) -> None:
        fake_transcription.fail_next(500)

        await heard.post_webhook(voice_note(fake_green_api))

        assert (await verdict(heard))["status"] == "stored"  # the agent still has the note
        [notice] = await heard.wait_for_sends(1)
        assert "type" in notice["message"].lower()
        message = await file_message(heard)
        assert "transcript" not in message.data and message.text == ""

    async def test_a_caption_stays_the_text_and_the_words_go_beside_it(
        self, heard: Service, fake_green_api: FakeGreenAPI, fake_transcription: FakeTranscription
    ) -> None:
        note = green_file(
            fake_green_api,
            NOTE,
            kind="audioMessage",
            mime="audio/wav",
            caption="about the flat",
            file_name="note.wav",
        )
        await heard.post_webhook(note)

        await heard.wait_for_sends(1)
        message = await file_message(heard)
        assert (message.text, message.data["transcript"]) == ("about the flat", WORDS)
        [asked] = fake_transcription.requests
        assert asked.file is not None and asked.file.content_type == "audio/wav"


async def test_without_a_transcriber_nobody_is_asked(
    service: Service, fake_green_api: FakeGreenAPI, fake_transcription: FakeTranscription
) -> None:
    await service.post_webhook(voice_note(fake_green_api))

    [notice] = await service.wait_for_sends(1)
    assert "type" in notice["message"].lower()
    await drained(service)
    assert fake_transcription.requests == []
