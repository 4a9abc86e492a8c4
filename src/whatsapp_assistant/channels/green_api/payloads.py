"""Green API webhook bodies (docs/providers.md, G13, G14) parsed into channel events; pure, no
I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.green_api.message_data import (
    JSONObject,
    get_number,
    get_object,
    get_str,
    read_content,
)
from whatsapp_assistant.channels.types import (
    CallNotice,
    ChannelEvent,
    ChannelStateChange,
    Ignored,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    Origin,
    ParsedWebhook,
    StatusUpdate,
)
from whatsapp_assistant.kit.clock import from_unix, utcnow
from whatsapp_assistant.kit.phone import is_group_chat

_ORIGINS: dict[str, Origin] = {
    "incomingMessageReceived": "customer",
    "outgoingMessageReceived": "phone",  # the agent typed on the phone (docs/providers.md, G4)
    "outgoingAPIMessageReceived": "api_echo",  # our own send, echoed (docs/providers.md, G5)
}
# Accepted and logged, never acted on (docs/providers.md, G7, G15).
_IGNORED_TYPES = {
    "statusInstanceChanged": "deprecated statusInstanceChanged",
    "deviceInfo": "deprecated deviceInfo",
    "outgoingCall": "outgoing call",
    "incomingBlock": "chat added to the block list",
    "quotaExceeded": "plan quota exceeded",
}
# Status and call webhooks reuse the id of the message or call they describe (docs/providers.md,
# G16).
_KEYED_BY_STATUS = frozenset({"outgoingMessageStatus", "incomingCall"})
# The raw log stores these in bounded columns; a longer value is still kept whole in the payload.
_MAX_EVENT_TYPE = 64
_MAX_DEDUP_KEY = 255
# idInstance is an int64 of up to 10 digits (docs/providers.md, G1); anything past int64 is not an
# instance.
_MAX_INSTANCE_ID = 2**63
# datetime cannot hold years past 9999.
_MAX_UNIX_SECONDS = 253_402_300_799


def parse_webhook(payload: object) -> ParsedWebhook:
    """Turn a decoded JSON body into events; PayloadError only when the channel is unknowable.

    Everything past the envelope is tolerant: a body we can route but not understand becomes an
    Ignored event, so the webhook still answers 200 and Green API's queue keeps moving
    (docs/providers.md, G3; docs/architecture.md, invariant 7).
    """
    if not isinstance(payload, dict):
        raise PayloadError("a Green API webhook body must be a JSON object")
    type_webhook = get_str(payload, "typeWebhook")
    if not type_webhook:
        raise PayloadError("the webhook body has no 'typeWebhook'")
    instance = get_object(payload, "instanceData")
    external_id = _instance_id(instance.get("idInstance"))
    return ParsedWebhook(
        external_id=external_id,
        event_type=type_webhook[:_MAX_EVENT_TYPE],
        dedup_key=_dedup_key(payload, type_webhook, external_id),
        events=_events(payload, type_webhook, instance),
    )


def _instance_id(value: object) -> str:
    """idInstance is an integer in webhooks but a string in URLs (docs/providers.md, G13): accept
    both."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise PayloadError("the webhook body has no 'instanceData.idInstance'")
    if not 0 < number < _MAX_INSTANCE_ID:
        raise PayloadError("'instanceData.idInstance' is not a Green API instance number")
    return str(number)


def _events(payload: JSONObject, type_webhook: str, instance: JSONObject) -> list[ChannelEvent]:
    type_instance = get_str(instance, "typeInstance")
    if type_instance and type_instance != "whatsapp":
        # Green API's Telegram and MAX products share the envelope (docs/providers.md, G13).
        return [Ignored(f"typeInstance {type_instance[:40]!r} is not whatsapp")]
    if type_webhook in _ORIGINS:
        return [_message_event(payload, _ORIGINS[type_webhook])]
    handler = _HANDLERS.get(type_webhook)
    if handler is not None:
        return [handler(payload)]
    reason = _IGNORED_TYPES.get(type_webhook, f"unknown typeWebhook {type_webhook[:60]!r}")
    return [Ignored(reason)]


def _dedup_key(payload: JSONObject, type_webhook: str, external_id: str) -> str | None:
    """The raw-log key: a redelivered body maps to the same key, distinct events never do.

    It starts with the instance: message ids and chat ids are the provider's, and two accounts'
    numbers may see the same pair, so one account's notification must never pass for a
    redelivery of another's (docs/architecture.md, invariants 1 and 6)."""
    if type_webhook == "stateInstanceChanged":
        timestamp = payload.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            return None  # without a time, two real state changes would collide
        key = f"{external_id}:stateInstanceChanged:{timestamp}:{get_str(payload, 'stateInstance')}"
    else:
        message_id = get_str(payload, "idMessage")
        if not message_id:
            return None
        key = f"{external_id}:{type_webhook}:{_chat_id_of(payload)}:{message_id}"
        if type_webhook in _KEYED_BY_STATUS:
            key += f":{get_str(payload, 'status')}"
    if len(key) > _MAX_DEDUP_KEY:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        key = f"sha256:{digest}"
    return key


