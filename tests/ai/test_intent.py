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


class TestHandoffReason:
    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("Would they take 380k?", "negotiation"),
            ("Aceitam 350 mil?", "negotiation"),
            ("¿Hay descuento?", "negotiation"),
            ("Can you review the contract?", "legal"),
            ("Quanto é o IMT?", "legal"),
            ("Can I get a mortgage?", "financing"),
            ("I want to talk to a real person", "human_request"),
            ("Quero falar com uma pessoa", "human_request"),
            ("This service is unacceptable", "objection"),
        ],
    )
    def test_hands_over_what_the_agent_must_decide(self, text: str, reason: str) -> None:
        assert intent.handoff_reason(text) == reason

    @pytest.mark.parametrize(
        "text",
        [
            "Is the price negotiable?",
            "What are the condominium fees?",
            "Thanks! 👍",
            "Aceitam animais?",
            "Can I see it in person?",
        ],
    )
    def test_facts_and_small_talk_stay_with_the_ai(self, text: str) -> None:
        assert intent.handoff_reason(text) is None
