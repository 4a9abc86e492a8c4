"""Time in one place: aware UTC datetimes, so SQLite and PostgreSQL agree.

`utcnow` can be moved forward by `advance` (and back by `reset`): tests and the demo fast-forward
through follow-ups and reminders due hours or days ahead, without sleeping. Only time read here
moves; the job queue's own clock does not (docs/decisions.md, 25).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> None:
    """Move this process's clock forward by `by`."""
    global _offset
    if by < timedelta(0):
        raise ValueError("the clock only moves forward")
    _offset += by


def reset() -> None:
    """Back to the real time."""
    global _offset
    _offset = timedelta(0)


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
