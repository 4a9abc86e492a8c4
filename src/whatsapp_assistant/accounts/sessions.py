"""Sign-in sessions: sign in and out, the session behind a cookie token, password resets."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.errors import InvalidCredentials, InvalidPassword, UserNotFound
from whatsapp_assistant.accounts.models import User, UserSession
from whatsapp_assistant.accounts.service import (
    check_password,
    dummy_password_hash,
    find_user_by_email,
    hash_password,
    needs_rehash,
)
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_token, sha256_hex

# last_seen_at moves at most this often, so reading pages is not a write per request.
SEEN_RESOLUTION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 100


async def sign_in(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    max_age: timedelta,
    user_agent: str | None = None,
    ip: str | None = None,
) -> tuple[str, User]:
    """The new session's token (for the cookie; only its hash is stored) and its user."""
    user = await find_user_by_email(session, email)
    # argon2 is slow on purpose: off the event loop. An unknown email is verified against a
    # dummy hash so that it answers as slowly as a wrong password (no account enumeration).
    stored = user.password_hash if user is not None else dummy_password_hash()
    matches = await asyncio.to_thread(check_password, stored, password)
    if user is None or not matches:
        raise InvalidCredentials("wrong email or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = new_token("", 32)
    now = utcnow()
    session.add(
        UserSession(
            account_id=user.account_id,
            user_id=user.id,
            token_hash=sha256_hex(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
            user_agent=(user_agent or "")[:300] or None,
            ip=ip[:64] if ip else None,
        )
    )
    await session.flush()
    return token, user


async def find_session(
    session: AsyncSession, token: str, *, idle: timedelta
) -> tuple[UserSession, User] | None:
    """The live session for a cookie token; None when unknown, revoked, expired or idle too long."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    stmt = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == sha256_hex(token), UserSession.revoked_at.is_(None))
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    user_session, user = row
    now = utcnow()
    if user_session.expires_at <= now or user_session.last_seen_at + idle <= now:
        return None
    if now - user_session.last_seen_at >= SEEN_RESOLUTION:
        user_session.last_seen_at = now
        await session.flush()
    return user_session, user


async def sign_out(session: AsyncSession, token: str) -> bool:
    """Revokes the session behind `token`; False when there was none to revoke."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return False
    stmt = (
        update(UserSession)
        .where(UserSession.token_hash == sha256_hex(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Signs the user out everywhere; the number of sessions that were live."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0))


async def reset_password(session: AsyncSession, email: str, password: str) -> tuple[User, int]:
    """Sets a new password and signs the user out everywhere (a reset follows a suspected leak)."""
    if not 8 <= len(password) <= 200:
        raise InvalidPassword("a password has 8 to 200 characters", field="password")
    user = await find_user_by_email(session, email)
    if user is None:
        raise UserNotFound(f"no user with email {email.strip().lower()}", field="email")
    user.password_hash = hash_password(password)
    await session.flush()
    return user, await revoke_user_sessions(session, user.id)
