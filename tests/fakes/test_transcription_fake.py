"""The fake transcription server itself, through the real openai SDK."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.audio import ogg_like, tone_wav
from tests.fakes.transcription_server import FakeTranscription, is_audio


def _client(fake: FakeTranscription, key: str = "transcribe-key") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key=key, base_url=fake.base_url, max_retries=0, _strict_response_validation=True
    )


class TestFakeTranscription:
    def test_the_tests_own_audio_is_audio(self) -> None:
        assert is_audio(tone_wav())
        assert is_audio(ogg_like())
        assert not is_audio(b"RIFF\x00\x00\x00\x00AVI LIST")
        assert not is_audio(b"\xff\xd8\xff\xe0 a jpeg")

    async def test_not_audio_is_openais_400_shape(
        self, fake_transcription: FakeTranscription
    ) -> None:
        client = _client(fake_transcription)

        with pytest.raises(openai.BadRequestError) as raised:
            await client.audio.transcriptions.create(
                model="whisper-1", file=("a.wav", b"not a wav at all", "audio/wav")
            )
        await client.close()

        assert raised.value.type == "invalid_request_error"
        assert "Invalid file format" in raised.value.message
        assert fake_transcription.requests[0].file is not None

    async def test_a_registered_tone_answers_its_text_in_the_sdks_strict_model(
        self, fake_transcription: FakeTranscription
    ) -> None:
        audio = tone_wav(seconds=0.2)
        fake_transcription.register(audio, "a short tone")
        client = _client(fake_transcription)

        result = await client.audio.transcriptions.create(
            model="whisper-1", file=("t.wav", audio, "audio/wav"), response_format="json"
        )
        await client.close()

        assert result.text == "a short tone"
        assert fake_transcription.requests[0].fields["response_format"] == "json"

    async def test_a_wrong_bearer_is_401(self, fake_transcription: FakeTranscription) -> None:
        client = _client(fake_transcription, key="nope")

        with pytest.raises(openai.AuthenticationError):
            await client.audio.transcriptions.create(
                model="whisper-1", file=("t.wav", tone_wav(), "audio/wav")
            )
        await client.close()

    async def test_a_failure_is_played_once_then_it_answers(
        self, fake_transcription: FakeTranscription
    ) -> None:
        client = _client(fake_transcription)
        fake_transcription.fail_next(500)

        with pytest.raises(openai.InternalServerError):
            await client.audio.transcriptions.create(
                model="whisper-1", file=("t.wav", tone_wav(), "audio/wav")
            )
        result = await client.audio.transcriptions.create(
            model="whisper-1", file=("t.wav", tone_wav(), "audio/wav")
        )
        await client.close()

        assert result.text == ""  # nothing registered: nothing heard
