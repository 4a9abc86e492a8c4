"""The agent's time: the account's schedule and its viewing availability, each read and replaced
whole."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_assistant.scheduling import service as scheduling
from whatsapp_assistant.scheduling.schemas import AvailabilityData, ScheduleData
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(tags=["schedule"], route_class=JSONBodyRoute)

_SCHEDULE_DESCRIPTION = """\
The account's time zone (an IANA name such as `Europe/Lisbon`), its weekly business hours and how
viewings are booked: `viewing_minutes` long, `buffer_minutes` kept free around a booked viewing,
at least `notice_minutes` ahead and at most `horizon_days` ahead. Times are wall-clock `HH:MM`
(`24:00` ends a day) in the account's zone, on weekdays `mon`..`sun`.
"""

_PUT_NOTE = """
Replaces every value at once. An unknown zone, a time past 24:00, an end not after its start or
two ranges of one weekday that overlap answer 422 and change nothing.
"""

_AVAILABILITY_DESCRIPTION = """\
When customers may book a viewing: weekly slots (wall-clock `HH:MM` in the account's zone, on
weekdays `mon`..`sun`) and whole dates off.
"""


@router.get("/account/schedule", description=_SCHEDULE_DESCRIPTION)
async def get_schedule(session: SessionDep, caller: CallerDep) -> ScheduleData:
    return await scheduling.get_schedule(session, caller.account_id)


@router.put(
    "/account/schedule",
    description=_SCHEDULE_DESCRIPTION + _PUT_NOTE,
    responses=error_responses(400, 403, 422),
)
async def put_schedule(body: ScheduleData, session: SessionDep, caller: CallerDep) -> ScheduleData:
    return await scheduling.replace_schedule(session, caller.account_id, body)


@router.get("/availability", description=_AVAILABILITY_DESCRIPTION)
async def get_availability(session: SessionDep, caller: CallerDep) -> AvailabilityData:
    return await scheduling.get_availability(session, caller.account_id)


@router.put(
    "/availability",
    description=_AVAILABILITY_DESCRIPTION + _PUT_NOTE,
    responses=error_responses(400, 403, 422),
)
async def put_availability(
    body: AvailabilityData, session: SessionDep, caller: CallerDep
) -> AvailabilityData:
    return await scheduling.replace_availability(session, caller.account_id, body)
