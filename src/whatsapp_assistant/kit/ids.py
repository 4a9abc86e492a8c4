"""Identifiers and secrets: UUIDs for rows, random tokens, and their one-way hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def new_token(prefix: str = "", nbytes: int = 24) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison so a wrong token leaks nothing through timing."""
    return hmac.compare_digest(given.encode(), expected.encode())
