"""Green API webhook parsing: every sample payload, and bodies that are ignored or rejected."""

from __future__ import annotations

import copy

import pytest

from tests.channels.green_api_samples import (
    ANA,
    BOT_REPLY_ID,
    FIXTURE_NAMES,
    INSTANCE,
    JAMES,
    load,
    message,
    only_event,
)
from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import (
    CallNotice,
    ChannelStateChange,
    Ignored,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    StatusUpdate,
)

EXPECTED_EVENT = {
    "incoming_call.json": CallNotice,
    "incoming_contact.json": InboundMessage,
    "incoming_deleted.json": MessageDelete,
    "incoming_edited.json": MessageEdit,
    "incoming_extended_text.json": InboundMessage,
    "incoming_group_text.json": InboundMessage,
    "incoming_image.json": InboundMessage,
    "incoming_location.json": InboundMessage,
    "incoming_quoted.json": InboundMessage,
    "incoming_reaction.json": InboundMessage,
    "incoming_text.json": InboundMessage,
    "outgoing_api.json": InboundMessage,
    "outgoing_from_phone.json": InboundMessage,
    "state_changed.json": ChannelStateChange,
    "status_delivered.json": StatusUpdate,
    "status_read.json": StatusUpdate,
    "status_sent.json": StatusUpdate,
}

INSTANCE_ID = INSTANCE["idInstance"]


