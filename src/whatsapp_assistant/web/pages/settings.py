"""The Settings page: how the assistant behaves around the agent, and the account's API keys."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountSettings, ApiKeyCreate, ApiKeyCreated
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, UserDep
from whatsapp_assistant.web.pages.forms import field_errors, posted_text, text_fields
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

TEXT_FIELDS = ("owner_phone", "auto_resume_hours", "holding_message")
CHECKBOXES = ("takeover_on_phone_message", "answer_pending_on_hand_back")
FIELD_MESSAGES = {
    "owner_phone": "Enter a number in international format, for example +351 912 345 678.",
    "auto_resume_hours": "Enter a whole number of hours from 1 to 720, or leave it empty.",
    "holding_message": "Use at most 1000 characters, or leave it empty.",
    "key_name": "Give the key a name of at most 100 characters.",
}


def settings_form(account_settings: AccountSettings) -> dict[str, Any]:
    """The form's values as the inputs show them: empty text for 'none'."""
    values = account_settings.model_dump()
    return {name: "" if value is None else value for name, value in values.items()}


async def _posted_settings(request: Request) -> dict[str, Any]:
    """The form as typed; an unticked box is absent from a posted form, so absent means off."""
    form = await request.form()
    typed: dict[str, Any] = text_fields(form, TEXT_FIELDS)
    typed.update({name: form.get(name) == "on" for name in CHECKBOXES})
    return typed


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _as_settings(typed: Mapping[str, Any]) -> AccountSettings:
    """Every field is sent, so the update is complete: empty text means 'none'."""
    data = {name: _blank_is_none(value) for name, value in typed.items()}
    return AccountSettings.model_validate(data)


async def _render(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    *,
    form: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    new_key: ApiKeyCreated | None = None,
    key_name: str = "",
    status_code: int = 200,
) -> Response:
    if form is None:
        account = await accounts.get_account(session, user.account_id)
        form = settings_form(AccountSettings.model_validate(account))
    rows = await accounts.list_api_keys(session, user.account_id)
    context = {
        "form": form,
        "errors": errors or {},
        "keys": [accounts.api_key_read(row) for row in rows],
        "new_key": new_key,
        "key_name": key_name,
    }
    return page(request, user, "settings/index.html", context, status_code=status_code)


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep, user: UserDep) -> Response:
    return await _render(request, session, user)


@router.post("/settings")
async def save_settings(request: Request, session: SessionDep, user: UserDep) -> Response:
    typed = await _posted_settings(request)
    try:
        data = _as_settings(typed)
    except ValidationError as exc:
        errors = field_errors(exc, FIELD_MESSAGES)
        return await _render(request, session, user, form=typed, errors=errors, status_code=422)
    await accounts.update_settings(session, user.account_id, data)
    return redirect("/settings", done="settings-saved")


@router.post("/settings/api-keys")
async def create_api_key(request: Request, session: SessionDep, user: UserDep) -> Response:
    """The new key is on this answer only: it is never stored in plain text nor shown again."""
    typed = await posted_text(request, ("key_name",))
    try:
        data = ApiKeyCreate(name=typed["key_name"])
    except ValidationError:
        errors = {"key_name": FIELD_MESSAGES["key_name"]}
        return await _render(
            request, session, user, errors=errors, key_name=typed["key_name"], status_code=422
        )
    api_key, plaintext = await accounts.issue_api_key(session, user.account_id, name=data.name)
    new_key = ApiKeyCreated(**accounts.api_key_read(api_key).model_dump(), key=plaintext)
    return await _render(request, session, user, new_key=new_key)


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(key_id: uuid.UUID, session: SessionDep, user: UserDep) -> Response:
    await accounts.revoke_api_key(session, user.account_id, key_id)
    return redirect("/settings", done="key-revoked")
