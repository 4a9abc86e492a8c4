"""Hostile JSON at the Green API webhook: unreadable is a 400 that stores nothing, never a 5xx.

Green API re-sends a refused notification and holds back the number's later ones
(docs/architecture.md, invariant 7,
docs/providers.md G3), so one bad character must never cost a customer their message.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conversations.harness import FIXTURES, Service, drained, fixture
from tests.web.hostile_json import (
    is_readable,
    row_counts,
    with_one_field_hostile,
)
from whatsapp_assistant.conversations.models import Contact

SAMPLES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def _with_raw(field_path: str, raw: str, name: str = "incoming_text") -> bytes:
    """A sample notification whose field at `field_path` (dotted) holds the raw JSON `raw`."""
    payload = fixture(name)
    *parents, last = field_path.split(".")
    node = payload
    for key in parents:
        node = node[key]
    node[last] = "@@RAW@@"
    return json.dumps(payload).replace('"@@RAW@@"', raw).encode()


def _text_message(raw_text: str) -> bytes:
    return _with_raw("messageData.textMessageData.textMessage", raw_text)


UNREADABLE = {
    "5000-digit-timestamp": _with_raw("timestamp", "1" * 5000),
    "5000-digit-instance": _with_raw("instanceData.idInstance", "9" * 5000),
    "21-digit-integer": _with_raw("timestamp", "123456789012345678901"),
    "nan": _with_raw("timestamp", "NaN"),
    "infinity": _with_raw("timestamp", "Infinity"),
    "nested-40-deep": _with_raw("messageData.textMessageData", "[" * 40 + "]" * 40),
    "not-json": _text_message('"Hi"') + b"}",
    "not-utf8": _text_message('"Ol@"').replace(b"@", b"\xe1"),  # Latin-1
}


class TestUnreadableBodies:
    async def test_each_answers_400_with_a_clear_message_and_stores_nothing(
        self, service: Service
    ) -> None:
        before = await row_counts(service.db)
        for case, raw in UNREADABLE.items():
            response = await service.post_webhook(None, raw=raw)

            assert response.status_code == 400, (case, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid_payload", case
            assert error["message"].startswith("body "), case
        assert await row_counts(service.db) == before
        assert service.green_api.sent_messages == []

    async def test_an_oversized_body_is_told_apart_by_its_own_code(self, service: Service) -> None:
        response = await service.post_webhook(None, raw=_text_message(json.dumps("x" * 300_000)))
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"


class TestUnstorableCharacters:
    async def test_a_lone_surrogate_in_the_text_is_stored_as_a_replacement_and_answered(
        self, service: Service
    ) -> None:
        response = await service.post_webhook(None, raw=_text_message(r'"Hi \ud83d, any T2?"'))

        assert response.status_code == 200, response.text
        [stored] = await service.messages(author="customer")
        assert stored.text == "Hi \ufffd, any T2?"
        await service.wait_for_sends(1)

    async def test_surrogates_and_nul_in_names_and_keys_keep_the_message(
        self, service: Service
    ) -> None:
        payload = fixture("incoming_text")
        payload["senderData"]["senderName"] = "@@NAME@@"
        payload["extra"] = {"@@KEY@@": 1}
        raw = (
            json.dumps(payload)
            .replace('"@@NAME@@"', r'"James \udc00\u0000W"')
            .replace('"@@KEY@@"', r'"k\ud800\u0000"')
        )

        response = await service.post_webhook(None, raw=raw.encode())

        assert response.status_code == 200, response.text
        [stored] = await service.messages(author="customer")
        assert stored.text.startswith("Hi! I'm moving to Lisbon")
        await service.wait_for_sends(1)
        async with service.db.session_scope() as session:
            [name] = (await session.execute(select(Contact.name))).scalars()
        assert name == "James \ufffdW"


FIELDS = [
    "typeWebhook",
    "instanceData",
    "instanceData.idInstance",
    "timestamp",
    "idMessage",
    "senderData",
    "senderData.chatId",
    "senderData.senderName",
    "messageData",
    "messageData.typeMessage",
    "messageData.textMessageData",
    "messageData.textMessageData.textMessage",
]


class TestWrongTypesAtFields:
    async def test_no_wrong_type_at_any_field_answers_5xx(self, service: Service) -> None:
        for field_path in FIELDS:
            for raw in ["null", "true", "-1", "1.5", '""', "[]", "{}", '[{"a": 1}]']:
                response = await service.post_webhook(None, raw=_with_raw(field_path, raw))
                assert response.status_code < 500, (field_path, raw, response.text)


class TestArbitraryHostileJson:
    @given(
        data=st.sampled_from([fixture(name) for name in SAMPLES]).flatmap(with_one_field_hostile)
    )
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    async def test_any_field_of_any_sample_notification_never_answers_5xx(
        self, service: Service, data: bytes
    ) -> None:
        await drained(service.runtime)  # replies to earlier examples have finished
        before = await row_counts(service.db)

        response = await service.post_webhook(None, raw=data)

        assert response.status_code < 500, response.text
        if not is_readable(data):
            assert response.status_code == 400, response.text
            assert await row_counts(service.db) == before
