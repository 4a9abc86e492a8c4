"""Plain-text helpers with no product words: splitting long text, folding accents for matching."""

from __future__ import annotations

import unicodedata


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, line or word boundaries so each part fits `limit` characters."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut <= limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def fold(text: str) -> str:
    """Lower case without accents: 'Graça' and 'graca' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
