"""Meta WhatsApp Cloud API webhook bodies (docs/providers.md, M2, M3) parsed into channel
events; pure, no I/O."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.green_api.message_data import (
    JSONObject,
    first_str,
    get_list,
    get_number,
    get_object,
    get_str,
)
from whatsapp_assistant.channels.types import (
    ChannelEvent,
    Ignored,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    ParsedWebhook,
    StatusUpdate,
)
from whatsapp_assistant.kit.clock import from_unix, utcnow

logger = logging.getLogger(__name__)

_MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
# Kept raw and never answered: an identity notice, the welcome ping (docs/providers.md, M3).
_IGNORED_TYPES = {
    "system": "system notice (number or user id changed)",
    "request_welcome": "the customer opened the chat",
}
_MAX_EVENT_TYPE = 64
_MAX_DEDUP_KEY = 255
_MAX_UNIX_SECONDS = 253_402_300_799
_MAX_ID = 128


@dataclass(frozen=True)
class _Change:
    """One `entry[].changes[]` item: which number it is for and what it carries."""

    phone_number_id: str
    field: str
    value: JSONObject


def parse_webhook(payload: object) -> ParsedWebhook:
    """Turn a decoded JSON body into events for the number it names.

    The channel is the first `metadata.phone_number_id` in the body (docs/providers.md, M2); a
    body naming none (fields other than `messages`, which carry no number) has external_id ""
    and only an Ignored event. Everything past the envelope is tolerant: an item we cannot read
    becomes an Ignored event, so the webhook still answers 200 (docs/architecture.md,
    invariant 7).
    """
    if not isinstance(payload, dict):
        raise PayloadError("a Meta webhook body must be a JSON object")
    if get_str(payload, "object") != "whatsapp_business_account":
        raise PayloadError("the webhook body is not for a 'whatsapp_business_account'")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("the webhook body has no 'entry' list")
    changes = list(_changes(entries))
    numbered = [change for change in changes if change.phone_number_id]
    if not numbered:
        fields = sorted({change.field[:40] for change in changes} - {""})
        return ParsedWebhook(
            external_id="",
            event_type=",".join(fields)[:_MAX_EVENT_TYPE] or "unknown",
            dedup_key=None,
            events=[Ignored("a notification that names no phone number id")],
        )
    external_id = numbered[0].phone_number_id
    events: list[ChannelEvent] = []
    keys: list[str] = []
    kinds: set[str] = set()
    for change in changes:
        if change.phone_number_id != external_id:
            # One body, one channel: a second number's items are logged, not acted on.
            logger.warning("Meta webhook for %s also names %s", external_id, change.phone_number_id)
            events.append(Ignored("items for another phone number id in the same body"))
            continue
        events += _value_events(change.value, keys, kinds)
    return ParsedWebhook(
        external_id=external_id,
        event_type=",".join(sorted(kinds))[:_MAX_EVENT_TYPE] or "empty",
        dedup_key=_dedup_key(external_id, keys),
        events=events or [Ignored("a notification with no message or status")],
    )


def _changes(entries: list[object]) -> Iterator[_Change]:
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for change in get_list(entry, "changes"):
            if not isinstance(change, dict):
                continue
            value = get_object(change, "value")
            number = get_str(get_object(value, "metadata"), "phone_number_id")
            if get_str(change, "field") != "messages":
                number = ""  # other fields have other shapes (docs/providers.md, M2)
            yield _Change(number if _is_id(number) else "", get_str(change, "field"), value)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 30


def _value_events(value: JSONObject, keys: list[str], kinds: set[str]) -> list[ChannelEvent]:
    """The messages, statuses and errors of one change's `value` (docs/providers.md, M2)."""
    profiles = _profiles(value)
    events: list[ChannelEvent] = []
    for item in get_list(value, "messages"):
        if isinstance(item, dict):
            event = _message_event(item, profiles)
            if not isinstance(event, Ignored):
                keys.append(f"message:{get_str(item, 'id')}")
            kinds.add("message")
            events.append(event)
    for item in get_list(value, "statuses"):
        if isinstance(item, dict):
            event = _status_event(item)
            if isinstance(event, StatusUpdate):
                keys.append(f"status:{event.provider_message_id}:{event.status}")
            kinds.add("status")
            events.append(event)
    for item in get_list(value, "errors"):
        if isinstance(item, dict):
            kinds.add("error")
            logger.warning("Meta reported an error: %s", _error_text(item))
            events.append(Ignored(f"error {_error_text(item)[:120]}"))
    return events


