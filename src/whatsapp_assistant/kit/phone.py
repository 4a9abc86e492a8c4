"""Phone numbers and WhatsApp chat ids: only an @c.us id is a phone number; @lid ids are opaque."""

from __future__ import annotations

import phonenumbers


def is_group_chat(chat_id: str) -> bool:
    return chat_id.endswith("@g.us")


def phone_from_chat_id(chat_id: str) -> str | None:
    """'+351912345678' for '351912345678@c.us'; None for groups, @lid and anything else."""
    number, sep, suffix = chat_id.partition("@")
    if sep and suffix == "c.us" and number.isdigit():
        return "+" + number
    return None


def chat_id_from_phone(raw: str, default_region: str | None = None) -> str:
    """Normalise a number a person typed ('+351 912 345 678') into '351912345678@c.us'."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"not a possible phone number: {raw!r}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164.lstrip("+") + "@c.us"
