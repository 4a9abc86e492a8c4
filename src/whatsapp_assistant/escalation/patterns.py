"""The shape of a per-language escalation rule table and the regex fragments the tables share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# (short id, regex). The regex runs over `kit.text.fold`ed text (lower case, no accents), wrapped
# in word boundaries by rules.py, so tables are written without accents or case.
Rule = tuple[str, str]

# A sum of money, as customers type it: "380k", "380.000", "310,000 €", "300 mil", "€1200".
# Bare numbers need three digits so "can you do 3pm?" or "2 beds" are not amounts; times and
# distances ("18h", "300 metros") are not amounts either.
AMOUNT = (
    r"[€$£]?\s?"
    r"(?:\d{1,3}(?:[.,\s]\d{3}){1,3}|\d+(?:[.,]\d+)?\s?(?:k|m|mil|thousand|grand)|\d{3,})"
    r"(?:\s?(?:€|eur|euros?|usd|dollars?|pounds?))?"
    r"(?!\s?(?:am|pm|h|hrs?|horas?|:\d|m2|m²|sq|ft|km|metros|meters|metres|min\w*)\b)"
)


def any_of(*alternatives: str) -> str:
    """One regex from alternatives: the tables list one per line, to read and extend them easily."""
    return "|".join(alternatives)


@dataclass(frozen=True)
class RuleTable:
    """One language's rules: reason -> rules, and benign phrases whose matches never escalate.

    A rule match that lies wholly inside a benign match is ignored ("is the price negotiable?",
    "don't call me", "minimum contract length"); anything else in the same message still counts.
    """

    language: str
    rules: Mapping[str, tuple[Rule, ...]]
    benign: tuple[Rule, ...]
