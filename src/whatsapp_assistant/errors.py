"""DomainError: every expected failure has a stable code and a kind; web/errors.py maps kinds."""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["not_found", "conflict", "invalid", "forbidden", "unauthorized", "unavailable"]


class DomainError(Exception):
    code: str = "error"
    kind: ErrorKind = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, object] | None:
        """What a caller can act on beyond the message (the free slots after a taken one)."""
        return None


class NotFound(DomainError):
    code = "not_found"
    kind: ErrorKind = "not_found"


class Conflict(DomainError):
    code = "conflict"
    kind: ErrorKind = "conflict"


class Invalid(DomainError):
    code = "invalid"
    kind: ErrorKind = "invalid"


class Unauthorized(DomainError):
    code = "unauthorized"
    kind: ErrorKind = "unauthorized"


class Unavailable(DomainError):
    code = "unavailable"
    kind: ErrorKind = "unavailable"
