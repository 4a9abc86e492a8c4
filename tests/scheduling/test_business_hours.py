"""next_open and last_open: business hours in the account's zone, across a DST change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from whatsapp_assistant.scheduling.defaults import DEFAULT_WEEK
from whatsapp_assistant.scheduling.slots import WeeklyRange, last_open, next_open

LISBON = ZoneInfo("Europe/Lisbon")


def lisbon(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LISBON).astimezone(UTC)


class TestNextOpen:
    def test_inside_the_hours_is_now(self) -> None:
        tuesday = lisbon(2026, 12, 8, 11, 30)
        assert next_open(DEFAULT_WEEK, LISBON, tuesday) == tuesday

    def test_at_night_is_the_next_mornings_opening(self) -> None:
        assert next_open(DEFAULT_WEEK, LISBON, lisbon(2026, 12, 8, 22, 0)) == lisbon(
            2026, 12, 9, 9, 0
        )

    def test_the_closing_minute_itself_is_closed(self) -> None:
        assert next_open(DEFAULT_WEEK, LISBON, lisbon(2026, 12, 8, 19, 0)) == lisbon(
            2026, 12, 9, 9, 0
        )

    def test_saturday_afternoon_waits_for_monday(self) -> None:
        assert next_open(DEFAULT_WEEK, LISBON, lisbon(2026, 12, 12, 14, 0)) == lisbon(
            2026, 12, 14, 9, 0
        )

    def test_the_opening_keeps_its_wall_time_across_the_march_change(self) -> None:
        """Lisbon moves from UTC+0 to UTC+1 on 29 March 2026: Monday 09:00 is 08:00 UTC."""
        opening = next_open(DEFAULT_WEEK, LISBON, lisbon(2026, 3, 28, 20, 0))
        assert opening == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)

    def test_no_hours_at_all_restrict_nothing(self) -> None:
        night = lisbon(2026, 12, 8, 3, 0)
        assert next_open((), LISBON, night) == night

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            next_open(DEFAULT_WEEK, LISBON, datetime(2026, 12, 8, 3, 0))  # noqa: DTZ001


class TestLastOpen:
    def test_inside_the_hours_is_now(self) -> None:
        friday = lisbon(2026, 12, 11, 18, 0)
        assert last_open(DEFAULT_WEEK, LISBON, friday) == friday

    def test_early_morning_is_the_last_minute_of_the_evening_before(self) -> None:
        assert last_open(DEFAULT_WEEK, LISBON, lisbon(2026, 12, 9, 8, 0)) == lisbon(
            2026, 12, 8, 18, 59
        )

    def test_monday_morning_is_saturdays_last_minute(self) -> None:
        assert last_open(DEFAULT_WEEK, LISBON, lisbon(2026, 12, 14, 8, 0)) == lisbon(
            2026, 12, 12, 13, 59
        )

    def test_the_closing_keeps_its_wall_time_across_the_october_change(self) -> None:
        """Lisbon goes back to UTC+0 on 25 October 2026: Saturday 24th closes at 13:00 UTC."""
        week = (WeeklyRange(5, 10 * 60, 14 * 60),)
        closing = last_open(week, LISBON, lisbon(2026, 10, 25, 12, 0))
        assert closing == datetime(2026, 10, 24, 12, 59, tzinfo=UTC)
