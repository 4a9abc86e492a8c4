"""The login page, signing in (CSRF-checked, rate limited) and signing out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from limits.errors import StorageError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.accounts.errors import InvalidCredentials
from whatsapp_assistant.config import Settings
from whatsapp_assistant.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
    login_csrf,
    login_csrf_ok,
    require_csrf,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
    signed_in_user,
)
from whatsapp_assistant.web.deps import SessionDep, StateDep
from whatsapp_assistant.web.login_throttle import (
    LoginThrottle,
    LoginThrottleDep,
    login_throttle_lifespan,
)
from whatsapp_assistant.web.templating import templates

router = APIRouter(tags=["sign-in"], include_in_schema=False, lifespan=login_throttle_lifespan)

WRONG_CREDENTIALS = "Wrong email or password."
STALE_FORM = "This sign-in form had expired. Please try again."
UNAVAILABLE = "Signing in is unavailable for a moment. Please try again shortly."


def _too_many(throttle: LoginThrottle) -> str:
    minutes = math.ceil(throttle.window_seconds / 60)
    return f"Too many failed sign-in attempts. Please wait {minutes} minutes and try again."


def render_login(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    nonce, token = login_csrf(settings, request.cookies.get(LOGIN_CSRF_COOKIE))
    context = {"csrf_token": token, "next_path": next_path, "email": email, "error": error}
    response = templates.TemplateResponse(request, "login.html", context, status_code=status_code)
    set_login_csrf_cookie(response, settings, nonce)
    # Pages with a CSRF token and a typed email are never cached nor framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@router.get("/login")
async def login_page(
    request: Request,
    session: SessionDep,
    state: StateDep,
    next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    if await signed_in_user(request, session, state.settings) is not None:
        return RedirectResponse(safe_next(next_path), 303)
    return render_login(request, state.settings, next_path=safe_next(next_path))


@dataclass(frozen=True)
class Refusal:
    message: str
    status_code: int


async def _sign_in(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    throttle: LoginThrottle,
    email: str,
    password: str,
) -> str | Refusal:
    """The new session's token, or why there is none; only failures count against the limits."""
    address = client_address(request)
    try:
        if not await throttle.allows(email, address):
            return Refusal(_too_many(throttle), 429)
        try:
            token, _ = await sessions.sign_in(
                session,
                email,
                password,
                max_age=timedelta(days=settings.session.max_age_days),
                user_agent=request.headers.get("user-agent"),
                ip=address,
            )
        except InvalidCredentials:
            await throttle.record_failure(email, address)
            return Refusal(WRONG_CREDENTIALS, 401)
    except StorageError:
        # Without the counters we cannot tell a guesser from a user: refuse rather than allow.
        return Refusal(UNAVAILABLE, 503)
    return token


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    state: StateDep,
    throttle: LoginThrottleDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Success: a session cookie and 303 to `next` (same-site paths only) or the inbox."""
    settings, target = state.settings, safe_next(next_path)
    if not login_csrf_ok(settings, request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        outcome: str | Refusal = Refusal(STALE_FORM, 403)
    else:
        outcome = await _sign_in(request, session, settings, throttle, email, password)
    if isinstance(outcome, Refusal):
        return render_login(
            request,
            settings,
            next_path=target,
            email=email,
            error=outcome.message,
            status_code=outcome.status_code,
        )
    response = RedirectResponse(target, 303)
    set_session_cookie(response, settings, outcome)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, state: StateDep) -> Response:
    """Revokes this browser's session (CSRF-checked) and goes back to the login page."""
    user = await signed_in_user(request, session, state.settings)
    if user is not None:
        await require_csrf(request, user)
        await sessions.sign_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", 303)
    clear_session_cookie(response, state.settings)
    return response
