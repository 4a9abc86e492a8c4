"""Hand-over texts: right language, the agent's name, one tone per style, nothing left unfilled."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from whatsapp_assistant.ai.language import detect_language
from whatsapp_assistant.escalation import messages
from whatsapp_assistant.escalation.rules import is_opt_in, is_opt_out

# A word each language's customer texts use and the others do not.
MARKERS = {
    "handoff": {"en": "personally", "es": "personalmente", "pt": "pessoalmente"},
    "holding": {"en": "assistant", "es": "asistente", "pt": "assistente"},
}
TextFn = Callable[..., str]
KINDS: dict[str, TextFn] = {"handoff": messages.handoff_text, "holding": messages.holding_text}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("language", messages.LANGUAGES)
class TestCustomerTexts:
    def test_in_the_language_asked_with_the_agent_name(self, kind: str, language: str) -> None:
        for style in messages.STYLES:
            text = KINDS[kind](language, agent_name="Rita Costa", style=style)
            assert "Rita Costa" in text
            assert MARKERS[kind][language] in text.lower()
            assert not re.search(r"[{}]", text)

    def test_each_style_reads_differently(self, kind: str, language: str) -> None:
        texts = {KINDS[kind](language, agent_name="Rita", style=s) for s in messages.STYLES}
        assert len(texts) == len(messages.STYLES)

    def test_promises_no_time_or_number(self, kind: str, language: str) -> None:
        for style in messages.STYLES:
            assert not re.search(r"\d", KINDS[kind](language, agent_name="Rita", style=style))

    def test_without_a_name_the_agent_is_named_generically(self, kind: str, language: str) -> None:
        text = KINDS[kind](language, agent_name="  ", style="professional")
        generic = {"en": "The agent", "es": "El agente", "pt": "O agente"}[language]
        assert generic in text

    def test_detected_language_of_the_text_is_its_own(self, kind: str, language: str) -> None:
        for style in messages.STYLES:
            text = KINDS[kind](language, agent_name="Rita", style=style)
            assert detect_language(text) == language


class TestFallbacks:
    def test_unknown_language_and_style_fall_back_to_english_friendly(self) -> None:
        assert messages.handoff_text("fr", agent_name="Rita", style="pirate") == (
            messages.handoff_text("en", agent_name="Rita", style="friendly")
        )

    def test_braces_in_a_name_are_kept_literally(self) -> None:
        assert "{Rita}" in messages.handoff_text("en", agent_name="{Rita}", style="casual")

    def test_handoff_and_holding_differ(self) -> None:
        for language in messages.LANGUAGES:
            handoff = messages.handoff_text(language, agent_name="Rita", style="friendly")
            holding = messages.holding_text(language, agent_name="Rita", style="friendly")
            assert handoff != holding


class TestOptTexts:
    @pytest.mark.parametrize("language", messages.LANGUAGES)
    def test_opted_out_text_names_a_keyword_that_opts_back_in(self, language: str) -> None:
        keywords = re.findall(r"\b[A-Z]{4,}\b", messages.opted_out_text(language))
        assert keywords
        assert all(is_opt_in(word) for word in keywords)

    @pytest.mark.parametrize("language", messages.LANGUAGES)
    def test_opted_in_text_names_a_keyword_that_opts_out(self, language: str) -> None:
        keywords = re.findall(r"\b[A-Z]{4,}\b", messages.opted_in_text(language))
        assert keywords
        assert all(is_opt_out(word) for word in keywords)

    @pytest.mark.parametrize("language", messages.LANGUAGES)
    def test_detected_language_of_the_text_is_its_own(self, language: str) -> None:
        assert detect_language(messages.opted_out_text(language)) == language
        assert detect_language(messages.opted_in_text(language)) == language

    def test_each_language_has_its_own_text(self) -> None:
        assert len({messages.opted_out_text(lang) for lang in messages.LANGUAGES}) == 3
        assert len({messages.opted_in_text(lang) for lang in messages.LANGUAGES}) == 3
        assert messages.opted_out_text("de") == messages.opted_out_text("en")


class TestAgentAlert:
    def test_says_who_why_and_what(self) -> None:
        text = messages.agent_alert_text(
            customer="Maria Silva (+351 912 345 678)",
            reason="negotiation",
            excerpt="Would they take 380k?",
        )
        assert "Maria Silva (+351 912 345 678)" in text
        assert "offer" in text
        assert "Would they take 380k?" in text

    def test_long_excerpt_is_shortened_on_one_line(self) -> None:
        excerpt = "word " * 100 + "\n\nlast"
        text = messages.agent_alert_text(customer="Ana", reason="legal", excerpt=excerpt)
        quoted = next(line for line in text.splitlines() if line.startswith("“"))
        assert quoted.endswith("…”")
        assert len(quoted) <= messages.EXCERPT_LENGTH + 3
        assert "last" not in text

    @pytest.mark.parametrize(
        ("reason", "label"),
        [
            ("objection", "complaint"),
            ("legal", "legal"),
            ("financing", "financing"),
            ("human_request", "person"),
            ("ai_unavailable", "AI"),
            ("something_new", "something new"),
        ],
    )
    def test_names_every_reason(self, reason: str, label: str) -> None:
        text = messages.agent_alert_text(customer="Ana", reason=reason, excerpt="hello")
        assert label in text

    def test_blank_customer_and_excerpt_still_read_well(self) -> None:
        text = messages.agent_alert_text(customer=" ", reason="other", excerpt="  ")
        assert "A customer" in text
        assert "“" not in text
