"""The product's languages: any other code reads as English; a message's own language first."""

from __future__ import annotations

import pytest

from whatsapp_assistant.kit.languages import mixed_order, or_english


@pytest.mark.parametrize(
    ("code", "expected"),
    [("pt", "pt"), (" ES ", "es"), ("fr", "en"), ("", "en"), (None, "en"), ("pt-BR", "en")],
)
def test_any_other_code_is_english(code: str | None, expected: str) -> None:
    assert or_english(code) == expected


def test_the_messages_language_is_read_first_then_the_others() -> None:
    assert mixed_order("es") == ("es", "en", "pt")
    assert mixed_order("fr") == ("en", "es", "pt")
