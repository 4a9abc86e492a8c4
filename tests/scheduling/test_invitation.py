"""Viewing invitations and the calendar feed, read back the way a calendar app reads them.

Europe/Lisbon moves from UTC+0 to UTC+1 on Sunday 28 March 2027: 10:00 local is 10:00Z on the
Saturday before and 09:00Z on the Monday after. America/Sao_Paulo is UTC-3 all year.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from whatsapp_assistant.scheduling.facts import Place, ViewingFacts, ViewingStatus, map_link
from whatsapp_assistant.scheduling.invitation import feed, invitation

PLACE = Place(
    title="T2 com varanda",
    city="Lisboa",
    address="Rua das Flores 12, 1º Esq",
    neighborhood="Chiado",
)
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


def _facts(
    starts_at: datetime,
    *,
    zone: str = "Europe/Lisbon",
    status: ViewingStatus = ViewingStatus.CONFIRMED,
    minutes: int = 30,
) -> ViewingFacts:
    return ViewingFacts(
        id=uuid.uuid4(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        zone=zone,
        place=PLACE,
        agent_name="Ana Costa",
        agency_name="Casa Lisboa",
        status=status,
        customer_name="John Smith",
    )


def _read(ics: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(ics)


def _event(ics: bytes) -> icalendar.Event:
    events = _read(ics).events
    assert len(events) == 1
    return events[0]


class TestInvitationTime:
    @pytest.mark.parametrize(
        ("zone", "utc"),
        [
            ("Europe/Lisbon", datetime(2027, 3, 27, 10, 0, tzinfo=UTC)),  # winter: 10:00 local
            ("Europe/Lisbon", datetime(2027, 3, 29, 9, 0, tzinfo=UTC)),  # summer: 10:00 local
            ("America/Sao_Paulo", datetime(2027, 3, 29, 13, 0, tzinfo=UTC)),  # 10:00 local
        ],
    )
    def test_start_is_the_booked_instant_in_the_accounts_zone(
        self, zone: str, utc: datetime
    ) -> None:
        event = _event(invitation(_facts(utc, zone=zone), now=NOW))

        assert event["DTSTART"].params["TZID"] == zone
        assert event.start.astimezone(UTC) == utc
        assert event.end.astimezone(UTC) == utc + timedelta(minutes=30)
        # The same wall-clock hour on both sides of the DST change.
        assert (event.start.hour, event.start.minute) == (10, 0)

    def test_the_same_local_hour_is_an_hour_apart_in_utc_across_the_change(self) -> None:
        saturday = _event(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC)), now=NOW))
        monday = _event(invitation(_facts(datetime(2027, 3, 29, 9, tzinfo=UTC)), now=NOW))

        assert "DTSTART;TZID=Europe/Lisbon:20270327T100000" in saturday.to_ical().decode()
        assert "DTSTART;TZID=Europe/Lisbon:20270329T100000" in monday.to_ical().decode()

    @pytest.mark.parametrize(
        ("zone", "utc"),
        [
            ("Europe/Lisbon", datetime(2027, 3, 27, 10, 0, tzinfo=UTC)),
            ("Europe/Lisbon", datetime(2027, 3, 29, 9, 0, tzinfo=UTC)),
            ("America/Sao_Paulo", datetime(2027, 3, 29, 13, 0, tzinfo=UTC)),
        ],
    )
    def test_the_vtimezone_alone_gives_the_same_instant(self, zone: str, utc: datetime) -> None:
        # Outlook reads the VTIMEZONE's rules rather than the zone's name.
        calendar = _read(invitation(_facts(utc, zone=zone), now=NOW))
        [timezone] = calendar.timezones
        rules = timezone.to_tz(lookup_tzid=False)
        local = calendar.events[0].start.replace(tzinfo=None)

        assert timezone.tz_name == zone
        assert local.replace(tzinfo=rules).astimezone(UTC) == utc

    def test_dtstamp_is_the_time_it_was_made(self) -> None:
        event = _event(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC)), now=NOW))

        assert event.stamp == NOW


class TestInvitationContent:
    def test_calendar_is_a_published_single_event(self) -> None:
        calendar = _read(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC)), now=NOW))

        assert calendar["VERSION"] == "2.0"
        assert calendar["METHOD"] == "PUBLISH"
        assert "whatsapp-assistant" in calendar["PRODID"]
        assert len(calendar.events) == 1

    def test_event_names_the_listing_in_the_customers_language_and_where_it_is(self) -> None:
        facts = _facts(datetime(2027, 3, 27, 10, tzinfo=UTC))
        event = _event(invitation(facts, language="pt", now=NOW))

        assert event["SUMMARY"] == "Visita: T2 com varanda"
        assert event["LOCATION"] == "Rua das Flores 12, 1º Esq, Chiado, Lisboa"
        assert event["URL"] == PLACE.map_url
        assert PLACE.map_url in event["DESCRIPTION"]
        assert "Ana Costa · Casa Lisboa" in event["DESCRIPTION"]

    def test_unknown_language_titles_it_in_english(self) -> None:
        event = _event(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC)), language="de"))

        assert event["SUMMARY"] == "Viewing: T2 com varanda"

    def test_uid_stays_and_sequence_grows_across_a_reschedule(self) -> None:
        booked = _facts(datetime(2027, 3, 27, 10, tzinfo=UTC))
        moved = replace(
            booked,
            starts_at=datetime(2027, 3, 29, 14, tzinfo=UTC),
            ends_at=datetime(2027, 3, 29, 14, 30, tzinfo=UTC),
            sequence=booked.sequence + 1,
        )
        first = _event(invitation(booked, now=NOW))
        second = _event(invitation(moved, now=NOW))

        assert first["UID"] == second["UID"] == f"{booked.id}@whatsapp-assistant"
        assert second["SEQUENCE"] > first["SEQUENCE"]
        assert second.start.astimezone(UTC) == datetime(2027, 3, 29, 14, tzinfo=UTC)

    def test_another_viewing_has_another_uid(self) -> None:
        one = _event(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC))))
        other = _event(invitation(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC))))

        assert one["UID"] != other["UID"]

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (ViewingStatus.CONFIRMED, "CONFIRMED"),
            (ViewingStatus.REQUESTED, "TENTATIVE"),
            (ViewingStatus.CANCELLED, "CANCELLED"),
            (ViewingStatus.DONE, "CONFIRMED"),
            (ViewingStatus.NO_SHOW, "CONFIRMED"),
        ],
    )
    def test_status_follows_the_viewing(self, status: ViewingStatus, expected: str) -> None:
        facts = _facts(datetime(2027, 3, 27, 10, tzinfo=UTC), status=status)

        assert _event(invitation(facts, now=NOW))["STATUS"] == expected


class TestFeed:
    def test_feed_holds_every_viewing_given_with_cancelled_ones_marked(self) -> None:
        start = datetime(2027, 3, 22, 10, tzinfo=UTC)
        viewings = [_facts(start + timedelta(days=day)) for day in range(4)]
        viewings.append(_facts(start, status=ViewingStatus.CANCELLED, zone="America/Sao_Paulo"))

        calendar = _read(feed(viewings, name="Ana Costa — viewings", now=NOW))

        assert [str(event["UID"]) for event in calendar.events] == [
            f"{facts.id}@whatsapp-assistant" for facts in viewings
        ]
        assert [event["STATUS"] for event in calendar.events] == [*["CONFIRMED"] * 4, "CANCELLED"]
        assert {tz.tz_name for tz in calendar.timezones} == {"Europe/Lisbon", "America/Sao_Paulo"}
        assert [event.start.astimezone(UTC) for event in calendar.events] == [
            facts.starts_at for facts in viewings
        ]

    def test_feed_is_named_and_says_how_often_to_refresh(self) -> None:
        ics = feed([_facts(datetime(2027, 3, 22, 10, tzinfo=UTC))], name="Ana — viewings")
        calendar = _read(ics)

        assert calendar["X-WR-CALNAME"] == "Ana — viewings"
        assert calendar.calendar_name == "Ana — viewings"
        assert calendar.refresh_interval == timedelta(hours=1)
        assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in ics
        assert b"X-PUBLISHED-TTL:PT1H" in ics

    def test_feed_events_name_the_customer(self) -> None:
        calendar = _read(feed([_facts(datetime(2027, 3, 22, 10, tzinfo=UTC))], name="Ana"))

        assert calendar.events[0]["SUMMARY"] == "Viewing: T2 com varanda · John Smith"

    def test_the_same_feed_fetched_twice_is_the_same_calendar(self) -> None:
        viewings = [_facts(datetime(2027, 3, 22, 10, tzinfo=UTC))]

        assert feed(viewings, name="Ana", now=NOW) == feed(viewings, name="Ana", now=NOW)

    def test_an_empty_feed_is_a_valid_calendar(self) -> None:
        calendar = _read(feed([], name="Ana"))

        assert calendar.events == []
        assert calendar["X-WR-CALNAME"] == "Ana"


class TestMapLink:
    def test_map_link_is_a_url_encoded_maps_search(self) -> None:
        link = map_link("Rua da Graça 12, 1º Esq", "Graça", "Lisboa")

        assert link == (
            "https://www.google.com/maps/search/?api=1"
            "&query=Rua+da+Gra%C3%A7a+12%2C+1%C2%BA+Esq%2C+Gra%C3%A7a%2C+Lisboa"
        )
        assert parse_qs(urlsplit(link).query) == {
            "api": ["1"],
            "query": ["Rua da Graça 12, 1º Esq, Graça, Lisboa"],
        }

    def test_characters_that_would_break_the_url_are_encoded(self) -> None:
        link = map_link("Av. A&B #3 ?x=1", None, "Lisboa")

        assert " " not in link and "#" not in link
        assert parse_qs(urlsplit(link).query)["query"] == ["Av. A&B #3 ?x=1, Lisboa"]

    def test_without_an_address_it_searches_the_neighbourhood_and_city(self) -> None:
        link = map_link(None, "Chiado", "Lisboa")

        assert parse_qs(urlsplit(link).query)["query"] == ["Chiado, Lisboa"]


class TestFactsRefuseWhatCannotBeShown:
    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            _facts(datetime(2027, 3, 27, 10))  # noqa: DTZ001 - the mistake under test

    def test_end_before_start_is_refused(self) -> None:
        with pytest.raises(ValueError, match="end after it starts"):
            _facts(datetime(2027, 3, 27, 10, tzinfo=UTC), minutes=-30)

    def test_unknown_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown time zone"):
            _facts(datetime(2027, 3, 27, 10, tzinfo=UTC), zone="Europe/Atlantis")

    def test_negative_sequence_is_refused(self) -> None:
        with pytest.raises(ValueError, match="sequence"):
            replace(_facts(datetime(2027, 3, 27, 10, tzinfo=UTC)), sequence=-1)
