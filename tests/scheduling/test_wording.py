"""What the customer is told about a viewing, in en/es/pt, with the day and time where it happens.

Days and times are checked against babel's own output for the same instant in the account's zone,
and against a hand-written literal per language.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_time

from whatsapp_assistant.scheduling.choice import pick_slot
from whatsapp_assistant.scheduling.facts import Place, ViewingFacts, ViewingStatus
from whatsapp_assistant.scheduling.wording import Notice, notice_text, offer_text

LOCALE = {"en": "en_GB", "es": "es_ES", "pt": "pt_PT"}
PLACE = Place(
    title="T2 com varanda", city="Lisboa", address="Rua das Flores 12", neighborhood="Chiado"
)
# Saturday 5 December 2026, 10:00 in Lisbon (UTC+0 in winter).
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
WITH_TIME = [notice for notice in Notice if notice is not Notice.DONE]
WITH_DAY = [
    notice for notice in Notice if notice not in (Notice.REMINDER_HOUR, Notice.DONE, Notice.NO_SHOW)
]


def _facts(
    starts_at: datetime = SATURDAY, *, zone: str = "Europe/Lisbon", place: Place = PLACE
) -> ViewingFacts:
    return ViewingFacts(
        id=uuid.uuid4(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        zone=zone,
        place=place,
        agent_name="Ana Costa",
        agency_name="Casa Lisboa",
        status=ViewingStatus.CONFIRMED,
    )


class TestEveryNotice:
    @pytest.mark.parametrize("language", ["en", "es", "pt"])
    @pytest.mark.parametrize("notice", list(Notice))
    def test_names_the_listing_the_address_and_the_map_link(
        self, notice: Notice, language: str
    ) -> None:
        text = notice_text(notice, _facts(), language)

        assert "*T2 com varanda*" in text
        assert "Rua das Flores 12, Chiado, Lisboa" in text
        assert PLACE.map_url in text

    @pytest.mark.parametrize("language", ["en", "es", "pt"])
    @pytest.mark.parametrize("notice", WITH_TIME)
    def test_time_is_babels_for_the_locale_in_the_accounts_zone(
        self, notice: Notice, language: str
    ) -> None:
        # 13:00 UTC in Sao Paulo is 10:00 there; in UTC it would read 13:00.
        zone = ZoneInfo("America/Sao_Paulo")
        starts = datetime(2027, 3, 29, 13, 0, tzinfo=UTC)
        text = notice_text(notice, _facts(starts, zone="America/Sao_Paulo"), language)

        expected = format_time(starts, "short", tzinfo=zone, locale=LOCALE[language])
        assert expected == "10:00"
        assert expected in text
        assert "13:00" not in text

    @pytest.mark.parametrize("language", ["en", "es", "pt"])
    @pytest.mark.parametrize("notice", WITH_DAY)
    def test_day_is_babels_for_the_locale_in_the_accounts_zone(
        self, notice: Notice, language: str
    ) -> None:
        # 23:30 UTC on Friday 2 July is 00:30 on Saturday 3 July in Lisbon (UTC+1 in summer).
        zone = ZoneInfo("Europe/Lisbon")
        starts = datetime(2027, 7, 2, 23, 30, tzinfo=UTC)
        local = starts.astimezone(zone).date()
        text = notice_text(notice, _facts(starts), language)

        weekday = format_date(local, "EEEE", locale=LOCALE[language])
        month = format_date(local, "MMMM", locale=LOCALE[language])
        utc_weekday = format_date(starts.date(), "EEEE", locale=LOCALE[language])
        assert weekday in text and month in text
        assert utc_weekday not in text
        assert format_time(starts, "short", tzinfo=zone, locale=LOCALE[language]) in text


class TestHandCheckedWording:
    def test_english(self) -> None:
        text = notice_text(Notice.CONFIRMED, _facts(), "en")

        assert text.startswith(
            "Your viewing of *T2 com varanda* is booked for Saturday 5 December at 10:00."
        )

    def test_spanish(self) -> None:
        text = notice_text(Notice.CONFIRMED, _facts(), "es")

        assert text.startswith(
            "Su visita a *T2 com varanda* está reservada para el sábado, 5 de diciembre a las "
            "10:00."
        )

    def test_portuguese_is_portugals(self) -> None:
        text = notice_text(Notice.CONFIRMED, _facts(), "pt")

        assert text.startswith(
            "A sua visita a *T2 com varanda* está marcada para sábado, 5 de dezembro, às 10:00."
        )

    def test_reminder_the_day_before_says_tomorrow(self) -> None:
        assert "is tomorrow, Saturday 5 December, at 10:00" in notice_text(
            Notice.REMINDER_DAY, _facts(), "en"
        )
        assert "es mañana, sábado, 5 de diciembre, a las 10:00" in notice_text(
            Notice.REMINDER_DAY, _facts(), "es"
        )
        assert "é amanhã, sábado, 5 de dezembro, às 10:00" in notice_text(
            Notice.REMINDER_DAY, _facts(), "pt"
        )

    @pytest.mark.parametrize(
        ("language", "offer"),
        [("en", "another time?"), ("es", "otro horario?"), ("pt", "outro horário?")],
    )
    def test_declined_offers_another_time(self, language: str, offer: str) -> None:
        assert offer in notice_text(Notice.DECLINED, _facts(), language)

    def test_requested_names_the_agent_who_approves(self) -> None:
        assert "Ana Costa will confirm it" in notice_text(Notice.REQUESTED, _facts(), "en")

    def test_requested_without_an_agent_name_still_reads(self) -> None:
        facts = replace(_facts(), agent_name="  ")

        assert "The agent will confirm it" in notice_text(Notice.REQUESTED, facts, "en")
        assert "O agente vai confirmá-lo" in notice_text(Notice.REQUESTED, facts, "pt")

    def test_rescheduled_gives_the_new_time(self) -> None:
        new_start = SATURDAY + timedelta(days=2, hours=5)
        moved = replace(
            _facts(), starts_at=new_start, ends_at=new_start + timedelta(minutes=30), sequence=1
        )

        assert "has moved to Monday 7 December at 15:00" in notice_text(
            Notice.RESCHEDULED, moved, "en"
        )


class TestLanguageFallback:
    @pytest.mark.parametrize("language", ["de", "fr", "", "english"])
    def test_an_unknown_language_is_english(self, language: str) -> None:
        for notice in Notice:
            assert notice_text(notice, _facts(), language) == notice_text(notice, _facts(), "en")

    def test_a_code_in_capitals_is_still_that_language(self) -> None:
        assert notice_text(Notice.CONFIRMED, _facts(), "PT") == notice_text(
            Notice.CONFIRMED, _facts(), "pt"
        )


class TestWithoutAnAddress:
    def test_the_neighbourhood_and_city_and_their_map_link_are_given(self) -> None:
        place = Place(title="T1 no Chiado", city="Lisboa", neighborhood="Chiado")
        text = notice_text(Notice.CONFIRMED, _facts(place=place), "en")

        assert "📍 Chiado, Lisboa" in text
        assert "https://www.google.com/maps/search/?api=1&query=Chiado%2C+Lisboa" in text


class TestOffer:
    # Saturday 5 December 10:00, then Monday 7 December 15:30, both in Lisbon (UTC+0).
    SLOTS = (SATURDAY, SATURDAY + timedelta(days=2, hours=5, minutes=30))

    @pytest.mark.parametrize(
        ("language", "lines"),
        [
            ("en", ["1) Sat 5 Dec, 10:00", "2) Mon 7 Dec, 15:30"]),
            ("es", ["1) sáb 5 dic, 10:00", "2) lun 7 dic, 15:30"]),
            ("pt", ["1) sábado, 5 dez., 10:00", "2) segunda, 7 dez., 15:30"]),
        ],
    )
    def test_slots_are_numbered_in_the_order_offered(self, language: str, lines: list[str]) -> None:
        text = offer_text(self.SLOTS, zone="Europe/Lisbon", place=PLACE, language=language)

        numbered = [line for line in text.splitlines() if line[:1].isdigit()]
        assert numbered == lines
        assert "*T2 com varanda*" in text
        assert PLACE.map_url in text
        assert "Rua das Flores 12, Chiado, Lisboa" in text

    @pytest.mark.parametrize("language", ["en", "es", "pt"])
    def test_each_slot_shows_babels_local_time(self, language: str) -> None:
        zone = ZoneInfo("America/Sao_Paulo")
        slots = [
            datetime(2027, 3, 29, 13, 0, tzinfo=UTC),
            datetime(2027, 3, 29, 17, 30, tzinfo=UTC),
        ]
        text = offer_text(slots, zone="America/Sao_Paulo", place=PLACE, language=language)

        numbered = [line for line in text.splitlines() if line[:1].isdigit()]
        for number, (line, slot) in enumerate(zip(numbered, slots, strict=True), start=1):
            assert line.startswith(f"{number}) ")
            assert line.endswith(format_time(slot, "short", tzinfo=zone, locale=LOCALE[language]))

    def test_the_order_given_is_kept_even_when_not_chronological(self) -> None:
        later_first = tuple(reversed(self.SLOTS))
        text = offer_text(later_first, zone="Europe/Lisbon", place=PLACE, language="en")

        numbered = [line for line in text.splitlines() if line[:1].isdigit()]
        assert numbered == ["1) Mon 7 Dec, 15:30", "2) Sat 5 Dec, 10:00"]

    @pytest.mark.parametrize(
        ("language", "answer"), [("en", "the second one"), ("es", "la segunda"), ("pt", "2")]
    )
    def test_the_customer_picks_by_the_number_shown(self, language: str, answer: str) -> None:
        text = offer_text(self.SLOTS, zone="Europe/Lisbon", place=PLACE, language=language)
        chosen = pick_slot(
            answer,
            self.SLOTS,
            zone=ZoneInfo("Europe/Lisbon"),
            language=language,
            now=SATURDAY - timedelta(days=1),
        )

        second_line = next(line for line in text.splitlines() if line.startswith("2) "))
        assert chosen == self.SLOTS[1]
        assert second_line.endswith(", 15:30")  # the slot the customer read as the second

    def test_an_offer_without_slots_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one slot"):
            offer_text([], zone="Europe/Lisbon", place=PLACE, language="en")

    def test_a_naive_slot_is_refused(self) -> None:
        naive = datetime(2026, 12, 5, 10)  # noqa: DTZ001 - the mistake under test
        with pytest.raises(ValueError, match="timezone-aware"):
            offer_text([naive], zone="Europe/Lisbon", place=PLACE, language="en")