class TestParseWebhookOnEverySample:
    def test_every_sample_file_has_an_expectation(self) -> None:
        assert sorted(EXPECTED_EVENT) == FIXTURE_NAMES

    @pytest.mark.parametrize("name", FIXTURE_NAMES)
    def test_sample_parses_to_one_event_of_the_expected_type(self, name: str) -> None:
        parsed = parse_webhook(load(name))
        assert parsed.external_id == "1101823456"
        assert parsed.event_type == load(name)["typeWebhook"]
        assert parsed.dedup_key
        assert isinstance(only_event(parsed), EXPECTED_EVENT[name])

    def test_dedup_keys_of_all_samples_are_distinct(self) -> None:
        keys = [parse_webhook(load(name)).dedup_key for name in FIXTURE_NAMES]
        assert len(set(keys)) == len(keys)

    def test_customer_text(self) -> None:
        event = message("incoming_text.json")
        assert event.origin == "customer"
        assert event.kind == "text"
        assert event.chat_id == JAMES
        assert event.provider_message_id == "3EB0A1F2C3D4E5F6A7B8"
        assert event.text.startswith("Hi! I'm moving to Lisbon")
        assert "€400k" in event.text
        assert event.sender_name == "James Whitfield"  # senderContactName is empty
        assert event.sender_id == JAMES
        assert not event.is_group
        assert event.answerable
        assert event.timestamp.timestamp() == 1795000000

    def test_extended_text_keeps_the_url_and_the_saved_contact_name(self) -> None:
        event = message("incoming_extended_text.json")
        assert event.kind == "text"
        assert event.text.endswith("https://www.imoveis-exemplo.pt/anuncio/33445566")
        assert event.sender_name == "Ana Ferreira (Avenidas Novas)"
        assert event.data["link_title"] == "T3 com terraço em Alvalade — 465.000 €"

    def test_quoted_message_points_at_the_bots_listing(self) -> None:
        event = message("incoming_quoted.json")
        assert event.kind == "text"
        assert event.text == "The Graça one looks great. Can I visit it on Saturday morning?"
        assert event.reply_to == BOT_REPLY_ID
        assert "Sunny T2 in Graça" in event.data["quoted_text"]

    def test_image_carries_media_and_caption(self) -> None:
        event = message("incoming_image.json")
        assert event.kind == "image"
        assert event.text == "É este prédio? Passei lá hoje de manhã 😊"
        assert event.media_url is not None
        assert event.media_url.endswith("6f1c2a9e-4b7d-4e3a-9c55-2d8f0b1e7a41.jpg")
        assert event.media_mime == "image/jpeg"
        assert event.data["file_name"] == "6f1c2a9e-4b7d-4e3a-9c55-2d8f0b1e7a41.jpg"

    def test_location_keeps_coordinates_name_and_address(self) -> None:
        event = message("incoming_location.json")
        assert event.kind == "location"
        assert event.data["latitude"] == 38.72064
        assert event.data["longitude"] == -9.14612
        assert event.data["name"] == "Avenida da Liberdade 190"
        assert event.data["address"] == "Av. da Liberdade 190, 1250-147 Lisboa, Portugal"
        assert "Avenida da Liberdade 190" in event.text

    def test_contact_card_number_comes_from_waid(self) -> None:
        event = message("incoming_contact.json")
        assert event.kind == "contact"
        assert event.data["display_name"] == "Pedro Ferreira"
        assert event.data["phone"] == "+351913456789"
        assert event.data["vcard"].startswith("BEGIN:VCARD")
        assert event.text == "Contact: Pedro Ferreira +351913456789"

    def test_reaction_attaches_to_the_bots_message_and_gets_no_reply(self) -> None:
        event = message("incoming_reaction.json")
        assert event.kind == "reaction"
        assert event.text == "👍"
        assert event.reply_to == BOT_REPLY_ID
        assert not event.answerable

    def test_group_message_is_marked_group_and_never_answerable(self) -> None:
        event = message("incoming_group_text.json")
        assert event.is_group
        assert event.chat_id == "120363041234567890@g.us"
        assert event.sender_id == "4915112345678@c.us"
        assert event.sender_name == "Lukas"
        assert event.chat_name == "Expats in Lisbon 🏠"
        assert not event.answerable

    def test_edit_targets_the_first_message_with_the_new_budget(self) -> None:
        event = only_event(parse_webhook(load("incoming_edited.json")))
        assert isinstance(event, MessageEdit)
        assert event.target_id == "3EB0A1F2C3D4E5F6A7B8"
        assert event.provider_message_id == "3EB0A9B8C7D6E5F4A3B2"
        assert "€420k" in event.new_text
        assert event.origin == "customer"
        assert event.chat_id == JAMES

    def test_delete_targets_the_extended_text_message(self) -> None:
        event = only_event(parse_webhook(load("incoming_deleted.json")))
        assert isinstance(event, MessageDelete)
        assert event.target_id == "A5C4B3D2E1F0A9B8C7D6E5F4A3B2C1D0"
        assert event.chat_id == ANA

    def test_api_echo_carries_the_id_our_send_returned(self) -> None:
        event = message("outgoing_api.json")
        assert event.origin == "api_echo"
        assert event.provider_message_id == BOT_REPLY_ID
        assert event.sender_name == "Rita Almeida"
        assert not event.answerable

    def test_phone_message_is_the_agent_typing(self) -> None:
        event = message("outgoing_from_phone.json")
        assert event.origin == "phone"
        assert event.chat_id == JAMES
        assert event.text.startswith("Hi James, Rita here")

    @pytest.mark.parametrize(
        ("name", "status"),
        [
            ("status_sent.json", "sent"),
            ("status_delivered.json", "delivered"),
            ("status_read.json", "read"),
        ],
    )
    def test_status_updates_name_the_bots_message(self, name: str, status: str) -> None:
        parsed = parse_webhook(load(name))
        event = only_event(parsed)
        assert isinstance(event, StatusUpdate)
        assert event.status == status
        assert event.provider_message_id == BOT_REPLY_ID
        assert event.chat_id == JAMES
        assert (
            parsed.dedup_key
            == f"{INSTANCE_ID}:outgoingMessageStatus:{JAMES}:{BOT_REPLY_ID}:{status}"
        )

    def test_state_change_reports_not_authorized(self) -> None:
        parsed = parse_webhook(load("state_changed.json"))
        event = only_event(parsed)
        assert isinstance(event, ChannelStateChange)
        assert event.state == "notAuthorized"
        assert parsed.dedup_key == f"{INSTANCE_ID}:stateInstanceChanged:1795001200:notAuthorized"

    def test_call_comes_from_the_caller(self) -> None:
        parsed = parse_webhook(load("incoming_call.json"))
        event = only_event(parsed)
        assert isinstance(event, CallNotice)
        assert event.chat_id == ANA
        assert event.status == "offer"
        assert event.provider_message_id == "0CC5E9DB52F5C9A47E839707419F9A11"
        assert (
            parsed.dedup_key
            == f"{INSTANCE_ID}:incomingCall:{ANA}:0CC5E9DB52F5C9A47E839707419F9A11:offer"
        )


