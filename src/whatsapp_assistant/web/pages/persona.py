"""The persona page: how the assistant presents itself, and a "try it" chat that runs the real
pipeline on a sandbox conversation (the simulator channel; nothing goes out on WhatsApp)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import PersonaData
from whatsapp_assistant.conversations import sandbox
from whatsapp_assistant.conversations.schemas import SimulatedMessage
from whatsapp_assistant.conversations.simulator import SANDBOX_PHONE, receive_simulated
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.forms import CHOOSE_ONE, field_errors, posted_text, schema_words
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

FIELDS = ("style", "agent_name", "agency_name", "custom_instructions", "default_language")
LANGUAGES = [
    ("", "No preference"),
    ("en", "English"),
    ("pt", "Portuguese"),
    ("es", "Spanish"),
    ("fr", "French"),
]


def _language_options(current: str) -> list[tuple[str, str]]:
    """The usual languages, plus whatever the API stored, so saving the page keeps it."""
    if current and current not in {code for code, _ in LANGUAGES}:
        return [*LANGUAGES, (current, current)]
    return LANGUAGES


def _error_text(field: str, error: ErrorDetails) -> str:
    context = error.get("ctx") or {}
    if error["type"] == "string_too_long":
        length = len(error["input"]) if isinstance(error["input"], str) else 0
        return f"Too long: {length:,} characters. Keep it to {context['max_length']:,}."
    if error["type"] == "literal_error":
        return CHOOSE_ONE
    return schema_words(error)


def _validate(values: dict[str, str]) -> PersonaData | dict[str, str]:
    """The persona to save, or an error per field (unstorable text included: PersonaData)."""
    data: dict[str, Any] = dict(values)
    data["default_language"] = values["default_language"].strip() or None
    try:
        return PersonaData.model_validate(data)
    except ValidationError as exc:
        return field_errors(exc, _error_text, unnamed="form")


async def _render(
    request: Request,
    session: AsyncSession,
    user: CurrentUser,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    try_error: str | None = None,
    try_text: str = "",
    status_code: int = 200,
) -> Response:
    if values is None:
        saved = PersonaData.model_validate(await accounts.get_persona(session, user.account_id))
        values = {name: getattr(saved, name) or "" for name in FIELDS}
    context = {
        "values": values,
        "errors": errors or {},
        "languages": _language_options(values["default_language"]),
        "sandbox": await sandbox.read_sandbox(session, user.account_id),
        "try_error": try_error,
        "try_text": try_text,
    }
    return page(request, user, "persona/page.html", context, status_code=status_code)


@router.get("/persona")
async def persona_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return await _render(request, session, user)


@router.post("/persona")
async def save_persona(request: Request, session: SessionDep, user: UserDep) -> Response:
    """Saved whole, or not at all: a 422 page keeps what was typed, errors beside the fields."""
    values = await posted_text(request, FIELDS)
    outcome = _validate(values)
    if isinstance(outcome, dict):
        return await _render(request, session, user, values=values, errors=outcome, status_code=422)
    await accounts.update_persona(session, user.account_id, outcome)
    return redirect("/persona", done="persona-saved")


def _try_error(exc: ValidationError) -> str:
    if any(error["type"] == "string_too_long" for error in exc.errors()):
        return "That message is too long. Shorten it and send again."
    return "Write a message first."


@router.post("/persona/try")
async def try_message(
    request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """The agent writes as a customer; the assistant's reply arrives through the job queue."""
    text = (await posted_text(request, ("text",)))["text"]
    try:
        message = SimulatedMessage(
            text=text, customer=sandbox.SANDBOX_CUSTOMER, phone=SANDBOX_PHONE
        )
    except ValidationError as exc:
        return await _render(
            request, session, user, try_error=_try_error(exc), try_text=text, status_code=422
        )
    await receive_simulated(state.runtime, session, user.account_id, message)
    return redirect("/persona#try")


@router.post("/persona/try/reset")
async def reset_try(session: SessionDep, user: UserDep) -> Response:
    await sandbox.reset_sandbox(session, user.account_id)
    return redirect("/persona#try")
