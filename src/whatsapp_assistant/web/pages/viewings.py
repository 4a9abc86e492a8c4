"""The Viewings page: today, this week and the upcoming list, each viewing's actions, and the
user's private calendar feed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import calendar_feeds
from whatsapp_assistant.conversations import viewing_calendar, viewing_changes
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings, wording
from whatsapp_assistant.scheduling.errors import SlotNotOffered, SlotTaken, TransitionRefused
from whatsapp_assistant.scheduling.facts import ViewingStatus, zone_info
from whatsapp_assistant.scheduling.models import BookedBy, CancelReason
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.forms import posted_text
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

View = Literal["today", "week", "list"]
VIEWS: list[tuple[View, str]] = [("today", "Today"), ("week", "This week"), ("list", "Upcoming")]
VIEW_NAMES: dict[str, View] = {name: name for name, _ in VIEWS}
Form = dict[str, str]  # a posted form's text fields
PAGE_SIZE = 20
FEED_PATH = "/calendar/{token}.ics"

# What each status is called on the page, and which actions it allows (as the JSON API's
# transitions do: web/api/viewings.py). Done and no-show wait for the viewing to start.
STATUS_LABELS = {
    ViewingStatus.REQUESTED: "Awaiting approval",
    ViewingStatus.CONFIRMED: "Confirmed",
    ViewingStatus.CANCELLED: "Cancelled",
    ViewingStatus.DONE: "Done",
    ViewingStatus.NO_SHOW: "No-show",
}
ACTIONS_BY_STATUS: dict[ViewingStatus, tuple[str, ...]] = {
    ViewingStatus.REQUESTED: ("confirm", "decline", "reschedule", "cancel"),
    ViewingStatus.CONFIRMED: ("reschedule", "cancel", "done", "no-show"),
}
STARTED_ONLY = frozenset({"done", "no-show"})
# The words of each action: its button, what a refusal says it could not be, its notice.
VERBS = {
    "confirm": "approved",
    "decline": "declined",
    "reschedule": "moved",
    "cancel": "cancelled",
    "done": "marked done",
    "no-show": "marked a no-show",
}
BUTTONS = {"confirm": "Approve", "decline": "Decline", "done": "Done", "no-show": "No-show"}


@dataclass(frozen=True)
class Back:
    """The view a form came from, to go back to: read from the form, never a free path."""

    view: View = "today"
    number: int = 1
    day: date | None = None  # the day or week shown, when not the current one

    @property
    def path(self) -> str:
        path = f"/viewings?view={self.view}"
        if self.number > 1:
            path += f"&page={self.number}"
        if self.day is not None:
            path += f"&day={self.day.isoformat()}"
        return path


def _back(form: Form) -> Back:
    number = form.get("page", "")
    try:
        day: date | None = date.fromisoformat(form.get("day", ""))
    except ValueError:
        day = None
    return Back(
        VIEW_NAMES.get(form.get("view", ""), "today"),
        int(number) if number.isdigit() and 0 < int(number) <= 10_000 else 1,
        day,
    )


def _day_bounds(day: date, zone: str, days: int = 1) -> tuple[datetime, datetime]:
    tz = zone_info(zone)
    start = datetime.combine(day, time(), tz)
    return start, datetime.combine(day + timedelta(days=days), time(), tz)


async def _entries(
    session: AsyncSession, account_id: uuid.UUID, back: Back, now: datetime
) -> dict[str, Any]:
    """The view's viewings, grouped by local day, with what the template needs around them."""
    zone = await viewing_calendar.zone_of(session, account_id)
    today = now.astimezone(zone_info(zone)).date()
    if back.view == "list":
        start, _ = _day_bounds(today, zone)
        found = await viewing_calendar.agenda(
            session,
            account_id,
            start=start,
            limit=PAGE_SIZE,
            offset=(back.number - 1) * PAGE_SIZE,
        )
        days: list[date] = []
        step = None
    else:
        shown = back.day or today
        first = shown - timedelta(days=shown.weekday()) if back.view == "week" else shown
        count = 7 if back.view == "week" else 1
        start, end = _day_bounds(first, zone, count)
        found = await viewing_calendar.agenda(session, account_id, start=start, end=end)
        days = [first + timedelta(days=offset) for offset in range(count)]
        step = {"before": first - timedelta(days=count), "after": first + timedelta(days=count)}
    tz = zone_info(zone)
    by_day: dict[date, list[viewing_calendar.Entry]] = {day: [] for day in days}
    for entry in found.entries:
        by_day.setdefault(entry.viewing.starts_at.astimezone(tz).date(), []).append(entry)
    return {
        "zone": zone,
        "today": today,
        "by_day": by_day,
        "more": found.more,
        "now": now,
        "step": step,
        "day": back.day,
    }


def _formatters(zone: str) -> dict[str, Callable[..., str]]:
    """Times as the page shows them: in the account's zone, whatever the browser's."""
    tz = zone_info(zone)
    return {
        "clock": lambda moment: wording.clock_time(moment, zone, "en"),
        "slot_label": lambda moment: wording.slot_label(moment, zone, "en"),
        "day_name": lambda day: day.strftime("%A %-d %B"),
        "local_input": lambda moment: moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
    }


