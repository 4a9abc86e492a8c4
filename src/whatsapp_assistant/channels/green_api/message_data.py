"""Reading Green API `messageData` (docs/providers.md, G14): one content shape for every
typeMessage."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

JSONObject = Mapping[str, object]

# Placeholders Green API puts where WhatsApp gave it nothing usable (docs/providers.md, G11).
UNDECRYPTABLE_MARKERS = frozenset({"{{SWE001}}", "{{SWE003}}"})
TOO_LARGE_MARKER = "{{SWE002}}"

_MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "documentMessage": "document",
    "audioMessage": "audio",
    "stickerMessage": "sticker",
}
# Replies to buttons and lists: the docs and Green API's SDKs disagree on names (docs/providers.md,
# G14).
_BUTTON_REPLIES = frozenset(
    {
        "interactiveButtonsResponse",
        "interactiveButtonsReply",
        "buttonsResponseMessage",
        "templateButtonReplyMessage",
        "templateButtonsReplyMessage",
        "listResponseMessage",
    }
)
_WAID = re.compile(r"waid=(\d+)")


@dataclass
class Content:
    """What a message says, whatever its typeMessage; the envelope adds who, where and when."""

    kind: str
    text: str = ""
    media_url: str | None = None
    media_mime: str | None = None
    reply_to: str | None = None
    data: dict[str, object] = field(default_factory=dict)
    undecryptable: bool = False


def get_object(parent: JSONObject, key: str) -> JSONObject:
    """The object under `key`, or an empty one: any field may be missing (docs/providers.md,
    G13)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def get_str(parent: JSONObject, key: str) -> str:
    value = parent.get(key)
    return value if isinstance(value, str) else ""


