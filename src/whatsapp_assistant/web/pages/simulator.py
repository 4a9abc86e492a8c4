"""The simulator: a customer's phone in the browser, writing to this account's assistant."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from whatsapp_assistant.conversations import inbox
from whatsapp_assistant.conversations.schemas import SimulatedMessage
from whatsapp_assistant.conversations.simulator import (
    SANDBOX_PHONE,
    find_simulated,
    receive_simulated,
)
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.forms import field_errors
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

DEFAULT = SimulatedMessage(text="-")
FIELD_MESSAGES = {
    "text": "Write a message (at most 20,000 characters).",
    "phone": "A phone number is 6 to 15 digits, country code first, no + or spaces.",
    "customer": "A name of at most 100 characters.",
}


async def _phone_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    *,
    phone: str,
    customer: str,
    draft: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    conversation = await find_simulated(session, user.account_id, phone)
    messages = await inbox.thread_messages(session, conversation) if conversation else []
    context = {
        "conversation": conversation,
        "messages": messages,
        "phone": phone,
        "customer": customer,
        "draft": draft,
        "errors": errors or {},
    }
    return page(request, user, "simulator.html", context, status_code=status_code)


@router.get("/simulator")
async def simulator_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    phone: Annotated[str, Query(pattern=r"^\d{6,15}$")] = DEFAULT.phone,
    customer: Annotated[str, Query(max_length=100)] = DEFAULT.customer,
) -> Response:
    return await _phone_page(request, session, user, phone=phone, customer=customer)


def _error_text(field: str, error: ErrorDetails) -> str:
    return FIELD_MESSAGES.get(field, "This value is not valid.")


@router.post("/simulator")
async def simulate(
    request: Request,
    session: SessionDep,
    user: UserDep,
    state: StateDep,
    text: Annotated[str, Form(max_length=40_000)] = "",
    phone: Annotated[str, Form(max_length=40)] = DEFAULT.phone,
    customer: Annotated[str, Form(max_length=200)] = DEFAULT.customer,
) -> Response:
    """The message enters through the same ingest as WhatsApp's; the reply shows up live."""
    phone = phone.strip().removeprefix("+").replace(" ", "")
    if phone == SANDBOX_PHONE:
        errors = {"phone": "That number is the persona page's test chat: pick another."}
    else:
        try:
            data = SimulatedMessage(text=text, phone=phone, customer=customer or DEFAULT.customer)
        except ValidationError as exc:
            errors = field_errors(exc, _error_text)
        else:
            await receive_simulated(state.runtime, session, user.account_id, data)
            query = urlencode({"phone": data.phone, "customer": data.customer})
            return redirect(f"/simulator?{query}")
    return await _phone_page(
        request,
        session,
        user,
        phone=phone if "phone" not in errors else DEFAULT.phone,
        customer=customer,
        draft=text,
        errors=errors,
        status_code=422,
    )