def _dedup_key(external_id: str, keys: list[str]) -> str | None:
    """The raw-log key: the number, then its one item, or a hash of all of them.

    A redelivery of the same body maps to the same key; an item re-batched with others gets
    another key, and the message's own unique provider id stores it once anyway
    (docs/architecture.md, invariant 1). A body of errors only has no key: it is always kept.
    """
    if not keys:
        return None
    if len(keys) == 1:
        key = f"{external_id}:{keys[0]}"
    else:
        joined = "\n".join(sorted(keys))
        digest = hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()
        key = f"{external_id}:batch:{digest}"
    if len(key) > _MAX_DEDUP_KEY:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        key = f"sha256:{digest}"
    return key


@dataclass(frozen=True)
class _Profile:
    name: str
    phone: str | None
    user_id: str


def _profiles(value: JSONObject) -> dict[str, _Profile]:
    """`contacts[]` by both of its ids: messages name their sender by either
    (docs/providers.md, M2)."""
    found: dict[str, _Profile] = {}
    for contact in get_list(value, "contacts"):
        if not isinstance(contact, dict):
            continue
        wa_id, user_id = get_str(contact, "wa_id"), get_str(contact, "user_id")
        profile = get_object(contact, "profile")
        entry = _Profile(
            name=first_str(profile, "name", "username"),
            phone=_phone(wa_id),
            user_id=user_id,
        )
        for key in (wa_id, user_id):
            if key:
                found[key] = entry
    return found


def _phone(digits: str) -> str | None:
    return (
        "+" + digits if digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 20 else None
    )


def chat_id_for(*, user_id: str, phone: str | None) -> str:
    """A customer's chat id: their business-scoped user id when Meta sends one (since 2026 it
    may be all there is), else their number as `<digits>@c.us`, the form every channel shares
    for a phone number (docs/decisions.md, 27)."""
    if user_id:
        return user_id
    return f"{phone.lstrip('+')}@c.us" if phone else ""


def _timestamp(parent: JSONObject) -> datetime:
    """Unix seconds as a string in messages and statuses, an integer elsewhere
    (docs/providers.md, M2)."""
    raw = parent.get("timestamp")
    seconds: float | None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12:
        seconds = float(raw)
    else:
        seconds = get_number(parent, "timestamp")
    if seconds is None or not 0 <= seconds <= _MAX_UNIX_SECONDS:
        return utcnow()
    return from_unix(seconds)


def _message_event(item: JSONObject, profiles: dict[str, _Profile]) -> ChannelEvent:
    message_id = get_str(item, "id")
    kind = get_str(item, "type")
    if not message_id or len(message_id) > _MAX_ID:
        return Ignored("message without a usable id")
    if kind in _IGNORED_TYPES:
        return Ignored(_IGNORED_TYPES[kind])
    sender_phone, user_id = _phone(get_str(item, "from")), get_str(item, "from_user_id")
    profile = profiles.get(user_id) or profiles.get(get_str(item, "from"))
    if profile is not None:
        sender_phone = sender_phone or profile.phone
        user_id = user_id or profile.user_id
    chat_id = chat_id_for(user_id=user_id, phone=sender_phone)
    if not chat_id or len(chat_id) > _MAX_ID:
        return Ignored("message without a sender")
    group_id = get_str(item, "group_id")
    if group_id:
        chat_id = (
            f"{group_id[:100]}@g.us"  # Groups API: stored, never answered (docs/providers.md, M3)
        )
    timestamp = _timestamp(item)
    if kind == "revoke":
        target = get_str(get_object(item, "revoke"), "original_message_id")
        if not target:
            return Ignored("revoke without original_message_id")
        return MessageDelete("customer", chat_id, message_id, target, timestamp)
    if kind == "edit":
        return _edit(item, chat_id, message_id, timestamp)
    content = _content(kind, item)
    context = get_object(item, "context")
    for flag in ("forwarded", "frequently_forwarded"):
        if context.get(flag) is True:
            content.data[flag] = True
    referral = get_object(item, "referral")
    if referral:
        content.data["referral"] = dict(referral)  # a Click-to-WhatsApp ad: the lead's source
    errors = [_error_text(e) for e in get_list(item, "errors") if isinstance(e, dict)]
    if errors:
        content.data["errors"] = errors
    name = profile.name if profile is not None else ""
    return InboundMessage(
        origin="customer",
        chat_id=chat_id,
        provider_message_id=message_id,
        timestamp=timestamp,
        kind=content.kind,
        text=content.text,
        sender_id=user_id or (sender_phone.lstrip("+") if sender_phone else None),
        sender_name=name,
        chat_name=name,
        is_group=bool(group_id),
        media_mime=content.media_mime,
        reply_to=content.reply_to or get_str(context, "id") or None,
        data=content.data,
        phone=sender_phone,
    )


