"""Uploading a listing's photos on its page: checked by their bytes, stored under a name of
ours, served at /photos/<name>, removable; a refused upload changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount
from tests.web.signin import sign_in
from tests.web.test_listings_pages import GRACA_API, api_create, form_token
from whatsapp_assistant.config import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
async def listing(client: httpx.AsyncClient, api_account: ApiAccount) -> dict[str, Any]:
    await sign_in(client, api_account.email)
    return await api_create(client, api_account, GRACA_API)


async def _upload(
    client: httpx.AsyncClient, listing_id: str, content: bytes, name: str = "../../evil.png"
) -> httpx.Response:
    token = await form_token(client, f"/listings/{listing_id}")
    return await client.post(
        f"/listings/{listing_id}/photos",
        data={"csrf_token": token},
        files={"photo": (name, content, "image/png")},
    )


async def _photos(client: httpx.AsyncClient, account: ApiAccount, listing_id: str) -> list[str]:
    response = await client.get(f"/api/v1/properties/{listing_id}", headers=account.headers)
    photos: list[str] = response.json()["photo_urls"]
    return photos


async def test_an_uploaded_photo_is_stored_served_and_listed(
    client: httpx.AsyncClient, api_account: ApiAccount, listing: dict[str, Any], settings: Settings
) -> None:
    first = await _upload(client, listing["id"], PNG)
    assert first.status_code == 303, first.text
    await _upload(client, listing["id"], JPEG, name="kitchen.jpg")
    photos = await _photos(client, api_account, listing["id"])
    assert len(photos) == 2
    assert photos[0].startswith(settings.public_base_url + "/photos/")
    assert photos[0].endswith(".png") and photos[1].endswith(".jpg")
    # Never the client's name on disk: only our random names are there.
    stored = sorted(path.name for path in settings.photos.dir.iterdir())
    assert stored == sorted(url.rsplit("/", 1)[1] for url in photos)
    served = await client.get("/photos/" + photos[0].rsplit("/", 1)[1])
    assert (served.status_code, served.headers["content-type"], served.content) == (
        200,
        "image/png",
        PNG,
    )
    page = await client.get(f"/listings/{listing['id']}")
    assert f'<img src="{photos[0]}"' in page.text


@pytest.mark.parametrize(
    "content",
    [b"GIF89a not one we send", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""],
)
async def test_a_file_that_is_not_a_photo_is_refused_and_nothing_changes(
    client: httpx.AsyncClient,
    api_account: ApiAccount,
    listing: dict[str, Any],
    settings: Settings,
    content: bytes,
) -> None:
    response = await _upload(client, listing["id"], content, name="photo.jpg")
    assert response.status_code == 422
    assert "JPEG, PNG or WebP" in response.text or "Choose a photo" in response.text
    assert await _photos(client, api_account, listing["id"]) == []
    assert not settings.photos.dir.exists() or not any(settings.photos.dir.iterdir())


async def test_a_photo_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, api_account: ApiAccount, listing: dict[str, Any], settings: Settings
) -> None:
    response = await _upload(client, listing["id"], PNG + b"\x00" * settings.photos.max_bytes)
    assert response.status_code == 422
    assert "larger than" in response.text
    assert await _photos(client, api_account, listing["id"]) == []


async def test_a_removed_photo_leaves_the_listing(
    client: httpx.AsyncClient, api_account: ApiAccount, listing: dict[str, Any]
) -> None:
    await _upload(client, listing["id"], PNG)
    await _upload(client, listing["id"], JPEG)
    first, second = await _photos(client, api_account, listing["id"])
    token = await form_token(client, f"/listings/{listing['id']}")
    removed = await client.post(
        f"/listings/{listing['id']}/photos/remove", data={"csrf_token": token, "url": first}
    )
    assert removed.status_code == 303
    assert await _photos(client, api_account, listing["id"]) == [second]


async def test_saving_the_form_keeps_the_photos(
    client: httpx.AsyncClient, api_account: ApiAccount, listing: dict[str, Any]
) -> None:
    await _upload(client, listing["id"], PNG)
    photos = await _photos(client, api_account, listing["id"])
    token = await form_token(client, f"/listings/{listing['id']}")
    form = {
        "csrf_token": token,
        "title": "Renamed",
        "listing_type": "sale",
        "property_type": "apartment",
        "price": "372000",
        "city": "Lisbon",
    }
    saved = await client.post(f"/listings/{listing['id']}", data=form)
    assert saved.status_code == 303, saved.text
    assert await _photos(client, api_account, listing["id"]) == photos
