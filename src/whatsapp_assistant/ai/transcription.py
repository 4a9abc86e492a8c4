"""Voice notes to text through any OpenAI-compatible /audio/transcriptions endpoint.

OpenAI, Groq and local faster-whisper or whisper.cpp servers all take the same multipart
request, so the official openai SDK talks to each of them by its base URL (docs/decisions.md,
32). Neither the audio nor its text is ever logged above debug: both are the customer's words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whatsapp_assistant.ai.errors import TranscriptionError
from whatsapp_assistant.config import Settings, TranscribeSettings

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)

# Statuses after which the same request may succeed later; the SDK has already retried them.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
# whisper's verbose_json names the language ("portuguese"); newer models give codes.
_LANGUAGE_NAMES = {"english": "en", "spanish": "es", "portuguese": "pt", "french": "fr"}


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None = None  # an ISO 639-1 code when the service said which it heard


class Transcriber:
    """One client for the configured endpoint; `aclose` when done."""

    def __init__(self, settings: TranscribeSettings) -> None:
        if not settings.base_url:
            raise ValueError("a transcriber needs TRANSCRIBE_BASE_URL")
        # Imported when a transcriber is made: importing openai costs about two seconds that
        # every process without one would pay (ai/providers/registry.py).
        import openai

        self.model = settings.model
        # A local server ignores the key, but the SDK refuses to start without one.
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Transcriber | None:
        """None when no TRANSCRIBE_BASE_URL is set: voice notes are not transcribed."""
        if not settings.transcribe.base_url:
            return None
        return cls(settings.transcribe)

    async def transcribe(
        self, content: bytes, mime: str, filename: str, language_hint: str | None = None
    ) -> Transcript:
        """The words of one audio file; raises TranscriptionError, `retryable` or not."""
        import openai

        if not content:
            raise TranscriptionError("the audio file is empty", retryable=False)
        try:
            result = await self._client.audio.transcriptions.create(
                model=self.model,
                file=(filename or "voice-note", content, mime),
                language=language_hint or openai.omit,
            )
        except openai.APIError as error:
            raise translate_error(error) from error
        logger.debug("transcribed %d bytes of %s", len(content), mime)
        return Transcript(text=result.text.strip(), language=_language_of(result))

    async def aclose(self) -> None:
        await self._client.close()


def translate_error(error: openai.APIError) -> TranscriptionError:
    """By class and HTTP status, never by message text (docs/providers.md, L5)."""
    import openai

    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retryable = status in _RETRYABLE_STATUSES or status >= 500
        verb = "is unavailable" if retryable else "refused the audio"
        return TranscriptionError(
            f"the transcription service {verb} (HTTP {status})",
            retryable=retryable,
            status_code=status,
        )
    if isinstance(error, openai.APIConnectionError):  # APITimeoutError included
        return TranscriptionError(
            "the transcription service timed out or is unreachable", retryable=True
        )
    return TranscriptionError("the transcription service sent an unreadable answer", retryable=True)


def _language_of(result: object) -> str | None:
    """The language the service heard, when it said: `languages` of the newest models, or
    `language` (a code or whisper's English name) of verbose answers."""
    languages = getattr(result, "languages", None) or []
    said = getattr(languages[0], "code", None) if languages else getattr(result, "language", None)
    if not isinstance(said, str) or not said:
        return None
    said = said.strip().lower()
    return _LANGUAGE_NAMES.get(said, said if len(said) == 2 else None)