@dataclass
class _Content:
    """What a message says, whatever its type; the envelope adds who, where and when."""

    kind: str
    text: str = ""
    media_mime: str | None = None
    reply_to: str | None = None
    data: dict[str, object] = field(default_factory=dict)


def _content(kind: str, item: JSONObject) -> _Content:
    """Unknown types will appear over time: kind 'unsupported', stored and not answered
    (docs/providers.md, M3)."""
    if kind in _MEDIA_KINDS:
        return _read_media(kind, item)
    reader = _READERS.get(kind)
    if reader is not None:
        return reader(item)
    return _Content(kind="unsupported", data={"type": kind[:40]})


def _read_text(item: JSONObject) -> _Content:
    return _Content(kind="text", text=get_str(get_object(item, "text"), "body"))


def _read_media(kind: str, item: JSONObject) -> _Content:
    """The media id, not a URL: Meta's links need the token and expire (docs/providers.md, M4)."""
    source = get_object(item, kind)
    content = _Content(
        kind=kind,
        text=get_str(source, "caption"),
        media_mime=get_str(source, "mime_type")[:120] or None,
    )
    for key, name in (("id", "media_id"), ("sha256", "sha256"), ("filename", "file_name")):
        value = get_str(source, key)
        if value:
            content.data[name] = value[:500]
    for flag in ("voice", "animated"):
        if source.get(flag) is True:
            content.data[flag] = True
    return content


def _read_location(item: JSONObject) -> _Content:
    source = get_object(item, "location")
    name, address = get_str(source, "name"), get_str(source, "address")
    latitude, longitude = get_number(source, "latitude"), get_number(source, "longitude")
    described = " — ".join(part for part in (name, address) if part)
    if not described and latitude is not None and longitude is not None:
        described = f"{latitude}, {longitude}"
    data: dict[str, object] = {
        "latitude": latitude,
        "longitude": longitude,
        "name": name,
        "address": address,
    }
    return _Content(
        kind="location", text=f"Location: {described}" if described else "Location", data=data
    )


def _card(source: JSONObject) -> dict[str, object]:
    name = get_str(get_object(source, "name"), "formatted_name")
    phones = [p for p in get_list(source, "phones") if isinstance(p, dict)]
    phone = next((get_str(p, "phone") for p in phones if get_str(p, "phone")), "")
    return {"display_name": name, "phone": phone or None}


def _read_contacts(item: JSONObject) -> _Content:
    cards = [_card(c) for c in get_list(item, "contacts") if isinstance(c, dict)]
    described = ", ".join(
        " ".join(str(card[key]) for key in ("display_name", "phone") if card[key]) for card in cards
    )
    if len(cards) == 1:
        return _Content(kind="contact", text=f"Contact: {described}".strip(" :"), data=cards[0])
    return _Content(
        kind="contacts", text=f"Contacts: {described}".strip(" :"), data={"contacts": cards}
    )


