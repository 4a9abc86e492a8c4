"""The listings pages as an agent uses them: list, search, add, edit, status, delete, CSV import."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount
from tests.properties.bulk import insert_listings
from tests.web.signin import sign_in
from whatsapp_assistant.db.session import Database

API = "/api/v1/properties"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

GRACA = {
    "title": "Sunny T2 in Graça with terrace",
    "listing_type": "sale",
    "property_type": "apartment",
    "price": "372 000",
    "currency": "EUR",
    "city": "Lisbon",
    "neighborhood": "Graça",
    "bedrooms": "2",
    "features": "terrace, river view",
    "reference": "CL-001",
}
# The same listing as the JSON API takes it.
GRACA_API = GRACA | {"price": "372000", "features": ["terrace", "river view"], "bedrooms": 2}
ARROIOS: dict[str, Any] = {
    "reference": "CL-004",
    "title": "Bright T1 in Arroios",
    "listing_type": "rent",
    "property_type": "apartment",
    "price": "1450",
    "city": "Lisbon",
    "neighborhood": "Arroios",
}
CSV_ONE_GOOD_ONE_BAD = (
    "reference,title,listing_type,property_type,price,city\n"
    "CL-010,Quiet T2 in Campo de Ourique,sale,apartment,398000,Lisbon\n"
    "CL-011,Broken row,swap,apartment,not a price,Lisbon\n"
)


def text_of(response: httpx.Response) -> str:
    """The page's words as a person reads them: tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


async def form_token(client: httpx.AsyncClient, path: str = "/listings/new") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    match = _CSRF_INPUT.search(page.text)
    assert match is not None, page.text
    return match.group(1)


