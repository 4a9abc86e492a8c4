"""Search criteria in a customer message: budget, bedrooms, sale or rent, property type; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from whatsapp_assistant.ai.intent import has_words
from whatsapp_assistant.kit.text import fold

ListingType = Literal["sale", "rent"]


def is_monthly(text: str) -> bool:
    """'per month', '/month', 'por mês', 'al mes', 'mensal': a rent budget."""
    folded = fold(text)
    return has_words(
        text, r"per month", r"a month", r"por mes", r"al mes", r"mensa(l|lidade|ual)"
    ) or (re.search(r"/\s?(month|mo|mes)(?!\w)", folded) is not None)


def parse_listing_type(text: str) -> ListingType | None:
    if is_monthly(text) or has_words(
        text, r"rent\w*", r"to let", r"lease", r"alug\w*", r"arrend\w*", r"alquil\w*"
    ):
        return "rent"
    if has_words(text, r"buy\w*", r"purchase", r"for sale", r"compr\w*", r"venda", r"venta"):
        return "sale"
    return None


_PROPERTY_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("studio", (r"studios?", r"estudios?", r"loft")),
    ("villa", (r"villas?", r"vivendas?")),
    ("house", (r"houses?", r"casas?", r"moradias?", r"chalet")),
    # "T2" is a typology of any home (a moradia T4 too), so it says nothing about the type.
    ("apartment", (r"flats?", r"apartments?", r"apartamentos?", r"pisos?")),
)


def parse_property_type(text: str) -> str | None:
    return next((kind for kind, pats in _PROPERTY_TYPES if has_words(text, *pats)), None)


def is_generic_home(text: str) -> bool:
    """'casa' / 'home' may mean any home, not only a house."""
    return has_words(text, r"casas?", r"homes?") and not has_words(
        text, r"houses?", r"moradias?", r"chalet"
    )


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "quatro": 4,
}  # fmt: skip
_BEDROOM_WORDS = r"(bed(room)?s?|br|quartos?|habitacion(es)?|dormitorios?|assoalhadas?)"


def parse_bedrooms(text: str) -> int | None:
    """'2-bedroom', '2 bed', 'T2', '2 quartos', 'dos habitaciones' → 2."""
    folded = fold(text)
    typology = re.search(r"(?<!\w)t(\d)(?!\w)", folded)
    if typology:
        return int(typology.group(1))
    counted = re.search(rf"(?<!\w)(\d{{1,2}}|[a-z]+)[\s-]*{_BEDROOM_WORDS}(?!\w)", folded)
    if counted is None:
        return None
    count = counted.group(1)
    return int(count) if count.isdigit() else _NUMBER_WORDS.get(count)


@dataclass(frozen=True)
class Budget:
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    monthly: bool = False


_AMOUNT = re.compile(
    r"(?P<cur1>[€$£])?\s*(?P<num>\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?)\s*"
    r"(?P<mult>k|m|mil|thousand|million|millones|milhoes|mill)?(?!\w)\s*"
    r"(?P<cur2>€|eur\b|euros?\b|\$|£|usd\b|gbp\b)?",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    "k": 1000, "mil": 1000, "thousand": 1000,
    "m": 1_000_000, "million": 1_000_000, "millones": 1_000_000,
    "milhoes": 1_000_000, "mill": 1_000_000,
}  # fmt: skip
_LOWER = r"from|at least|over|above|more than|min(imum)?|a partir de|desde|mais de|mas de|minimo"
_NOT_MONEY_AFTER = re.compile(rf"^\s*(m2|m²|sqm|square|metros|{_BEDROOM_WORDS}|%)", re.I)


def _to_decimal(number: str) -> Decimal | None:
    # "400,000" / "300.000" / "1 500" are thousands; "1,5" / "1.5" are decimals.
    compact = number.replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", compact):
        compact = re.sub(r"[.,]", "", compact)
    try:
        return Decimal(compact.replace(",", "."))
    except InvalidOperation:
        return None


def _amounts(text: str) -> list[tuple[int, Decimal]]:
    """(position in the folded text, value) of every number that reads as money."""
    found: list[tuple[int, Decimal]] = []
    folded = fold(text)
    for match in _AMOUNT.finditer(folded):
        value = _to_decimal(match.group("num"))
        if value is None or _NOT_MONEY_AFTER.match(folded[match.end("num") :]):
            continue
        if re.search(r"(?<!\w)t$", folded[: match.start("num")].rstrip()):
            continue  # "T2" is a typology, not 2 euros
        mult = (match.group("mult") or "").lower()
        value *= _MULTIPLIERS.get(mult, 1)
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))  # 1.5M is 1500000, not 1500000.0
        marked = match.group("cur1") or match.group("cur2") or mult
        if marked or value >= 100:
            found.append((match.start(), value))
    return found


# Above this a budget can only be a price, below it only a monthly rent.
_RENT_CEILING = Decimal(15000)


def listing_type_for_budget(budget: Budget) -> ListingType | None:
    """'under 400k' means buying, 'max 1500/month' renting; None when there is no budget."""
    amount = budget.max_price if budget.max_price is not None else budget.min_price
    if budget.monthly:
        return "rent"
    if amount is None:
        return None
    return "sale" if amount > _RENT_CEILING else "rent"


def parse_budget(text: str) -> Budget:
    """'up to €400k', 'até 400 mil euros', 'hasta 300.000 €', 'max 1500/month', '2k'."""
    folded = fold(text)
    amounts = _amounts(text)
    monthly = is_monthly(text)
    low: Decimal | None = None
    high: Decimal | None = None
    between = re.search(r"(between|entre)\s", folded)
    if between and len(amounts) >= 2:
        values = sorted(value for _, value in amounts[:2])
        return Budget(min_price=values[0], max_price=values[1], monthly=monthly)
    for position, value in amounts:
        before = folded[max(0, position - 20) : position]
        if re.search(rf"({_LOWER})\s*$", before):
            low = value
        else:
            high = value  # "up to", "budget" or a bare amount all read as a ceiling
    return Budget(min_price=low, max_price=high, monthly=monthly)
