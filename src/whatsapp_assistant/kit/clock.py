"""Time in one place: aware UTC datetimes, so SQLite and PostgreSQL agree."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
