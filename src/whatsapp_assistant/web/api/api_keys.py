"""API key routes: list, create (the key is shown once, in the answer) and revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/api-keys", tags=["api keys"], route_class=JSONBodyRoute)


@router.get("")
async def list_api_keys(session: SessionDep, caller: CallerDep) -> list[ApiKeyRead]:
    rows = await accounts.list_api_keys(session, caller.account_id)
    return [accounts.api_key_read(row) for row in rows]


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 403, 422))
async def create_api_key(
    body: ApiKeyCreate, session: SessionDep, caller: CallerDep
) -> ApiKeyCreated:
    """The answer holds the plaintext key; only its hash is kept, so it is never shown again."""
    api_key, plaintext = await accounts.issue_api_key(session, caller.account_id, name=body.name)
    return ApiKeyCreated(**accounts.api_key_read(api_key).model_dump(), key=plaintext)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404, 422),
)
async def revoke_api_key(key_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> None:
    """A revoked key answers 401 from then on; another account's key answers 404."""
    await accounts.revoke_api_key(session, caller.account_id, key_id)
