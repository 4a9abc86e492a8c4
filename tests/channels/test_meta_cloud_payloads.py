"""Meta webhook bodies into channel events: every type of the reference, statuses, the keys
that make a redelivery a no-op, and bodies that are odd but routable."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conversations.meta_harness import ANA_USER_ID, meta_fixture
from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.meta_cloud.payloads import parse_webhook
from whatsapp_assistant.channels.types import (
    Ignored,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    StatusUpdate,
)

NUMBER = "112233445566778"
ANA_CHAT = "351912345678@c.us"


def _with_message(message: dict[str, Any], *, contacts: bool = True) -> dict[str, Any]:
    payload = meta_fixture("inbound_text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = [
        {"from": "351912345678", "id": "wamid.X1", "timestamp": "1795002000"} | message
    ]
    if not contacts:
        del value["contacts"]
    return payload


def _only(payload: dict[str, Any]) -> Any:
    [event] = parse_webhook(payload).events
    return event


class TestEnvelope:
    def test_the_channel_is_the_phone_number_id_and_the_key_the_wamid(self) -> None:
        parsed = parse_webhook(meta_fixture("inbound_text"))
        assert parsed.external_id == NUMBER
        assert parsed.event_type == "message"
        wamid = meta_fixture("inbound_text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        assert parsed.dedup_key == f"{NUMBER}:message:{wamid}"

    def test_a_status_is_keyed_by_its_wamid_and_status(self) -> None:
        parsed = parse_webhook(meta_fixture("status_delivered"))
        assert parsed.dedup_key is not None and parsed.dedup_key.endswith(":delivered")
        assert parsed.event_type == "status"

    def test_a_batch_is_keyed_by_all_its_items_in_any_order(self) -> None:
        payload = meta_fixture("inbound_text")
        value = payload["entry"][0]["changes"][0]["value"]
        value["messages"].append(dict(value["messages"][0], id="wamid.OTHER"))
        reordered = copy.deepcopy(payload)
        reordered["entry"][0]["changes"][0]["value"]["messages"].reverse()
        assert parse_webhook(payload).dedup_key == parse_webhook(reordered).dedup_key
        assert (
            parse_webhook(payload).dedup_key
            != parse_webhook(meta_fixture("inbound_text")).dedup_key
        )
        assert len(parse_webhook(payload).events) == 2

    @pytest.mark.parametrize(
        "payload",
        [None, [], "x", {"object": "page", "entry": []}, {"object": "whatsapp_business_account"}],
        ids=["null", "list", "string", "other-object", "no-entry"],
    )
    def test_a_body_that_is_not_a_whatsapp_notification_is_refused(self, payload: Any) -> None:
        with pytest.raises(PayloadError):
            parse_webhook(payload)

    def test_a_field_without_a_number_names_no_channel(self) -> None:
        parsed = parse_webhook(meta_fixture("template_status_update"))
        assert parsed.external_id == ""
        assert parsed.event_type == "message_template_status_update"
        assert all(isinstance(event, Ignored) for event in parsed.events)

    def test_items_of_a_second_number_are_not_acted_on(self) -> None:
        payload = meta_fixture("inbound_text")
        other = copy.deepcopy(payload["entry"][0]["changes"][0])
        other["value"]["metadata"]["phone_number_id"] = "998877665544332"
        payload["entry"].append({"id": "1", "changes": [other]})
        parsed = parse_webhook(payload)
        assert parsed.external_id == NUMBER
        assert [type(event) for event in parsed.events] == [InboundMessage, Ignored]

    def test_garbage_inside_a_routable_body_is_ignored_not_refused(self) -> None:
        payload = meta_fixture("inbound_text")
        value = payload["entry"][0]["changes"][0]["value"]
        value["messages"] += [None, 7, {"type": "text"}, {"id": "w" * 500, "type": "text"}]
        value["statuses"] = ["x", {"id": "wamid.Y"}]
        parsed = parse_webhook(payload)
        assert isinstance(parsed.events[0], InboundMessage)
        assert all(isinstance(event, Ignored) for event in parsed.events[1:])


class TestMessages:
    def test_text_with_its_sender_name_phone_and_time(self) -> None:
        event = _only(meta_fixture("inbound_text"))
        assert isinstance(event, InboundMessage)
        assert (event.chat_id, event.phone, event.kind) == (ANA_CHAT, "+351912345678", "text")
        assert event.text.startswith("Olá! Procuro um T2")
        assert event.sender_name == "Ana Ferreira"
        assert event.timestamp == datetime.fromtimestamp(1795002000, UTC)
        assert event.answerable

    def test_a_user_id_is_the_chat_and_the_number_is_kept_beside_it(self) -> None:
        event = _only(meta_fixture("inbound_text_with_user_id"))
        assert (event.chat_id, event.phone, event.sender_id) == (
            ANA_USER_ID,
            "+351912345678",
            ANA_USER_ID,
        )

    def test_a_customer_without_a_number_has_only_their_user_id(self) -> None:
        event = _only(meta_fixture("inbound_text_username_no_phone"))
        assert (event.chat_id, event.phone, event.sender_name) == (ANA_USER_ID, None, "Ana F.")

    def test_a_message_without_any_sender_is_ignored(self) -> None:
        event = _only(
            _with_message({"from": "", "type": "text", "text": {"body": "hi"}}, contacts=False)
        )
        assert isinstance(event, Ignored)

    def test_an_image_keeps_its_caption_mime_and_media_id(self) -> None:
        event = _only(meta_fixture("inbound_image"))
        assert (event.kind, event.media_mime, event.media_url) == ("image", "image/jpeg", None)
        assert event.text.startswith("Gostei muito desta cozinha")
        assert event.data["media_id"] == "1284736509182736"

    def test_a_voice_note_is_audio_marked_voice(self) -> None:
        event = _only(meta_fixture("inbound_voice_note"))
        assert (event.kind, event.data["voice"], event.data["media_id"]) == (
            "audio",
            True,
            "1839204711223344",
        )

    def test_a_document_keeps_its_file_name(self) -> None:
        document = {"id": "55", "filename": "planta.pdf", "mime_type": "application/pdf"}
        event = _only(_with_message({"type": "document", "document": document}))
        assert (event.kind, event.data["file_name"]) == ("document", "planta.pdf")

    def test_a_location_is_described_in_words(self) -> None:
        event = _only(meta_fixture("inbound_location"))
        assert event.kind == "location"
        assert event.text == "Location: Campo de Ourique — Rua Ferreira Borges, Lisboa"
        assert (event.data["latitude"], event.data["longitude"]) == (38.7169, -9.16)

    def test_a_shared_contact_card(self) -> None:
        card = {"name": {"formatted_name": "Rita Almeida"}, "phones": [{"phone": "+351210000000"}]}
        event = _only(_with_message({"type": "contacts", "contacts": [card]}))
        assert (event.kind, event.text) == ("contact", "Contact: Rita Almeida +351210000000")

    def test_a_button_tap_says_its_title_and_quotes_our_message(self) -> None:
        event = _only(meta_fixture("inbound_button_reply"))
        assert (event.kind, event.text, event.data["selected_id"]) == (
            "button_reply",
            "Marcar visita",
            "book_viewing:graca-t2",
        )
        assert event.reply_to == "wamid.HBgMMzUxOTEyMzQ1Njc4FQIAERgSQTdFMjk0QjFDOEQ2RjAzQTVCAA=="

    def test_a_list_row_and_a_template_button(self) -> None:
        row = {
            "type": "list_reply",
            "list_reply": {"id": "slot:1", "title": "10:00", "description": "Rua da Graça"},
        }
        listed = _only(_with_message({"type": "interactive", "interactive": row}))
        assert (listed.text, listed.data["selected_id"]) == ("10:00", "slot:1")
        button = _only(
            _with_message(
                {"type": "button", "button": {"payload": "confirm:8", "text": "Confirmo"}}
            )
        )
        assert (button.kind, button.text, button.data["selected_id"]) == (
            "button_reply",
            "Confirmo",
            "confirm:8",
        )

    def test_a_reaction_and_its_removal_are_never_answered(self) -> None:
        event = _only(meta_fixture("inbound_reaction"))
        assert (event.kind, event.text, event.answerable) == ("reaction", "👍", False)
        removed = _only(_with_message({"type": "reaction", "reaction": {"message_id": "wamid.Q"}}))
        assert (removed.text, removed.reply_to) == ("", "wamid.Q")

    def test_unsupported_and_unknown_types_are_kept_not_answered(self) -> None:
        event = _only(meta_fixture("inbound_unsupported"))
        assert (event.kind, event.data["type"], event.answerable) == (
            "unsupported",
            "poll_creation",
            False,
        )
        assert "131051" in str(event.data["errors"])
        unknown = _only(_with_message({"type": "hologram", "hologram": {}}))
        assert (unknown.kind, unknown.answerable) == ("unsupported", False)

    def test_an_ad_referral_is_kept_as_the_leads_source(self) -> None:
        event = _only(meta_fixture("inbound_text_from_ad"))
        assert event.data["referral"]["source_type"] == "ad"

    def test_a_group_message_is_kept_not_answered(self) -> None:
        event = _only(_with_message({"type": "text", "text": {"body": "olá"}, "group_id": "G1"}))
        assert (event.chat_id, event.is_group, event.answerable) == ("G1@g.us", True, False)

    def test_system_notices_and_welcome_pings_are_ignored(self) -> None:
        for kind in ("system", "request_welcome"):
            assert isinstance(_only(_with_message({"type": kind, kind: {}})), Ignored)

    def test_revoke_and_edit_name_the_message_they_change(self) -> None:
        revoke = _only(
            _with_message({"type": "revoke", "revoke": {"original_message_id": "wamid.O"}})
        )
        assert isinstance(revoke, MessageDelete) and revoke.target_id == "wamid.O"
        edit_body = {
            "original_message_id": "wamid.O",
            "message": {"type": "text", "text": {"body": "novo"}},
        }
        edit = _only(_with_message({"type": "edit", "edit": edit_body}))
        assert isinstance(edit, MessageEdit) and (edit.target_id, edit.new_text) == (
            "wamid.O",
            "novo",
        )

    @pytest.mark.parametrize("timestamp", ["", "soon", "9" * 40, -5, None])
    def test_an_impossible_time_means_now(self, timestamp: object) -> None:
        event = _only(
            _with_message({"type": "text", "text": {"body": "x"}, "timestamp": timestamp})
        )
        assert abs((event.timestamp - datetime.now(UTC)).total_seconds()) < 60


class TestStatuses:
    def test_delivered_names_the_chat_by_number(self) -> None:
        event = _only(meta_fixture("status_delivered"))
        assert isinstance(event, StatusUpdate)
        assert (event.chat_id, event.status) == (ANA_CHAT, "delivered")

    def test_failed_carries_metas_reason(self) -> None:
        event = _only(meta_fixture("status_failed"))
        assert event.status == "failed"
        assert event.description.startswith("131047 Re-engagement message: More than 24 hours")

    def test_a_status_with_a_user_id_names_the_chat_by_it(self) -> None:
        payload = meta_fixture("status_delivered")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_user_id"] = ANA_USER_ID
        assert _only(payload).chat_id == ANA_USER_ID
