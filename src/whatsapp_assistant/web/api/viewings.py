"""Viewing routes: the account's booked viewings, booked by hand and moved through their states."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from whatsapp_assistant.conversations import viewing_changes
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.models import BookedBy, CancelReason, Viewing
from whatsapp_assistant.scheduling.schemas import (
    Moment,
    ViewingCreate,
    ViewingRead,
    ViewingReschedule,
    ViewingStatusName,
)
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep, StateDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/viewings", tags=["viewings"], route_class=JSONBodyRoute)

_LIST_DESCRIPTION = """\
The account's viewings that start in [`from`, `to`) (ISO 8601 with an offset), of one `status`
if given, in order of start, `limit` at a time (default 200) from `offset`. Times are answered
in UTC with their offset.
"""
DEFAULT_PAGE = 200
MAX_PAGE = 500

_CREATE_DESCRIPTION = """\
The agent books a viewing by hand: confirmed at once, at any whole minute from now on (inside the
weekly viewing slots or not, whatever the listing's `viewings` setting), lasting the schedule's
`viewing_minutes`. A time that overlaps another requested or confirmed viewing answers 409
`slot_taken` with the next free slots in `error.details.next_slots`. A time without its offset
answers 422.
"""

_TRANSITIONS = """\
`confirm` and `decline` take a requested viewing; `cancel` and `reschedule` a requested or
confirmed one; `done` and `no-show` a confirmed one that has started. Any other answers 409
`viewing_transition_refused` and changes nothing.
"""

_TRANSITION_ERRORS = error_responses(400, 403, 404, 409, 422)


def _read(viewing: Viewing) -> ViewingRead:
    return ViewingRead.model_validate(viewing)


@router.get("", description=_LIST_DESCRIPTION, responses=error_responses(422))
async def list_viewings(
    session: SessionDep,
    caller: CallerDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
    status: ViewingStatusName | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ViewingRead]:
    if start is not None and end is not None and start >= end:
        message = "should be after `from`"
        raise RequestValidationError([{"loc": ("query", "to"), "msg": message, "type": "value"}])
    found = await viewings.list_viewings(
        session, caller.account_id, start=start, end=end, status=status, limit=limit, offset=offset
    )
    return [_read(viewing) for viewing in found]


@router.post(
    "",
    status_code=201,
    description=_CREATE_DESCRIPTION,
    responses=error_responses(400, 403, 404, 409, 422),
)
async def create_viewing(
    body: ViewingCreate, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.book_by_agent(
        state.runtime,
        session,
        caller.account_id,
        property_id=body.property_id,
        starts_at=body.starts_at,
        customer_name=body.customer_name,
        conversation_id=body.conversation_id,
        now=utcnow(),
    )
    return _read(viewing)


@router.get("/{viewing_id}", responses=error_responses(404, 422))
async def get_viewing(viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ViewingRead:
    return _read(await viewings.get_viewing(session, caller.account_id, viewing_id))


@router.post("/{viewing_id}/confirm", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def confirm_viewing(
    viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.confirm(state.runtime, session, caller.account_id, viewing_id)
    return _read(viewing)


@router.post("/{viewing_id}/decline", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def decline_viewing(
    viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.decline(state.runtime, session, caller.account_id, viewing_id)
    return _read(viewing)


@router.post("/{viewing_id}/cancel", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def cancel_viewing(
    viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.cancel(
        state.runtime, session, caller.account_id, viewing_id, reason=CancelReason.AGENT
    )
    return _read(viewing)


@router.post("/{viewing_id}/reschedule", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def reschedule_viewing(
    viewing_id: uuid.UUID,
    body: ViewingReschedule,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> ViewingRead:
    viewing = await viewing_changes.reschedule(
        state.runtime,
        session,
        caller.account_id,
        viewing_id,
        starts_at=body.starts_at,
        by=BookedBy.AGENT,
        now=utcnow(),
    )
    return _read(viewing)


@router.post("/{viewing_id}/done", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def viewing_done(
    viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.mark_done(
        state.runtime, session, caller.account_id, viewing_id, now=utcnow()
    )
    return _read(viewing)


@router.post("/{viewing_id}/no-show", description=_TRANSITIONS, responses=_TRANSITION_ERRORS)
async def viewing_no_show(
    viewing_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ViewingRead:
    viewing = await viewing_changes.mark_no_show(
        state.runtime, session, caller.account_id, viewing_id, now=utcnow()
    )
    return _read(viewing)