class TestParseWebhookIgnoredAndMalformed:
    @pytest.mark.parametrize("body", [[], "text", None, 42, True])
    def test_a_body_that_is_not_an_object_is_a_payload_error(self, body: object) -> None:
        with pytest.raises(PayloadError):
            parse_webhook(body)

    @pytest.mark.parametrize("value", [None, "", 5, ["incomingCall"]])
    def test_missing_or_odd_type_webhook_is_a_payload_error(self, value: object) -> None:
        body = load("incoming_text.json")
        body["typeWebhook"] = value
        with pytest.raises(PayloadError, match="typeWebhook"):
            parse_webhook(body)

    @pytest.mark.parametrize("value", [None, "", "abc", -1, 0, True, 1.5, "١٢٣", 2**70])
    def test_missing_or_odd_instance_id_is_a_payload_error(self, value: object) -> None:
        body = load("incoming_text.json")
        body["instanceData"]["idInstance"] = value
        with pytest.raises(PayloadError, match="idInstance"):
            parse_webhook(body)

    def test_missing_instance_data_is_a_payload_error(self) -> None:
        body = load("incoming_text.json")
        del body["instanceData"]
        with pytest.raises(PayloadError):
            parse_webhook(body)

    def test_instance_id_as_a_digit_string_is_accepted(self) -> None:
        body = load("incoming_text.json")
        body["instanceData"]["idInstance"] = "1101823456"
        assert parse_webhook(body).external_id == "1101823456"

    def test_other_products_are_ignored(self) -> None:
        body = load("incoming_text.json")
        body["instanceData"]["typeInstance"] = "telegram"
        assert isinstance(only_event(parse_webhook(body)), Ignored)

    @pytest.mark.parametrize(
        "type_webhook",
        [
            "statusInstanceChanged",
            "deviceInfo",
            "outgoingCall",
            "incomingBlock",
            "quotaExceeded",
            "brandNew",
        ],
    )
    def test_account_level_and_unknown_webhooks_are_ignored(self, type_webhook: str) -> None:
        parsed = parse_webhook({"typeWebhook": type_webhook, "instanceData": INSTANCE})
        assert isinstance(only_event(parsed), Ignored)
        assert parsed.dedup_key is None

    def test_quota_exceeded_without_timestamp_is_ignored(self) -> None:
        body = {
            "typeWebhook": "quotaExceeded",
            "instanceData": INSTANCE,
            "quotaData": {"method": "correspondents", "used": 3, "total": 3},
        }
        event = only_event(parse_webhook(body))
        assert isinstance(event, Ignored)
        assert "quota" in event.reason

    def test_message_without_id_is_ignored_not_rejected(self) -> None:
        body = load("incoming_text.json")
        del body["idMessage"]
        parsed = parse_webhook(body)
        assert isinstance(only_event(parsed), Ignored)
        assert parsed.dedup_key is None

    def test_status_with_failure_description(self) -> None:
        body = load("status_sent.json")
        body.update(status="failed", description="SWE004: group participant limit exceeded")
        event = only_event(parse_webhook(body))
        assert isinstance(event, StatusUpdate)
        assert event.status == "failed"
        assert event.description.startswith("SWE004")

    def test_echo_and_incoming_with_the_same_id_have_different_dedup_keys(self) -> None:
        incoming = load("outgoing_api.json")
        incoming["typeWebhook"] = "incomingMessageReceived"
        assert (
            parse_webhook(incoming).dedup_key != parse_webhook(load("outgoing_api.json")).dedup_key
        )

    def test_the_same_message_on_two_instances_has_two_dedup_keys(self) -> None:
        other = load("incoming_text.json")
        other["instanceData"]["idInstance"] = 1101899999
        assert parse_webhook(other).dedup_key != parse_webhook(load("incoming_text.json")).dedup_key

    def test_very_long_ids_give_a_bounded_dedup_key(self) -> None:
        body = load("incoming_text.json")
        body["idMessage"] = "X" * 5000
        key = parse_webhook(body).dedup_key
        assert key is not None
        assert len(key) <= 255
        assert parse_webhook(copy.deepcopy(body)).dedup_key == key