async def _render(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    back: Back,
    *,
    error: str | None = None,
    next_slots: list[datetime] | None = None,
    failed: uuid.UUID | None = None,
    new_feed_url: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    context = await _entries(session, user.account_id, back, now)
    feed = await calendar_feeds.find_user_feed(session, user.account_id, user.user_id)
    context |= _formatters(context["zone"]) | {
        "view": back.view,
        "page": back.number,
        "views": VIEWS,
        "labels": STATUS_LABELS,
        "actions": ACTIONS_BY_STATUS,
        "started_only": STARTED_ONLY,
        "buttons": BUTTONS,
        "error": error,
        "next_slots": next_slots or [],
        "failed": failed,
        "feed": feed,
        "new_feed_url": new_feed_url,
    }
    return page(request, user, "viewings/page.html", context, status_code=status_code)


@router.get("/viewings")
async def viewings_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    view: Annotated[View, Query()] = "today",
    number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
    day: Annotated[date | None, Query()] = None,
) -> Response:
    return await _render(request, session, user, Back(view, number, day))


# Each action: the change, made by the same calls as the JSON API's (web/api/viewings.py), which
# also tell the customer.
Change = Callable[[Runtime, AsyncSession, uuid.UUID, uuid.UUID, Form], Awaitable[object]]


async def _confirm(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, _: Form
) -> object:
    return await viewing_changes.confirm(runtime, session, account_id, viewing_id)


async def _decline(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, _: Form
) -> object:
    return await viewing_changes.decline(runtime, session, account_id, viewing_id)


async def _cancel(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, _: Form
) -> object:
    return await viewing_changes.cancel(
        runtime, session, account_id, viewing_id, reason=CancelReason.AGENT
    )


async def _done(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, _: Form
) -> object:
    return await viewing_changes.mark_done(runtime, session, account_id, viewing_id, now=utcnow())


async def _no_show(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, _: Form
) -> object:
    return await viewing_changes.mark_no_show(
        runtime, session, account_id, viewing_id, now=utcnow()
    )


class BadTime(ValueError):
    """The new time as typed is not a time."""


async def _reschedule(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    form: Form,
) -> object:
    # The viewing first: another account's id is 404 whatever the form says.
    await viewings.get_viewing(session, account_id, viewing_id)
    zone = await viewing_calendar.zone_of(session, account_id)
    starts_at = _local_time(form.get("starts_at", ""), zone)
    return await viewing_changes.reschedule(
        runtime,
        session,
        account_id,
        viewing_id,
        starts_at=starts_at,
        by=BookedBy.AGENT,
        now=utcnow(),
    )


def _local_time(typed: str, zone: str) -> datetime:
    """ "2027-03-01T10:30" (a datetime-local input, or a slot's ISO time) in the account's zone;
    whole minutes."""
    try:
        moment = datetime.fromisoformat(typed.strip())
    except ValueError:
        raise BadTime("Enter the new date and time, for example 2027-03-01 10:30.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_info(zone))
    return moment.replace(second=0, microsecond=0)


CHANGES: dict[str, tuple[Change, str]] = {
    "confirm": (_confirm, "viewing-confirmed"),
    "decline": (_decline, "viewing-declined"),
    "reschedule": (_reschedule, "viewing-rescheduled"),
    "cancel": (_cancel, "viewing-cancelled"),
    "done": (_done, "viewing-done"),
    "no-show": (_no_show, "viewing-no-show"),
}


async def _refusal(
    session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID, action: str
) -> str:
    viewing = await viewings.get_viewing(session, account_id, viewing_id)
    status = ViewingStatus(viewing.status)
    if action in STARTED_ONLY and status == ViewingStatus.CONFIRMED:
        return f"Nothing was changed: a viewing can be {VERBS[action]} only once it has started."
    label = STATUS_LABELS[status].lower()
    return f"Nothing was changed: this viewing is {label} now, so it cannot be {VERBS[action]}."


async def _act(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    runtime: Runtime,
    viewing_id: uuid.UUID,
    action: str,
) -> Response:
    form = await posted_text(request, ("view", "page", "day", "starts_at"))
    back = _back(form)
    change, done = CHANGES[action]
    error: str | None = None
    slots: list[datetime] = []
    status_code = 409
    try:
        # A savepoint: a refused change leaves nothing behind, and the page is still read
        # (docs/decisions.md, 22).
        async with session.begin_nested():
            await change(runtime, session, user.account_id, viewing_id, form)
    except BadTime as exc:
        error, status_code = str(exc), 422
    except SlotNotOffered:
        error, status_code = "Nothing was changed: choose a time from now on.", 422
    except SlotTaken as exc:
        error, slots = "Nothing was changed: that time is already booked.", exc.next_slots
    except TransitionRefused:
        error = await _refusal(session, user.account_id, viewing_id, action)
    if error is None:
        return redirect(back.path, done=done)
    return await _render(
        request,
        session,
        user,
        back,
        error=error,
        next_slots=slots,
        failed=viewing_id,
        status_code=status_code,
    )


def _action_route(action: str) -> None:
    async def act(
        request: Request, viewing_id: uuid.UUID, session: SessionDep, user: UserDep, state: StateDep
    ) -> Response:
        return await _act(request, session, user, state.runtime, viewing_id, action)

    act.__name__ = f"viewing_{action.replace('-', '_')}"
    router.add_api_route(f"/viewings/{{viewing_id}}/{action}", act, methods=["POST"])


for _action in CHANGES:
    _action_route(_action)


@router.post("/viewings/feed")
async def create_feed(
    request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """The URL is on this answer only: only its hash is kept, so it is never shown again."""
    back = _back(await posted_text(request, ("view", "page", "day")))
    token = await calendar_feeds.create_feed(session, user.account_id, user.user_id)
    url = state.settings.public_base_url + FEED_PATH.format(token=token)
    return await _render(request, session, user, back, new_feed_url=url)


@router.post("/viewings/feed/revoke")
async def revoke_feed(request: Request, session: SessionDep, user: UserDep) -> Response:
    back = _back(await posted_text(request, ("view", "page", "day")))
    await calendar_feeds.revoke_feed(session, user.account_id, user.user_id)
    return redirect(back.path, done="feed-revoked")
