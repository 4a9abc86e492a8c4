"""A listing as WhatsApp text: the facts, and only the facts, the assistant may repeat."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from whatsapp_assistant.properties.models import Property

_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "BRL": "R$"}


def format_price(amount: Decimal, currency: str, *, per_month: bool = False) -> str:
    whole = f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency)
    text = f"{symbol}{whole}" if symbol else f"{whole} {currency}"
    return text + ("/month" if per_month else "")


def format_listing(prop: Property, index: int | None = None) -> str:
    head = f"{index}. " if index is not None else ""
    facts = [format_price(prop.price, prop.currency, per_month=prop.listing_type == "rent")]
    if prop.bedrooms is not None:
        facts.append(f"{prop.bedrooms} bedroom{'s' if prop.bedrooms != 1 else ''}")
    if prop.bathrooms is not None:
        facts.append(f"{prop.bathrooms} bathroom{'s' if prop.bathrooms != 1 else ''}")
    if prop.area_sqm is not None:
        facts.append(f"{int(prop.area_sqm)} m²")
    place = ", ".join(filter(None, [prop.neighborhood, prop.city]))
    lines = [f"{head}*{prop.title}* — {' · '.join(facts)}", f"   {place} · for {prop.listing_type}"]
    if prop.status != "available":
        lines.append(f"   status: {prop.status.replace('_', ' ')}")
    if prop.features:
        lines.append("   " + ", ".join(prop.features))
    if prop.url:
        lines.append(f"   {prop.url}")
    return "\n".join(lines)


def format_listings(props: Sequence[Property]) -> str:
    return "\n\n".join(format_listing(prop, i) for i, prop in enumerate(props, start=1))
