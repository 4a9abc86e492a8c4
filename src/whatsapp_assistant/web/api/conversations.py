"""Conversation routes: the list (filters, search, unread counts), a thread, the simulator."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from whatsapp_assistant.conversations import actions, events, inbox, language
from whatsapp_assistant.conversations.schemas import (
    AgentMessage,
    ConversationFilters,
    ConversationRead,
    ConversationUpdate,
    EventRead,
    MessageRead,
    ModeChange,
    SimulatedMessage,
)
from whatsapp_assistant.conversations.simulator import receive_simulated
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep, StateDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(tags=["conversations"], route_class=JSONBodyRoute)


@router.get("/conversations", responses=error_responses(422))
async def list_conversations(
    filters: Annotated[ConversationFilters, Query()], session: SessionDep, caller: CallerDep
) -> list[ConversationRead]:
    return await inbox.list_conversations(session, caller.account_id, filters)


@router.get("/conversations/{conversation_id}", responses=error_responses(404, 422))
async def get_conversation(
    conversation_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> ConversationRead:
    return await inbox.read_conversation(session, caller.account_id, conversation_id)


@router.patch("/conversations/{conversation_id}", responses=error_responses(400, 403, 404, 422))
async def update_conversation(
    conversation_id: uuid.UUID, body: ConversationUpdate, session: SessionDep, caller: CallerDep
) -> ConversationRead:
    """Pin the language of the assistant's texts here (`"pt"`), or `null` to detect it again."""
    await language.set_language(
        session, caller.account_id, conversation_id, language=body.language, actor=caller.actor
    )
    return await inbox.read_conversation(session, caller.account_id, conversation_id)


@router.get("/conversations/{conversation_id}/messages", responses=error_responses(404, 422))
async def list_messages(
    conversation_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[MessageRead]:
    rows = await inbox.list_messages(session, caller.account_id, conversation_id, limit=limit)
    return [MessageRead.model_validate(row) for row in rows]


@router.post("/conversations/{conversation_id}/mode", responses=error_responses(400, 403, 404, 422))
async def set_mode(
    conversation_id: uuid.UUID,
    body: ModeChange,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> ConversationRead:
    """Take over (`human`: the AI stops at once) or hand back (`ai`)."""
    conversation = await actions.set_mode(
        state.runtime,
        session,
        caller.account_id,
        conversation_id,
        mode=body.mode,
        actor=caller.actor,
    )
    # The row the switch loaded and wrote, not read again: the takeover's lock is held until
    # the commit (docs/architecture.md, invariant 3).
    return await inbox.describe(session, conversation)


@router.post("/conversations/{conversation_id}/read", responses=error_responses(403, 404, 422))
async def mark_read(
    conversation_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> ConversationRead:
    """The agent has read the thread: its unread count drops to zero."""
    await actions.mark_read(session, caller.account_id, conversation_id)
    return await inbox.read_conversation(session, caller.account_id, conversation_id)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 403, 404, 422),
)
async def send_message(
    conversation_id: uuid.UUID,
    body: AgentMessage,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> list[MessageRead]:
    """Write to the customer as the agent; the conversation switches to human mode."""
    rows = await actions.send_as_agent(
        state.runtime,
        session,
        caller.account_id,
        conversation_id,
        text=body.text,
        actor=caller.actor,
    )
    return [MessageRead.model_validate(row) for row in rows]


@router.get("/conversations/{conversation_id}/events", responses=error_responses(404, 422))
async def list_events(
    conversation_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> list[EventRead]:
    """Who or what changed the mode, escalated, or opted out, and when."""
    await inbox.get_conversation(session, caller.account_id, conversation_id)
    rows = await events.list_events(session, caller.account_id, conversation_id)
    return [EventRead.model_validate(row) for row in rows]


@router.post(
    "/simulator/messages",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 403, 422),
)
async def simulate_customer_message(
    body: SimulatedMessage, session: SessionDep, caller: CallerDep, state: StateDep
) -> MessageRead:
    """Play a customer writing to this account; the reply appears in the conversation's messages."""
    message = await receive_simulated(state.runtime, session, caller.account_id, body)
    return MessageRead.model_validate(message)
