"""Where received files are kept: a folder (MEDIA_DIR) or an S3-compatible bucket
(docs/decisions.md, 31). A key is what a message's data["media"]["path"] records,
`<account>/<random>.<ext>`, the same on both, so a row does not depend on the backend."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from whatsapp_assistant.config import MediaSettings, S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


class FileStore(Protocol):
    async def put(self, key: str, content: bytes, mime: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The file's bytes; FileNotFoundError when nothing is kept under `key`."""
        ...


class LocalFileStore:
    """Files under one folder; a key that would leave it is never read or written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or path == root:
            raise FileNotFoundError(f"no stored file {key!r}")
        return path

    async def put(self, key: str, content: bytes, mime: str) -> None:
        await asyncio.to_thread(_write, self._path(key), content)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


class S3FileStore:
    """Objects in a bucket under S3_PREFIX, through boto3's (blocking) client in a thread."""

    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    async def put(self, key: str, content: bytes, mime: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=content,
            ContentType=mime,
        )

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    def _get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(f"no stored file {key!r}") from exc
        return answer["Body"].read()


def s3_client(settings: S3Settings) -> S3Client:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url or None,
        region_name=settings.region or None,
        aws_access_key_id=settings.access_key_id or None,
        aws_secret_access_key=settings.secret_access_key or None,
    )


_kept: dict[tuple[str | None, ...], S3Client] = {}


def file_store(media: MediaSettings, s3: S3Settings) -> FileStore:
    """The store the settings name; the S3 client is built once per process and kept."""
    if media.storage == "local":
        return LocalFileStore(media.dir)
    if not s3.bucket:
        raise ValueError("MEDIA_STORAGE=s3 needs S3_BUCKET")
    which = (s3.endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key)
    client = _kept.get(which)
    if client is None:
        client = _kept[which] = s3_client(s3)
    return S3FileStore(client, s3.bucket, s3.prefix)
