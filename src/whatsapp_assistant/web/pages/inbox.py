"""The inbox: the conversation list and a thread, with the AI/HUMAN switch and the send box."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.ai.language import NAMES, as_language
from whatsapp_assistant.conversations import actions, inbox, language
from whatsapp_assistant.conversations.schemas import AgentMessage, ConversationFilters
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

View = Literal["all", "needs-me", "ai"]
VIEWS: list[tuple[View, str]] = [("all", "All"), ("needs-me", "Needs me"), ("ai", "AI")]


PAGE_SIZE = 50


def _filters(view: View, q: str, number: int) -> ConversationFilters:
    return ConversationFilters(
        needs_me=view == "needs-me",
        mode=Mode.AI if view == "ai" else None,
        q=q or None,
        limit=PAGE_SIZE + 1,  # one more tells whether there is an older page
        offset=(number - 1) * PAGE_SIZE,
    )


@router.get("/inbox")
async def inbox_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    view: Annotated[View, Query()] = "all",
    q: Annotated[str, Query(max_length=200)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    q = q.strip()
    rows = await inbox.list_conversations(session, user.account_id, _filters(view, q, number))
    context = {
        "conversations": rows[:PAGE_SIZE],
        "view": view,
        "views": VIEWS,
        "q": q,
        "page": number,
        "older": len(rows) > PAGE_SIZE,
    }
    return page(request, user, "inbox/list.html", context)


async def _thread(
    request: Request,
    session: SessionDep,
    user: UserDep,
    conversation_id: uuid.UUID,
    *,
    draft: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    loaded = await actions.mark_read(session, user.account_id, conversation_id)
    conversation = await inbox.describe(session, loaded)
    messages = await inbox.thread_messages(session, loaded)
    context = {
        "c": conversation,
        "messages": messages,
        "draft": draft,
        "error": error,
        "languages": NAMES,
    }
    return page(request, user, "inbox/thread.html", context, status_code=status_code)


@router.get("/inbox/{conversation_id}")
async def thread_page(
    request: Request, conversation_id: uuid.UUID, session: SessionDep, user: UserDep
) -> Response:
    """Opening a thread marks its customer messages read."""
    return await _thread(request, session, user, conversation_id)


@router.post("/inbox/{conversation_id}/mode")
async def switch_mode(
    conversation_id: uuid.UUID,
    session: SessionDep,
    user: UserDep,
    state: StateDep,
    mode: Annotated[Mode, Form()],
) -> Response:
    await actions.set_mode(
        state.runtime, session, user.account_id, conversation_id, mode=mode, actor=user.actor
    )
    done = "taken-over" if mode == Mode.HUMAN else "handed-back"
    return redirect(f"/inbox/{conversation_id}", done)


@router.post("/inbox/{conversation_id}/language")
async def set_language(
    conversation_id: uuid.UUID,
    session: SessionDep,
    user: UserDep,
    language_code: Annotated[Literal["", "en", "es", "pt"], Form(alias="language")] = "",
) -> Response:
    """Pin the language of the assistant's texts here; "" goes back to detecting it."""
    await language.set_language(
        session,
        user.account_id,
        conversation_id,
        language=as_language(language_code),
        actor=user.actor,
    )
    return redirect(f"/inbox/{conversation_id}", "language-set")


@router.post("/inbox/{conversation_id}/messages")
async def send_message(
    request: Request,
    conversation_id: uuid.UUID,
    session: SessionDep,
    user: UserDep,
    state: StateDep,
    text: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:
    """Sending takes the conversation over: the assistant stays silent there from now on."""
    try:
        message = AgentMessage(text=text)
    except ValidationError:
        error = "Write a message first." if not text.strip() else "That message is too long."
        return await _thread(
            request, session, user, conversation_id, draft=text, error=error, status_code=422
        )
    await actions.send_as_agent(
        state.runtime,
        session,
        user.account_id,
        conversation_id,
        text=message.text,
        actor=user.actor,
    )
    return redirect(f"/inbox/{conversation_id}")
