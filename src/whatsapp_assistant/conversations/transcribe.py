"""A downloaded voice note turned into text, for the fetch job to record with the file.

The customer's words are kept as `data["transcript"]`, and as the message's text when it had
none, so everything that reads messages (the reply, the inbox) reads them as if typed
(docs/decisions.md, 32). The service is called outside any transaction (docs/architecture.md,
"Layers"); the fetch job records the words in the commit that records the file
(conversations/media.py), so the reply, which waits for the file, never sees one without the
other.
"""

from __future__ import annotations

import logging
import uuid

from whatsapp_assistant.ai.errors import TranscriptionError
from whatsapp_assistant.ai.transcription import Transcriber
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.runtime import Runtime

logger = logging.getLogger(__name__)


async def words_of_new_note(
    runtime: Runtime,
    message_id: uuid.UUID,
    content: bytes,
    mime: str,
    filename: str,
    language: str | None,
) -> str | None:
    """The words of a voice note just downloaded, for the fetch job to record with the file in
    one commit (the reply waits for both); None when there is no transcriber or the service
    failed, even after the SDK's own retries: the note stays a voice note, and the customer is
    asked to type."""
    service = Transcriber.from_settings(runtime.settings)
    if service is None:
        return None
    try:
        transcript = await service.transcribe(content, mime, filename, language)
    except TranscriptionError as error:
        logger.warning("voice note %s not transcribed: %s", message_id, error.message)
        return None
    finally:
        await service.aclose()
    return transcript.text


def keep_transcript(message: Message, text: str) -> None:
    """The transcript beside the note, and as its text when it had none (a caption stays)."""
    # A new dict: the JSON column sees a change only on assignment.
    message.data = {**message.data, "transcript": text}
    if not message.text.strip():
        message.text = text
