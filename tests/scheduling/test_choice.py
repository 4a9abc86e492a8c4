"""Reading a customer's choice among offered viewing slots, and the day they asked for instead.

Times are in Europe/Lisbon, which moves from UTC+0 to UTC+1 on Sunday 28 March 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from whatsapp_assistant.scheduling.choice import WantedTime, pick_slot, wanted_time

LISBON = ZoneInfo("Europe/Lisbon")


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


# Wednesday 24 March; offered Friday 15:00, Saturday 11:00 (both UTC+0) and Monday 10:30 local,
# which is 09:30 UTC once summer time has begun.
WEDNESDAY = _utc(3, 24, 9)
WEEK = [_utc(3, 26, 15), _utc(3, 27, 11), _utc(3, 29, 9, 30)]
# Friday 26 March; offered tomorrow 10:00 and 16:00, and Sunday 11:00 local (10:00 UTC).
FRIDAY = _utc(3, 26, 9)
WEEKEND = [_utc(3, 27, 10), _utc(3, 27, 16), _utc(3, 28, 10)]


def _pick(text: str, language: str, offered: list[datetime], now: datetime) -> datetime | None:
    return pick_slot(text, offered, zone=LISBON, language=language, now=now)


class TestPickSlotByPosition:
    @pytest.mark.parametrize(
        ("language", "text", "index"),
        [
            ("en", "the second one", 1),
            ("en", "The first", 0),
            ("en", "the last one please", 2),
            ("en", "1", 0),
            ("en", "2", 1),
            ("en", "option 3", 2),
            ("en", "first one works for me", 0),
            ("en", "2nd", 1),
            ("es", "la primera", 0),
            ("es", "La segunda, por favor", 1),
            ("es", "la ultima", 2),
            ("es", "la tercera opción", 2),
            ("pt", "a segunda", 1),
            ("pt", "A primeira", 0),
            ("pt", "a última", 2),
            ("pt", "opção 2", 1),
            ("pt", "pode ser a terceira", 2),
            ("pt", "3", 2),
        ],
    )
    def test_a_place_in_the_list_picks_that_slot(
        self, language: str, text: str, index: int
    ) -> None:
        assert _pick(text, language, WEEK, WEDNESDAY) == WEEK[index]

    @pytest.mark.parametrize(
        ("language", "text"), [("en", "4"), ("en", "option 5"), ("es", "0"), ("pt", "opção 4")]
    )
    def test_a_place_past_the_list_picks_nothing(self, language: str, text: str) -> None:
        assert _pick(text, language, WEEK, WEDNESDAY) is None

    @pytest.mark.parametrize("text", ["segunda", "na segunda", "a segunda-feira"])
    def test_portuguese_segunda_alone_or_as_a_day_is_monday(self, text: str) -> None:
        assert _pick(text, "pt", WEEK, WEDNESDAY) == WEEK[2]


class TestPickSlotByDayAndTime:
    @pytest.mark.parametrize(
        ("language", "text", "index"),
        [
            ("pt", "sábado às 11", 1),
            ("pt", "sabado as 11", 1),
            ("pt", "Sábado 11h", 1),
            ("pt", "sábado 11", 1),
            ("pt", "sim, sábado às 11 está ótimo", 1),
            ("pt", "sexta às 15h", 0),
            ("pt", "às 15h", 0),
            ("pt", "sexta à tarde", 0),
            ("pt", "segunda de manha", 2),
            ("pt", "segunda-feira às 10:30", 2),
            ("pt", "pode ser às 3 da tarde", 0),
            ("en", "saturday 11am", 1),
            ("en", "Saturday at 11 works", 1),
            ("en", "friday afternoon", 0),
            ("en", "monday morning", 2),
            ("en", "on monday at 10.30", 2),
            ("en", "at 3pm", 0),
            ("en", "saturday 11", 1),
            ("en", "Fri 3pm", 0),
            ("en", "3 pm is fine", 0),
            ("es", "el sábado a las 11", 1),
            ("es", "el sabado a las 11:00", 1),
            ("es", "el viernes por la tarde", 0),
            ("es", "el lunes a las 10:30", 2),
            ("es", "a las 3 de la tarde", 0),
            ("es", "lunes", 2),
            ("es", "sabado 11", 1),
            ("es", "¿El sábado a las 11 sigue libre?", 1),
            ("es", "viernes 15:00", 0),
        ],
    )
    def test_a_day_or_time_picks_the_one_offered_slot_it_fits(
        self, language: str, text: str, index: int
    ) -> None:
        assert _pick(text, language, WEEK, WEDNESDAY) == WEEK[index]

    @pytest.mark.parametrize(
        ("language", "text", "index"),
        [
            ("es", "mañana por la tarde", 1),
            ("es", "manana por la manana", 0),
            ("es", "el domingo", 2),
            ("en", "tomorrow morning", 0),
            ("en", "tomorrow afternoon", 1),
            ("en", "sunday at 11", 2),
            ("pt", "amanhã de manhã", 0),
            ("pt", "amanha a tarde", 1),
            ("pt", "domingo às 11", 2),
        ],
    )
    def test_a_relative_day_with_a_part_of_day(self, language: str, text: str, index: int) -> None:
        assert _pick(text, language, WEEKEND, FRIDAY) == WEEKEND[index]

    @pytest.mark.parametrize(
        ("language", "text"), [("pt", "sexta às 15"), ("en", "friday at 3pm"), ("es", "hoy")]
    )
    def test_todays_weekday_is_today_when_a_slot_today_was_offered(
        self, language: str, text: str
    ) -> None:
        offered = [_utc(3, 26, 15), *WEEKEND]
        assert _pick(text, language, offered, FRIDAY) == _utc(3, 26, 15)

    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("en", "tomorrow"),  # two slots tomorrow
            ("pt", "amanhã"),
            ("es", "el sábado"),
            ("en", "saturday or sunday?"),  # two days
        ],
    )
    def test_two_offered_slots_fitting_pick_nothing(self, language: str, text: str) -> None:
        assert _pick(text, language, WEEKEND, FRIDAY) is None

    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("en", "ok thanks"),
            ("en", ""),
            ("pt", "sábado às 18h"),
            ("pt", "sábado ao meio-dia"),
            ("en", "saturday at noon"),
            ("en", "thursday"),
            ("es", "el martes por la mañana"),
            ("pt", "11"),
        ],
    )
    def test_nothing_offered_fitting_picks_nothing(self, language: str, text: str) -> None:
        assert _pick(text, language, WEEK, WEDNESDAY) is None


# Saturday 27 March 11:00 is 11:00 UTC; Saturday 3 April 11:00 is 10:00 UTC. The 11:00 UTC slot
# on 3 April is 12:00 in Lisbon and must not be taken for "às 11".
ACROSS_THE_CHANGE = [_utc(3, 27, 11), _utc(4, 3, 10), _utc(4, 3, 11)]


class TestAcrossTheChangeToSummerTime:
    def test_saturday_at_11_the_day_before_the_change_is_11_utc(self) -> None:
        assert _pick("sábado às 11", "pt", ACROSS_THE_CHANGE, _utc(3, 26, 9)) == _utc(3, 27, 11)

    def test_saturday_at_11_a_week_later_is_10_utc(self) -> None:
        assert _pick("sábado às 11", "pt", ACROSS_THE_CHANGE, _utc(4, 2, 9)) == _utc(4, 3, 10)

    def test_the_hour_asked_for_is_in_utc_on_each_side(self) -> None:
        before = wanted_time("sábado às 11", zone=LISBON, language="pt", now=_utc(3, 26, 9))
        after = wanted_time("sábado às 11", zone=LISBON, language="pt", now=_utc(4, 2, 9))
        assert before is not None
        assert after is not None
        assert (before.start, after.start) == (_utc(3, 27, 11), _utc(4, 3, 10))

    def test_the_day_of_the_change_has_23_hours(self) -> None:
        sunday = wanted_time("domingo", zone=LISBON, language="es", now=FRIDAY)
        assert sunday is not None
        assert (sunday.start, sunday.end) == (_utc(3, 28, 0), _utc(3, 28, 23))


class TestWantedTime:
    @pytest.mark.parametrize(
        ("language", "text", "day"),
        [
            ("en", "are you free on Saturday?", date(2027, 3, 27)),
            ("en", "can we move it to Monday?", date(2027, 3, 29)),
            ("pt", "podemos mudar para segunda?", date(2027, 3, 29)),
            ("es", "¿podemos cambiarla al lunes?", date(2027, 3, 29)),
            ("pt", "tem disponibilidade na quarta?", date(2027, 3, 31)),
            ("es", "¿y el 2 de abril?", date(2027, 4, 2)),
        ],
    )
    def test_a_day_asked_for_spans_that_whole_local_day(
        self, language: str, text: str, day: date
    ) -> None:
        wanted = wanted_time(text, zone=LISBON, language=language, now=FRIDAY)
        assert wanted is not None
        assert (wanted.day, wanted.part, wanted.at) == (day, None, None)
        local_start = datetime.combine(day, time(0), tzinfo=LISBON)
        assert wanted.start == local_start
        assert wanted.end == datetime.combine(day + timedelta(days=1), time(0), tzinfo=LISBON)

    def test_a_part_of_day_narrows_it(self) -> None:
        wanted = wanted_time("mañana por la tarde", zone=LISBON, language="es", now=FRIDAY)
        assert wanted == WantedTime(
            day=date(2027, 3, 27),
            part="afternoon",
            at=None,
            start=_utc(3, 27, 12),
            end=_utc(3, 27, 20),
        )

    def test_a_time_narrows_it_to_that_minute(self) -> None:
        wanted = wanted_time(
            "could we do tuesday at 5:30pm instead?", zone=LISBON, language="en", now=FRIDAY
        )
        assert wanted is not None
        assert (wanted.day, wanted.at) == (date(2027, 3, 30), time(17, 30))
        assert wanted.start == _utc(3, 30, 16, 30)  # summer time by then

    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("en", "at 3pm?"),
            ("en", "ok"),
            ("pt", "sábado ou domingo?"),
            ("es", "por la tarde"),
        ],
    )
    def test_no_single_day_is_none(self, language: str, text: str) -> None:
        assert wanted_time(text, zone=LISBON, language=language, now=FRIDAY) is None


class TestBadInput:
    def test_slots_without_a_time_zone_are_refused(self) -> None:
        naive = [datetime(2027, 3, 27, 11)]  # noqa: DTZ001  # the input under test
        with pytest.raises(ValueError, match="timezone-aware"):
            pick_slot("1", naive, zone=LISBON, language="en", now=FRIDAY)

    def test_a_now_without_a_time_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            wanted_time("saturday", zone=LISBON, language="en", now=datetime(2027, 3, 26))  # noqa: DTZ001
