"""FastAPI dependencies: the app's state, a request-scoped session and the caller's account."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.errors import InvalidApiKey
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.db.session import Database


@dataclass
class AppState:
    """What the lifespan built, held on app.state for the routes."""

    settings: Settings
    db: Database
    runtime: Runtime


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.app_state
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed by session_scope before the response is sent."""
    async with get_state(request).db.session_scope() as session:
        yield session


# scope="function": the transaction commits before the response leaves, never after it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Caller:
    account_id: uuid.UUID
    api_key_id: uuid.UUID

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"api_key:{self.api_key_id}"


async def get_caller(request: Request, session: SessionDep) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidApiKey("send 'Authorization: Bearer <api key>'")
    api_key = await accounts.find_api_key(session, token.strip())
    if api_key is None:
        raise InvalidApiKey("unknown or revoked API key")
    return Caller(account_id=api_key.account_id, api_key_id=api_key.id)


CallerDep = Annotated[Caller, Depends(get_caller, scope="function")]
