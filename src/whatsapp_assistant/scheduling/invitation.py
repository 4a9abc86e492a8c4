"""A viewing as iCalendar: the customer's one-event invitation and the agent's subscribed feed.

Times are written in the account's zone with its TZID and a VTIMEZONE, so a calendar shows the
viewing at the local time it was booked for on both sides of a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import icalendar
from icalendar.enums import STATUS

from whatsapp_assistant.kit.clock import as_utc, utcnow
from whatsapp_assistant.scheduling import wording
from whatsapp_assistant.scheduling.facts import ViewingFacts, ViewingStatus

PRODID = "-//whatsapp-assistant//viewings//EN"
UID_DOMAIN = "whatsapp-assistant"
# Apple and Outlook honour these (RFC 7986 REFRESH-INTERVAL, Outlook's X-PUBLISHED-TTL); Google
# refreshes subscriptions on its own schedule, whatever the feed says.
FEED_REFRESH = timedelta(hours=1)

# A viewing asked for but not yet approved is TENTATIVE; one done or missed did take its slot.
_STATUS = {
    ViewingStatus.REQUESTED: STATUS.TENTATIVE,
    ViewingStatus.CONFIRMED: STATUS.CONFIRMED,
    ViewingStatus.CANCELLED: STATUS.CANCELLED,
    ViewingStatus.DONE: STATUS.CONFIRMED,
    ViewingStatus.NO_SHOW: STATUS.CONFIRMED,
}


def uid(facts: ViewingFacts) -> str:
    """The same for every version of a viewing, so a reschedule replaces the event it was."""
    return f"{facts.id}@{UID_DOMAIN}"


def invitation(facts: ViewingFacts, *, language: str = "en", now: datetime | None = None) -> bytes:
    """The customer's `.ics`: one event, titled in the customer's language.

    The title is the customer's language rather than a neutral form because it is read in the
    customer's own calendar next to their other events; the listing's title stays the agent's.
    """
    calendar = _calendar()
    summary = wording.event_title(facts.place, language)
    calendar.add_component(_event(facts, summary=summary, now=now))
    return _finish(calendar, [facts])


def feed(
    events: Sequence[ViewingFacts],
    *,
    name: str,
    language: str = "en",
    now: datetime | None = None,
) -> bytes:
    """A user's subscribed calendar: every viewing given, cancelled ones kept as CANCELLED so a
    subscribed calendar drops them instead of keeping a stale copy."""
    calendar = _calendar()
    calendar.calendar_name = name  # NAME and X-WR-CALNAME
    calendar.add("REFRESH-INTERVAL", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(FEED_REFRESH))
    for facts in events:
        title = wording.event_title(facts.place, language)
        customer = " ".join((facts.customer_name or "").split())
        summary = f"{title} · {customer}" if customer else title
        calendar.add_component(_event(facts, summary=summary, now=now))
    return _finish(calendar, events)


def _calendar() -> icalendar.Calendar:
    calendar = icalendar.Calendar.new(prodid=PRODID, method="PUBLISH")
    # Calendar.new gives the calendar a random UID; a feed that changes UID on every fetch would
    # look like a new calendar each time, and RFC 7986 makes it optional.
    calendar.pop("UID", None)
    return calendar


def _event(facts: ViewingFacts, *, summary: str, now: datetime | None) -> icalendar.Event:
    zone = facts.tz
    place = facts.place
    who = (facts.agent_name.strip(), facts.agency_name.strip())
    description = "\n".join(
        filter(None, [" · ".join(filter(None, who)), place.location, place.map_url])
    )
    return icalendar.Event.new(
        uid=uid(facts),
        stamp=as_utc(now or utcnow()),
        start=facts.starts_at.astimezone(zone),
        end=facts.ends_at.astimezone(zone),
        summary=summary,
        location=place.location,
        url=place.map_url,
        description=description,
        sequence=facts.sequence,
        status=_STATUS[facts.status],
    )


def _finish(calendar: icalendar.Calendar, events: Iterable[ViewingFacts]) -> bytes:
    # The VTIMEZONE covers the years the events fall in, not icalendar's default 1970–2038: a
    # few hundred bytes instead of several kilobytes sent to every customer.
    years = [facts.starts_at.year for facts in events]
    if years:
        calendar.add_missing_timezones(
            first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
        )
    ical: bytes = calendar.to_ical()  # untyped in icalendar
    return ical
