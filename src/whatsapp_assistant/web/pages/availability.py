"""The availability page: the account's time zone, business hours and viewing availability."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.scheduling import service as scheduling
from whatsapp_assistant.scheduling.schemas import (
    WEEKDAYS,
    AvailabilityData,
    ScheduleData,
    TimeRange,
    Weekday,
    ordered_week,
)
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, UserDep
from whatsapp_assistant.web.pages.forms import field_errors, text_fields
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
NUMBERS = ("viewing_minutes", "buffer_minutes", "notice_minutes", "horizon_days")
# A day's ranges as typed: "10:00-13:00, 14:00-18:00" (a dash, en dash or "to" between times).
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})\s*$")
FIELD_MESSAGES = {
    "time_zone": "Enter a time zone name such as Europe/Lisbon.",
    "viewing_minutes": "Enter a whole number of minutes from 5 to 480.",
    "buffer_minutes": "Enter a whole number of minutes from 0 to 240.",
    "notice_minutes": "Enter a whole number of minutes from 0 to 43200 (30 days).",
    "horizon_days": "Enter a whole number of days from 1 to 365.",
}


def _fields() -> tuple[str, ...]:
    days = tuple(f"{kind}_{day}" for kind in ("slots", "hours") for day in WEEKDAYS)
    return ("time_zone", *NUMBERS, *days, "dates_off")


def _day_text(ranges: list[TimeRange], day: Weekday) -> str:
    return ", ".join(f"{item.start}–{item.end}" for item in ranges if item.weekday == day)


def form_of(schedule: ScheduleData, availability: AvailabilityData) -> dict[str, str]:
    """The stored values as the inputs show them."""
    form = {"time_zone": schedule.time_zone}
    form |= {name: str(getattr(schedule, name)) for name in NUMBERS}
    for day in WEEKDAYS:
        form[f"slots_{day}"] = _day_text(availability.weekly_slots, day)
        form[f"hours_{day}"] = _day_text(schedule.business_hours, day)
    form["dates_off"] = "\n".join(day.isoformat() for day in availability.dates_off)
    return form


def _day_ranges(day: Weekday, text: str) -> list[TimeRange]:
    """One day's ranges, each checked; raises ValueError with the words to show."""
    ranges = []
    for part in filter(str.strip, text.split(",")):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"Write each range as 10:00–13:00; “{part.strip()}” is not one.")
        start, end = (clock.zfill(5) for clock in match.groups())
        try:
            ranges.append(TimeRange(weekday=day, start=start, end=end))
        except ValidationError:
            raise ValueError(
                f"{start}–{end}: times go from 00:00 to 24:00 and the end comes after the start."
            ) from None
    return ranges


def _dates(text: str) -> list[date]:
    days = []
    for part in filter(None, re.split(r"[\s,;]+", text)):
        try:
            days.append(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"“{part}” is not a date; write dates as 2027-12-25.") from None
    return days


def _read(form: dict[str, str]) -> tuple[ScheduleData, AvailabilityData] | dict[str, str]:
    """The schedule and availability the form describes, or a message per field at fault."""
    errors: dict[str, str] = {}
    weeks: dict[str, list[TimeRange]] = {"slots": [], "hours": []}
    for kind, week in weeks.items():
        for day in WEEKDAYS:
            name = f"{kind}_{day}"
            try:
                ranges = ordered_week(_day_ranges(day, form[name]))
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            week.extend(ranges)
    try:
        dates_off = _dates(form["dates_off"])
    except ValueError as exc:
        errors["dates_off"] = str(exc)
        dates_off = []
    values: dict[str, Any] = {name: form[name] for name in ("time_zone", *NUMBERS)}
    try:
        schedule = ScheduleData.model_validate(values | {"business_hours": weeks["hours"]})
        availability = AvailabilityData(weekly_slots=weeks["slots"], dates_off=dates_off)
    except ValidationError as exc:
        errors |= field_errors(exc, FIELD_MESSAGES)
    if errors:
        return errors
    return schedule, availability


async def _render(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if form is None:
        calendar = await scheduling.load_calendar(session, user.account_id)
        form = form_of(scheduling.schedule_data(calendar), scheduling.availability_data(calendar))
    context = {"form": form, "errors": errors or {}, "days": list(DAY_NAMES.items())}
    return page(request, user, "availability/page.html", context, status_code=status_code)


@router.get("/availability")
async def availability_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return await _render(request, session, user)


@router.post("/availability")
async def save_availability(request: Request, session: SessionDep, user: UserDep) -> Response:
    form = text_fields(await request.form(), _fields())
    outcome = _read(form)
    if isinstance(outcome, dict):
        return await _render(request, session, user, form=form, errors=outcome, status_code=422)
    await scheduling.replace_calendar(session, user.account_id, *outcome)
    return redirect("/availability", done="availability-saved")