def _read_interactive(item: JSONObject) -> _Content:
    """A tap on our reply button or list row: its title is what the customer 'said'
    (docs/providers.md, M3)."""
    source = get_object(item, "interactive")
    reply_type = get_str(source, "type")
    reply = get_object(source, reply_type)
    if reply_type in ("button_reply", "list_reply"):
        data: dict[str, object] = {"selected_id": get_str(reply, "id")}
        description = get_str(reply, "description")
        if description:
            data["description"] = description
        return _Content(kind="button_reply", text=get_str(reply, "title"), data=data)
    return _Content(kind="unsupported", data={"type": f"interactive:{reply_type[:30]}"})


def _read_button(item: JSONObject) -> _Content:
    """A quick-reply tap on a template: its payload is the id (docs/providers.md, M6)."""
    source = get_object(item, "button")
    data: dict[str, object] = {"selected_id": get_str(source, "payload")}
    return _Content(kind="button_reply", text=get_str(source, "text"), data=data)


def _read_reaction(item: JSONObject) -> _Content:
    """`emoji` is omitted when the customer removes their reaction (docs/providers.md, M3)."""
    source = get_object(item, "reaction")
    target = get_str(source, "message_id")
    return _Content(kind="reaction", text=get_str(source, "emoji"), reply_to=target or None)


def _read_order(item: JSONObject) -> _Content:
    source = get_object(item, "order")
    items = [i for i in get_list(source, "product_items") if isinstance(i, dict)]
    data: dict[str, object] = {"catalog_id": get_str(source, "catalog_id"), "items": items}
    return _Content(kind="order", text=get_str(source, "text") or "Order", data=data)


def _read_unsupported(item: JSONObject) -> _Content:
    source = get_object(item, "unsupported")
    return _Content(kind="unsupported", data={"type": get_str(source, "type")[:40]})


_READERS: dict[str, Callable[[JSONObject], _Content]] = {
    "text": _read_text,
    "location": _read_location,
    "contacts": _read_contacts,
    "interactive": _read_interactive,
    "button": _read_button,
    "reaction": _read_reaction,
    "order": _read_order,
    "unsupported": _read_unsupported,
}


def _edit(item: JSONObject, chat_id: str, message_id: str, timestamp: datetime) -> ChannelEvent:
    """Coexistence numbers only; elsewhere an edit arrives as 'unsupported'
    (docs/providers.md, M3)."""
    source = get_object(item, "edit")
    target = get_str(source, "original_message_id")
    if not target:
        return Ignored("edit without original_message_id")
    message = get_object(source, "message")
    new_text = get_str(get_object(message, "text"), "body") or first_str(
        get_object(message, get_str(message, "type")), "caption"
    )
    return MessageEdit("customer", chat_id, message_id, target, new_text, timestamp)


def _status_event(item: JSONObject) -> ChannelEvent:
    """sent, delivered, read, played or failed (with its errors) of one of our sends
    (docs/providers.md, M7)."""
    message_id, status = get_str(item, "id"), get_str(item, "status")
    if not message_id or not status:
        return Ignored("status without id or status")
    chat_id = chat_id_for(
        user_id=get_str(item, "recipient_user_id"), phone=_phone(get_str(item, "recipient_id"))
    )
    errors = [_error_text(e) for e in get_list(item, "errors") if isinstance(e, dict)]
    pricing = get_object(item, "pricing")
    return StatusUpdate(
        chat_id=chat_id,
        provider_message_id=message_id[:_MAX_ID],
        status=status[:20],
        timestamp=_timestamp(item),
        description="; ".join(errors),
        billable_category=get_str(pricing, "category")[:40] if _billable(pricing) else "",
        pricing_model=get_str(pricing, "pricing_model")[:10],
    )


def _billable(pricing: JSONObject) -> bool:
    """`billable` is slated for deprecation: `type: regular` says the same
    (docs/providers.md, M9)."""
    return pricing.get("billable") is True or get_str(pricing, "type") == "regular"


def _error_text(error: JSONObject) -> str:
    """'131047 Re-engagement message: More than 24 hours ...' (docs/providers.md, M8)."""
    code = get_number(error, "code")
    title = first_str(error, "title", "message")
    details = get_str(get_object(error, "error_data"), "details")
    parts = [str(int(code)) if code is not None else "", title]
    text = " ".join(part for part in parts if part)
    return f"{text}: {details}" if details else text