async def api_listings(client: httpx.AsyncClient, account: ApiAccount) -> list[dict[str, Any]]:
    response = await client.get(API, params={"status": "any"}, headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def api_create(
    client: httpx.AsyncClient, account: ApiAccount, listing: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(API, json=listing, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None
) -> httpx.Response:
    token = await form_token(client)
    return await client.post(path, data={"csrf_token": token, **(data or {})})


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    await sign_in(client, api_account.email)
    return client


async def test_a_new_account_is_told_to_add_its_first_listing(
    signed_in: httpx.AsyncClient,
) -> None:
    page = await signed_in.get("/listings")
    assert page.status_code == 200
    words = text_of(page)
    assert "The assistant only talks to customers about the listings you add here" in words
    assert 'href="/listings/new">Add your first listing</a>' in page.text
    assert 'href="/listings/import">Import a CSV</a>' in page.text


async def test_an_added_listing_shows_in_the_list_and_the_api(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    response = await post_form(signed_in, "/listings/new", GRACA)
    assert response.status_code == 303
    listing_page = await signed_in.get(response.headers["location"])
    words = text_of(listing_page)
    assert "Listing added." in words
    assert "Sunny T2 in Graça with terrace" in words
    assert "€372,000" in words
    assert "Graça, Lisbon" in words
    assert "Ref. CL-001" in words
    assert "Add your first listing" not in words
    [stored] = await api_listings(signed_in, api_account)
    assert stored["price"] == "372000.00"
    assert stored["features"] == ["terrace", "river view"]
    assert (stored["bedrooms"], stored["status"]) == (2, "available")


async def test_a_wrong_field_is_explained_next_to_it_and_nothing_is_saved(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    response = await post_form(signed_in, "/listings/new", GRACA | {"price": "a lot", "city": ""})
    assert response.status_code == 422
    assert re.search(
        r'id="f-price-error">Enter the price as a number, e.g. 372000 or 372 000.<', response.text
    )
    assert 'id="f-city-error">Required.<' in response.text
    assert "Nothing was saved." in text_of(response)
    assert 'value="Sunny T2 in Graça with terrace"' in response.text  # what was typed is kept
    assert 'value="a lot"' in response.text
    assert await api_listings(signed_in, api_account) == []


async def test_a_reference_already_used_is_a_field_error(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    await api_create(signed_in, api_account, ARROIOS)
    response = await post_form(signed_in, "/listings/new", GRACA | {"reference": "CL-004"})
    assert response.status_code == 422
    assert "Another listing already has the reference CL-004." in text_of(response)
    assert len(await api_listings(signed_in, api_account)) == 1


async def test_editing_changes_the_listing_and_clears_emptied_fields(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    created = await api_create(signed_in, api_account, ARROIOS)
    edit_page = await signed_in.get(f"/listings/{created['id']}")
    assert 'value="Bright T1 in Arroios"' in edit_page.text
    assert 'value="1450"' in edit_page.text
    changed = ARROIOS | {"price": "1,500", "neighborhood": "", "title": "Bright T1, Arroios"}
    response = await post_form(signed_in, f"/listings/{created['id']}", changed)
    assert response.status_code == 303
    listing_page = await signed_in.get(response.headers["location"])
    assert "Listing saved." in text_of(listing_page)
    assert "€1,500/month" in text_of(listing_page)
    [stored] = await api_listings(signed_in, api_account)
    assert (stored["title"], stored["price"]) == ("Bright T1, Arroios", "1500.00")
    assert stored["neighborhood"] is None


async def test_an_invalid_edit_changes_nothing(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    created = await api_create(signed_in, api_account, ARROIOS)
    response = await post_form(signed_in, f"/listings/{created['id']}", ARROIOS | {"title": ""})
    assert response.status_code == 422
    assert 'id="f-title-error">Required.<' in response.text
    [stored] = await api_listings(signed_in, api_account)
    assert stored["title"] == "Bright T1 in Arroios"


async def test_a_sold_listing_leaves_the_default_list_and_can_come_back(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    created = await api_create(signed_in, api_account, GRACA_API)
    path = f"/listings/{created['id']}/status"
    response = await post_form(signed_in, path, {"status": "sold"})
    assert response.status_code == 303
    listing_page = await signed_in.get(response.headers["location"])
    assert "Marked sold. The assistant no longer offers it." in text_of(listing_page)
    assert "Mark available again" in text_of(listing_page)
    default_list = text_of(await signed_in.get("/listings"))
    assert "Sunny T2 in Graça" not in default_list
    assert "No listings are available." in default_list
    assert "Sunny T2 in Graça" in text_of(await signed_in.get("/listings?status=sold"))
    await post_form(signed_in, path, {"status": "available"})
    assert "Sunny T2 in Graça" in text_of(await signed_in.get("/listings"))


async def test_deleting_asks_first_then_removes_the_listing(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    created = await api_create(signed_in, api_account, ARROIOS)
    confirm = await signed_in.get(f"/listings/{created['id']}/delete")
    assert "Delete this listing?" in text_of(confirm)
    assert "This cannot be undone." in text_of(confirm)
    assert await api_listings(signed_in, api_account) != []
    response = await post_form(signed_in, f"/listings/{created['id']}/delete")
    assert response.status_code == 303
    assert "Listing deleted." in text_of(await signed_in.get(response.headers["location"]))
    assert await api_listings(signed_in, api_account) == []


async def test_search_finds_by_place_reference_or_words(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    await api_create(signed_in, api_account, GRACA_API)
    await api_create(signed_in, api_account, ARROIOS)
    for query, found, missing in [
        ("graca", "Sunny T2", "Bright T1"),
        ("CL-004", "Bright T1", "Sunny T2"),
        ("terrace lisbon", "Sunny T2", "Bright T1"),
    ]:
        words = text_of(await signed_in.get("/listings", params={"q": query}))
        assert found in words, query
        assert missing not in words, query
    nothing = text_of(await signed_in.get("/listings", params={"q": "Porto"}))
    assert "No available listing matches “Porto”." in nothing


async def test_more_than_a_page_of_listings_is_paginated(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    for number in range(21):
        listing = ARROIOS | {"reference": f"R-{number:02}", "price": str(1000 + number)}
        await api_create(signed_in, api_account, listing | {"title": f"Flat {number:02}"})
    first = await signed_in.get("/listings")
    assert "21 listings · page 1 of 2" in text_of(first)
    assert "Flat 00" in text_of(first)
    assert "Flat 20" not in text_of(first)
    assert 'rel="next" href="/listings?page=2"' in first.text
    second = text_of(await signed_in.get("/listings?page=2"))
    assert "Flat 20" in second
    assert "Flat 00" not in second


async def test_past_a_thousand_listings_the_list_says_more_than_and_pages_on(
    signed_in: httpx.AsyncClient, api_account: ApiAccount, db: Database
) -> None:
    async with db.session_scope() as session:
        await insert_listings(session, api_account.account_id, 1001)
    first = await signed_in.get("/listings", params={"q": "graca"})
    assert "More than 1,000 listings matching “graca” · page 1" in text_of(first)
    assert 'rel="next" href="/listings?q=graca&amp;page=2"' in first.text
    last = await signed_in.get("/listings", params={"q": "graca", "page": "51"})
    assert "1001 listings matching “graca” · page 51 of 51" in text_of(last)
    assert 'rel="next"' not in last.text
    api = await signed_in.get(API, params={"limit": 1}, headers=api_account.headers)
    assert (api.json()["total"], api.json()["total_exact"]) == (1000, False)


async def test_a_csv_imports_the_good_rows_and_reports_the_bad_ones(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    token = await form_token(signed_in, "/listings/import")
    files = {"file": ("listings.csv", CSV_ONE_GOOD_ONE_BAD.encode(), "text/csv")}
    response = await signed_in.post("/listings/import", data={"csrf_token": token}, files=files)
    assert response.status_code == 200, response.text
    words = text_of(response)
    assert "1 added, 0 updated, 1 row not imported." in words
    assert "3 listing_type Input should be 'sale' or 'rent'" in words
    assert re.search(r"3 price Input should be a valid decimal", words)
    [stored] = await api_listings(signed_in, api_account)
    assert stored["reference"] == "CL-010"


async def test_an_unreadable_file_is_refused_and_changes_nothing(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    token = await form_token(signed_in, "/listings/import")
    files = {"file": ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/csv")}
    response = await signed_in.post("/listings/import", data={"csrf_token": token}, files=files)
    assert response.status_code == 422
    words = text_of(response)
    assert "This file could not be read: the file is not CSV text" in words
    assert "Nothing was imported." in words
    assert await api_listings(signed_in, api_account) == []


async def test_the_import_page_lists_the_columns_and_offers_the_sample(
    signed_in: httpx.AsyncClient,
) -> None:
    page = await signed_in.get("/listings/import")
    words = text_of(page)
    assert "title Required." in words
    assert "price Required. 372000, 372 000 or €372,000" in words
    sample = await signed_in.get("/listings/import/sample.csv")
    assert sample.status_code == 200
    assert sample.text.startswith("reference,title,listing_type")


async def test_a_form_without_its_csrf_token_is_refused(
    signed_in: httpx.AsyncClient, api_account: ApiAccount
) -> None:
    response = await signed_in.post("/listings/new", data=GRACA)
    assert response.status_code == 403
    assert "Nothing was changed." in text_of(response)
    assert await api_listings(signed_in, api_account) == []


async def test_another_accounts_listing_is_not_found_and_stays_as_it_was(
    signed_in: httpx.AsyncClient, other_account: ApiAccount
) -> None:
    theirs = await api_create(signed_in, other_account, ARROIOS)
    path = f"/listings/{theirs['id']}"
    for get_path in (path, f"{path}/delete"):
        response = await signed_in.get(get_path)
        assert response.status_code == 404, get_path
        assert "Bright T1" not in response.text
    for post_path, data in [
        (path, ARROIOS | {"title": "Mine now"}),
        (f"{path}/status", {"status": "sold"}),
        (f"{path}/delete", {}),
    ]:
        response = await post_form(signed_in, post_path, data)
        assert response.status_code == 404, post_path
    [stored] = await api_listings(signed_in, other_account)
    assert (stored["title"], stored["status"]) == ("Bright T1 in Arroios", "available")


async def test_signed_out_visitors_go_to_the_login_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/listings")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Flistings"
    response = await client.post("/listings/new", data=GRACA)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
