"""What a customer message asks for, read by keyword rules in en/es/pt; pure, no I/O.

Which language a message is in is `ai.language`'s question, not a word list's.
"""

from __future__ import annotations

import re

from whatsapp_assistant.kit.text import fold


def word_set(text: str) -> frozenset[str]:
    """A word list written as one string: easier to read and extend than hundreds of quotes."""
    return frozenset(text.split())


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


def asks_price(text: str) -> bool:
    return has_words(text, *_PRICE)


def wants_search(text: str) -> bool:
    return has_words(text, *_SEARCH_VERBS)
