"""Which words of a customer message could name a place ('Graça', 'Campo de Ourique'); pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_assistant.ai.intent import word_set
from whatsapp_assistant.kit.text import fold

# English and local names of the same city: a customer writing "Lisboa" must find listings
# stored as "Lisbon" and the other way round.
ALIASES: dict[str, tuple[str, ...]] = {
    "lisbon": ("Lisboa",),
    "lisboa": ("Lisbon",),
    "porto": ("Oporto",),
    "oporto": ("Porto",),
    "seville": ("Sevilla",),
    "sevilla": ("Seville",),
}

_CONNECTORS = word_set("de da do das dos del la las los of")
_PREPOSITIONS = word_set("in em en near around at no na nos nas perto cerca")
_MAX_WORDS = 4
MAX_CANDIDATES = 8

# Words that are never a place name, in the three languages (accent-folded).
_NOT_PLACES = frozenset(
    fold(word)
    for word in word_set("""
    hi hello hey good morning afternoon evening thanks thank you please yes no ok okay the and or
    but for with without from to up under over below above about near around any some all what
    where when which who how much many can could would should will want wanted need looking look
    search find have has got you your our they them their there here this that these those its
    are was were been being is do does did not just also very really more less than max maximum
    min minimum budget price prices cost costs month monthly year per euros euro eur mil thousand
    million buy buying purchase sale sell rent rental renting let lease flat flats apartment
    apartments house houses villa villas studio studios home homes room rooms bed beds bedroom
    bedrooms bathroom bathrooms terrace garden pool garage view views river sea new old big small
    large cheap family visit viewing tour schedule see book available availability interested
    hola buenos buenas dias tardes noches gracias quiero queria quisiera busco buscando estoy
    tengo tienes tiene tienen hay para con sin hasta desde entre por que cual cuanto cuesta precio
    mes piso pisos casa casas chalet habitacion habitaciones dormitorio dormitorios alquilar
    alquiler comprar venta vender ver visita visitar gustaria mucho muy algo alguno alguna
    ola bom boa dia tarde noite obrigado obrigada sim nao quero procuro procurando estou tenho
    tem tens voce ate entre quanto custa preco mes moradia moradias apartamento apartamentos
    quarto quartos alugar arrendar arrendamento venda vender visitar gostaria muito algum alguma
    rua avenida street road i'm i'd i'll i've my name me
    """)
)
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def folded(self) -> str:
        return fold(self.text)


def _is_content(token: _Token) -> bool:
    return (
        len(token.text) >= 3
        and token.folded not in _NOT_PLACES
        and token.folded not in _CONNECTORS
        and not re.fullmatch(r"t\d", token.folded)
    )


def _spans(text: str) -> list[list[_Token]]:
    """Runs of place-like words, joined by spaces and connectors ('Campo de Ourique')."""
    tokens = [_Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    spans: list[list[_Token]] = []
    for i, first in enumerate(tokens):
        if not _is_content(first):
            continue
        span = [first]
        for token in tokens[i + 1 : i + 2 * _MAX_WORDS]:
            if text[span[-1].end : token.start].strip():
                break  # punctuation between words ends a place name
            if not (_is_content(token) or token.folded in _CONNECTORS):
                break
            span.append(token)
            if _is_content(token) and len(span) <= _MAX_WORDS:
                spans.append(list(span))
        spans.append([first])
    return spans


@dataclass(frozen=True)
class Candidate:
    """A phrase to search as a location, and the words the customer used for it."""

    search: str
    said: str


def place_candidates(text: str) -> list[Candidate]:
    """Phrases worth a location search, longest first, each followed by its aliases."""
    spans = sorted(_spans(text), key=lambda span: (-len(span), span[0].start))
    seen: set[str] = set()
    candidates: list[Candidate] = []
    for span in spans:
        phrase = text[span[0].start : span[-1].end]
        for name in (phrase, *ALIASES.get(fold(phrase), ())):
            if fold(name) not in seen:
                seen.add(fold(name))
                candidates.append(Candidate(search=name, said=phrase))
    return candidates[:MAX_CANDIDATES]


def named_place(text: str, *, after_preposition_only: bool = False) -> str | None:
    """A phrase the customer meant as a place: after 'in'/'em'/'en', or (unless told otherwise)
    capitalised mid-sentence. Capitals alone are weak evidence: people's names have them too."""
    tokens = [_Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    before = {token.start: tokens[i - 1].folded if i else "" for i, token in enumerate(tokens)}
    best: str | None = None
    for span in _spans(text):
        head = span[0]
        prefix = text[: head.start].rstrip()
        capitalised = head.text[0].isupper() and bool(prefix) and prefix[-1] not in ".!?"
        if before.get(head.start) in _PREPOSITIONS or (capitalised and not after_preposition_only):
            phrase = text[head.start : span[-1].end]
            if best is None or len(phrase) > len(best):
                best = phrase
    return best
