"""Which words of a customer message may name a place of the agent's listings."""

from __future__ import annotations

import pytest

from whatsapp_assistant.ai.places import named_place, place_candidates


class TestPlaceCandidates:
    def test_candidates_prefer_the_longest_phrase(self) -> None:
        searched = [c.search for c in place_candidates("Quero um T3 em Campo de Ourique")]

        assert searched[0] == "Campo de Ourique"

    def test_aliases_follow_the_customers_word(self) -> None:
        candidates = place_candidates("Busco piso en Sevilla")

        assert [(c.search, c.said) for c in candidates] == [
            ("Sevilla", "Sevilla"),
            ("Seville", "Sevilla"),
        ]

    def test_common_words_are_not_places(self) -> None:
        assert place_candidates("Hi, do you have a 2 bedroom flat for rent?") == []


class TestNamedPlace:
    @pytest.mark.parametrize(
        ("text", "place"),
        [("Any flats in Faro?", "Faro"), ("tem algo em aveiro", "aveiro"), ("Hi there", None)],
    )
    def test_named_place_is_capitalised_or_after_in(self, text: str, place: str | None) -> None:
        assert named_place(text) == place
