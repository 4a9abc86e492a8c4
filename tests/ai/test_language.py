"""Language detection over en/es/pt: a guess only on enough text, a switch only when clear."""

from __future__ import annotations

import pytest

from whatsapp_assistant.ai import language


class TestIdentify:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Hi, I'm looking for a flat", "en"),
            ("Buenas tardes, ¿cuánto cuesta la comunidad al mes?", "es"),
            ("Bom dia! Quanto custa o condomínio?", "pt"),
            ("Ainda está disponível? Qual é o valor do condomínio?", "pt"),
        ],
    )
    def test_reads_a_clear_sentence(self, text: str, expected: str) -> None:
        assert language.identify(text) == expected

    @pytest.mark.parametrize("text", ["ok", "👍", "370k?", "Olá", "T2?"])
    def test_too_little_text_is_no_guess(self, text: str) -> None:
        assert language.identify(text) is None

    def test_the_detector_is_built_once(self) -> None:
        assert language.detector() is language.detector()


class TestDetectLanguage:
    def test_unreadable_text_uses_the_default_then_english(self) -> None:
        assert language.detect_language("👍", default="pt") == "pt"
        assert language.detect_language("👍", default="fr") == "en"
        assert language.detect_language("👍") == "en"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Do you have villas in Cascais?", "en"),
            ("Anything in Cascais or Graça?", "en"),
            ("Show me Graça", "en"),
            ("Quero um T3 em Campo de Ourique", "pt"),
            ("Busco piso en Sevilla hasta 300.000 €", "es"),
        ],
    )
    def test_place_names_do_not_decide_the_writers_language(self, text: str, expected: str) -> None:
        assert (
            language.detect_language(text, default="pt" if expected == "en" else "en") == expected
        )


class TestFollow:
    SPANISH = "Hola, busco un piso de dos habitaciones en Sevilla."

    def test_the_first_clear_messages_set_it(self) -> None:
        assert language.follow(None, so_far=self.SPANISH, latest=self.SPANISH) == "es"

    def test_a_short_line_in_another_language_keeps_it(self) -> None:
        so_far = f"{self.SPANISH}\nAceitariam 370 mil?"
        assert language.follow("es", so_far=so_far, latest="Aceitariam 370 mil?") == "es"

    def test_a_clear_sentence_in_another_language_switches_it(self) -> None:
        latest = "Sorry, can I speak to a real person about the parking, please?"
        so_far = f"{self.SPANISH}\n{latest}"
        assert language.follow("es", so_far=so_far, latest=latest) == "en"

    def test_nothing_readable_leaves_it_unknown(self) -> None:
        assert language.follow(None, so_far="ok", latest="ok") is None


class TestAsLanguage:
    @pytest.mark.parametrize(
        ("value", "expected"), [("pt", "pt"), (" PT ", "pt"), ("fr", None), (None, None)]
    )
    def test_only_the_products_languages(self, value: str | None, expected: str | None) -> None:
        assert language.as_language(value) == expected
