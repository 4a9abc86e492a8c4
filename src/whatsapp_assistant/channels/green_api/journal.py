"""A journal entry of lastIncomingMessages or lastOutgoingMessages (docs/providers.md, G18, G19) as
the webhook body Green API would have posted for it, so a backfill is parsed, keyed and stored as
that webhook is."""

from __future__ import annotations

from typing import Any

from whatsapp_assistant.channels.green_api.message_data import JSONObject, get_object, get_str

_FILE_TYPES = frozenset(
    {"imageMessage", "videoMessage", "documentMessage", "audioMessage", "stickerMessage"}
)
_FILE_FIELDS = ("downloadUrl", "caption", "fileName", "mimeType", "jpegThumbnail")


def as_webhook(entry: JSONObject, external_id: str) -> dict[str, Any]:
    """The incomingMessageReceived body for `entry`: same instance, chat and idMessage, hence
    the same dedup key as the webhook (docs/decisions.md, 5)."""
    chat_id = get_str(entry, "chatId")
    sender = get_str(entry, "senderId") or chat_id
    name = get_str(entry, "senderName")
    return {
        "typeWebhook": "incomingMessageReceived",
        "instanceData": {"idInstance": int(external_id), "wid": "", "typeInstance": "whatsapp"},
        "timestamp": entry.get("timestamp"),
        "idMessage": get_str(entry, "idMessage"),
        "senderData": {
            "chatId": chat_id,
            "sender": sender,
            "senderName": name,
            "senderContactName": get_str(entry, "senderContactName"),
            "chatName": name,
        },
        "messageData": message_data(entry),
        "backfilled": True,  # not Green API's: tells the raw log's reader where it came from
    }


def typed_on_phone(entry: JSONObject) -> bool:
    """An outgoing entry the agent typed on the phone; what the API sent is already a row."""
    return get_str(entry, "type") == "outgoing" and entry.get("sendByApi") is not True


def as_phone_webhook(entry: JSONObject, external_id: str) -> dict[str, Any]:
    """The outgoingMessageReceived body for an outgoing `entry` typed on the phone (G4): stored,
    it takes the conversation over as the live webhook would have."""
    return {
        "typeWebhook": "outgoingMessageReceived",
        "instanceData": {"idInstance": int(external_id), "wid": "", "typeInstance": "whatsapp"},
        "timestamp": entry.get("timestamp"),
        "idMessage": get_str(entry, "idMessage"),
        "senderData": {
            "chatId": get_str(entry, "chatId"),
            "sender": "",
            "senderName": get_str(entry, "senderName"),
            "chatName": get_str(entry, "chatName"),
        },
        "messageData": message_data(entry),
        "backfilled": True,
    }


def message_data(entry: JSONObject) -> dict[str, Any]:
    """messageData in the webhook's shape (docs/providers.md, G14) from the journal's flat one."""
    type_message = get_str(entry, "typeMessage")
    data: dict[str, Any] = {"typeMessage": type_message}
    if type_message == "textMessage":
        data["textMessageData"] = {"textMessage": get_str(entry, "textMessage")}
    elif type_message in {"extendedTextMessage", "quotedMessage", "reactionMessage"}:
        extended = dict(get_object(entry, "extendedTextMessage"))
        extended.setdefault("text", get_str(entry, "textMessage"))
        data["extendedTextMessageData"] = extended
    elif type_message in _FILE_TYPES:
        data["fileMessageData"] = {key: entry[key] for key in _FILE_FIELDS if key in entry}
    elif type_message == "locationMessage":
        data["locationMessageData"] = dict(get_object(entry, "location"))
    elif type_message == "contactMessage":
        data["contactMessageData"] = dict(get_object(entry, "contact"))
    quoted = get_object(entry, "quotedMessage")
    if quoted:
        data["quotedMessage"] = dict(quoted)
    return data
