"""Scheduled messages: the follow-up ladder's settings, a conversation's scheduled rows, the
agent's send-later and cancelling one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from whatsapp_assistant.conversations.inbox import get_conversation
from whatsapp_assistant.conversations.scheduled import followups, plan, send
from whatsapp_assistant.conversations.scheduled.schemas import (
    ClockAdvance,
    ClockRead,
    FollowupsData,
    ScheduledCreate,
    ScheduledRead,
    ScheduledUpdate,
)
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep, StateDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(tags=["scheduled"], route_class=JSONBodyRoute)

_FOLLOWUPS_DESCRIPTION = """\
The follow-up ladder: with `enabled`, a customer who leaves an AI message unanswered is written
to again `steps_hours` after it (1 to 5 steps, each later than the one before, 1 hour to 30 days;
`[24, 72]` for a new account). Each is sent only in business hours, and never after the customer
replied, booked a viewing, opted out or was taken over. `reminder_day_before` and
`reminder_hour_before` remind the customer of a booked viewing. PUT replaces every value at once;
bad input answers 422 and changes nothing. Rows already scheduled keep their times.
"""

_SCHEDULED_DESCRIPTION = """\
The conversation's scheduled messages: every pending one and the most recent others (sent,
cancelled or skipped, with the `reason`), in order of `due_at`. `kind` is `followup`,
`reminder`, `after_viewing` or `manual` (the agent's send-later).
"""

_CREATE_DESCRIPTION = """\
Send later: the agent's `text` reaches the customer at `due_at` (ISO 8601 with its offset, in the
future), whatever the conversation's mode then, as if the agent wrote it at that moment. A time
without its offset, or not in the future, answers 422.
"""

_PATCH_DESCRIPTION = """\
`{"keep_in_human": true}`: a pending reminder still goes after a person took the conversation
over (a takeover does not cancel it); `false` stops it again. Another kind answers 409
`only_reminders_kept`; a row no longer pending, 409 `scheduled_not_pending`.
"""

_DELETE_DESCRIPTION = """\
Cancel a pending scheduled message. One already sent, cancelled or skipped answers 409
`scheduled_not_pending` and changes nothing.
"""


@router.get("/account/followups", description=_FOLLOWUPS_DESCRIPTION)
async def get_followups(session: SessionDep, caller: CallerDep) -> FollowupsData:
    return await followups.get_followups(session, caller.account_id)


@router.put(
    "/account/followups",
    description=_FOLLOWUPS_DESCRIPTION,
    responses=error_responses(400, 403, 422),
)
async def put_followups(
    body: FollowupsData, session: SessionDep, caller: CallerDep
) -> FollowupsData:
    return await followups.replace_followups(session, caller.account_id, body)


@router.get(
    "/conversations/{conversation_id}/scheduled",
    description=_SCHEDULED_DESCRIPTION,
    responses=error_responses(404, 422),
)
async def list_scheduled(
    conversation_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> list[ScheduledRead]:
    await get_conversation(session, caller.account_id, conversation_id)
    rows = await plan.list_scheduled(session, caller.account_id, conversation_id)
    return [ScheduledRead.model_validate(row) for row in rows]


@router.post(
    "/conversations/{conversation_id}/scheduled",
    status_code=status.HTTP_201_CREATED,
    description=_CREATE_DESCRIPTION,
    responses=error_responses(400, 403, 404, 422),
)
async def schedule_message(
    conversation_id: uuid.UUID,
    body: ScheduledCreate,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> ScheduledRead:
    conversation = await get_conversation(session, caller.account_id, conversation_id)
    row = await plan.schedule_manual(
        session,
        conversation,
        queue=state.runtime.queue,
        text=body.text,
        due_at=body.due_at,
        actor=caller.actor,
    )
    await session.flush()
    return ScheduledRead.model_validate(row)


@router.delete(
    "/scheduled/{scheduled_id}",
    description=_DELETE_DESCRIPTION,
    responses=error_responses(403, 404, 409, 422),
)
async def cancel_scheduled(
    scheduled_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> ScheduledRead:
    row = await plan.cancel_scheduled(session, caller.account_id, scheduled_id, actor=caller.actor)
    return ScheduledRead.model_validate(row)


@router.patch(
    "/scheduled/{scheduled_id}",
    description=_PATCH_DESCRIPTION,
    responses=error_responses(400, 403, 404, 409, 422),
)
async def update_scheduled(
    scheduled_id: uuid.UUID, body: ScheduledUpdate, session: SessionDep, caller: CallerDep
) -> ScheduledRead:
    row = await plan.keep_in_human(
        session, caller.account_id, scheduled_id, keep=body.keep_in_human
    )
    return ScheduledRead.model_validate(row)


_CLOCK_DESCRIPTION = """\
The demo's fast-forward, with `DEMO_CLOCK=true` only (never in production): the server's clock
moves `hours` forward for every account, and the scheduled messages then due go at once. Without
it, 409 `clock_fixed`.
"""


@router.post(
    "/simulator/clock",
    description=_CLOCK_DESCRIPTION,
    responses=error_responses(400, 403, 409, 422),
)
async def advance_clock(body: ClockAdvance, caller: CallerDep, state: StateDep) -> ClockRead:
    woken = await send.advance_clock(state.runtime, hours=body.hours)
    return ClockRead(now=utcnow(), woken=woken)
