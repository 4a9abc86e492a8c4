"""A user's private calendar feed: the secret in its URL, kept only as a hash, and revoking it.

The feed URL is the whole authority (calendar apps send no cookie), so it is a random token shown
once; the row holds its SHA-256 and is found by that hash, as API keys are: an unknown token
costs the same lookup as a known one (docs/decisions.md, 22). One feed per user: creating another
replaces the hash, so the old URL stops working in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_token, sha256_hex

TOKEN_PREFIX = "cal_"  # noqa: S105 - a prefix that tells the token apart, not a secret
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 100


class CalendarFeed(IdMixin, TenantMixin, Base):
    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def find_user_feed(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> CalendarFeed | None:
    stmt = for_account(select(CalendarFeed), CalendarFeed, account_id).where(
        CalendarFeed.user_id == user_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def create_feed(session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """A new secret for the user's feed, replacing any earlier one; the plaintext is returned
    here only."""
    token = new_token(TOKEN_PREFIX, 32)
    feed = await find_user_feed(session, account_id, user_id)
    if feed is None:
        feed = CalendarFeed(account_id=account_id, user_id=user_id)
        session.add(feed)
    feed.token_hash = sha256_hex(token)
    feed.created_at = utcnow()
    await session.flush()
    return token


async def revoke_feed(session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Deletes the user's feed; False when there was none."""
    stmt = delete(CalendarFeed).where(
        CalendarFeed.account_id == account_id, CalendarFeed.user_id == user_id
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def find_feed(session: AsyncSession, token: str) -> CalendarFeed | None:
    """The feed whose URL carries `token`, by the hash's unique index."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    stmt = select(CalendarFeed).where(CalendarFeed.token_hash == sha256_hex(token))
    return (await session.execute(stmt)).scalar_one_or_none()
