"""Persona routes: how the assistant presents itself."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import PersonaData
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/persona", tags=["persona"], route_class=JSONBodyRoute)


@router.get("")
async def get_persona(session: SessionDep, caller: CallerDep) -> PersonaData:
    return PersonaData.model_validate(await accounts.get_persona(session, caller.account_id))


@router.put("", responses=error_responses(400, 403, 422))
async def put_persona(body: PersonaData, session: SessionDep, caller: CallerDep) -> PersonaData:
    persona = await accounts.update_persona(session, caller.account_id, body)
    return PersonaData.model_validate(persona)
