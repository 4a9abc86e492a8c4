"""Received files as kept: the types we keep (images by their first bytes), our own names
(keys in the file store: MEDIA_DIR or S3), the sender's name made safe to show, and reading
them back for the thread and the model (docs/decisions.md, 31)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai.types import ImagePart
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.infra.file_store import FileStore
from whatsapp_assistant.kit.clock import as_utc, utcnow
from whatsapp_assistant.properties.photos import image_kind

MEDIA = "media"  # data["media"]: {status, path, mime, size, filename}
ATTEMPTS = "media_attempts"  # data: downloads tried so far that failed in a way that may pass
MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
STORED, TOO_LARGE, REFUSED_TYPE, FAILED = "stored", "too_large", "refused_type", "failed"
FINAL = frozenset({STORED, TOO_LARGE, REFUSED_TYPE, FAILED})
# A reply waits for a file still being fetched at most this long after it came (the retries
# take under three minutes by default): a lost job must not keep a customer unanswered.
WAIT_FOR_FETCH = timedelta(minutes=5)
# What the model is shown of the history's pictures (docs/decisions.md, 31).
MODEL_IMAGES = 3
MODEL_IMAGE_MAX_BYTES = 5 * 1024 * 1024
MAX_FILENAME_CHARS = 120

# The types we keep, and the extension of our own name for each. Images by their first bytes
# only; the others as the provider names them, served with nosniff (documents as attachments).
_IMAGE_MIME = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}
EXTENSION = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "weba",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "text/plain": "txt",
    "text/csv": "csv",
}
_STORED_PATH = re.compile(
    r"(?P<account>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/[0-9a-f]{32}\.[a-z0-9]{2,5}"
)
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


@dataclass(frozen=True)
class StoredFile:
    """A stored file as the thread serves it."""

    content: bytes
    mime: str
    filename: str
    inline: bool


def has_reference(message: Message) -> bool:
    """Whether a received file can be asked of its provider: a media kind with a URL or an id,
    and no verdict yet (Green API's "too large" marker is one: docs/providers.md, G21)."""
    if message.kind not in MEDIA_KINDS or MEDIA in message.data:
        return False
    return bool(message.media_url or message.data.get("media_id"))


def too_large_marker(kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """data["media"] for a file the provider already said it will not hand over (over 100 MB,
    docs/providers.md, G21), else None."""
    if kind not in MEDIA_KINDS or not data.get("too_large"):
        return None
    return {
        "status": TOO_LARGE,
        "size": None,
        "mime": None,
        "filename": safe_filename(str(data.get("file_name", "")), kind=kind),
    }


def checked_mime(kind: str, content: bytes, claimed: str) -> str | None:
    """The type we keep the file as, or None to refuse it. An image is what its first bytes say,
    whatever was claimed; a claimed image that is not one is refused, and so is anything whose
    type is not in our list."""
    sniffed = _sniffed_image(content)
    if sniffed is not None:
        return sniffed
    base = base_mime(claimed)
    if kind in {"image", "sticker"} or base.startswith("image/") or not content:
        return None
    return base if base in EXTENSION else None


def _sniffed_image(content: bytes) -> str | None:
    if content.startswith((b"GIF87a", b"GIF89a")):
        return _IMAGE_MIME["gif"]
    found = image_kind(content)
    return _IMAGE_MIME[found] if found is not None else None


def base_mime(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def safe_filename(name: str, *, kind: str, mime: str | None = None) -> str:
    """The sender's name for a file, fit to show and to offer as a download's name: no folders,
    no control characters, no leading dots, at most MAX_FILENAME_CHARS (its extension kept).
    Never a name on disk: those are ours."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS]
    if not name.strip("._ "):
        extension = EXTENSION.get(mime or "", "")
        name = f"{kind}.{extension}" if extension else kind
    return name


def stored_key(account_id: uuid.UUID, media: object) -> str | None:
    """The store's key of a stored file of the account, or None: the recorded path must be one
    of ours, in the account's own folder."""
    if not isinstance(media, dict) or media.get("status") != STORED:
        return None
    relative = media.get("path")
    match = _STORED_PATH.fullmatch(relative) if isinstance(relative, str) else None
    if match is None or match["account"] != str(account_id):
        return None
    return str(relative)


async def stored_file(
    session: AsyncSession, files: FileStore, account_id: uuid.UUID, message_id: uuid.UUID
) -> StoredFile | None:
    """The stored file of one of the account's messages, or None (not the account's, not
    stored, gone from the store)."""
    stmt = for_account(select(Message), Message, account_id).where(Message.id == message_id)
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None or message.deleted_at is not None:
        return None
    media = message.data.get(MEDIA)
    key = stored_key(account_id, media)
    if key is None or not isinstance(media, dict):
        return None
    try:
        content = await files.get(key)
    except FileNotFoundError:
        return None
    mime = str(media.get("mime") or "application/octet-stream")
    inline = mime.split("/", 1)[0] in {"image", "audio", "video"}
    return StoredFile(content, mime, str(media.get("filename") or "file"), inline)


async def model_images(
    files: FileStore, account_id: uuid.UUID, messages: list[Message]
) -> dict[uuid.UUID, ImagePart]:
    """The pictures of the newest MODEL_IMAGES customer image messages of `messages` whose file
    is stored and at most MODEL_IMAGE_MAX_BYTES, by message id."""
    chosen: dict[uuid.UUID, ImagePart] = {}
    for message in reversed(messages):
        if len(chosen) == MODEL_IMAGES:
            break
        if message.author != Author.CUSTOMER or message.kind != "image":
            continue
        media = message.data.get(MEDIA)
        key = stored_key(account_id, media)
        if key is None or not isinstance(media, dict):
            continue
        size, mime = media.get("size"), str(media.get("mime") or "")
        if not mime.startswith("image/") or not isinstance(size, int):
            continue
        if size > MODEL_IMAGE_MAX_BYTES:
            continue
        try:
            content = await files.get(key)
        except FileNotFoundError:
            continue
        chosen[message.id] = ImagePart(mime=mime, data=content)
    return chosen


def awaiting_fetch(message: Message, *, now: datetime | None = None) -> bool:
    """A customer's file still being fetched, young enough to be waited for."""
    if not has_reference(message):
        return False
    return (now or utcnow()) - as_utc(message.created_at) < WAIT_FOR_FETCH
