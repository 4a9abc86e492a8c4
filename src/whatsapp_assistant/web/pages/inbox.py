"""The inbox: the conversation list and a thread, with the AI/HUMAN switch and the send box."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from whatsapp_assistant.conversations import inbox
from whatsapp_assistant.conversations.schemas import ConversationFilters
from whatsapp_assistant.web.deps import SessionDep, UserDep
from whatsapp_assistant.web.pages.render import page

router = APIRouter()


@router.get("/inbox")
async def inbox_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    rows = await inbox.list_conversations(session, user.account_id, ConversationFilters())
    return page(request, user, "inbox/list.html", {"conversations": rows})
