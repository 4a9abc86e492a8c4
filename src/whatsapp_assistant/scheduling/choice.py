"""Which offered viewing slot a customer chose, or which day and time they asked for; pure.

The day ("sábado", "mañana", "next Tuesday", "2 de abril") is read by `dateparser` with the
message's language, in the account's zone. Three things are read here instead, because
dateparser gets them wrong: positions ("the second one", "a segunda": dateparser has none, and
Portuguese "segunda" alone is Monday), parts of day ("mañana por la tarde" is read as just
"tomorrow"), and the clock time ("sábado às 11" is read as the 11th of the month, "às 15h" as
01:00). Their words are the tables below, per language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateparser.search import search_dates

from whatsapp_assistant.kit.languages import LANGUAGES, mixed_order
from whatsapp_assistant.kit.text import fold

# An ordinal counts as a position after an article or before a noun such as "one"/"opção";
# Portuguese "a segunda-feira" / "na segunda" stay Monday.
ORDINALS: dict[str, dict[str, int]] = {
    "en": {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1},
    "es": {
        "primera": 0, "primero": 0, "segunda": 1, "segundo": 1, "tercera": 2, "tercero": 2,
        "ultima": -1, "ultimo": -1,
    },
    "pt": {
        "primeira": 0, "primeiro": 0, "segunda": 1, "segundo": 1, "terceira": 2, "terceiro": 2,
        "ultima": -1, "ultimo": -1,
    },
}  # fmt: skip
# An ordinal that, said alone in this language, is a day's name ("segunda" is Monday).
DAY_NAMES_TOO: dict[str, tuple[str, ...]] = {"en": (), "es": (), "pt": ("segunda",)}
ARTICLES: dict[str, tuple[str, ...]] = {
    "en": ("the",),
    "es": ("la", "el", "lo"),
    "pt": ("a", "o", "pela", "pelo"),
}
POSITION_NOUNS: dict[str, tuple[str, ...]] = {
    "en": ("one", "option", "slot"),
    "es": ("opcion", "hora", "fecha"),
    "pt": ("opcao", "hora", "horario", "data"),
}
PARTS_OF_DAY: dict[str, dict[str, str]] = {
    "en": {
        "in the morning": "morning", "morning": "morning", "in the afternoon": "afternoon",
        "afternoon": "afternoon", "in the evening": "evening", "evening": "evening",
        "tonight": "evening",
    },
    "es": {
        "por la manana": "morning", "de la manana": "morning", "en la manana": "morning",
        "por la tarde": "afternoon", "de la tarde": "afternoon", "en la tarde": "afternoon",
        "tarde": "afternoon", "por la noche": "evening", "de la noche": "evening",
        "noche": "evening",
    },
    "pt": {
        "de manha": "morning", "pela manha": "morning", "na manha": "morning", "manha": "morning",
        "a tarde": "afternoon", "de tarde": "afternoon", "pela tarde": "afternoon",
        "tarde": "afternoon", "a noite": "evening", "de noite": "evening", "noite": "evening",
    },
}  # fmt: skip
# Local hours [from, to) that each part of day covers.
PART_HOURS: dict[str, tuple[int, int]] = {
    "morning": (6, 12),
    "afternoon": (12, 20),
    "evening": (18, 24),
}
# Words before a bare hour that make it a time: "às 11", "a las 11", "at 11".
TIME_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("at", "@", "around", "by"),
    "es": ("a las", "a la", "sobre las", "hacia las"),
    "pt": ("as", "a", "pelas", "por volta das"),
}
NOON: dict[str, tuple[str, ...]] = {
    "en": ("noon", "midday"),
    "es": ("mediodia",),
    "pt": ("meio dia", "meio-dia"),
}
# An hour said without am/pm ("às 3") is read as the first of h, h + 12 from this hour on.
VIEWING_DAY_STARTS = 8


@dataclass(frozen=True)
class WantedTime:
    """The day a customer asked for, with the part of day or clock time when they said one.

    A slot starting in [start, end) (UTC) fits what they asked.
    """

    day: date
    part: str | None
    at: time | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _Reading:
    day: date | None
    part: str | None
    at: time | None


def _normalise(text: str) -> str:
    """Folded, typographic apostrophes plain, sentence punctuation dropped, spaces made one."""
    plain = fold(text).replace("’", "'")
    return " ".join(re.sub(r"[?!¿¡,;\"()]+|\.(?!\d)", " ", plain).split())


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def _all(table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(word for words in table.values() for word in words)


def _word(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


_NUMBER = re.compile(rf"(?:(?:{_alternatives(_all(POSITION_NOUNS))}|n|no|#)\s*)?([1-9])")
_ORDINAL = {
    lang: _word(
        rf"(?:{_alternatives(ARTICLES[lang])}) ({_alternatives(ordinals)})(?![\s-]*feira)"
        rf"|({_alternatives(ordinals)}) (?:{_alternatives(POSITION_NOUNS[lang])})"
    )
    for lang, ordinals in ORDINALS.items()
}
_PART = {lang: _word(_alternatives(parts)) for lang, parts in PARTS_OF_DAY.items()}
_NOON = _word(_alternatives(_all(NOON)))
_CLOCK = re.compile(
    rf"(?<!\w)(?:(?P<marker>{_alternatives(_all(TIME_MARKERS))})\s+)?(?P<hour>\d{{1,2}})"
    r"(?:[:h.](?P<minute>\d{2}))?\s*(?P<suffix>am|pm|h|hs|hrs|horas|hours)?(?!\w)"
)


def _without(text: str, found: re.Match[str]) -> str:
    return text[: found.start()] + " " + text[found.end() :]


def _position(text: str, language: str) -> int | None:
    """The offered slot named by its place: "the second one", "la primera", "2", "opção 3"."""
    if number := _NUMBER.fullmatch(text):
        return int(number.group(1)) - 1
    for lang in mixed_order(language):
        if found := _ORDINAL[lang].search(text):
            return ORDINALS[lang][found.group(1) or found.group(2)]
        if text in ORDINALS[lang] and text not in DAY_NAMES_TOO.get(language, ()):
            return ORDINALS[lang][text]
    return None


def _part(text: str, language: str) -> tuple[str | None, str]:
    """The part of day said, and the text without it (so "mañana" is left for the day)."""
    for lang in mixed_order(language):
        if found := _PART[lang].search(text):
            return PARTS_OF_DAY[lang][found.group(0)], _without(text, found)
    return None, text


def _hour(hour: int, suffix: str | None, part: str | None) -> int | None:
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if suffix == "pm" else 0)
    candidates = [hour, hour + 12] if hour < 12 else [hour]
    if part is not None:
        low, high = PART_HOURS[part]
        fitting = [h for h in candidates if low <= h < high]
        return fitting[0] if fitting else None
    return next((h for h in candidates if h >= VIEWING_DAY_STARTS), candidates[0])


def _clock(text: str, part: str | None) -> tuple[time | None, str]:
    """The clock time said ("às 11", "11:30", "3pm", "15h", "noon"), and the text without it."""
    if noon := _NOON.search(text):
        return time(12), _without(text, noon)
    for found in _CLOCK.finditer(text):
        marker, minute, suffix = found.group("marker", "minute", "suffix")
        if not (marker or minute or suffix):
            continue  # a bare number: a price, a count, a typology, not a time
        hour = _hour(int(found.group("hour")), suffix, part)
        if hour is None or hour > 23 or int(minute or 0) > 59:
            continue
        return time(hour, int(minute or 0)), _without(text, found)
    return None, text


def _dates(text: str, language: str, local_now: datetime) -> list[tuple[str, date]]:
    """The fragments of the text that dateparser reads as dates, in the message's language."""
    settings: dict[str, Any] = {
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
    }
    languages: list[str] = [language] if language in LANGUAGES else list(LANGUAGES)
    found = search_dates(text, languages=languages, settings=settings) or []
    # Two-letter fragments are English weekday abbreviations found inside words ("we" read
    # as Wednesday in "can we move it?"); a bare number is not a day.
    return [
        (fragment.strip(), when.date())
        for fragment, when in found
        if len(fragment.strip()) > 2 and not fragment.strip().isdigit()
    ]


