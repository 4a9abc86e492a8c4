"""The languages the product writes in, as codes: one list for every layer that needs it."""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "es", "pt"]
LANGUAGES: tuple[Language, ...] = ("en", "es", "pt")


def or_english(code: str | None) -> Language:
    """One of LANGUAGES; any other code (or none) is English."""
    wanted = (code or "").strip().lower()
    return next((language for language in LANGUAGES if language == wanted), "en")


def mixed_order(language: str) -> tuple[Language, ...]:
    """The message's language first, then the others: customers mix them ("cancelar pls")."""
    others = tuple(other for other in LANGUAGES if other != language)
    first = tuple(known for known in LANGUAGES if known == language)
    return first + others
