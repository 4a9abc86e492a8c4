"""Session cookies and CSRF tokens: how a browser proves who it is and that a form is ours."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.config import Settings
from whatsapp_assistant.kit.ids import new_token, same_secret
from whatsapp_assistant.web.errors import CsrfRejected

SESSION_COOKIE = "wa_session"
# Before sign-in there is no session to bind a CSRF token to: this cookie holds a random nonce
# and the form carries its HMAC (a signed double submit), so a cross-site form cannot sign in.
LOGIN_CSRF_COOKIE = "wa_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_NEXT = "/inbox"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user of a request, with the CSRF token its pages put in forms."""

    user_id: uuid.UUID
    account_id: uuid.UUID
    email: str
    name: str
    session_id: uuid.UUID
    csrf_token: str

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"user:{self.user_id}"


def _sign(settings: Settings, purpose: str, value: str) -> str:
    message = f"{purpose}:{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def session_csrf_token(settings: Settings, session_token: str) -> str:
    """Derived, not stored: valid exactly as long as the session it belongs to."""
    return _sign(settings, "session-csrf", session_token)


def login_csrf(settings: Settings, nonce: str | None) -> tuple[str, str]:
    """The nonce for the pre-session cookie (reused when still well-formed) and the form token."""
    if nonce is None or not 16 <= len(nonce) <= 100:
        nonce = new_token("", 24)
    return nonce, _sign(settings, "login-csrf", nonce)


def login_csrf_ok(settings: Settings, nonce: str | None, token: str) -> bool:
    if not nonce or not token:
        return False
    return same_secret(token, _sign(settings, "login-csrf", nonce))


def _set_cookie(
    response: Response, settings: Settings, key: str, value: str, max_age: int, path: str = "/"
) -> None:
    response.set_cookie(
        key,
        value,
        max_age=max_age,
        path=path,
        secure=settings.cookies_secure,
        httponly=True,
        samesite="lax",
    )


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    max_age = int(timedelta(days=settings.session.max_age_days).total_seconds())
    _set_cookie(response, settings, SESSION_COOKIE, token, max_age)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.cookies_secure, httponly=True, samesite="lax"
    )


def set_login_csrf_cookie(response: Response, settings: Settings, nonce: str) -> None:
    _set_cookie(response, settings, LOGIN_CSRF_COOKIE, nonce, 2 * 3600, path="/login")


async def signed_in_user(
    request: Request, session: AsyncSession, settings: Settings
) -> CurrentUser | None:
    """The user behind the session cookie, or None (no cookie, unknown, revoked or expired)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    idle = timedelta(days=settings.session.idle_days)
    found = await sessions.find_session(session, token, idle=idle)
    if found is None:
        return None
    user_session, user = found
    return CurrentUser(
        user_id=user.id,
        account_id=user.account_id,
        email=user.email,
        name=user.name,
        session_id=user_session.id,
        csrf_token=session_csrf_token(settings, token),
    )


async def submitted_csrf(request: Request) -> str:
    """The token a request carries: the X-CSRF-Token header, else the form's csrf_token field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        # Starlette caches the parsed form, so the route still reads it after this.
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def require_csrf(request: Request, user: CurrentUser) -> None:
    """Unsafe methods must prove they come from our own pages; safe ones change nothing."""
    if request.method not in UNSAFE_METHODS:
        return
    if not same_secret(await submitted_csrf(request), user.csrf_token):
        raise CsrfRejected


def safe_next(value: str | None) -> str:
    """A same-site path to go to after sign-in; anything else (another host) goes to the inbox."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value


def client_address(request: Request) -> str:
    """The peer address; behind a proxy, uvicorn's --proxy-headers makes it the real client's."""
    return request.client.host if request.client else "unknown"