def _day_and_hour(text: str, language: str, local_now: datetime) -> tuple[set[date], int | None]:
    """The days named, and an hour said as a bare number after a weekday ("sábado 11").

    dateparser reads "sábado 11" as a date in November; a weekday is within the coming week, so
    a fragment whose last word is a number and whose rest is a day that close is that day, at
    that hour.
    """
    days: set[date] = set()
    hour: int | None = None
    for fragment, day in _dates(text, language, local_now):
        head, _, last = fragment.rpartition(" ")
        if head and last.isdigit() and int(last) <= 23:
            near = {d for _, d in _dates(head, language, local_now)}
            if len(near) == 1 and (min(near) - local_now.date()).days <= 7:
                days.add(min(near))
                hour = int(last)
                continue
        days.add(day)
    return days, hour


def _read(text: str, *, zone: ZoneInfo, language: str, now: datetime) -> _Reading | None:
    """Day, part of day and clock time in the text; None when it names several days."""
    part, rest = _part(text, language)
    at, rest = _clock(rest, part)
    days, bare_hour = _day_and_hour(rest, language, now.astimezone(zone))
    if len(days) > 1:
        return None
    if at is None and bare_hour is not None:
        hour = _hour(bare_hour, None, part)
        at = time(hour) if hour is not None else None
    return _Reading(day=next(iter(days), None), part=part, at=at)


