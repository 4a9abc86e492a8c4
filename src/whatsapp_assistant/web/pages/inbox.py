"""The inbox: the conversation list and a thread, with the AI/HUMAN switch and the send box."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.ai.language import NAMES, as_language
from whatsapp_assistant.conversations import actions, inbox, language
from whatsapp_assistant.conversations.errors import MessageNotFound, ScheduledNotFound
from whatsapp_assistant.conversations.media_files import MEDIA_KINDS, stored_file
from whatsapp_assistant.conversations.scheduled import plan
from whatsapp_assistant.conversations.schemas import AgentMessage, ConversationFilters
from whatsapp_assistant.conversations.snapshot import booked_viewings
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.infra.file_store import file_store
from whatsapp_assistant.scheduling.service import time_zone
from whatsapp_assistant.scheduling.wording import slot_label
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

View = Literal["all", "needs-me", "ai"]
VIEWS: list[tuple[View, str]] = [("all", "All"), ("needs-me", "Needs me"), ("ai", "AI")]


PAGE_SIZE = 50
SCHEDULED_KINDS = {
    "followup": "Follow-up",
    "reminder": "Viewing reminder",
    "after_viewing": "After-viewing message",
    "manual": "Your scheduled message",
}


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
    booked = await booked_viewings(session, loaded)
    upcoming = await plan.next_pending(session, user.account_id, loaded.id)
    zone = await time_zone(session, user.account_id)
    context = {
        "next_scheduled": None
        if upcoming is None
        else {
            "id": upcoming.id,
            "kind": SCHEDULED_KINDS.get(upcoming.kind, upcoming.kind),
            "due_at": upcoming.due_at.isoformat(),
            "when": slot_label(upcoming.due_at, zone, "en"),
        },
        "c": conversation,
        "messages": messages,
        "viewings": [
            {
                "starts_at": viewing.starts_at.isoformat(),
                "when": slot_label(viewing.starts_at, viewing.zone, "en"),
                "title": viewing.title,
                "status": viewing.status,
            }
            for viewing in booked
        ],
        "draft": draft,
        "error": error,
        "languages": NAMES,
        "media_kinds": MEDIA_KINDS,
    }
    return page(request, user, "inbox/thread.html", context, status_code=status_code)


@router.get("/inbox/{conversation_id}")
async def thread_page(
    request: Request, conversation_id: uuid.UUID, session: SessionDep, user: UserDep
) -> Response:
    """Opening a thread marks its customer messages read."""
    return await _thread(request, session, user, conversation_id)


@router.get("/inbox/{conversation_id}/files/{message_id}")
async def sent_file(
    conversation_id: uuid.UUID, message_id: uuid.UUID, session: SessionDep, user: UserDep
) -> Response:
    """A file sent in the conversation (a viewing's .ics), as the customer received it."""
    file = await inbox.sent_file(session, user.account_id, conversation_id, message_id)
    disposition = f'attachment; filename="{file.filename}"'
    return Response(
        file.content, media_type=file.mime, headers={"Content-Disposition": disposition}
    )


@router.get("/media/{message_id}")
async def received_file(
    message_id: uuid.UUID, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """A file a customer (or the agent's phone) sent, as we keep it: only to a signed-in user
    of its account, never at a public URL (docs/decisions.md, 31)."""
    files = file_store(state.settings.media, state.settings.s3)
    stored = await stored_file(session, files, user.account_id, message_id)
    if stored is None:
        raise MessageNotFound("no such file")
    disposition = "inline" if stored.inline else "attachment"
    return Response(
        stored.content,
        media_type=stored.mime,
        headers={
            "Content-Disposition": content_disposition(disposition, stored.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


def content_disposition(disposition: str, filename: str) -> str:
    """`inline` or `attachment` with the name twice: an ASCII fallback any browser reads, and
    the UTF-8 original (RFC 6266)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post("/inbox/{conversation_id}/scheduled/{scheduled_id}/cancel")
async def cancel_scheduled(
    conversation_id: uuid.UUID, scheduled_id: uuid.UUID, session: SessionDep, user: UserDep
) -> Response:
    """The thread's cancel button on its next scheduled message."""
    conversation = await inbox.get_conversation(session, user.account_id, conversation_id)
    row = await plan.get_scheduled(session, user.account_id, scheduled_id)
    if row.conversation_id != conversation.id:
        raise ScheduledNotFound("no such scheduled message in this conversation")
    await plan.cancel_scheduled(session, user.account_id, scheduled_id, actor=user.actor)
    return redirect(f"/inbox/{conversation_id}", "scheduled-cancelled")


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
