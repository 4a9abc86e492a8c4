"""The Meta Cloud API webhook: the verification handshake, signed bodies from every sample
stored and answered through Graph, wrong signatures refused, redeliveries stored once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conversations.harness import drained, eventually, wait_until
from tests.conversations.meta_harness import (
    ANA_PHONE,
    ANA_USER_ID,
    APP_SECRET,
    META_FIXTURES,
    VERIFY_TOKEN,
    MetaService,
    meta_fixture,
    meta_fixture_bytes,
)
from tests.fakes.meta_graph import signature
from whatsapp_assistant.channels.models import WebhookEvent
from whatsapp_assistant.conversations.models import Contact, Message
from whatsapp_assistant.conversations.states import MessageStatus
from whatsapp_assistant.db.session import Database

INBOUND = sorted(path.stem for path in META_FIXTURES.glob("inbound_*.json"))
# What each sample becomes in the thread, and whether the assistant answers it.
KINDS = {
    "inbound_text": ("text", True),
    "inbound_text_with_user_id": ("text", True),
    "inbound_text_username_no_phone": ("text", True),
    "inbound_text_from_ad": ("text", True),
    "inbound_image": ("image", True),
    "inbound_voice_note": ("audio", True),
    "inbound_location": ("location", True),
    "inbound_button_reply": ("button_reply", True),
    "inbound_reaction": ("reaction", False),
    "inbound_unsupported": ("unsupported", False),
}


async def _stored(db: Database) -> tuple[int, int]:
    async with db.session_scope() as session:
        messages = await session.scalar(select(func.count()).select_from(Message))
        events = await session.scalar(select(func.count()).select_from(WebhookEvent))
    return int(messages or 0), int(events or 0)


async def _contacts(db: Database) -> list[Contact]:
    async with db.session_scope() as session:
        return list((await session.execute(select(Contact))).scalars())


async def _inbound(db: Database) -> list[Message]:
    async with db.session_scope() as session:
        stmt = select(Message).where(Message.direction == "in").order_by(Message.created_at)
        return list((await session.execute(stmt)).scalars())


class TestVerificationHandshake:
    async def test_the_right_verify_token_gets_the_challenge_back_as_text(
        self, meta_service: MetaService
    ) -> None:
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": VERIFY_TOKEN,
        }
        response = await meta_service.client.get("/webhooks/meta", params=params)
        assert response.status_code == 200
        assert response.text == "1158201444"
        assert response.headers["content-type"].startswith("text/plain")

    @pytest.mark.parametrize(
        "params",
        [
            {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "nope"},
            {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
            {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN},
            {},
        ],
        ids=["wrong-token", "no-token", "not-subscribe", "nothing"],
    )
    async def test_anything_else_answers_403_without_the_challenge(
        self, meta_service: MetaService, params: dict[str, str]
    ) -> None:
        response = await meta_service.client.get("/webhooks/meta", params=params)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "verification_refused"
        assert "1158201444" not in response.text


class TestSignature:
    async def test_a_wrong_signature_answers_401_and_stores_nothing(
        self, meta_service: MetaService
    ) -> None:
        response = await meta_service.post_webhook(
            raw=meta_fixture_bytes("inbound_text"), secret="not-the-app-secret"
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
        assert await _stored(meta_service.db) == (0, 0)

    async def test_a_missing_signature_answers_401(self, meta_service: MetaService) -> None:
        response = await meta_service.client.post(
            "/webhooks/meta",
            content=meta_fixture_bytes("inbound_text"),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 401
        assert await _stored(meta_service.db) == (0, 0)

    async def test_the_signature_is_of_the_raw_bytes_not_of_the_json(
        self, meta_service: MetaService
    ) -> None:
        """A body signed as re-serialised JSON (another spacing) is not the body sent."""
        raw = meta_fixture_bytes("inbound_text")
        compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()
        response = await meta_service.client.post(
            "/webhooks/meta",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature(APP_SECRET, compact),
            },
        )
        assert response.status_code == 401
        assert await _stored(meta_service.db) == (0, 0)

    async def test_an_unknown_phone_number_id_answers_like_a_wrong_signature(
        self, meta_service: MetaService
    ) -> None:
        payload = meta_fixture("inbound_text")
        payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        response = await meta_service.post_webhook(payload)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
        assert await _stored(meta_service.db) == (0, 0)

    @pytest.mark.parametrize(
        "raw",
        [
            b"not json",
            b"[]",
            b'{"object": "page", "entry": []}',
            b'{"object": "whatsapp_business_account"}',
        ],
        ids=["text", "list", "other-object", "no-entry"],
    )
    async def test_an_unidentifiable_body_answers_400_and_stores_nothing(
        self, meta_service: MetaService, raw: bytes
    ) -> None:
        response = await meta_service.post_webhook(raw=raw)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_payload"
        assert await _stored(meta_service.db) == (0, 0)


class TestEverySample:
    async def test_each_inbound_sample_has_its_expectation(self) -> None:
        assert set(INBOUND) == set(KINDS)

    @pytest.mark.parametrize("name", INBOUND)
    async def test_a_signed_sample_is_stored_and_answered_through_graph(
        self, meta_service: MetaService, name: str
    ) -> None:
        response = await meta_service.post_webhook(raw=meta_fixture_bytes(name))
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == 1
        [message] = await _inbound(meta_service.db)
        kind, answered = KINDS[name]
        assert message.kind == kind
        assert message.provider_message_id == _wamid(name)
        await drained(meta_service.runtime)
        sent = meta_service.graph.sent_messages
        if answered:
            [reply] = sent
            assert reply["type"] == "text" and reply["text"]["body"].strip()
            expected = {"recipient": ANA_USER_ID} if _has_user_id(name) else {"to": ANA_PHONE}
            assert expected.items() <= reply.items()
        else:
            assert sent == []
        await wait_until(lambda: meta_service.graph.read_marks == [_wamid(name)])

    async def test_a_reply_is_recorded_with_graphs_wamid_and_its_delivery_applied(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text"))
        [reply] = await meta_service.wait_for_sends(1)
        await drained(meta_service.runtime)
        async with meta_service.db.session_scope() as session:
            stmt = select(Message).where(Message.direction == "out")
            [sent] = (await session.execute(stmt)).scalars()
        assert sent.status == MessageStatus.SENT
        assert sent.provider_message_id and sent.provider_message_id.startswith("wamid.")
        status = meta_fixture("status_delivered")
        status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent.provider_message_id
        response = await meta_service.post_webhook(status)
        assert response.status_code == 200

        async def delivered() -> bool:
            async with meta_service.db.session_scope() as session:
                row = await session.get(Message, sent.id)
                return row is not None and row.status == MessageStatus.DELIVERED

        await eventually(delivered)
        assert reply["to"] == ANA_PHONE

    async def test_a_failed_status_shows_metas_reason(self, meta_service: MetaService) -> None:
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text"))
        await meta_service.wait_for_sends(1)
        await drained(meta_service.runtime)
        async with meta_service.db.session_scope() as session:
            [sent] = (
                await session.execute(select(Message).where(Message.direction == "out"))
            ).scalars()
        failed = meta_fixture("status_failed")
        failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent.provider_message_id
        assert (await meta_service.post_webhook(failed)).status_code == 200
        async with meta_service.db.session_scope() as session:
            row = await session.get(Message, sent.id)
        assert row is not None and row.status == MessageStatus.FAILED
        assert row.error is not None and "131047" in row.error

    async def test_a_send_graph_refuses_outside_the_window_is_failed_with_the_reason(
        self, meta_service: MetaService
    ) -> None:
        """131047 (the 24-hour window) is never retried blindly: the row fails, saying why."""
        meta_service.graph.refuse_next_send(400, 131047, "Re-engagement message")
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text"))

        async def failed() -> bool:
            async with meta_service.db.session_scope() as session:
                stmt = select(Message).where(Message.direction == "out")
                rows = list((await session.execute(stmt)).scalars())
            return [row.status for row in rows] == [MessageStatus.FAILED]

        await eventually(failed)
        await drained(meta_service.runtime)
        async with meta_service.db.session_scope() as session:
            [row] = (
                await session.execute(select(Message).where(Message.direction == "out"))
            ).scalars()
        assert row.error is not None and "131047" in row.error
        sends = [
            r for r in meta_service.graph.requests if isinstance(r.json, dict) and "type" in r.json
        ]
        assert len(sends) == 1
        assert meta_service.graph.sent_messages == []

    @pytest.mark.parametrize("name", ["status_delivered", "status_failed"])
    async def test_a_status_of_an_unknown_send_is_kept_and_changes_nothing(
        self, meta_service: MetaService, name: str
    ) -> None:
        response = await meta_service.post_webhook(raw=meta_fixture_bytes(name))
        assert response.status_code == 200
        assert await _stored(meta_service.db) == (0, 1)

    async def test_a_notification_naming_no_number_is_acknowledged_and_not_kept(
        self, meta_service: MetaService
    ) -> None:
        """Other fields carry no phone number id, so no channel whose secret could check them."""
        response = await meta_service.post_webhook(raw=meta_fixture_bytes("template_status_update"))
        assert response.status_code == 200
        assert response.json() == {"status": "ignored", "stored": 0}
        assert await _stored(meta_service.db) == (0, 0)


class TestRedelivery:
    async def test_a_redelivered_wamid_is_stored_once_and_answered_once(
        self, meta_service: MetaService
    ) -> None:
        raw = meta_fixture_bytes("inbound_text")
        first = await meta_service.post_webhook(raw=raw)
        again = await meta_service.post_webhook(raw=raw)
        assert first.json()["stored"] == 1
        assert again.status_code == 200 and again.json()["stored"] == 0
        await drained(meta_service.runtime)
        assert len(meta_service.graph.sent_messages) == 1
        assert await _stored(meta_service.db) == (2, 1)  # the message and the one reply

    async def test_the_same_message_rebatched_with_another_is_still_stored_once(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text_with_user_id"))
        batch = meta_fixture("inbound_text_with_user_id")
        value = batch["entry"][0]["changes"][0]["value"]
        second = dict(value["messages"][0], id="wamid.SECOND" + "A" * 40, timestamp="1795002060")
        second["text"] = {"body": "E com garagem?"}
        value["messages"].append(second)
        response = await meta_service.post_webhook(batch)
        assert response.status_code == 200
        assert response.json()["stored"] == 1
        texts = [m.text for m in await _inbound(meta_service.db)]
        assert texts[1] == "E com garagem?" and len(texts) == 2


class TestContactsByUserId:
    async def test_a_customer_with_no_number_is_kept_by_their_user_id(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text_username_no_phone"))
        [contact] = await _contacts(meta_service.db)
        assert contact.chat_id == ANA_USER_ID
        assert contact.phone is None
        assert contact.name == "Ana F."
        [reply] = await meta_service.wait_for_sends(1)
        assert reply["recipient"] == ANA_USER_ID and "to" not in reply

    async def test_the_number_is_kept_beside_the_user_id_when_meta_sends_both(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text_username_no_phone"))
        await drained(meta_service.runtime)
        later = meta_fixture("inbound_text_with_user_id")
        later["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.LATER" + "B" * 40
        await meta_service.post_webhook(later)
        [contact] = await _contacts(meta_service.db)
        assert (contact.chat_id, contact.phone) == (ANA_USER_ID, ANA_PHONE)
        assert len(await _inbound(meta_service.db)) == 2  # one conversation, both messages


def _wamid(name: str) -> str:
    wamid: str = meta_fixture(name)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return wamid


def _has_user_id(name: str) -> bool:
    return "from_user_id" in meta_fixture(name)["entry"][0]["changes"][0]["value"]["messages"][0]


def _text_sample_with(raw_text: str) -> bytes:
    """inbound_text as on disk, its message text replaced by the raw JSON `raw_text`."""
    payload = meta_fixture("inbound_text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "@@RAW@@"
    return json.dumps(payload, ensure_ascii=False).replace('"@@RAW@@"', raw_text).encode()


class TestHostileBodies:
    @pytest.mark.parametrize(
        "raw",
        [
            _text_sample_with("1" * 5000),
            _text_sample_with("NaN"),
            _text_sample_with("[" * 40 + "]" * 40),
            _text_sample_with('"Ol@"').replace(b"@", b"\xe1"),
        ],
        ids=["5000-digits", "nan", "nested-40-deep", "not-utf8"],
    )
    async def test_an_unreadable_body_is_400_even_when_signed(
        self, meta_service: MetaService, raw: bytes
    ) -> None:
        response = await meta_service.post_webhook(raw=raw)
        assert response.status_code == 400
        assert await _stored(meta_service.db) == (0, 0)

    async def test_a_lone_surrogate_and_nul_cost_the_customer_nothing(
        self, meta_service: MetaService
    ) -> None:
        raw = _text_sample_with(r'"T2 \ud83d em Lisboa\u0000?"')
        response = await meta_service.post_webhook(raw=raw)
        assert response.status_code == 200 and response.json()["stored"] == 1
        [message] = await _inbound(meta_service.db)
        assert message.text == "T2 \ufffd em Lisboa?"
        await meta_service.wait_for_sends(1)


class TestDisconnected:
    async def test_a_disconnected_number_refuses_the_handshake_and_the_webhooks(
        self, meta_service: MetaService
    ) -> None:
        headers = meta_service.account.headers
        [channel] = (await meta_service.client.get("/api/v1/channels", headers=headers)).json()
        deleted = await meta_service.client.delete(
            f"/api/v1/channels/{channel['id']}", headers=headers
        )
        assert deleted.status_code == 204
        params = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": VERIFY_TOKEN}
        assert (await meta_service.client.get("/webhooks/meta", params=params)).status_code == 403
        response = await meta_service.post_webhook(raw=meta_fixture_bytes("inbound_text"))
        assert response.status_code == 401
        assert await _stored(meta_service.db) == (0, 0)
