"""The availability page: shows the values, saves the form, refuses bad input unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount
from tests.web.signin import sign_in
from tests.web.test_settings_page import csrf, text_of

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    await sign_in(client, api_account.email)
    return client


def form(**changes: str) -> dict[str, str]:
    values = {
        "time_zone": "Europe/Madrid",
        "viewing_minutes": "45",
        "buffer_minutes": "15",
        "notice_minutes": "60",
        "horizon_days": "21",
        "dates_off": "2027-12-25\n2027-12-24",
    }
    values |= {f"slots_{day}": "" for day in DAYS} | {f"hours_{day}": "" for day in DAYS}
    values |= {"slots_mon": "10:00-13:00, 14:00–18:00", "slots_sat": "9:30 to 12:00"}
    values |= {"hours_mon": "09:00-19:00"}
    return values | changes


async def post(client: httpx.AsyncClient, values: dict[str, str]) -> httpx.Response:
    return await client.post("/availability", data=values | {"csrf_token": await csrf(client)})


async def stored(client: httpx.AsyncClient, account: ApiAccount) -> tuple[Any, Any]:
    schedule = await client.get("/api/v1/account/schedule", headers=account.headers)
    availability = await client.get("/api/v1/availability", headers=account.headers)
    return schedule.json(), availability.json()


class TestAvailabilityPage:
    async def test_shows_the_defaults(self, signed_in: httpx.AsyncClient) -> None:
        page = await signed_in.get("/availability")
        assert page.status_code == 200
        assert 'value="Europe/Lisbon"' in page.text
        assert 'name="slots_mon" type="text" value="09:00–19:00"' in page.text
        assert 'name="slots_sat" type="text" value="10:00–14:00"' in page.text
        assert 'name="slots_sun" type="text" value=""' in page.text

    async def test_settings_links_to_it(self, signed_in: httpx.AsyncClient) -> None:
        assert 'href="/availability"' in (await signed_in.get("/settings")).text

    async def test_saving_stores_what_the_api_reads(
        self, signed_in: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await post(signed_in, form())
        assert response.status_code == 303
        assert response.headers["location"] == "/availability?done=availability-saved"
        schedule, availability = await stored(signed_in, api_account)
        assert schedule == {
            "time_zone": "Europe/Madrid",
            "business_hours": [{"weekday": "mon", "start": "09:00", "end": "19:00"}],
            "viewing_minutes": 45,
            "buffer_minutes": 15,
            "notice_minutes": 60,
            "horizon_days": 21,
        }
        assert availability == {
            "weekly_slots": [
                {"weekday": "mon", "start": "10:00", "end": "13:00"},
                {"weekday": "mon", "start": "14:00", "end": "18:00"},
                {"weekday": "sat", "start": "09:30", "end": "12:00"},
            ],
            "dates_off": ["2027-12-24", "2027-12-25"],
        }
        shown = await signed_in.get("/availability?done=availability-saved")
        assert "Viewing times saved." in text_of(shown)
        assert 'name="slots_mon" type="text" value="10:00–13:00, 14:00–18:00"' in shown.text

    @pytest.mark.parametrize(
        ("changes", "field", "words"),
        [
            ({"slots_tue": "18:00-10:00"}, "slots_tue", "the end comes after the start"),
            ({"slots_mon": "10:00-13:00, 12:00-14:00"}, "slots_mon", "overlaps"),
            ({"hours_fri": "09:00-25:00"}, "hours_fri", "from 00:00 to 24:00"),
            ({"slots_wed": "mornings"}, "slots_wed", "is not one"),
            ({"time_zone": "Mars/Olympus"}, "time_zone", "Europe/Lisbon"),
            ({"horizon_days": "0"}, "horizon_days", "from 1 to 365"),
            ({"dates_off": "tomorrow"}, "dates_off", "is not a date"),
        ],
    )
    async def test_bad_input_is_shown_and_nothing_changes(
        self,
        signed_in: httpx.AsyncClient,
        api_account: ApiAccount,
        changes: dict[str, str],
        field: str,
        words: str,
    ) -> None:
        before = await stored(signed_in, api_account)
        response = await post(signed_in, form(**changes))
        assert response.status_code == 422
        assert "Nothing was saved" in response.text
        assert f'id="f-{field}-error"' in response.text
        assert words in text_of(response)
        # What was typed stays in the form.
        typed = changes[field]
        assert f'value="{typed}"' in response.text or f">{typed}</textarea>" in response.text
        assert await stored(signed_in, api_account) == before

    async def test_signed_out_goes_to_the_login_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/availability")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
