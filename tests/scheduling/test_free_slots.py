"""free_slots: the viewing starts offered, by the rules, in the account's zone across DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from whatsapp_assistant.scheduling.defaults import DEFAULT_RULES, DEFAULT_WEEK
from whatsapp_assistant.scheduling.slots import Interval, Rules, WeeklyRange, free_slots

MON, FRI, SAT, SUN = 0, 4, 5, 6


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def on(day: datetime, *times: str) -> list[datetime]:
    """UTC instants on the UTC date of `day`, from "HH:MM" strings."""
    return [
        day.replace(hour=int(clock[:2]), minute=int(clock[3:]), second=0, microsecond=0)
        for clock in times
    ]


def every(first: datetime, last: datetime, minutes: int = 30) -> list[datetime]:
    found, moment = [], first
    while moment <= last:
        found.append(moment)
        moment += timedelta(minutes=minutes)
    return found


def slots(
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    rules: Rules = DEFAULT_RULES,
    weekly: tuple[WeeklyRange, ...] = DEFAULT_WEEK,
    dates_off: frozenset[date] = frozenset(),
    busy: tuple[Interval, ...] = (),
) -> list[datetime]:
    return free_slots(
        rules=rules,
        weekly=weekly,
        dates_off=dates_off,
        busy=busy,
        start=start,
        end=end,
        now=now,
    )


class TestADefaultSaturdayInLisbon:
    def test_in_winter_lisbon_is_on_utc(self) -> None:
        found = slots(start=utc(2027, 2, 6), end=utc(2027, 2, 7), now=utc(2027, 2, 1, 8))
        assert found == every(utc(2027, 2, 6, 10), utc(2027, 2, 6, 13, 30))

    def test_in_summer_the_same_hours_are_an_hour_earlier_in_utc(self) -> None:
        found = slots(start=utc(2027, 6, 5), end=utc(2027, 6, 6), now=utc(2027, 6, 1, 8))
        assert found == every(utc(2027, 6, 5, 9), utc(2027, 6, 5, 12, 30))

    def test_sunday_has_none(self) -> None:
        assert slots(start=utc(2027, 2, 7), end=utc(2027, 2, 8), now=utc(2027, 2, 1, 8)) == []

    def test_the_window_is_half_open(self) -> None:
        found = slots(start=utc(2027, 2, 6, 11), end=utc(2027, 2, 6, 12), now=utc(2027, 2, 1))
        assert found == on(utc(2027, 2, 6), "11:00", "11:30")


class TestNoticeAndHorizon:
    def test_nothing_starts_sooner_than_the_notice(self) -> None:
        monday = utc(2027, 2, 8)
        found = slots(start=monday, end=monday + timedelta(days=1), now=utc(2027, 2, 8, 10, 10))
        assert found == every(utc(2027, 2, 8, 12, 30), utc(2027, 2, 8, 18, 30))

    def test_a_start_exactly_at_the_notice_is_offered(self) -> None:
        monday = utc(2027, 2, 8)
        found = slots(start=monday, end=monday + timedelta(days=1), now=utc(2027, 2, 8, 10))
        assert found[0] == utc(2027, 2, 8, 12)

    def test_a_longer_notice_moves_the_first_start(self) -> None:
        rules = replace(DEFAULT_RULES, notice_minutes=24 * 60)
        found = slots(
            start=utc(2027, 2, 8), end=utc(2027, 2, 13), now=utc(2027, 2, 8, 15), rules=rules
        )
        assert found[0] == utc(2027, 2, 9, 15)

    def test_nothing_starts_after_the_horizon(self) -> None:
        now = utc(2027, 2, 1, 9)
        found = slots(start=now, end=now + timedelta(days=30), now=now)
        assert found[-1] == now + timedelta(days=14)  # Monday 15 February, 09:00
        shorter = slots(
            start=now,
            end=now + timedelta(days=30),
            now=now,
            rules=replace(DEFAULT_RULES, horizon_days=2),
        )
        assert shorter[-1] == utc(2027, 2, 3, 9)


class TestDatesOff:
    def test_a_date_off_has_no_slots_and_the_next_day_keeps_its_own(self) -> None:
        found = slots(
            start=utc(2027, 2, 8),
            end=utc(2027, 2, 10),
            now=utc(2027, 2, 1),
            dates_off=frozenset({date(2027, 2, 8)}),
        )
        assert found == every(utc(2027, 2, 9, 9), utc(2027, 2, 9, 18, 30))

    def test_a_date_off_is_a_date_in_the_accounts_zone(self) -> None:
        # Monday 00:00-02:00 in Tokyo is Sunday 15:00-17:00 UTC.
        rules = replace(DEFAULT_RULES, time_zone="Asia/Tokyo")
        week = (WeeklyRange(MON, 0, 120),)
        window = {"start": utc(2027, 2, 7), "end": utc(2027, 2, 8), "now": utc(2027, 2, 1)}
        sunday_off = slots(
            rules=rules, weekly=week, dates_off=frozenset({date(2027, 2, 7)}), **window
        )
        assert sunday_off == every(utc(2027, 2, 7, 15), utc(2027, 2, 7, 16, 30))
        monday_off = slots(
            rules=rules, weekly=week, dates_off=frozenset({date(2027, 2, 8)}), **window
        )
        assert monday_off == []


class TestBusyIntervals:
    MONDAY = utc(2027, 2, 8)
    BOOKED = (utc(2027, 2, 8, 11), utc(2027, 2, 8, 11, 30))

    def test_a_booked_viewing_takes_its_own_slot(self) -> None:
        found = slots(
            start=self.MONDAY, end=utc(2027, 2, 8, 13), now=utc(2027, 2, 1), busy=(self.BOOKED,)
        )
        assert found == on(
            self.MONDAY, "09:00", "09:30", "10:00", "10:30", "11:30", "12:00", "12:30"
        )

    def test_the_buffer_keeps_time_free_on_both_sides(self) -> None:
        rules = replace(DEFAULT_RULES, buffer_minutes=15)
        found = slots(
            start=self.MONDAY,
            end=utc(2027, 2, 8, 13),
            now=utc(2027, 2, 1),
            rules=rules,
            busy=(self.BOOKED,),
        )
        # 10:30-11:00 ends inside 10:45, 11:30 starts before 11:45: both too close.
        assert found == on(self.MONDAY, "09:00", "09:30", "10:00", "12:00", "12:30")

    def test_a_busy_interval_off_the_grid_blocks_every_slot_it_touches(self) -> None:
        odd = (utc(2027, 2, 8, 9, 40), utc(2027, 2, 8, 10, 5))
        found = slots(start=self.MONDAY, end=utc(2027, 2, 8, 11), now=utc(2027, 2, 1), busy=(odd,))
        assert found == on(self.MONDAY, "09:00", "10:30")


# Lisbon: 01:00 WET becomes 02:00 WEST on Sunday 28 March 2027; 02:00 WEST becomes 01:00 WET on
# Sunday 31 October 2027. Sundays 00:00-03:00 cover the change; Friday/Saturday and Monday
# 10:00-12:00 are the weekdays either side.
DST_WEEK = (
    WeeklyRange(MON, 600, 720),
    WeeklyRange(FRI, 600, 720),
    WeeklyRange(SAT, 600, 720),
    WeeklyRange(SUN, 0, 180),
)


class TestDaylightSavingTime:
    def test_spring_forward_skips_the_hour_that_does_not_exist(self) -> None:
        found = slots(
            start=utc(2027, 3, 28), end=utc(2027, 3, 28, 12), now=utc(2027, 3, 20), weekly=DST_WEEK
        )
        # 00:00 and 00:30 WET, then 02:00 and 02:30 WEST; 01:00 and 01:30 never happen.
        assert found == on(utc(2027, 3, 28), "00:00", "00:30", "01:00", "01:30")

    def test_spring_forward_keeps_local_hours_on_both_sides(self) -> None:
        found = slots(
            start=utc(2027, 3, 26), end=utc(2027, 3, 30), now=utc(2027, 3, 20), weekly=DST_WEEK
        )
        friday = on(utc(2027, 3, 26), "10:00", "10:30", "11:00", "11:30")
        saturday = on(utc(2027, 3, 27), "10:00", "10:30", "11:00", "11:30")
        monday = on(utc(2027, 3, 29), "09:00", "09:30", "10:00", "10:30")  # 10:00 WEST
        assert [moment for moment in found if moment.date() != date(2027, 3, 28)] == (
            friday + saturday + monday
        )

    def test_fall_back_offers_a_repeated_wall_time_once(self) -> None:
        found = slots(
            start=utc(2027, 10, 30, 12),
            end=utc(2027, 10, 31, 12),
            now=utc(2027, 10, 20),
            weekly=DST_WEEK,
        )
        # 00:00 and 00:30 WEST (the evening before in UTC), 01:00 and 01:30 WEST (their first
        # occurrence), then 02:00 and 02:30 WET.
        assert found == [
            *on(utc(2027, 10, 30), "23:00", "23:30"),
            *on(utc(2027, 10, 31), "00:00", "00:30", "02:00", "02:30"),
        ]

    def test_fall_back_keeps_local_hours_on_both_sides(self) -> None:
        found = slots(
            start=utc(2027, 10, 30), end=utc(2027, 11, 2), now=utc(2027, 10, 20), weekly=DST_WEEK
        )
        saturday = on(utc(2027, 10, 30), "09:00", "09:30", "10:00", "10:30")  # 10:00 WEST
        monday = on(utc(2027, 11, 1), "10:00", "10:30", "11:00", "11:30")  # 10:00 WET
        assert saturday[0] in found and monday[0] in found
        assert [moment for moment in found if 9 <= moment.hour < 23] == saturday + monday


class TestInput:
    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            slots(start=datetime(2027, 2, 8), end=utc(2027, 2, 9), now=utc(2027, 2, 1))  # noqa: DTZ001

    def test_answers_are_utc(self) -> None:
        found = slots(start=utc(2027, 6, 5), end=utc(2027, 6, 6), now=utc(2027, 6, 1))
        assert {moment.utcoffset() for moment in found} == {timedelta(0)}
        assert all(moment.tzinfo is UTC for moment in found)
