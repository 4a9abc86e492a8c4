"""Listing photos uploaded on the listing page: checked by their first bytes, stored under a
name of ours, served at /photos/<name>, and read back when one is sent (docs/decisions.md, 29)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from whatsapp_assistant.errors import Invalid

PHOTO_PATH = "/photos/"
# The formats WhatsApp shows as a photo, by their magic bytes: never by the client's name or type.
_MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp)")


class PhotoRefused(Invalid):
    code = "photo_refused"


@dataclass(frozen=True)
class StoredPhoto:
    name: str
    mime: str
    content: bytes


def image_kind(content: bytes) -> str | None:
    """jpg, png or webp when the bytes start as that format does, else None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return None


def store_photo(directory: Path, content: bytes, *, max_bytes: int) -> str:
    """Write an uploaded photo under a fresh random name; the name, or PhotoRefused."""
    if not content:
        raise PhotoRefused("Choose a photo to upload.", field="photo")
    if len(content) > max_bytes:
        raise PhotoRefused(
            f"The photo is larger than {max_bytes // (1024 * 1024)} MB.", field="photo"
        )
    kind = image_kind(content)
    if kind is None:
        raise PhotoRefused("Only JPEG, PNG or WebP photos can be sent.", field="photo")
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (directory / name).write_bytes(content)
    return name


def photo_url(public_base_url: str, name: str) -> str:
    return public_base_url.rstrip("/") + PHOTO_PATH + name


def read_stored_photo(directory: Path, public_base_url: str, url: str) -> StoredPhoto | None:
    """The bytes behind a URL of this service's own photos; None for any other URL. A file that
    is gone raises FileNotFoundError."""
    prefix = public_base_url.rstrip("/") + PHOTO_PATH
    name = url[len(prefix) :] if url.startswith(prefix) else ""
    match = _STORED_NAME.fullmatch(name)
    if match is None:
        return None
    return StoredPhoto(name, _MIME[match.group(1)], (directory / name).read_bytes())
