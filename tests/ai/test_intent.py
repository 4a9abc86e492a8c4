"""Keyword rules for a customer message's language and what it asks for."""

from __future__ import annotations

import pytest

from whatsapp_assistant.ai import intent


class TestDetectLanguage:
    @pytest.mark.parametrize(
        ("text", "language"),
        [
            ("Hi, I'm looking for a flat", "en"),
            ("Hola, busco un piso en Sevilla", "es"),
            ("Buenas tardes, ¿cuánto cuesta?", "es"),
            ("Olá, procuro um T2 em Lisboa", "pt"),
            ("Bom dia! Quanto custa?", "pt"),
            ("oi, tem apartamento para alugar?", "pt"),
        ],
    )
    def test_by_keywords(self, text: str, language: str) -> None:
        assert intent.detect_language(text) == language

    def test_unclear_text_uses_the_default_then_english(self) -> None:
        assert intent.detect_language("T2 Graça?", default="pt") == "pt"
        assert intent.detect_language("T2 Graça?") == "en"
