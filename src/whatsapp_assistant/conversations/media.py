"""Files received in a chat: downloaded by a job, never in the webhook's time, kept in
the file store (MEDIA_DIR, or S3) under a name of ours, recorded in the message's
data["media"] (docs/decisions.md, 31).

A file over MEDIA_MAX_BYTES, of a type we do not keep, or that the provider never handed over
stays a reference (the provider's URL or id on the row) with the reason in its status: nothing
fails, and the conversation goes on. A customer's file is answered once its job is done, so the
reply sees the stored picture.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.base import DownloadsMedia
from whatsapp_assistant.channels.errors import MediaTooLarge, SendError
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.types import DownloadedMedia, MediaRef
from whatsapp_assistant.conversations import live
from whatsapp_assistant.conversations.media_files import (
    ATTEMPTS,
    EXTENSION,
    FAILED,
    MEDIA,
    REFUSED_TYPE,
    STORED,
    TOO_LARGE,
    base_mime,
    checked_mime,
    has_reference,
    safe_filename,
)
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import FETCH_MEDIA_JOB, Runtime
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.conversations.transcribe import keep_transcript, words_of_new_note
from whatsapp_assistant.infra.file_store import FileStore
from whatsapp_assistant.kit.clock import as_utc

logger = logging.getLogger(__name__)


def defer_fetches(
    runtime: Runtime, session: AsyncSession, channel: Channel, messages: list[Message]
) -> set[uuid.UUID]:
    """A fetch job per received file, leaving on commit; the conversations whose reply that job
    defers when it is done (a customer's file), so the caller does not defer it now."""
    if not isinstance(runtime.channels.get(channel.type), DownloadsMedia):
        return set()
    answered_after: set[uuid.UUID] = set()
    for message in messages:
        if not has_reference(message):
            continue
        defer_fetch(runtime, session, message)
        if message.author == Author.CUSTOMER:
            answered_after.add(message.conversation_id)
    return answered_after


def defer_fetch(
    runtime: Runtime, session: AsyncSession, message: Message, *, delay_seconds: float = 0
) -> None:
    key = f"media:{message.id}"
    runtime.queue.defer_on_commit(
        session,
        FETCH_MEDIA_JOB,
        message_id=str(message.id),
        conversation_id=str(message.conversation_id),
        lock=key,
        queueing_lock=key,
        delay_seconds=delay_seconds,
    )


async def fetch_media(runtime: Runtime, message_id: uuid.UUID) -> str | None:
    """Download, check and keep one message's file; then the conversation's reply, for a
    customer's. The status recorded, or None when there was nothing (left) to do: a second run
    of a done message downloads nothing and defers nothing."""
    async with runtime.db.session_scope() as session:
        message = await session.get(Message, message_id)
        if message is None or not has_reference(message):
            return None
        channel = await session.get(Channel, message.channel_id)
        conversation = await session.get(Conversation, message.conversation_id)
        contact = await session.get(Contact, conversation.contact_id) if conversation else None
        if channel is None or contact is None:
            return None
        ref = MediaRef(
            chat_id=contact.chat_id,
            provider_message_id=message.provider_message_id or "",
            url=message.media_url,
            media_id=_str_or_none(message.data.get("media_id")),
            mime=message.media_mime,
            filename=str(message.data.get("file_name", "")),
        )
        account_id, kind, attempts = message.account_id, message.kind, message.data.get(ATTEMPTS, 0)
        language = conversation.language if conversation else None
    adapter = adapter_for(runtime.channels, channel.type)
    if not isinstance(adapter, DownloadsMedia):
        return await _record(runtime, message_id, _verdict(FAILED, ref, kind))
    settings = runtime.settings.media
    verdict: dict[str, Any]
    try:
        downloaded = await adapter.download_media(channel, ref, max_bytes=settings.max_bytes)
    except MediaTooLarge as exc:
        verdict = _verdict(TOO_LARGE, ref, kind, size=exc.size)
    except SendError as exc:
        delays = settings.retry_delays_seconds
        tried = (attempts if isinstance(attempts, int) else 0) + 1
        if exc.retryable and tried <= len(delays):
            logger.warning(
                "download of %s failed (attempt %d), trying again: %s",
                message_id,
                tried,
                exc.message,
            )
            await _try_again(runtime, message_id, tried, delays[tried - 1])
            return None
        logger.warning("download of %s failed for good: %s", message_id, exc.message)
        verdict = _verdict(FAILED, ref, kind) | {"error": exc.message[:300]}
    else:
        verdict = await _keep(runtime.files, account_id, ref, kind, downloaded)
        if verdict["status"] == STORED and kind == "audio":
            # Outside any transaction; recorded with the file, so the reply, which waits for
            # the file, reads the words as typed text (docs/decisions.md, 32).
            transcript = await words_of_new_note(
                runtime,
                message_id,
                downloaded.content,
                str(verdict["mime"]),
                str(verdict["filename"]),
                language,
            )
            return await _record(runtime, message_id, verdict, transcript=transcript)
    return await _record(runtime, message_id, verdict)


async def _keep(
    files: FileStore, account_id: uuid.UUID, ref: MediaRef, kind: str, downloaded: DownloadedMedia
) -> dict[str, Any]:
    mime = checked_mime(kind, downloaded.content, downloaded.mime or ref.mime or "")
    if mime is None:
        return _verdict(REFUSED_TYPE, ref, kind, size=len(downloaded.content))
    relative = f"{account_id}/{secrets.token_hex(16)}.{EXTENSION[mime]}"
    await files.put(relative, downloaded.content, mime)
    return _verdict(STORED, ref, kind, size=len(downloaded.content), mime=mime) | {"path": relative}


async def _try_again(runtime: Runtime, message_id: uuid.UUID, tried: int, delay: float) -> None:
    async with runtime.db.session_scope() as session:
        message = await session.get(Message, message_id)
        if message is None or not has_reference(message):
            return
        message.data = message.data | {ATTEMPTS: tried}
        defer_fetch(runtime, session, message, delay_seconds=delay)


async def _record(
    runtime: Runtime,
    message_id: uuid.UUID,
    verdict: dict[str, Any],
    *,
    transcript: str | None = None,
) -> str | None:
    """Write the verdict once (a run that lost the race keeps the first one's), show it in the
    thread, and defer the reply a customer's file was waiting for."""
    async with runtime.db.session_scope() as session:
        message = await session.get(Message, message_id)
        if message is None or not has_reference(message):
            return None
        message.data = {k: v for k, v in message.data.items() if k != ATTEMPTS} | {MEDIA: verdict}
        if transcript:
            keep_transcript(message, transcript)
        live.publish_message(session, message)
        conversation = await session.get(Conversation, message.conversation_id)
        if message.author == Author.CUSTOMER and conversation and _unanswered(conversation):
            defer_reply(runtime, session, message.conversation_id, message.account_id)
    return str(verdict["status"])


def _unanswered(conversation: Conversation) -> bool:
    """Waiting for an AI answer, as the recovery reads it: a file a backfill flagged for the
    agent (docs/decisions.md, 26) moved no `last_inbound_at`, so it sets off no reply."""
    inbound, answered = conversation.last_inbound_at, conversation.answered_through
    return inbound is not None and (answered is None or as_utc(answered) < as_utc(inbound))


def _verdict(
    status: str, ref: MediaRef, kind: str, *, size: int | None = None, mime: str | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "size": size,
        "mime": mime or base_mime(ref.mime or "") or None,
        "filename": safe_filename(ref.filename, kind=kind, mime=mime),
    }


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
