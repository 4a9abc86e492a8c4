"""The /api/v1/properties routes: CRUD, search, CSV upload, authentication and tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount
from whatsapp_assistant.properties.samples import sample_listings_text

BASE = "/api/v1/properties"

GRACA: dict[str, Any] = {
    "reference": "CL-001",
    "title": "Sunny T2 in Graça with terrace",
    "listing_type": "sale",
    "property_type": "apartment",
    "price": "372000",
    "city": "Lisbon",
    "neighborhood": "Graça",
    "bedrooms": 2,
    "bathrooms": 1,
    "area_sqm": 74,
    "features": ["terrace", "river view"],
    "url": "https://casalusa.example/imoveis/cl-001",
}


async def create(client: httpx.AsyncClient, account: ApiAccount, **changes: Any) -> dict[str, Any]:
    response = await client.post(BASE, json=GRACA | changes, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def read(client: httpx.AsyncClient, account: ApiAccount, property_id: str) -> dict[str, Any]:
    response = await client.get(f"{BASE}/{property_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestCreateProperty:
    async def test_answers_201_with_the_stored_listing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account, property_type="Flat")
        assert created["title"] == GRACA["title"]
        assert created["property_type"] == "apartment"
        assert (created["currency"], created["status"]) == ("EUR", "available")
        assert await read(client, api_account, created["id"]) == created

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"price": -5}, "price"),
            ({"listing_type": "swap"}, "listing_type"),
            ({"city": ""}, "city"),
            ({"url": "not a url"}, "url"),
            ({"colour": "blue"}, "colour"),
        ],
    )
    async def test_invalid_field_answers_422_naming_it_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        changes: dict[str, Any],
        field: str,
    ) -> None:
        response = await client.post(BASE, json=GRACA | changes, headers=api_account.headers)
        assert response.status_code == 422
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("validation_error", field)
        listed = await client.get(BASE, params={"status": "any"}, headers=api_account.headers)
        assert listed.json()["total"] == 0

    async def test_a_reference_already_used_answers_409(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        await create(client, api_account)
        response = await client.post(BASE, json=GRACA, headers=api_account.headers)
        assert response.status_code == 409
        assert response.json()["error"] == {
            "code": "property_reference_taken",
            "message": "reference 'CL-001' is already used",
            "field": "reference",
        }


class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic abc"}],
    )
    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", BASE), ("POST", BASE), ("GET", f"{BASE}/00000000-0000-0000-0000-000000000000")],
    )
    async def test_without_a_valid_api_key_answers_401(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        headers: dict[str, str],
        method: str,
        path: str,
    ) -> None:
        response = await client.request(method, path, json=GRACA, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


class TestUpdateProperty:
    async def test_only_the_fields_sent_change(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account)
        response = await client.patch(
            f"{BASE}/{created['id']}",
            json={"price": "365000", "status": "under_offer"},
            headers=api_account.headers,
        )
        assert response.status_code == 200
        updated = response.json()
        assert (updated["price"], updated["status"]) == ("365000.00", "under_offer")
        assert updated["title"] == created["title"]
        assert await read(client, api_account, created["id"]) == updated

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"price": -5}, "price"), ({"title": None}, "title"), ({"features": None}, "features")],
    )
    async def test_a_failed_update_leaves_the_listing_unchanged(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        body: dict[str, Any],
        field: str,
    ) -> None:
        created = await create(client, api_account)
        response = await client.patch(
            f"{BASE}/{created['id']}", json=body | {"bedrooms": 3}, headers=api_account.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
        assert await read(client, api_account, created["id"]) == created

    async def test_nullable_fields_can_be_cleared(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account)
        response = await client.patch(
            f"{BASE}/{created['id']}", json={"url": None}, headers=api_account.headers
        )
        assert response.json()["url"] is None


class TestAnotherAccountsProperty:
    async def test_get_patch_delete_answer_404_and_change_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        created = await create(client, api_account)
        path = f"{BASE}/{created['id']}"
        responses = [
            await client.get(path, headers=other_account.headers),
            await client.patch(path, json={"price": "1"}, headers=other_account.headers),
            await client.delete(path, headers=other_account.headers),
        ]
        assert [r.status_code for r in responses] == [404, 404, 404]
        assert {r.json()["error"]["code"] for r in responses} == {"property_not_found"}
        assert await read(client, api_account, created["id"]) == created

    async def test_unknown_id_answers_404(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await client.get(
            f"{BASE}/00000000-0000-0000-0000-000000000000", headers=api_account.headers
        )
        assert response.status_code == 404

    async def test_listing_shows_only_the_callers_listings(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        await create(client, api_account)
        response = await client.get(BASE, headers=other_account.headers)
        assert response.json() == {"items": [], "total": 0, "total_exact": True}


class TestDeleteProperty:
    async def test_answers_204_and_the_listing_is_gone(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account)
        path = f"{BASE}/{created['id']}"
        response = await client.delete(path, headers=api_account.headers)
        assert (response.status_code, response.content) == (204, b"")
        assert (await client.get(path, headers=api_account.headers)).status_code == 404


class TestListProperties:
    @pytest.fixture
    async def sample(self, client: httpx.AsyncClient, api_account: ApiAccount) -> None:
        files = {"file": ("listings.csv", sample_listings_text().encode(), "text/csv")}
        response = await client.post(f"{BASE}/import", files=files, headers=api_account.headers)
        assert response.json()["created"] == 12

    async def search(
        self, client: httpx.AsyncClient, account: ApiAccount, **params: Any
    ) -> dict[str, Any]:
        response = await client.get(BASE, params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @pytest.mark.usefixtures("sample")
    async def test_the_customers_question_finds_the_two_flats(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        found = await self.search(
            client,
            api_account,
            location="lisbon",
            listing_type="sale",
            min_bedrooms=2,
            max_price=420000,
        )
        assert [item["title"] for item in found["items"]] == [
            "Sunny T2 in Graça with terrace",
            "Quiet T2 in Campo de Ourique",
        ]
        assert found["total"] == 2

    @pytest.mark.usefixtures("sample")
    async def test_filters_combine(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        found = await self.search(
            client, api_account, location="graca", property_type="flat", text="terrace"
        )
        assert [item["reference"] for item in found["items"]] == ["CL-001"]
        rentals = await self.search(client, api_account, listing_type="rent", min_price=1500)
        assert {item["city"] for item in rentals["items"]} == {"Cascais", "Lisbon"}

    @pytest.mark.usefixtures("sample")
    async def test_a_repeated_location_matches_any_of_the_places(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        found = await self.search(
            client, api_account, location=["graca", "Campo de Ourique"], listing_type="sale"
        )
        titles = {item["title"] for item in found["items"]}
        assert {"Sunny T2 in Graça with terrace", "Quiet T2 in Campo de Ourique"} <= titles
        assert all(item["neighborhood"] in ("Graça", "Campo de Ourique") for item in found["items"])

    @pytest.mark.usefixtures("sample")
    async def test_available_by_default_and_any_status_on_request(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        assert (await self.search(client, api_account))["total"] == 10
        assert (await self.search(client, api_account, status="any"))["total"] == 12
        sold = await self.search(client, api_account, status="sold")
        assert [item["reference"] for item in sold["items"]] == ["CL-009"]

    @pytest.mark.usefixtures("sample")
    async def test_limit_and_offset_page_while_total_counts_all(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        page = await self.search(client, api_account, status="any", limit=5, offset=10)
        assert (len(page["items"]), page["total"]) == (2, 12)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"limit": 101}, "query.limit"),
            ({"min_price": -1}, "query.min_price"),
            ({"status": "gone"}, "query.status"),
            ({"bedroomz": 2}, "query.bedroomz"),
        ],
    )
    async def test_invalid_filters_answer_422_naming_the_parameter(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        params: dict[str, Any],
        field: str,
    ) -> None:
        response = await client.get(BASE, params=params, headers=api_account.headers)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field


class TestImportProperties:
    async def upload(
        self, client: httpx.AsyncClient, account: ApiAccount, data: bytes
    ) -> httpx.Response:
        files = {"file": ("listings.csv", data, "text/csv")}
        return await client.post(f"{BASE}/import", files=files, headers=account.headers)

    async def test_reports_created_updated_and_failed_rows(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        text = (
            "reference;title;listing_type;property_type;price;city\n"
            "CL-001;Sunny T2 in Graça with terrace;sale;apartment;€372.000;Lisbon\n"
            "CL-002;Broken;sale;apartment;free;Lisbon\n"
        )
        first = await self.upload(client, api_account, text.encode("cp1252"))
        assert first.status_code == 200
        assert first.json() == {
            "created": 1,
            "updated": 0,
            "failed": 1,
            "errors": [{"row": 3, "field": "price", "message": "Input should be a valid decimal"}],
            "ignored_columns": [],
        }
        again = await self.upload(client, api_account, text.encode())
        assert (again.json()["created"], again.json()["updated"]) == (0, 1)
        listed = await client.get(BASE, headers=api_account.headers)
        assert [item["price"] for item in listed.json()["items"]] == ["372000.00"]

    async def test_a_file_without_title_answers_422_invalid_csv(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await self.upload(client, api_account, b"price,city\n1,Lisbon\n")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_csv"

    async def test_a_binary_file_answers_422_invalid_csv(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await self.upload(client, api_account, b"\x89PNG\r\n\x1a\n\x00\x00")
        assert response.json()["error"]["code"] == "invalid_csv"

    async def test_a_missing_file_answers_422_naming_the_field(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await client.post(f"{BASE}/import", headers=api_account.headers)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "file"

    async def test_rows_go_to_the_callers_account_only(
        self, client: httpx.AsyncClient, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        await self.upload(client, api_account, sample_listings_text().encode())
        listed = await client.get(BASE, params={"status": "any"}, headers=other_account.headers)
        assert listed.json()["total"] == 0