def _chat_id_of(payload: JSONObject) -> str:
    """Message webhooks name the chat in senderData, statuses at top level, calls in `from`."""
    return (
        get_str(get_object(payload, "senderData"), "chatId")
        or get_str(payload, "chatId")
        or get_str(payload, "from")
    )


def _timestamp(payload: JSONObject) -> datetime:
    """Unix seconds (docs/providers.md, G13); a missing or impossible value means 'now'."""
    seconds = get_number(payload, "timestamp")
    if seconds is None or not 0 <= seconds <= _MAX_UNIX_SECONDS:
        return utcnow()
    return from_unix(seconds)


def _message_event(payload: JSONObject, origin: Origin) -> ChannelEvent:
    """incoming / outgoing / outgoingAPI message webhooks share one envelope (docs/providers.md, G4,
    G5, G13)."""
    sender = get_object(payload, "senderData")
    chat_id = get_str(sender, "chatId")
    message_id = get_str(payload, "idMessage")
    if not chat_id or not message_id:
        return Ignored("message webhook without senderData.chatId or idMessage")
    message_data = get_object(payload, "messageData")
    type_message = get_str(message_data, "typeMessage")
    timestamp = _timestamp(payload)
    if type_message == "editedMessage":
        return _edit(message_data, origin, chat_id, message_id, timestamp)
    if type_message == "deletedMessage":
        return _delete(message_data, origin, chat_id, message_id, timestamp)
    content = read_content(message_data)
    sender_id = get_str(sender, "sender")
    return InboundMessage(
        origin=origin,
        chat_id=chat_id,
        provider_message_id=message_id,
        timestamp=timestamp,
        kind=content.kind,
        text=content.text,
        sender_id=sender_id or None,
        sender_name=(
            get_str(sender, "senderContactName")
            or get_str(sender, "senderName")
            or get_str(sender, "chatName")
        ),
        chat_name=get_str(sender, "chatName"),
        is_group=is_group_chat(chat_id),
        media_url=content.media_url,
        media_mime=content.media_mime,
        reply_to=content.reply_to,
        data=content.data,
        undecryptable=content.undecryptable,
    )


def _edit(
    message_data: JSONObject, origin: Origin, chat_id: str, message_id: str, timestamp: datetime
) -> ChannelEvent:
    """An edit has its own idMessage and names the edited message in stanzaId (docs/providers.md,
    G16)."""
    source = get_object(message_data, "editedMessageData")
    target_id = get_str(source, "stanzaId")
    if not target_id:
        return Ignored("editedMessage without stanzaId")
    return MessageEdit(
        origin=origin,
        chat_id=chat_id,
        provider_message_id=message_id,
        target_id=target_id,
        new_text=get_str(source, "textMessage") or get_str(source, "caption"),
        timestamp=timestamp,
    )


def _delete(
    message_data: JSONObject, origin: Origin, chat_id: str, message_id: str, timestamp: datetime
) -> ChannelEvent:
    target_id = get_str(get_object(message_data, "deletedMessageData"), "stanzaId")
    if not target_id:
        return Ignored("deletedMessage without stanzaId")
    return MessageDelete(
        origin=origin,
        chat_id=chat_id,
        provider_message_id=message_id,
        target_id=target_id,
        timestamp=timestamp,
    )


def _status_event(payload: JSONObject) -> ChannelEvent:
    """Delivery status of a sent message; chatId is top level here (docs/providers.md, G6)."""
    message_id, status = get_str(payload, "idMessage"), get_str(payload, "status")
    if not message_id or not status:
        return Ignored("outgoingMessageStatus without idMessage or status")
    return StatusUpdate(
        chat_id=get_str(payload, "chatId"),
        provider_message_id=message_id,
        status=status,
        timestamp=_timestamp(payload),
        description=get_str(payload, "description"),
    )


def _state_event(payload: JSONObject) -> ChannelEvent:
    state = get_str(payload, "stateInstance")
    if not state:
        return Ignored("stateInstanceChanged without stateInstance")
    return ChannelStateChange(state=state, timestamp=_timestamp(payload))


def _call_event(payload: JSONObject) -> ChannelEvent:
    """A call has no senderData: the caller is `from` (docs/providers.md, G15)."""
    caller, call_id = get_str(payload, "from"), get_str(payload, "idMessage")
    if not caller or not call_id:
        return Ignored("incomingCall without from or idMessage")
    return CallNotice(
        chat_id=caller,
        provider_message_id=call_id,
        status=get_str(payload, "status"),
        timestamp=_timestamp(payload),
    )


_HANDLERS: dict[str, Callable[[JSONObject], ChannelEvent]] = {
    "outgoingMessageStatus": _status_event,
    "stateInstanceChanged": _state_event,
    "incomingCall": _call_event,
}
