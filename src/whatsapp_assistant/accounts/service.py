"""Sign-up, users, passwords (argon2), API keys (shown once, stored as SHA-256) and the persona."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.errors import (
    AccountNotFound,
    ApiKeyNotFound,
    EmailTaken,
)
from whatsapp_assistant.accounts.models import Account, ApiKey, Persona, User
from whatsapp_assistant.accounts.schemas import (
    AccountCreate,
    AccountSettings,
    ApiKeyRead,
    CreatedAccount,
    PersonaData,
    UserCreate,
)
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_token, sha256_hex

_hasher = PasswordHasher()
API_KEY_PREFIX = "wa_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_password_hash() -> str:
    """Verified against on unknown emails, so they take as long as a wrong password."""
    return _hasher.hash("no user has this password")


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(User.email == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def sign_up(session: AsyncSession, data: AccountCreate) -> CreatedAccount:
    email = data.email.strip().lower()
    if await find_user_by_email(session, email) is not None:
        raise EmailTaken("an account with this email exists", field="email")
    account = Account(name=data.name, owner_phone=data.owner_phone)
    session.add(account)
    await session.flush()
    user = User(
        account_id=account.id,
        email=email,
        name=data.name,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.add(Persona(account_id=account.id, agent_name=data.name))
    key = await create_api_key(session, account.id, name="default")
    await session.flush()
    return CreatedAccount(account_id=account.id, user_id=user.id, email=email, api_key=key)


async def create_user(session: AsyncSession, account_id: uuid.UUID, data: UserCreate) -> User:
    """Another person who signs in to an existing account."""
    if await session.get(Account, account_id) is None:
        raise AccountNotFound(f"no account {account_id}", field="account")
    email = data.email.strip().lower()
    if await find_user_by_email(session, email) is not None:
        raise EmailTaken("a user with this email exists", field="email")
    user = User(
        account_id=account_id,
        email=email,
        name=data.name,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    await session.flush()
    return user


async def create_api_key(session: AsyncSession, account_id: uuid.UUID, *, name: str) -> str:
    """Returns the plaintext key; only its hash is kept."""
    _, key = await issue_api_key(session, account_id, name=name)
    return key


async def issue_api_key(
    session: AsyncSession, account_id: uuid.UUID, *, name: str
) -> tuple[ApiKey, str]:
    """The new row and its plaintext key, which is never stored and never shown again."""
    key = new_token(API_KEY_PREFIX, 32)
    api_key = ApiKey(account_id=account_id, name=name, prefix=key[:10], key_hash=sha256_hex(key))
    session.add(api_key)
    await session.flush()
    return api_key, key


def api_key_read(api_key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        id=api_key.id,
        name=api_key.name,
        prefix=api_key.prefix,
        created_at=api_key.created_at,
        last_used_at=api_key.last_used_at,
        revoked=api_key.revoked_at is not None,
    )


async def list_api_keys(session: AsyncSession, account_id: uuid.UUID) -> Sequence[ApiKey]:
    stmt = for_account(select(ApiKey), ApiKey, account_id).order_by(ApiKey.created_at)
    return (await session.execute(stmt)).scalars().all()


async def revoke_api_key(session: AsyncSession, account_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """Idempotent; another account's key is not found (docs/architecture.md, invariant 6)."""
    stmt = for_account(select(ApiKey), ApiKey, account_id).where(ApiKey.id == key_id)
    api_key = (await session.execute(stmt)).scalar_one_or_none()
    if api_key is None:
        raise ApiKeyNotFound("no such API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        await session.flush()
    return api_key


async def find_api_key(session: AsyncSession, key: str) -> ApiKey | None:
    """The live key matching `key`. Hash lookup: the hash is unique, so no timing oracle on keys."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    stmt = select(ApiKey).where(ApiKey.key_hash == sha256_hex(key), ApiKey.revoked_at.is_(None))
    api_key = (await session.execute(stmt)).scalar_one_or_none()
    now = utcnow()
    if api_key is not None and (
        api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION
    ):
        # At most once a minute: a write per request would queue concurrent calls on this row.
        api_key.last_used_at = now
    return api_key


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def get_persona(session: AsyncSession, account_id: uuid.UUID) -> Persona:
    stmt = for_account(select(Persona), Persona, account_id)
    persona = (await session.execute(stmt)).scalar_one_or_none()
    if persona is None:
        persona = Persona(account_id=account_id)
        session.add(persona)
        await session.flush()
    return persona


async def update_persona(
    session: AsyncSession, account_id: uuid.UUID, data: PersonaData
) -> Persona:
    persona = await get_persona(session, account_id)
    for name, value in data.model_dump().items():
        setattr(persona, name, value)
    await session.flush()
    return persona


async def update_settings(
    session: AsyncSession, account_id: uuid.UUID, data: AccountSettings
) -> Account:
    account = await session.get(Account, account_id)
    assert account is not None  # the caller was authenticated as this account
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(account, name, value)
    await session.flush()
    return account
