"""FastAPI dependencies: the app's state, a request-scoped session, the caller and the user."""

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
from whatsapp_assistant.web.auth import CurrentUser, require_csrf, signed_in_user
from whatsapp_assistant.web.errors import SignInRequired


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
    """Who calls the JSON API: an API key, or a signed-in user's browser."""

    account_id: uuid.UUID
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"api_key:{self.api_key_id}"


async def get_caller(request: Request, session: SessionDep) -> Caller:
    """A Bearer API key, or the session cookie (with X-CSRF-Token on unsafe methods)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidApiKey("send 'Authorization: Bearer <api key>'")
        api_key = await accounts.find_api_key(session, token.strip())
        if api_key is None:
            raise InvalidApiKey("unknown or revoked API key")
        return Caller(account_id=api_key.account_id, api_key_id=api_key.id)
    user = await signed_in_user(request, session, get_state(request).settings)
    if user is None:
        raise InvalidApiKey("send 'Authorization: Bearer <api key>' or sign in")
    # A browser sends its cookie on any site's request; the header proves it is our page's.
    await require_csrf(request, user)
    return Caller(account_id=user.account_id, user_id=user.user_id)


CallerDep = Annotated[Caller, Depends(get_caller, scope="function")]


async def get_current_user(request: Request, session: SessionDep) -> CurrentUser:
    """For pages: not signed in goes to /login (and back); unsafe methods must carry CSRF."""
    user = await signed_in_user(request, session, get_state(request).settings)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path if request.method == "GET" else None)
    await require_csrf(request, user)
    return user


UserDep = Annotated[CurrentUser, Depends(get_current_user, scope="function")]
