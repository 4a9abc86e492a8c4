"""A listing's photo_urls through /api/v1/properties: stored in order, replaced or removed by
PATCH, refused (422, nothing changed) when a URL is not one WhatsApp could fetch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount
from tests.web.test_properties_api import BASE, create, read

PHOTOS = [
    "https://casalusa.example/photos/cl-001-living.jpg",
    "https://casalusa.example/photos/cl-001-terrace.jpg",
]


async def test_photos_are_kept_in_order_and_removed_by_patch(
    client: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    created = await create(client, api_account, photo_urls=PHOTOS)
    assert created["photo_urls"] == PHOTOS
    assert (await read(client, api_account, created["id"]))["photo_urls"] == PHOTOS
    response = await client.patch(
        f"{BASE}/{created['id']}", json={"photo_urls": PHOTOS[1:]}, headers=api_account.headers
    )
    assert response.status_code == 200, response.text
    assert (await read(client, api_account, created["id"]))["photo_urls"] == PHOTOS[1:]
    await client.patch(
        f"{BASE}/{created['id']}", json={"photo_urls": []}, headers=api_account.headers
    )
    assert (await read(client, api_account, created["id"]))["photo_urls"] == []


async def test_a_listing_without_photos_reads_an_empty_list(
    client: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    assert (await create(client, api_account))["photo_urls"] == []


@pytest.mark.parametrize(
    "photos",
    [
        ["ftp://casalusa.example/a.jpg"],
        ["not a url"],
        ["https://casalusa.example/" + "a" * 2000 + ".jpg"],
        [f"https://casalusa.example/{n}.jpg" for n in range(11)],
        None,
    ],
)
async def test_a_bad_photo_list_answers_422_and_changes_nothing(
    client: httpx.AsyncClient, api_account: ApiAccount, photos: Any
) -> None:
    created = await create(client, api_account, photo_urls=PHOTOS)
    response = await client.patch(
        f"{BASE}/{created['id']}", json={"photo_urls": photos}, headers=api_account.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"].startswith("photo_urls")
    assert (await read(client, api_account, created["id"]))["photo_urls"] == PHOTOS
    refused = await client.post(
        BASE, json={"title": "x", "photo_urls": photos}, headers=api_account.headers
    )
    assert refused.status_code == 422


async def test_another_accounts_listing_answers_404_and_keeps_its_photos(
    client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
) -> None:
    created = await create(client, api_account, photo_urls=PHOTOS)
    response = await client.patch(
        f"{BASE}/{created['id']}", json={"photo_urls": []}, headers=other_account.headers
    )
    assert response.status_code == 404
    assert (await read(client, api_account, created["id"]))["photo_urls"] == PHOTOS