def get_number(parent: JSONObject, key: str) -> float | None:
    """A finite number under `key`; booleans, NaN, infinities and giant integers are None."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def get_list(parent: JSONObject, key: str) -> list[object]:
    value = parent.get(key)
    return value if isinstance(value, list) else []


def first_str(parent: JSONObject, *keys: str) -> str:
    """The first non-empty string among `keys`."""
    for key in keys:
        value = get_str(parent, key)
        if value:
            return value
    return ""


def read_content(message_data: JSONObject) -> Content:
    """The content of any message type; unknown types become kind 'unsupported', never an error."""
    type_message = get_str(message_data, "typeMessage")
    reader = _reader_for(type_message)
    content = reader(message_data, type_message) if reader else _unsupported(type_message)
    _apply_quote(content, get_object(message_data, "quotedMessage"))
    if content.text.strip() in UNDECRYPTABLE_MARKERS:
        # Never let the marker reach the AI as if the customer wrote it (docs/providers.md, G11).
        content.text = ""
        content.undecryptable = True
    return content


def _reader_for(type_message: str) -> Callable[[JSONObject, str], Content] | None:
    if type_message in _MEDIA_KINDS:
        return _read_file
    if type_message in _BUTTON_REPLIES:
        return _read_button_reply
    return _READERS.get(type_message)


def _unsupported(type_message: str) -> Content:
    return Content(kind="unsupported", data={"type_message": type_message})


def _apply_quote(content: Content, quoted: JSONObject) -> None:
    """Shape 2 of quotes (docs/providers.md, G14): any type may carry messageData.quotedMessage."""
    if not quoted:
        return
    if content.reply_to is None:
        content.reply_to = get_str(quoted, "stanzaId") or None
    quoted_text = first_str(quoted, "textMessage", "caption") or _quoted_fallback_text(quoted)
    if quoted_text:
        content.data["quoted_text"] = quoted_text
    participant = get_str(quoted, "participant")
    if participant:
        content.data["quoted_participant"] = participant


def _quoted_fallback_text(quoted: JSONObject) -> str:
    location = get_object(quoted, "location")
    if location:
        return first_str(location, "nameLocation", "address")
    return get_str(get_object(quoted, "contact"), "displayName")


def _forwarded(content: Content, source: JSONObject) -> Content:
    if source.get("isForwarded") is True:
        content.data["forwarded"] = True
    return content


def _read_text(message_data: JSONObject, _type: str) -> Content:
    text = get_str(get_object(message_data, "textMessageData"), "textMessage")
    return Content(kind="text", text=text)


def _read_extended_text(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "extendedTextMessageData")
    content = Content(kind="text", text=get_str(source, "text"))
    for key, name in (("title", "link_title"), ("description", "link_description")):
        value = get_str(source, key)
        if value:
            content.data[name] = value
    return _forwarded(content, source)


def _read_quoted(message_data: JSONObject, _type: str) -> Content:
    """Shape 1 of quotes: typeMessage 'quotedMessage', still sent though called deprecated."""
    source = get_object(message_data, "extendedTextMessageData")
    reply_to = get_str(source, "stanzaId") or None
    return Content(kind="text", text=get_str(source, "text"), reply_to=reply_to)


def _read_file(message_data: JSONObject, type_message: str) -> Content:
    source = get_object(message_data, "fileMessageData")
    url = get_str(source, "downloadUrl")
    content = Content(
        kind=_MEDIA_KINDS[type_message],
        text=get_str(source, "caption"),
        media_mime=get_str(source, "mimeType") or None,
    )
    if url == TOO_LARGE_MARKER:
        content.data["too_large"] = True  # over 100 MB: the agent must look on the phone
    else:
        content.media_url = url or None
    file_name = get_str(source, "fileName")
    if file_name:
        content.data["file_name"] = file_name
    return _forwarded(content, source)


def _read_location(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "locationMessageData")
    name, address = get_str(source, "nameLocation"), get_str(source, "address")
    latitude, longitude = get_number(source, "latitude"), get_number(source, "longitude")
    described = " — ".join(part for part in (name, address) if part)
    if not described and latitude is not None and longitude is not None:
        described = f"{latitude}, {longitude}"
    text = f"Location: {described}" if described else "Location"
    data: dict[str, object] = {
        "latitude": latitude,
        "longitude": longitude,
        "name": name,
        "address": address,
    }
    return _forwarded(Content(kind="location", text=text, data=data), source)


def _contact_card(source: JSONObject) -> dict[str, object]:
    vcard = get_str(source, "vcard")
    match = _WAID.search(vcard)
    return {
        "display_name": get_str(source, "displayName"),
        "phone": "+" + match.group(1) if match else None,
        "vcard": vcard,
    }


def _describe_card(card: Mapping[str, object]) -> str:
    return " ".join(str(card[key]) for key in ("display_name", "phone") if card[key])


def _read_contact(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "contactMessageData")
    card = _contact_card(source)
    described = _describe_card(card)
    text = f"Contact: {described}" if described else "Contact"
    return _forwarded(Content(kind="contact", text=text, data=card), source)


def _read_contacts_array(message_data: JSONObject, _type: str) -> Content:
    # Sources disagree on where the array sits (docs/providers.md, G14 vs Green API's TS types).
    holders = (
        message_data,
        get_object(message_data, "messageData"),
        get_object(message_data, "contactsArrayMessageData"),
    )
    items = next((found for holder in holders if (found := get_list(holder, "contacts"))), [])
    cards = [_contact_card(item) for item in items if isinstance(item, dict)]
    described = ", ".join(filter(None, (_describe_card(card) for card in cards)))
    text = f"Contacts: {described}" if described else "Contacts"
    return Content(kind="contacts", text=text, data={"contacts": cards})


def _read_reaction(message_data: JSONObject, _type: str) -> Content:
    """The emoji in extendedTextMessageData.text; the target in quotedMessage.stanzaId."""
    source = get_object(message_data, "extendedTextMessageData")
    reply_to = get_str(get_object(message_data, "quotedMessage"), "stanzaId")
    return Content(kind="reaction", text=get_str(source, "text"), reply_to=reply_to or None)


def _read_poll(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "pollMessageData")
    options = [
        get_str(option, "optionName")
        for option in get_list(source, "options")
        if isinstance(option, dict)
    ]
    data: dict[str, object] = {
        "options": options,
        "multiple_answers": source.get("multipleAnswers") is True,
    }
    return Content(kind="poll", text=get_str(source, "name"), data=data)


def _read_poll_update(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "pollMessageData")
    votes = [
        {
            "option": get_str(vote, "optionName"),
            "voters": [v for v in get_list(vote, "optionVoters") if isinstance(v, str)],
        }
        for vote in get_list(source, "votes")
        if isinstance(vote, dict)
    ]
    return Content(
        kind="poll_update",
        text=get_str(source, "name"),
        reply_to=get_str(source, "stanzaId") or None,
        data={"votes": votes},
    )


def _read_button_reply(message_data: JSONObject, type_message: str) -> Content:
    """The text the customer tapped; the names differ per legacy and beta shape (docs/providers.md,
    G14)."""
    source = get_object(message_data, type_message) or get_object(
        message_data, type_message + "Data"
    )
    selected = get_object(source, "singleSelectReply")
    text = first_str(
        source, "selectedDisplayText", "selectedButtonText", "title", "contentText", "titleText"
    )
    selected_id = first_str(source, "selectedId", "selectedButtonId", "selectedRowId")
    data: dict[str, object] = {"selected_id": selected_id or get_str(selected, "selectedRowId")}
    return Content(
        kind="button_reply",
        text=text,
        reply_to=get_str(source, "stanzaId") or None,
        data=data,
    )


def _read_buttons(message_data: JSONObject, _type: str) -> Content:
    """A copy of a button message (beta): its body text is what the chat shows."""
    source = get_object(message_data, "interactiveButtons")
    return Content(kind="buttons", text=first_str(source, "contentText", "titleText"))


def _read_group_invite(message_data: JSONObject, _type: str) -> Content:
    source = get_object(message_data, "groupInviteMessageData")
    group_name = get_str(source, "groupName")
    text = get_str(source, "caption") or (f"Group invite: {group_name}" if group_name else "")
    data: dict[str, object] = {
        "group_jid": get_str(source, "groupJid"),
        "group_name": group_name,
        "invite_code": get_str(source, "inviteCode"),
    }
    return Content(kind="group_invite", text=text, data=data)


_READERS: dict[str, Callable[[JSONObject, str], Content]] = {
    "textMessage": _read_text,
    "extendedTextMessage": _read_extended_text,
    "quotedMessage": _read_quoted,
    "locationMessage": _read_location,
    "contactMessage": _read_contact,
    "contactsArrayMessage": _read_contacts_array,
    "reactionMessage": _read_reaction,
    "pollMessage": _read_poll,
    "pollUpdateMessage": _read_poll_update,
    "interactiveButtons": _read_buttons,
    "groupInviteMessage": _read_group_invite,
}
