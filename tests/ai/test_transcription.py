"""Voice notes to text through the real openai SDK against the loopback transcription fake."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.fakes.audio import ogg_like, tone_wav
from tests.fakes.transcription_server import FakeTranscription, run_fake_transcription
from tests.settings import defaults, tuned
from whatsapp_assistant.ai.errors import TranscriptionError
from whatsapp_assistant.ai.transcription import Transcriber, Transcript
from whatsapp_assistant.config import Settings

WORDS = "Olá, procuro um T2 na Graça até 400 mil euros."


def settings_for(fake: FakeTranscription, **changes: object) -> Settings:
    values: dict[str, object] = {
        "transcribe_base_url": fake.base_url,
        "transcribe_api_key": "transcribe-key",
        "transcribe_max_retries": 0,
        "transcribe_timeout_seconds": 5.0,
    }
    return tuned(defaults(), **(values | changes))


@pytest.fixture
async def transcriber(fake_transcription: FakeTranscription) -> AsyncIterator[Transcriber]:
    made = Transcriber.from_settings(settings_for(fake_transcription))
    assert made is not None
    yield made
    await made.aclose()


class TestSettings:
    def test_no_base_url_means_no_transcriber(self) -> None:
        assert Transcriber.from_settings(defaults()) is None

    def test_the_environment_names_configure_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TRANSCRIBE_BASE_URL", "https://api.groq.com/openai/v1")
        monkeypatch.setenv("TRANSCRIBE_MODEL", "whisper-large-v3")
        monkeypatch.setenv("TRANSCRIBE_API_KEY", "gsk_test")
        monkeypatch.setenv("TRANSCRIBE_TIMEOUT_SECONDS", "12.5")

        settings = Settings()

        assert settings.transcribe.base_url == "https://api.groq.com/openai/v1"
        assert settings.transcribe.model == "whisper-large-v3"
        assert settings.transcribe.api_key == "gsk_test"
        assert settings.transcribe.timeout_seconds == 12.5

    def test_the_model_defaults_to_whisper_1(self) -> None:
        assert defaults().transcribe.model == "whisper-1"


class TestTranscribe:
    async def test_the_words_registered_for_the_audio_come_back(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        audio = tone_wav()
        fake_transcription.register(audio, f"  {WORDS}\n")

        transcript = await transcriber.transcribe(audio, "audio/wav", "note.wav", "pt")

        assert transcript == Transcript(text=WORDS, language=None)
        [request] = fake_transcription.requests
        assert request.fields["model"] == "whisper-1"
        assert request.fields["language"] == "pt"
        assert request.headers["authorization"] == "Bearer transcribe-key"
        assert request.file is not None
        assert (request.file.filename, request.file.content_type) == ("note.wav", "audio/wav")
        assert request.file.content == audio  # exactly the bytes, through the multipart form

    async def test_an_ogg_voice_note_without_a_language_hint_sends_none(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        audio = ogg_like()
        fake_transcription.register(audio, "Hi, is the flat in Alfama still free?")

        transcript = await transcriber.transcribe(audio, "audio/ogg", "voice.ogg", None)

        assert transcript.text == "Hi, is the flat in Alfama still free?"
        assert "language" not in fake_transcription.requests[0].fields

    async def test_the_language_the_service_heard_is_kept(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        audio = tone_wav(frequency=330)
        fake_transcription.register(audio, "Hola, busco piso en Triana", language="es")

        transcript = await transcriber.transcribe(audio, "audio/wav", "a.wav")

        assert transcript == Transcript("Hola, busco piso en Triana", "es")

    async def test_two_tones_are_told_apart_by_their_bytes(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        low, high = tone_wav(frequency=220), tone_wav(frequency=880)
        fake_transcription.register(low, "first")
        fake_transcription.register(high, "second")

        assert (await transcriber.transcribe(high, "audio/wav", "b.wav")).text == "second"
        assert (await transcriber.transcribe(low, "audio/wav", "a.wav")).text == "first"

    async def test_a_local_server_without_a_key_is_reached_with_a_dummy_one(self) -> None:
        with run_fake_transcription() as local:
            settings = settings_for(local, transcribe_api_key=None, transcribe_model="small")
            transcriber = Transcriber.from_settings(settings)
            assert transcriber is not None
            audio = tone_wav()
            local.register(audio, "hello")

            assert (await transcriber.transcribe(audio, "audio/wav", "a.wav")).text == "hello"
            await transcriber.aclose()

        assert local.requests[0].fields["model"] == "small"

    async def test_nothing_about_the_audio_or_words_is_logged_at_info(
        self,
        transcriber: Transcriber,
        fake_transcription: FakeTranscription,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        audio = tone_wav()
        fake_transcription.register(audio, WORDS)
        caplog.set_level(logging.INFO)

        await transcriber.transcribe(audio, "audio/wav", "note.wav")

        assert WORDS not in caplog.text
        assert not [r for r in caplog.records if r.name.startswith("whatsapp_assistant")]


class TestErrors:
    @pytest.mark.parametrize("status", [429, 500, 503])
    async def test_rate_limits_and_outages_are_retryable(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription, status: int
    ) -> None:
        fake_transcription.fail_next(status)

        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(tone_wav(), "audio/wav", "a.wav")

        assert raised.value.retryable
        assert raised.value.status_code == status

    async def test_the_sdk_retries_a_passing_failure_first(
        self, fake_transcription: FakeTranscription
    ) -> None:
        transcriber = Transcriber.from_settings(
            settings_for(fake_transcription, transcribe_max_retries=2)
        )
        assert transcriber is not None
        audio = tone_wav()
        fake_transcription.register(audio, "third time lucky")
        fake_transcription.fail_next(429)
        fake_transcription.fail_next(500)

        transcript = await transcriber.transcribe(audio, "audio/wav", "a.wav")
        await transcriber.aclose()

        assert transcript.text == "third time lucky"
        assert len(fake_transcription.requests) == 3

    async def test_a_file_that_is_not_audio_is_refused_for_good(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(b"%PDF-1.7 not audio", "audio/ogg", "a.ogg")

        assert not raised.value.retryable
        assert raised.value.status_code == 400

    async def test_a_wrong_key_is_refused_for_good(
        self, fake_transcription: FakeTranscription
    ) -> None:
        transcriber = Transcriber.from_settings(
            settings_for(fake_transcription, transcribe_api_key="wrong")
        )
        assert transcriber is not None

        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(tone_wav(), "audio/wav", "a.wav")
        await transcriber.aclose()

        assert (raised.value.retryable, raised.value.status_code) == (False, 401)

    async def test_a_file_too_large_is_refused_for_good(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        fake_transcription.fail_next(413, message="Maximum content size limit exceeded")

        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(tone_wav(), "audio/wav", "a.wav")

        assert (raised.value.retryable, raised.value.status_code) == (False, 413)

    async def test_an_unreachable_service_is_retryable(self) -> None:
        with run_fake_transcription() as gone:
            settings = settings_for(gone)
        transcriber = Transcriber.from_settings(settings)  # its port is closed now
        assert transcriber is not None

        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(tone_wav(), "audio/wav", "a.wav")
        await transcriber.aclose()

        assert raised.value.retryable
        assert raised.value.status_code is None

    async def test_empty_audio_is_refused_before_any_request(
        self, transcriber: Transcriber, fake_transcription: FakeTranscription
    ) -> None:
        with pytest.raises(TranscriptionError) as raised:
            await transcriber.transcribe(b"", "audio/ogg", "a.ogg")

        assert not raised.value.retryable
        assert fake_transcription.requests == []
