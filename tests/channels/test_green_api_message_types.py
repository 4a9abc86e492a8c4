"""Green API webhook parsing of every typeMessage in docs/providers.md, G14, from its documented
fields."""

from __future__ import annotations

import pytest

from tests.channels.green_api_samples import (
    ANA,
    BOT_REPLY_ID,
    only_event,
    parse_message,
    webhook,
)
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import InboundMessage, MessageEdit


class TestParseWebhookMessageTypes:
    """Every typeMessage of docs/providers.md, G14, built from its documented fields."""

    def test_both_quote_shapes_give_the_same_reply_to(self) -> None:
        quoted = {
            "stanzaId": BOT_REPLY_ID,
            "participant": "351210000000@c.us",
            "typeMessage": "textMessage",
            "textMessage": "Sunny T2 in Graça",
        }
        shape_one = parse_message(
            {
                "typeMessage": "quotedMessage",
                "extendedTextMessageData": {"text": "Saturday?", "stanzaId": BOT_REPLY_ID},
                "quotedMessage": quoted,
            }
        )
        shape_two = parse_message(
            {
                "typeMessage": "textMessage",
                "textMessageData": {"textMessage": "Saturday?"},
                "quotedMessage": quoted,
            }
        )
        for event in (shape_one, shape_two):
            assert event.text == "Saturday?"
            assert event.reply_to == BOT_REPLY_ID
            assert event.data["quoted_text"] == "Sunny T2 in Graça"

    def test_quote_on_an_image_uses_the_quoted_caption(self) -> None:
        event = parse_message(
            {
                "typeMessage": "imageMessage",
                "fileMessageData": {"downloadUrl": "https://x/y.jpg", "caption": "this one?"},
                "quotedMessage": {
                    "stanzaId": BOT_REPLY_ID,
                    "typeMessage": "imageMessage",
                    "caption": "Graça terrace",
                },
            }
        )
        assert event.kind == "image"
        assert event.reply_to == BOT_REPLY_ID
        assert event.data["quoted_text"] == "Graça terrace"

    @pytest.mark.parametrize("marker", ["{{SWE001}}", "{{SWE003}}"])
    def test_undecryptable_text_is_flagged_and_emptied(self, marker: str) -> None:
        event = parse_message(
            {"typeMessage": "textMessage", "textMessageData": {"textMessage": marker}}
        )
        assert event.undecryptable
        assert event.text == ""

    def test_undecryptable_extended_text_is_flagged(self) -> None:
        event = parse_message(
            {
                "typeMessage": "extendedTextMessage",
                "extendedTextMessageData": {"text": "{{SWE001}}"},
            }
        )
        assert event.undecryptable
        assert event.text == ""

    def test_ordinary_text_is_not_undecryptable(self) -> None:
        event = parse_message(
            {"typeMessage": "textMessage", "textMessageData": {"textMessage": "Olá"}}
        )
        assert not event.undecryptable

    def test_file_over_the_limit_has_no_url_and_is_flagged(self) -> None:
        event = parse_message(
            {
                "typeMessage": "videoMessage",
                "fileMessageData": {
                    "downloadUrl": "{{SWE002}}",
                    "caption": "tour",
                    "mimeType": "video/mp4",
                },
            }
        )
        assert event.kind == "video"
        assert event.media_url is None
        assert event.data["too_large"] is True
        assert event.text == "tour"

    @pytest.mark.parametrize(
        ("type_message", "kind"),
        [
            ("imageMessage", "image"),
            ("videoMessage", "video"),
            ("documentMessage", "document"),
            ("audioMessage", "audio"),
            ("stickerMessage", "sticker"),
        ],
    )
    def test_media_types_map_to_their_kind(self, type_message: str, kind: str) -> None:
        event = parse_message(
            {
                "typeMessage": type_message,
                "fileMessageData": {
                    "downloadUrl": "https://media/f",
                    "mimeType": "x/y",
                    "fileName": "floor-plan.pdf",
                    "caption": "",
                },
            }
        )
        assert event.kind == kind
        assert event.media_url == "https://media/f"
        assert event.media_mime == "x/y"
        assert event.data["file_name"] == "floor-plan.pdf"

    def test_sticker_is_never_answerable(self) -> None:
        event = parse_message({"typeMessage": "stickerMessage", "fileMessageData": {}})
        assert not event.answerable

    def test_location_without_names_shows_coordinates(self) -> None:
        event = parse_message(
            {
                "typeMessage": "locationMessage",
                "locationMessageData": {"latitude": 38.7, "longitude": -9.1},
            }
        )
        assert event.text == "Location: 38.7, -9.1"

    def test_contacts_array_lists_every_card(self) -> None:
        vcard = "BEGIN:VCARD\nFN:{name}\nTEL;type=CELL;waid={number}:+{number}\nEND:VCARD"
        event = parse_message(
            {
                "typeMessage": "contactsArrayMessage",
                "contacts": [
                    {
                        "displayName": "Pedro",
                        "vcard": vcard.format(name="Pedro", number="351913456789"),
                    },
                    {
                        "displayName": "Rui",
                        "vcard": vcard.format(name="Rui", number="351914000000"),
                    },
                ],
            }
        )
        assert event.kind == "contacts"
        assert [card["phone"] for card in event.data["contacts"]] == [
            "+351913456789",
            "+351914000000",
        ]
        assert event.text == "Contacts: Pedro +351913456789, Rui +351914000000"

    def test_contact_without_waid_has_no_phone(self) -> None:
        event = parse_message(
            {
                "typeMessage": "contactMessage",
                "contactMessageData": {"displayName": "Pedro", "vcard": "BEGIN:VCARD\nEND:VCARD"},
            }
        )
        assert event.data["phone"] is None
        assert event.text == "Contact: Pedro"

    def test_poll_lists_its_options(self) -> None:
        event = parse_message(
            {
                "typeMessage": "pollMessage",
                "pollMessageData": {
                    "name": "Best day?",
                    "options": [{"optionName": "Sat"}, {"optionName": "Sun"}],
                    "multipleAnswers": False,
                },
            }
        )
        assert event.kind == "poll"
        assert event.text == "Best day?"
        assert event.data["options"] == ["Sat", "Sun"]

    def test_poll_vote_points_at_the_poll_and_is_not_answerable(self) -> None:
        event = parse_message(
            {
                "typeMessage": "pollUpdateMessage",
                "pollMessageData": {
                    "stanzaId": BOT_REPLY_ID,
                    "name": "Best day?",
                    "votes": [{"optionName": "Sat", "optionVoters": [ANA]}],
                },
            }
        )
        assert event.kind == "poll_update"
        assert event.reply_to == BOT_REPLY_ID
        assert event.data["votes"] == [{"option": "Sat", "voters": [ANA]}]
        assert not event.answerable

    @pytest.mark.parametrize(
        ("type_message", "fields"),
        [
            (
                "interactiveButtonsResponse",
                {"selectedDisplayText": "Book a viewing", "selectedId": "1"},
            ),
            (
                "interactiveButtonsReply",
                {"selectedDisplayText": "Book a viewing", "selectedId": "1"},
            ),
            (
                "buttonsResponseMessage",
                {"selectedButtonText": "Book a viewing", "selectedButtonId": "1"},
            ),
            (
                "templateButtonReplyMessage",
                {"selectedDisplayText": "Book a viewing", "selectedId": "1"},
            ),
            (
                "templateButtonsReplyMessage",
                {"selectedDisplayText": "Book a viewing", "selectedId": "1"},
            ),
            ("listResponseMessage", {"title": "Book a viewing", "selectedRowId": "1"}),
        ],
    )
    def test_button_and_list_replies_read_the_selected_text(
        self, type_message: str, fields: dict[str, str]
    ) -> None:
        event = parse_message(
            {"typeMessage": type_message, type_message: {"stanzaId": BOT_REPLY_ID, **fields}}
        )
        assert event.kind == "button_reply"
        assert event.text == "Book a viewing"
        assert event.reply_to == BOT_REPLY_ID
        assert event.data["selected_id"] == "1"
        assert event.answerable

    def test_group_invite_names_the_group(self) -> None:
        event = parse_message(
            {
                "typeMessage": "groupInviteMessage",
                "groupInviteMessageData": {
                    "groupJid": "120363043968066561@g.us",
                    "groupName": "Buyers",
                    "inviteCode": "AbC",
                    "caption": "",
                },
            }
        )
        assert event.kind == "group_invite"
        assert event.text == "Group invite: Buyers"
        assert event.data["group_jid"] == "120363043968066561@g.us"

    def test_edited_caption_is_the_new_text(self) -> None:
        parsed = parse_webhook(
            webhook(
                {
                    "typeMessage": "editedMessage",
                    "editedMessageData": {
                        "caption": "new caption",
                        "stanzaId": "3EB0A1F2C3D4E5F6A7B8",
                    },
                },
                typeWebhook="outgoingMessageReceived",
            )
        )
        event = only_event(parsed)
        assert isinstance(event, MessageEdit)
        assert event.new_text == "new caption"
        assert event.origin == "phone"

    def test_unknown_type_is_stored_as_unsupported(self) -> None:
        event = parse_message({"typeMessage": "futureMessage", "futureMessageData": {}})
        assert event.kind == "unsupported"
        assert event.data["type_message"] == "futureMessage"
        assert not event.answerable

    def test_missing_message_data_is_unsupported(self) -> None:
        body = webhook({})
        del body["messageData"]
        event = only_event(parse_webhook(body))
        assert isinstance(event, InboundMessage)
        assert event.kind == "unsupported"

    def test_sender_name_falls_back_to_chat_name(self) -> None:
        event = parse_message(
            {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}},
            senderData={"chatId": ANA, "chatName": "Ana F."},
        )
        assert event.sender_name == "Ana F."
        assert event.sender_id is None

    def test_missing_timestamp_means_now(self) -> None:
        body = webhook({"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}})
        del body["timestamp"]
        event = only_event(parse_webhook(body))
        assert isinstance(event, InboundMessage)
        assert event.timestamp.tzinfo is not None
