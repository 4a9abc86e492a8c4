"""What a customer message asks for, read by keyword rules in en/es/pt; pure, no I/O."""

from __future__ import annotations

import re
from typing import Literal

from whatsapp_assistant.kit.text import fold

Language = Literal["en", "es", "pt"]


def word_set(text: str) -> frozenset[str]:
    """A word list written as one string: easier to read and extend than hundreds of quotes."""
    return frozenset(text.split())


# Words that point to one language more than the others (lower case, accents kept: "mês" is
# Portuguese, "mes" Spanish). Shared words such as "casa" or "apartamento" score nothing.
_LANGUAGE_WORDS: dict[Language, frozenset[str]] = {
    "en": word_set(
        "hi hello hey good morning afternoon evening the i i'm im looking for want would like "
        "to rent buy bedroom bedrooms bed beds how much price is are in with up under can "
        "viewing visit see it flat house apartment please thanks thank you any have do you "
        "what where when month per budget max maximum near there"
    ),
    "es": word_set(
        "hola buenos buenas días dias gracias quiero quería queria estoy busco buscando "
        "habitaciones habitación habitacion dormitorios dormitorio hasta usted sí en con "
        "precio cuánto cuanto cuesta alquilar alquiler piso mes al hay tiene tienen el los "
        "las del y qué dónde donde gustaría gustaria ver visita para comprar venta "
        "euros mil"
    ),
    "pt": word_set(
        "olá ola oi bom dia boa tarde noite obrigado obrigada quero queria estou procuro "
        "procurando quartos quarto até você voce não nao sim em uma com preço preco quanto "
        "custa alugar arrendar arrendamento moradia mês tem têm há isso gostaria ver e é "
        "visitar visita na da do dos das para comprar venda euros mil tudo"
    ),
}
# The strongest hints, counted twice: words only one of the three languages uses.
_STRONG_WORDS: dict[Language, frozenset[str]] = {
    "en": word_set("the hello thanks looking bedroom bedrooms how much please"),
    "es": word_set("hola gracias habitaciones dormitorios hasta busco cuánto cuanto piso"),
    "pt": word_set("olá obrigado obrigada quartos até procuro quanto moradia mês você"),
}

_WORD = re.compile(r"[\w'’€£$]+", re.UNICODE)


def words(text: str) -> list[str]:
    return [match.group(0).replace("’", "'") for match in _WORD.finditer(text.lower())]


def detect_language(text: str, *, default: str | None = None) -> Language:
    """The language of `text` by keyword score; `default` (if en/es/pt) or English when unclear."""
    tokens = words(text)
    scores: dict[Language, int] = {}
    for language, vocabulary in _LANGUAGE_WORDS.items():
        strong = _STRONG_WORDS[language]
        scores[language] = sum((2 if t in strong else 1) for t in tokens if t in vocabulary)
    best = max(scores.values())
    if best > 0:
        leaders = [lang for lang, score in scores.items() if score == best]
        if len(leaders) == 1:
            return leaders[0]
        if default in leaders:
            return _as_language(default)
        return leaders[0]
    return _as_language(default)


def _as_language(value: str | None) -> Language:
    if value == "es":
        return "es"
    if value == "pt":
        return "pt"
    return "en"


def has_words(text: str, *patterns: str) -> bool:
    """Any pattern matches the accent-folded text on word boundaries."""
    folded = fold(text)
    return any(re.search(rf"(?<!\w){pattern}(?!\w)", folded) for pattern in patterns)


_GREETING = (
    r"hi+",
    r"hello",
    r"hey",
    r"good (morning|afternoon|evening)",
    r"hola",
    r"buen[oa]s( dias| tardes| noches)?",
    r"ola",
    r"bom dia",
    r"boa (tarde|noite)",
    r"oi+",
)
_THANKS = (r"thanks?( you)?", r"thank you", r"gracias", r"obrigad[oa]", r"valeu")
_VIEWING = (
    r"visit",
    r"viewing",
    r"view (it|the|this|that)",
    r"see (it|the|this|that)",
    r"schedule",
    r"tour",
    r"visitar",
    r"visita",
    r"ver( o| a| el| la| lo| esse| essa| este| esta| isso| ese| esa)",
    r"ve-l[oa]|verl[oa]",
    r"agendar",
    r"marcar",
)
_PRICE = (
    r"how much",
    r"price",
    r"cost",
    r"precos?",
    r"precios?",
    r"cuanto( cuesta| es| vale)?",
    r"quanto( custa| e| vale)?",
    r"valor",
)
_SEARCH_VERBS = (
    r"looking for",
    r"search(ing)?",
    r"want",
    r"need",
    r"any",
    r"available",
    r"do you have",
    r"have you got",
    r"procur\w*",
    r"quero",
    r"queria",
    r"tem",
    r"tens",
    r"disponive(l|is)",
    r"busc\w*",
    r"quiero",
    r"tienes?",
    r"tienen",
    r"hay",
    r"disponibles?",
)


def is_greeting(text: str) -> bool:
    return has_words(text, *_GREETING)


def is_thanks(text: str) -> bool:
    return has_words(text, *_THANKS)


def wants_viewing(text: str) -> bool:
    return has_words(text, *_VIEWING)


def asks_price(text: str) -> bool:
    return has_words(text, *_PRICE)


def wants_search(text: str) -> bool:
    return has_words(text, *_SEARCH_VERBS)
