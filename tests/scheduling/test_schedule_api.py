"""GET/PUT /api/v1/account/schedule and /api/v1/availability: defaults, replacement, refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import ApiAccount

SCHEDULE = "/api/v1/account/schedule"
AVAILABILITY = "/api/v1/availability"

WEEKDAYS_9_TO_7 = [{"weekday": day, "start": "09:00", "end": "19:00"} for day in ("mon", "tue")]
DEFAULT_WEEK = [
    *({"weekday": day, "start": "09:00", "end": "19:00"} for day in ("mon", "tue", "wed", "thu")),
    {"weekday": "fri", "start": "09:00", "end": "19:00"},
    {"weekday": "sat", "start": "10:00", "end": "14:00"},
]

MADRID: dict[str, Any] = {
    "time_zone": "Europe/Madrid",
    "business_hours": [
        {"weekday": "tue", "start": "14:00", "end": "18:00"},
        {"weekday": "mon", "start": "09:30", "end": "13:00"},
        {"weekday": "mon", "start": "13:00", "end": "24:00"},
    ],
    "viewing_minutes": 45,
    "buffer_minutes": 15,
    "notice_minutes": 240,
    "horizon_days": 30,
}
SLOTS: dict[str, Any] = {
    "weekly_slots": [
        {"weekday": "sat", "start": "10:00", "end": "13:00"},
        {"weekday": "mon", "start": "10:00", "end": "18:00"},
    ],
    "dates_off": ["2027-04-25", "2027-01-01", "2027-04-25"],
}


async def read(client: httpx.AsyncClient, account: ApiAccount, url: str) -> dict[str, Any]:
    response = await client.get(url, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def put(
    client: httpx.AsyncClient, account: ApiAccount, url: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(url, json=body, headers=account.headers)


class TestANewAccount:
    async def test_has_the_default_schedule(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        assert await read(client, api_account, SCHEDULE) == {
            "time_zone": "Europe/Lisbon",
            "business_hours": DEFAULT_WEEK,
            "viewing_minutes": 30,
            "buffer_minutes": 0,
            "notice_minutes": 120,
            "horizon_days": 14,
        }

    async def test_has_the_default_viewing_slots_and_no_dates_off(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        availability = await read(client, api_account, AVAILABILITY)
        assert availability == {"weekly_slots": DEFAULT_WEEK, "dates_off": []}


class TestReplaceSchedule:
    async def test_what_is_put_is_read_back_in_week_order(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await put(client, api_account, SCHEDULE, MADRID)
        assert response.status_code == 200, response.text
        expected = MADRID | {
            "business_hours": [
                {"weekday": "mon", "start": "09:30", "end": "13:00"},
                {"weekday": "mon", "start": "13:00", "end": "24:00"},
                {"weekday": "tue", "start": "14:00", "end": "18:00"},
            ]
        }
        assert response.json() == expected
        assert await read(client, api_account, SCHEDULE) == expected

    async def test_keeps_the_viewing_slots(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        assert (await put(client, api_account, SCHEDULE, MADRID)).status_code == 200
        availability = await read(client, api_account, AVAILABILITY)
        assert availability == {"weekly_slots": DEFAULT_WEEK, "dates_off": []}

    async def test_a_second_put_replaces_every_range(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        assert (await put(client, api_account, SCHEDULE, MADRID)).status_code == 200
        fewer = MADRID | {"business_hours": WEEKDAYS_9_TO_7[:1], "time_zone": "UTC"}
        assert (await put(client, api_account, SCHEDULE, fewer)).status_code == 200
        assert await read(client, api_account, SCHEDULE) == fewer


class TestReplaceAvailability:
    async def test_slots_and_dates_off_are_read_back_sorted_each_date_once(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await put(client, api_account, AVAILABILITY, SLOTS)
        assert response.status_code == 200, response.text
        expected = {
            "weekly_slots": [SLOTS["weekly_slots"][1], SLOTS["weekly_slots"][0]],
            "dates_off": ["2027-01-01", "2027-04-25"],
        }
        assert response.json() == expected
        assert await read(client, api_account, AVAILABILITY) == expected

    async def test_no_slots_at_all_means_no_viewings(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        nothing = {"weekly_slots": [], "dates_off": []}
        assert (await put(client, api_account, AVAILABILITY, nothing)).status_code == 200
        assert await read(client, api_account, AVAILABILITY) == nothing
        # ... and the schedule stored with it is still the default one.
        schedule = await read(client, api_account, SCHEDULE)
        assert schedule["business_hours"] == DEFAULT_WEEK


def _range(weekday: str, start: str, end: str) -> list[dict[str, str]]:
    return [{"weekday": weekday, "start": start, "end": end}]


BAD_SCHEDULES = {
    "end before start": MADRID | {"business_hours": _range("mon", "18:00", "10:00")},
    "end equal to start": MADRID | {"business_hours": _range("mon", "10:00", "10:00")},
    "overlap": MADRID
    | {"business_hours": _range("mon", "09:00", "13:00") + _range("mon", "12:30", "18:00")},
    "25:00": MADRID | {"business_hours": _range("mon", "09:00", "25:00")},
    "24:30": MADRID | {"business_hours": _range("mon", "09:00", "24:30")},
    "10:60": MADRID | {"business_hours": _range("mon", "10:60", "12:00")},
    "unknown zone": MADRID | {"time_zone": "Europe/Atlantis"},
    "a path for a zone": MADRID | {"time_zone": "../../../etc/localtime"},
    "bad weekday": MADRID | {"business_hours": _range("monday", "09:00", "12:00")},
    "zero-minute viewings": MADRID | {"viewing_minutes": 0},
    "negative buffer": MADRID | {"buffer_minutes": -5},
    "no horizon": MADRID | {"horizon_days": 0},
    "a field left out": {key: value for key, value in MADRID.items() if key != "horizon_days"},
    "an unknown field": MADRID | {"colour": "blue"},
}
BAD_AVAILABILITY = {
    "end before start": SLOTS | {"weekly_slots": _range("sat", "13:00", "10:00")},
    "overlap": SLOTS
    | {"weekly_slots": _range("sat", "10:00", "13:00") + _range("sat", "09:00", "10:30")},
    "25:00": SLOTS | {"weekly_slots": _range("sat", "10:00", "25:00")},
    "bad weekday": SLOTS | {"weekly_slots": _range("caturday", "10:00", "12:00")},
    "not a date": SLOTS | {"dates_off": ["2027-02-30"]},
}


class TestBadInputChangesNothing:
    @pytest.mark.parametrize("case", list(BAD_SCHEDULES))
    async def test_a_bad_schedule_answers_422_and_the_stored_one_stays(
        self, client: httpx.AsyncClient, api_account: ApiAccount, case: str
    ) -> None:
        assert (await put(client, api_account, SCHEDULE, MADRID)).status_code == 200
        before = await read(client, api_account, SCHEDULE)
        response = await put(client, api_account, SCHEDULE, BAD_SCHEDULES[case])
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert await read(client, api_account, SCHEDULE) == before

    @pytest.mark.parametrize("case", list(BAD_AVAILABILITY))
    async def test_bad_availability_answers_422_and_the_stored_one_stays(
        self, client: httpx.AsyncClient, api_account: ApiAccount, case: str
    ) -> None:
        assert (await put(client, api_account, AVAILABILITY, SLOTS)).status_code == 200
        before = await read(client, api_account, AVAILABILITY)
        response = await put(client, api_account, AVAILABILITY, BAD_AVAILABILITY[case])
        assert response.status_code == 422, response.text
        assert await read(client, api_account, AVAILABILITY) == before

    async def test_a_bad_first_put_leaves_the_defaults(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        defaults = await read(client, api_account, SCHEDULE)
        response = await put(client, api_account, SCHEDULE, BAD_SCHEDULES["overlap"])
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "business_hours"
        assert "overlaps" in response.json()["error"]["message"]
        assert await read(client, api_account, SCHEDULE) == defaults

    async def test_the_refusal_names_the_field_at_fault(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        response = await put(client, api_account, SCHEDULE, BAD_SCHEDULES["unknown zone"])
        assert response.json()["error"]["field"] == "time_zone"
        assert "Europe/Atlantis" in response.json()["error"]["message"]


class TestTenancy:
    async def test_another_account_neither_sees_nor_changes_the_values(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        other_account: ApiAccount,
    ) -> None:
        assert (await put(client, api_account, SCHEDULE, MADRID)).status_code == 200
        assert (await put(client, api_account, AVAILABILITY, SLOTS)).status_code == 200
        mine = (
            await read(client, api_account, SCHEDULE),
            await read(client, api_account, AVAILABILITY),
        )
        # The other account reads its own defaults ...
        assert (await read(client, other_account, SCHEDULE))["time_zone"] == "Europe/Lisbon"
        assert (await read(client, other_account, AVAILABILITY))["dates_off"] == []
        # ... and what it puts is its own.
        theirs = MADRID | {"time_zone": "Europe/London", "business_hours": []}
        assert (await put(client, other_account, SCHEDULE, theirs)).status_code == 200
        nothing = {"weekly_slots": [], "dates_off": ["2027-12-25"]}
        assert (await put(client, other_account, AVAILABILITY, nothing)).status_code == 200
        assert (
            await read(client, api_account, SCHEDULE),
            await read(client, api_account, AVAILABILITY),
        ) == mine
        assert await read(client, other_account, SCHEDULE) == theirs

    async def test_without_a_key_nothing_is_read(self, client: httpx.AsyncClient) -> None:
        for url in (SCHEDULE, AVAILABILITY):
            assert (await client.get(url)).status_code == 401
            assert (await client.put(url, json=SLOTS)).status_code == 401


class TestConcurrentFirstChanges:
    async def test_first_puts_at_once_all_succeed_and_one_of_them_is_stored(
        self, client: httpx.AsyncClient, api_account: ApiAccount
    ) -> None:
        # Each one creates the account's schedule if nobody did yet: they queue on its row.
        bodies = [
            {"weekly_slots": _range(day, "10:00", "12:00"), "dates_off": [f"2027-05-0{n + 1}"]}
            for n, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat"))
        ]
        answers = await asyncio.gather(
            *(put(client, api_account, AVAILABILITY, body) for body in bodies),
            put(client, api_account, SCHEDULE, MADRID),
        )
        assert [answer.status_code for answer in answers] == [200] * len(answers)
        assert await read(client, api_account, AVAILABILITY) in bodies
        schedule = await read(client, api_account, SCHEDULE)
        assert schedule["time_zone"] == "Europe/Madrid"
