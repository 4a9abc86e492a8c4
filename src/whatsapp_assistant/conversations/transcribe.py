"""A stored voice note turned into text: its transcript kept on the message, once.

The customer's words come back as `data["transcript"]`, and as the message's text when it had
none, so everything that reads messages (the reply, the inbox) reads them as if typed
(docs/decisions.md, 32). The service is called outside any transaction (docs/architecture.md,
"Layers"); the write checks again that no transcript is there, so running it twice, or two
workers at once, stores one transcript (invariant 2).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from whatsapp_assistant.ai.errors import TranscriptionError
from whatsapp_assistant.ai.transcription import Transcriber
from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.infra.file_store import FileStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _VoiceNote:
    key: str  # in the file store
    mime: str
    filename: str
    language: str | None  # the conversation's, as a hint to the service


async def transcribe_message(
    runtime: Runtime,
    message_id: uuid.UUID,
    *,
    files: FileStore | None = None,
    transcriber: Transcriber | None = None,
) -> str:
    """The message's transcript, made now if it has none yet; "" when nothing was transcribed:
    no transcriber configured (`transcriber` None and no TRANSCRIBE_BASE_URL), a message that
    is not a stored audio file, or audio the service refused for good (the message stays a
    voice note for the agent). A failure that may pass raises TranscriptionError(retryable)
    for the job to try again; the message is unchanged then too. The audio is read from
    `files`, the runtime's file store unless given."""
    own = transcriber is None
    service = Transcriber.from_settings(runtime.settings) if own else transcriber
    if service is None:
        return ""
    try:
        return await _transcribe(runtime, message_id, files or runtime.files, service)
    finally:
        if own:
            await service.aclose()


async def _transcribe(
    runtime: Runtime, message_id: uuid.UUID, files: FileStore, transcriber: Transcriber
) -> str:
    async with runtime.db.session_scope() as session:
        message = await session.get(Message, message_id)
        if message is None:
            return ""
        if isinstance(message.data.get("transcript"), str):
            return str(message.data["transcript"])
        note = _voice_note(message)
        if note is None:
            return ""
        conversation = await session.get(Conversation, message.conversation_id)
        language = conversation.language if conversation is not None else None
        note = _VoiceNote(note.key, note.mime, note.filename, language)
    try:
        content = await files.get(note.key)
    except OSError:
        logger.warning("voice note %s: its stored file cannot be read", message_id)
        return ""
    try:
        transcript = await transcriber.transcribe(content, note.mime, note.filename, note.language)
    except TranscriptionError as error:
        if error.retryable:
            raise
        logger.warning("voice note %s not transcribed: %s", message_id, error.message)
        return ""
    return await _store(runtime, message_id, transcript.text)


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


async def _store(runtime: Runtime, message_id: uuid.UUID, text: str) -> str:
    async with runtime.db.session_scope() as session:
        stmt = select(Message).where(Message.id == message_id).with_for_update()
        message = (await session.execute(stmt)).scalar_one_or_none()
        if message is None:
            return ""
        if isinstance(message.data.get("transcript"), str):
            return str(message.data["transcript"])  # another run stored it meanwhile
        keep_transcript(message, text)
        live.publish_message(session, message)
    return text


def _voice_note(message: Message) -> _VoiceNote | None:
    """The stored audio file of the message, by its key in the file store (which keeps a key
    from leaving its folder); None for anything else."""
    media = message.data.get("media")
    if not isinstance(media, dict) or media.get("status") != "stored":
        return None
    mime = media.get("mime") or message.media_mime or ""
    if not isinstance(mime, str) or (message.kind != "audio" and not mime.startswith("audio/")):
        return None
    key = media.get("path")
    if not isinstance(key, str) or not key:
        return None
    filename = media.get("filename")
    name = filename if isinstance(filename, str) and filename else key.rsplit("/", 1)[-1]
    return _VoiceNote(key, mime.split(";")[0].strip(), name, None)
