"""Green API webhook parsing never fails with anything but PayloadError, whatever the body."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.green_api_samples import FIXTURE_NAMES, INSTANCE, load
from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import ParsedWebhook

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
TYPE_WEBHOOKS = sorted({load(name)["typeWebhook"] for name in FIXTURE_NAMES} | {"quotaExceeded"})
TYPE_MESSAGES = [
    "textMessage",
    "extendedTextMessage",
    "quotedMessage",
    "imageMessage",
    "videoMessage",
    "documentMessage",
    "audioMessage",
    "stickerMessage",
    "locationMessage",
    "contactMessage",
    "contactsArrayMessage",
    "reactionMessage",
    "editedMessage",
    "deletedMessage",
    "pollMessage",
    "pollUpdateMessage",
    "groupInviteMessage",
    "interactiveButtons",
    "interactiveButtonsResponse",
    "interactiveButtonsReply",
    "buttonsResponseMessage",
    "templateButtonReplyMessage",
    "templateButtonsReplyMessage",
    "listResponseMessage",
    "somethingNew",
]
DATA_KEYS = [
    "textMessageData",
    "extendedTextMessageData",
    "fileMessageData",
    "locationMessageData",
    "contactMessageData",
    "contacts",
    "messageData",
    "editedMessageData",
    "deletedMessageData",
    "pollMessageData",
    "groupInviteMessageData",
    "quotedMessage",
    *TYPE_MESSAGES,
]


@st.composite
def routable_webhooks(draw: st.DrawFn) -> dict[str, Any]:
    """Valid envelopes whose every other field is arbitrary JSON, typed where it matters."""
    message_data = draw(
        st.fixed_dictionaries(
            {"typeMessage": st.sampled_from(TYPE_MESSAGES)},
            optional=dict.fromkeys(DATA_KEYS, json_values),
        )
    )
    return draw(
        st.fixed_dictionaries(
            {"typeWebhook": st.sampled_from(TYPE_WEBHOOKS), "instanceData": st.just(INSTANCE)},
            optional={
                "timestamp": json_values,
                "idMessage": json_values | st.text(max_size=300),
                "senderData": json_values
                | st.fixed_dictionaries(
                    {},
                    optional=dict.fromkeys(
                        ("chatId", "sender", "senderName", "chatName"), json_values
                    ),
                ),
                "messageData": json_values | st.just(message_data),
                "chatId": json_values,
                "from": json_values,
                "status": json_values,
                "stateInstance": json_values,
                "description": json_values,
            },
        )
    )


def _mutate(draw: st.DrawFn, node: object) -> object:
    """Replace, delete or descend into one field of `node`; leaves become arbitrary JSON."""
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["descend", "replace", "delete"]))
        result = dict(node)
        if action == "delete":
            del result[key]
        else:
            result[key] = _mutate(draw, node[key]) if action == "descend" else draw(json_values)
        return result
    if isinstance(node, list) and node:
        index = draw(st.integers(0, len(node) - 1))
        return [_mutate(draw, item) if i == index else item for i, item in enumerate(node)]
    return draw(json_values)


@st.composite
def mutated_samples(draw: st.DrawFn) -> object:
    body: object = load(draw(st.sampled_from(FIXTURE_NAMES)))
    for _ in range(draw(st.integers(1, 3))):
        body = _mutate(draw, body)
    return body


def assert_well_formed(parsed: ParsedWebhook) -> None:
    assert parsed.external_id.isdigit()
    assert len(parsed.event_type) <= 64
    assert parsed.dedup_key is None or len(parsed.dedup_key) <= 255
    assert len(parsed.events) == 1
    for event in parsed.events:
        json.dumps(dataclasses.asdict(event), default=str, allow_nan=False)  # storable as JSON


def parse_or_reject(body: object) -> None:
    try:
        parsed = parse_webhook(body)
    except PayloadError:
        return
    assert_well_formed(parsed)


class TestParseWebhookNeverCrashes:
    @given(json_values)
    @settings(max_examples=300)
    def test_arbitrary_json_is_parsed_or_rejected_as_payload_error(self, body: object) -> None:
        parse_or_reject(body)

    @given(routable_webhooks())
    @settings(
        max_examples=200,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def test_routable_envelopes_with_arbitrary_fields_always_parse(
        self, body: dict[str, Any]
    ) -> None:
        assert_well_formed(parse_webhook(body))

    @given(mutated_samples())
    @settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
    def test_mutated_samples_are_parsed_or_rejected_as_payload_error(self, body: object) -> None:
        parse_or_reject(body)