def _fits(slot: datetime, reading: _Reading, today: date) -> bool:
    # dateparser reads today's weekday as next week's ("sexta" on a Friday); a slot offered for
    # today is the one meant.
    same_weekday_today = reading.day == today + timedelta(days=7) and slot.date() == today
    if reading.day is not None and slot.date() != reading.day and not same_weekday_today:
        return False
    if reading.at is not None and slot.time() != reading.at:
        return False
    if reading.part is not None:
        low, high = PART_HOURS[reading.part]
        return low <= slot.hour < high
    return True


def pick_slot(
    text: str, offered: Sequence[datetime], *, zone: ZoneInfo, language: str, now: datetime
) -> datetime | None:
    """The offered slot (UTC, in the order offered) the customer chose; None if none or several."""
    if any(slot.tzinfo is None for slot in offered) or now.tzinfo is None:
        raise ValueError("slots and now must be timezone-aware")
    normalised = _normalise(text)
    position = _position(normalised, language)
    if position is not None:
        in_range = -len(offered) <= position < len(offered)
        return offered[position] if in_range else None
    reading = _read(normalised, zone=zone, language=language, now=now)
    if reading is None or reading == _Reading(None, None, None):
        return None
    today = now.astimezone(zone).date()
    chosen = [slot for slot in offered if _fits(slot.astimezone(zone), reading, today)]
    return chosen[0] if len(chosen) == 1 else None


def _utc(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    # Adding to an aware datetime moves its wall clock, so the offset is that of the local
    # time reached: 11:00 in Lisbon is 11:00 UTC in winter and 10:00 UTC in summer.
    local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hour, minutes=minute)
    return local.astimezone(UTC)


def wanted_time(text: str, *, zone: ZoneInfo, language: str, now: datetime) -> WantedTime | None:
    """The day (and part of day or time) asked for ("can we move it to Monday?"); None if no day."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    reading = _read(_normalise(text), zone=zone, language=language, now=now)
    if reading is None or reading.day is None:
        return None
    day = reading.day
    if reading.at is not None:
        start = _utc(day, reading.at.hour, reading.at.minute, zone)
        end = start + timedelta(minutes=1)
    elif reading.part is not None:
        low, high = PART_HOURS[reading.part]
        start, end = _utc(day, low, 0, zone), _utc(day, high, 0, zone)
    else:
        start, end = _utc(day, 0, 0, zone), _utc(day, 24, 0, zone)
    return WantedTime(day=day, part=reading.part, at=reading.at, start=start, end=end)
