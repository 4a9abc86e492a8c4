"""A listing as WhatsApp text: the facts, and only the facts, the assistant may repeat."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from whatsapp_assistant.properties.models import Property

_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "BRL": "R$"}


# The few words of a listing line, in the languages the assistant writes. Titles, places and
# features are the agent's own words and are never translated.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "bedroom": "bedroom",
        "bedrooms": "bedrooms",
        "bathroom": "bathroom",
        "bathrooms": "bathrooms",
        "sale": "for sale",
        "rent": "for rent",
        "month": "/month",
        "status": "status",
        "under_offer": "under offer",
        "sold": "sold",
        "rented": "rented",
    },
    "es": {
        "bedroom": "dormitorio",
        "bedrooms": "dormitorios",
        "bathroom": "baño",
        "bathrooms": "baños",
        "sale": "en venta",
        "rent": "en alquiler",
        "month": "/mes",
        "status": "estado",
        "under_offer": "con oferta en curso",
        "sold": "vendido",
        "rented": "alquilado",
    },
    "pt": {
        "bedroom": "quarto",
        "bedrooms": "quartos",
        "bathroom": "casa de banho",
        "bathrooms": "casas de banho",
        "sale": "para venda",
        "rent": "para arrendamento",
        "month": "/mês",
        "status": "estado",
        "under_offer": "com proposta em curso",
        "sold": "vendido",
        "rented": "arrendado",
    },
}


def format_price(
    amount: Decimal, currency: str, *, per_month: bool = False, language: str = "en"
) -> str:
    whole = f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency)
    text = f"{symbol}{whole}" if symbol else f"{whole} {currency}"
    return text + (_words(language)["month"] if per_month else "")


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["en"])


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def format_listing(prop: Property, index: int | None = None, *, language: str = "en") -> str:
    words = _words(language)
    head = f"{index}. " if index is not None else ""
    per_month = prop.listing_type == "rent"
    facts = [format_price(prop.price, prop.currency, per_month=per_month, language=language)]
    if prop.bedrooms is not None:
        facts.append(_count(prop.bedrooms, words["bedroom"], words["bedrooms"]))
    if prop.bathrooms is not None:
        facts.append(_count(prop.bathrooms, words["bathroom"], words["bathrooms"]))
    if prop.area_sqm is not None:
        facts.append(f"{int(prop.area_sqm)} m²")
    place = ", ".join(filter(None, [prop.neighborhood, prop.city]))
    kind = words.get(prop.listing_type, prop.listing_type)
    lines = [f"{head}*{prop.title}* — {' · '.join(facts)}", f"   {place} · {kind}"]
    if prop.status != "available":
        lines.append(f"   {words['status']}: {words.get(prop.status, prop.status)}")
    if prop.features:
        lines.append("   " + ", ".join(prop.features))
    if prop.url:
        lines.append(f"   {prop.url}")
    return "\n".join(lines)


def format_listings(
    props: Sequence[Property], *, language: str = "en", with_ids: bool = False
) -> str:
    """The listings numbered; `with_ids` (for the model, never the customer) adds each id."""
    return "\n\n".join(
        format_listing(prop, i, language=language) + (f"\n   id: {prop.id}" if with_ids else "")
        for i, prop in enumerate(props, start=1)
    )
