"""Account settings routes: takeover from the phone, auto-resume, alerts, the holding text."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountSettings
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/account", tags=["account"], route_class=JSONBodyRoute)


@router.get("/settings")
async def get_settings(session: SessionDep, caller: CallerDep) -> AccountSettings:
    account = await accounts.get_account(session, caller.account_id)
    return AccountSettings.model_validate(account)


@router.patch("/settings", responses=error_responses(400, 403, 422))
async def patch_settings(
    body: AccountSettings, session: SessionDep, caller: CallerDep
) -> AccountSettings:
    """Only the fields sent change."""
    account = await accounts.update_settings(session, caller.account_id, body)
    return AccountSettings.model_validate(account)
