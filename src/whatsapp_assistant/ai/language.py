"""Which of the product's languages a text is in: lingua, restricted to en/es/pt, built once."""

from __future__ import annotations

import re
from functools import cache

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetector, LanguageDetectorBuilder
from lingua import Language as LinguaLanguage

from whatsapp_assistant.kit.languages import LANGUAGES as LANGUAGES
from whatsapp_assistant.kit.languages import Language as Language

NAMES: dict[Language, str] = {"en": "English", "es": "Spanish", "pt": "Portuguese"}

_LINGUA: dict[Language, LinguaLanguage] = {
    "en": LinguaLanguage.ENGLISH,
    "es": LinguaLanguage.SPANISH,
    "pt": LinguaLanguage.PORTUGUESE,
}
_CODES: dict[IsoCode639_1, Language] = {
    lingua.iso_code_639_1: code for code, lingua in _LINGUA.items()
}

# Short lines carry little signal: "Show me Graça" reads 0.79 Portuguese, "hello" 0.54 Spanish.
# The conversation's language is guessed from a few words read with good confidence, and left
# for another only on a sentence's worth read with more; a one-off choice (no conversation
# language yet) takes the detector's best guess when it leads at all.
GUESS_LETTERS = 12
GUESS_CONFIDENCE = 0.8
SWITCH_LETTERS = 20
SWITCH_CONFIDENCE = 0.8
ONE_OFF_LETTERS = 2
ONE_OFF_CONFIDENCE = 0.45


@cache
def detector() -> LanguageDetector:
    """Built once per process, its models loaded up front (about 1.5 s and 110 MB for three
    languages; they ship inside the wheel, nothing is downloaded). Not the low-accuracy mode:
    on WhatsApp-length lines it is confidently wrong ("Quero um T3 em Campo de Ourique" reads
    0.99 Spanish), and a confidence that means something is what the thresholds above need."""
    return (
        LanguageDetectorBuilder.from_languages(*_LINGUA.values())
        .with_preloaded_language_models()
        .build()
    )


def as_language(value: str | None) -> Language | None:
    """`value` if it names a language the product speaks ("pt", "PT"), else None."""
    code = (value or "").strip().lower()
    return next((language for language in LANGUAGES if language == code), None)


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


# A capitalised word inside a sentence is most often a name: of a place ("Cascais", "Campo de
# Ourique") or a person. Names carry the language of the map, not of the writer: "Do you have
# villas in Cascais?" reads 0.47 Portuguese with them and 0.55 English without.
_NAME_INSIDE_SENTENCE = re.compile(r"(?<=[^\W\d_])([,;:]?\s+)[A-ZÀ-Ý][^\W\d_]*(?![\w])")


def _confidences(text: str) -> list[ConfidenceValue]:
    """The surer of two readings: the text as written, and without the names inside it."""
    values = detector().compute_language_confidence_values(text)
    stripped = _NAME_INSIDE_SENTENCE.sub(r"\1", text)
    if stripped != text and _letters(stripped) >= ONE_OFF_LETTERS:
        without = detector().compute_language_confidence_values(stripped)
        if without and (not values or without[0].value > values[0].value):
            return list(without)
    return list(values)


def identify(
    text: str, *, min_letters: int = GUESS_LETTERS, min_confidence: float = GUESS_CONFIDENCE
) -> Language | None:
    """The language of `text` when the detector is sure enough on enough letters, else None."""
    if _letters(text) < min_letters:
        return None
    values = _confidences(text)
    if not values or values[0].value < min_confidence:
        return None
    return _CODES.get(values[0].language.iso_code_639_1)


def detect_language(text: str, *, default: str | None = None) -> Language:
    """One text's language for a one-off choice: the best guess, else `default`, else English."""
    guess = identify(text, min_letters=ONE_OFF_LETTERS, min_confidence=ONE_OFF_CONFIDENCE)
    return guess or as_language(default) or "en"


def reads_latest_only(current: str | None, latest: str) -> bool:
    """Whether `follow` decides from `latest` alone, whatever came before: the language is known
    and `latest` holds a sentence's worth (so the conversation does too)."""
    return as_language(current) is not None and _letters(latest) >= SWITCH_LETTERS


def follow(current: str | None, *, so_far: str, latest: str) -> Language | None:
    """The conversation's language after the customer wrote `latest` (`so_far` includes it).

    Until the customer has written a sentence's worth, every message re-reads the whole
    conversation; after that only a long, clear message in another language changes it.
    """
    known = as_language(current)
    if known is None or _letters(so_far) < SWITCH_LETTERS:
        return identify(so_far) or known
    switched = identify(latest, min_letters=SWITCH_LETTERS, min_confidence=SWITCH_CONFIDENCE)
    return switched or known
