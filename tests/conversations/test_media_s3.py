"""Received files kept in S3-compatible storage (MEDIA_STORAGE=s3, docs/decisions.md, 31): the
same flow as under MEDIA_DIR, against moto's S3 server over real HTTP, under the same keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from mypy_boto3_s3.client import S3Client

from tests.conftest import ApiAccount
from tests.conversations.harness import Service, start_service
from tests.conversations.test_media_in import JPEG, RecordingLLM, file_message, green_file, verdict
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from tests.web.signin import sign_in
from whatsapp_assistant.ai.types import ImagePart
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.file_store import LocalFileStore

BUCKET = "received-files"
PREFIX = "media/"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[S3Client]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
async def service(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    s3: S3Client,
    s3_endpoint: str,
) -> AsyncIterator[Service]:
    in_s3 = tuned(
        settings,
        media_storage="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_prefix=PREFIX,
    )
    async for running in start_service(in_s3, db, api_account, fake_green_api):
        yield running


def _files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


async def test_a_picture_is_kept_in_the_bucket_served_and_seen_by_the_model(
    service: Service,
    s3: S3Client,
    settings: Settings,
    fake_green_api: FakeGreenAPI,
    api_account: ApiAccount,
    other_account: ApiAccount,
) -> None:
    recording = RecordingLLM(service.runtime.llm)
    service.runtime.llm = recording
    await service.post_webhook(green_file(fake_green_api, JPEG, caption="Is it this one?"))

    await service.wait_for_sends(1)
    stored = await verdict(service)
    assert stored["status"] == "stored"
    key = stored["path"]
    assert key.startswith(f"{api_account.account_id}/") and key.endswith(".jpg")
    kept = s3.get_object(Bucket=BUCKET, Key=PREFIX + key)
    assert kept["Body"].read() == JPEG
    assert kept["ContentType"] == "image/jpeg"
    assert _files_under(settings.media.dir) == []
    # The model was asked with the picture read back from the bucket.
    [request] = recording.requests
    assert request.history[-1].images == (ImagePart(mime="image/jpeg", data=JPEG),)

    message = await file_message(service)
    await sign_in(service.client, service.account.email)
    served = await service.client.get(f"/media/{message.id}")
    assert served.status_code == 200
    assert served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg"

    service.client.cookies.clear()  # signed out, then in as the other account
    await sign_in(service.client, other_account.email)
    refused = await service.client.get(f"/media/{message.id}")
    assert refused.status_code == 404
    assert JPEG[:64] not in refused.content


async def test_an_object_gone_from_the_bucket_answers_404(
    service: Service, s3: S3Client, fake_green_api: FakeGreenAPI
) -> None:
    await service.post_webhook(green_file(fake_green_api, JPEG))
    stored = await verdict(service)
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + stored["path"])
    message = await file_message(service)
    await sign_in(service.client, service.account.email)

    response = await service.client.get(f"/media/{message.id}")

    assert response.status_code == 404
    assert "nothing here" in response.text


def test_s3_without_a_bucket_is_refused_at_start_up(settings: Settings) -> None:
    with pytest.raises(ValueError, match="S3_BUCKET"):
        tuned(settings, media_storage="s3")


async def test_the_local_store_never_leaves_its_folder(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "media")
    (tmp_path / "outside.jpg").write_bytes(JPEG)
    with pytest.raises(FileNotFoundError):
        await store.get("../outside.jpg")
    with pytest.raises(FileNotFoundError):
        await store.put("../elsewhere.jpg", JPEG, "image/jpeg")
    assert not (tmp_path / "elsewhere.jpg").exists()
