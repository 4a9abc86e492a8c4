"""Each listing's `viewings` setting (on, approval, off) through the properties API and CSV."""

from __future__ import annotations

import httpx

from tests.conftest import ApiAccount
from tests.web.test_properties_api import GRACA, create, read

BASE = "/api/v1/properties"


class TestViewingsSetting:
    async def test_a_new_listing_takes_viewings(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account)
        assert created["viewings"] == "on"

    async def test_set_on_create_and_changed_by_patch(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account, viewings="approval")
        assert (await read(client, api_account, created["id"]))["viewings"] == "approval"
        response = await client.patch(
            f"{BASE}/{created['id']}", json={"viewings": "off"}, headers=api_account.headers
        )
        assert response.status_code == 200, response.text
        assert (await read(client, api_account, created["id"]))["viewings"] == "off"
        # A change of something else keeps the setting.
        await client.patch(
            f"{BASE}/{created['id']}", json={"title": "Renamed"}, headers=api_account.headers
        )
        assert (await read(client, api_account, created["id"]))["viewings"] == "off"

    async def test_an_unknown_or_null_value_answers_422_and_changes_nothing(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        created = await create(client, api_account, viewings="approval")
        for bad in ("maybe", None):
            response = await client.patch(
                f"{BASE}/{created['id']}", json={"viewings": bad}, headers=api_account.headers
            )
            assert response.status_code == 422, response.text
            assert response.json()["error"]["field"] == "viewings"
        assert await read(client, api_account, created["id"]) == created
        refused = await client.post(
            BASE, json=GRACA | {"viewings": "sometimes"}, headers=api_account.headers
        )
        assert refused.status_code == 422

    async def test_a_csv_column_sets_it_and_a_sheet_without_it_keeps_it(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        with_column = "reference,title,listing_type,property_type,price,city,viewings\n"
        with_column += "CL-9,Tenanted T1,rent,apartment,1200,Lisboa,Approval\n"
        with_column += "CL-10,Empty T2,rent,apartment,1500,Lisboa,perhaps\n"
        report = await upload(client, api_account, with_column)
        assert (report["created"], report["failed"]) == (1, 1)
        assert report["errors"][0]["field"] == "viewings"
        without = "reference,title,listing_type,property_type,price,city\n"
        without += "CL-9,Tenanted T1 (new photos),rent,apartment,1200,Lisboa\n"
        assert (await upload(client, api_account, without))["updated"] == 1
        page = await client.get(BASE, params={"text": "tenanted"}, headers=api_account.headers)
        [listing] = page.json()["items"]
        assert (listing["title"], listing["viewings"]) == ("Tenanted T1 (new photos)", "approval")


async def upload(client: httpx.AsyncClient, account: ApiAccount, text: str) -> dict[str, object]:
    files = {"file": ("listings.csv", text.encode(), "text/csv")}
    response = await client.post(f"{BASE}/import", files=files, headers=account.headers)
    assert response.status_code == 200, response.text
    report: dict[str, object] = response.json()
    return report
