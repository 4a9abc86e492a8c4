"""Mode control through the API: takeover, hand-back, the agent's own messages, the audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conversations.harness import Service, drained, eventually, fixture
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic, error_response
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.conversations.models import Message

JAMES = "447700900123@c.us"
HELLO_TEXT = "Hello, I am looking for a 2 bedroom flat to buy in Lisbon"


async def _conversation_id(service: Service) -> str:
    listed = await service.client.get("/api/v1/conversations", headers=service.account.headers)
    [conversation] = listed.json()
    return str(conversation["id"])


def _message(text: str, id_message: str) -> dict[str, object]:
    payload = fixture("incoming_text")
    payload["idMessage"] = id_message
    payload["messageData"]["textMessageData"]["textMessage"] = text
    return payload


class TestSetMode:
    async def test_takeover_silences_the_ai_and_hand_back_answers_the_waiting_message(
        self, service: Service
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        conversation_id = await _conversation_id(service)
        url = f"/api/v1/conversations/{conversation_id}/mode"

        taken = await service.client.post(
            url, headers=service.account.headers, json={"mode": "human"}
        )
        assert taken.status_code == 200
        assert taken.json()["mode"] == "human"
        await service.post_webhook(
            _message("Any 3-bedroom flats in Lisbon?", "3EB0AAAAAAAAAAAAAAA1")
        )
        await drained(service)
        assert len(service.green_api.sent_messages) == 1

        back = await service.client.post(url, headers=service.account.headers, json={"mode": "ai"})
        assert back.json()["mode"] == "ai"
        await service.wait_for_sends(2)  # the message that arrived during the takeover

    async def test_events_record_who_changed_the_mode(self, service: Service) -> None:
        await service.post_webhook(fixture("incoming_text"))
        conversation_id = await _conversation_id(service)
        url = f"/api/v1/conversations/{conversation_id}"
        for mode in ("human", "ai"):
            await service.client.post(
                f"{url}/mode", headers=service.account.headers, json={"mode": mode}
            )
        events = (await service.client.get(f"{url}/events", headers=service.account.headers)).json()
        assert [(e["kind"], e["detail"]["mode"]) for e in events] == [
            ("mode_changed", "human"),
            ("mode_changed", "ai"),
        ]
        assert all(e["actor"].startswith("api_key:") for e in events)

    async def test_invalid_mode_is_refused_and_changes_nothing(self, service: Service) -> None:
        await service.post_webhook(fixture("outgoing_from_phone"))
        conversation_id = await _conversation_id(service)
        url = f"/api/v1/conversations/{conversation_id}/mode"
        response = await service.client.post(
            url, headers=service.account.headers, json={"mode": "robot"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "mode"
        [conversation] = await service.conversations()
        assert conversation.mode == "human"

    async def test_filters_by_mode(self, service: Service) -> None:
        await service.post_webhook(fixture("outgoing_from_phone"))  # James: human
        await service.post_webhook(fixture("incoming_extended_text"))  # Ana: ai
        headers = service.account.headers
        human = (
            await service.client.get("/api/v1/conversations?mode=human", headers=headers)
        ).json()
        assert [c["contact"]["chat_id"] for c in human] == [JAMES]
        bad = await service.client.get("/api/v1/conversations?mode=maybe", headers=headers)
        assert bad.status_code == 422


class TestAgentMessage:
    async def test_agent_message_is_sent_and_takes_over(self, service: Service) -> None:
        await service.post_webhook(fixture("outgoing_from_phone"))
        conversation_id = await _conversation_id(service)
        await service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=service.account.headers,
            json={"mode": "ai"},
        )
        response = await service.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            headers=service.account.headers,
            json={"text": "Hi James, Rita here. Saturday 10:00 works."},
        )
        assert response.status_code == 202
        [sent] = await service.wait_for_sends(1)
        assert sent == {"chatId": JAMES, "message": "Hi James, Rita here. Saturday 10:00 works."}
        [conversation] = await service.conversations()
        assert conversation.mode == "human"

        async def marked_sent() -> bool:
            rows = await service.messages(author="human", direction="out")
            return any(m.status == "sent" and m.provider_message_id for m in rows)

        await eventually(marked_sent)


class TestTakeoverFromThePhoneSetting:
    async def test_phone_message_does_not_take_over_when_the_setting_is_off(
        self, service: Service
    ) -> None:
        headers = service.account.headers
        patch = await service.client.patch(
            "/api/v1/account/settings", headers=headers, json={"takeover_on_phone_message": False}
        )
        assert patch.status_code == 200
        assert patch.json()["takeover_on_phone_message"] is False
        await service.post_webhook(fixture("outgoing_from_phone"))
        [conversation] = await service.conversations()
        assert conversation.mode == "ai"

    async def test_bad_settings_name_the_field_and_change_nothing(self, service: Service) -> None:
        headers = service.account.headers
        before = (await service.client.get("/api/v1/account/settings", headers=headers)).json()
        bad = await service.client.patch(
            "/api/v1/account/settings", headers=headers, json={"auto_resume_hours": 0}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "auto_resume_hours"
        phone = await service.client.patch(
            "/api/v1/account/settings", headers=headers, json={"owner_phone": "not a number"}
        )
        assert phone.status_code == 422
        after = (await service.client.get("/api/v1/account/settings", headers=headers)).json()
        assert after == before


class TestOptOut:
    async def test_stop_confirms_once_then_silence_until_start(self, service: Service) -> None:
        await service.post_webhook(_message("STOP", "3EB0STOP00000000001"))
        [confirmation] = await service.wait_for_sends(1)
        assert confirmation["chatId"] == JAMES
        await service.post_webhook(_message("Any flats in Lisbon?", "3EB0STOP00000000002"))
        await drained(service)
        assert len(service.green_api.sent_messages) == 1
        [conversation] = await service.conversations()
        assert conversation.mode == "ai"

        conversation_id = await _conversation_id(service)
        by_hand = await service.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            headers=service.account.headers,
            json={"text": "Rita here, writing personally."},
        )
        assert by_hand.status_code == 202
        await service.wait_for_sends(2)  # the agent may still write by hand

        await service.client.post(
            f"/api/v1/conversations/{conversation_id}/mode",
            headers=service.account.headers,
            json={"mode": "ai"},
        )
        await service.post_webhook(_message("START", "3EB0STOP00000000003"))
        await service.wait_for_sends(3)  # the opt-in confirmation
        await service.post_webhook(_message("Any flats in Graça?", "3EB0STOP00000000004"))
        await service.wait_for_sends(4)  # answered again
        events = (
            await service.client.get(
                f"/api/v1/conversations/{conversation_id}/events", headers=service.account.headers
            )
        ).json()
        kinds = [e["kind"] for e in events]
        assert kinds.index("opted_out") < kinds.index("opted_in")

    async def test_cancelar_is_answered_and_does_not_opt_out_but_stop_does(
        self, service: Service
    ) -> None:
        await service.post_webhook(_message("CANCELAR", "3EB0CANC00000000001"))
        await service.wait_for_sends(1)
        await drained(service)
        [answer] = await service.messages(author="ai")
        assert service.green_api.sent_messages[0]["message"] == answer.text
        assert await service.messages(author="system") == []
        conversation_id = await _conversation_id(service)
        events_url = f"/api/v1/conversations/{conversation_id}/events"
        events = (await service.client.get(events_url, headers=service.account.headers)).json()
        assert "opted_out" not in [e["kind"] for e in events]

        await service.post_webhook(_message("STOP", "3EB0CANC00000000002"))
        await service.wait_for_sends(2)
        [confirmation] = await service.messages(author="system")
        assert service.green_api.sent_messages[1]["message"] == confirmation.text
        events = (await service.client.get(events_url, headers=service.account.headers)).json()
        assert "opted_out" in [e["kind"] for e in events]


class TestEscalationByRules:
    async def test_offer_is_handed_over_with_one_message_and_the_agent_is_alerted(
        self, service: Service
    ) -> None:
        headers = service.account.headers
        await service.client.patch(
            "/api/v1/account/settings", headers=headers, json={"owner_phone": "+351 912 000 111"}
        )
        await service.post_webhook(
            _message("Would the owner take 380k for the Graça flat?", "3EB0ESC0000000000001")
        )
        sent = await service.wait_for_sends(2)
        to_customer = [m for m in sent if m["chatId"] == JAMES]
        to_agent = [m for m in sent if m["chatId"] == "351912000111@c.us"]
        assert len(to_customer) == 1
        assert "380k" in to_agent[0]["message"]

        escalated = (
            await service.client.get("/api/v1/conversations?escalated=true", headers=headers)
        ).json()
        [conversation] = [c for c in escalated if c["contact"]["chat_id"] == JAMES]
        assert conversation["escalation_reason"] == "negotiation"
        assert conversation["mode"] == "human"

        await service.post_webhook(_message("Hello? 350k then?", "3EB0ESC0000000000002"))
        await drained(service)
        assert len(service.green_api.sent_messages) == 2  # no second handoff while escalated

        url = f"/api/v1/conversations/{conversation['id']}"
        await service.client.post(f"{url}/mode", headers=headers, json={"mode": "ai"})
        cleared = (await service.client.get(url, headers=headers)).json()
        assert cleared["escalated"] is False

    async def test_is_the_price_negotiable_is_answered_not_escalated(
        self, service: Service
    ) -> None:
        await service.post_webhook(
            _message("Is the price of the Graça flat negotiable?", "3EB0ESC0000000000003")
        )
        await service.wait_for_sends(1)
        [conversation] = await service.conversations()
        assert conversation.mode == "ai"
        assert not conversation.escalated


RETRY_AFTER = 2.0  # a failed send waits this long, queued, before its retry


@pytest.fixture
async def flaky_service(
    start_claude: StartClaude, fake_green_api: FakeGreenAPI, fake_anthropic: FakeAnthropic
) -> AsyncIterator[Service]:
    """The model is down (503) and Green API's first sendMessage fails: that message waits,
    queued, for its retry, which is when the agent takes over."""
    fake_anthropic.responder = lambda _body: error_response(503)
    fake_green_api.fail_next(500)
    async with start_claude(
        llm_outage_retries=0, green_api_max_attempts=1, send_retry_delays_seconds=(RETRY_AFTER,)
    ) as running:
        yield running


async def _queued_for_retry(service: Service, author: str) -> Message:
    """The outbound row of `author` once its first send failed and it waits, queued."""
    found: list[Message] = []

    async def waiting() -> bool:
        rows = await service.messages(direction="out", author=author, status="queued")
        found[:] = [row for row in rows if row.data.get("send_attempts") == 1]
        return bool(found)

    await eventually(waiting)
    [row] = found
    return row


async def _take_over_and_drain(service: Service, conversation_id: uuid.UUID) -> None:
    taken = await service.client.post(
        f"/api/v1/conversations/{conversation_id}/mode",
        headers=service.account.headers,
        json={"mode": "human"},
    )
    assert taken.status_code == 200, taken.text
    await drained(service, conversation_id)


async def _status(service: Service, message_id: uuid.UUID) -> str:
    [row] = [row for row in await service.messages() if row.id == message_id]
    return row.status


class TestTakeoverCancelsQueuedNotices:
    """control.take_over cancels every queued automated row of the conversation, and
    outbox._claim never sends one queued under an older version; a person's row still goes."""

    async def test_queued_holding_notice_is_cancelled_and_never_sent(
        self, flaky_service: Service
    ) -> None:
        await flaky_service.post_webhook(_message(HELLO_TEXT, "3EB0HOLD00000000001"))
        notice = await _queued_for_retry(flaky_service, "system")
        assert notice.data.get("handoff") == "ai_unavailable"
        await _take_over_and_drain(flaky_service, notice.conversation_id)
        assert await _status(flaky_service, notice.id) == "cancelled"
        assert flaky_service.green_api.sent_messages == []

    async def test_queued_handover_notice_is_cancelled_and_never_sent(
        self, flaky_service: Service
    ) -> None:
        offer = "Would the owner take 380k for the Graça flat?"
        await flaky_service.post_webhook(_message(offer, "3EB0HAND00000000001"))
        notice = await _queued_for_retry(flaky_service, "system")
        assert notice.data.get("handoff") == "negotiation"
        await _take_over_and_drain(flaky_service, notice.conversation_id)
        assert await _status(flaky_service, notice.id) == "cancelled"
        assert flaky_service.green_api.sent_messages == []

    async def test_queued_opt_out_confirmation_is_cancelled_and_never_sent(
        self, flaky_service: Service
    ) -> None:
        await flaky_service.post_webhook(_message("STOP", "3EB0OPT000000000001"))
        confirmation = await _queued_for_retry(flaky_service, "system")
        assert confirmation.data.get("opt_notice") is True
        await _take_over_and_drain(flaky_service, confirmation.conversation_id)
        assert await _status(flaky_service, confirmation.id) == "cancelled"
        assert flaky_service.green_api.sent_messages == []

    async def test_queued_agent_message_survives_a_takeover_and_is_sent_once(
        self, flaky_service: Service
    ) -> None:
        await flaky_service.post_webhook(fixture("outgoing_from_phone"))
        conversation_id = uuid.UUID(await _conversation_id(flaky_service))
        written = await flaky_service.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            headers=flaky_service.account.headers,
            json={"text": "Rita here: the Graça flat is still available."},
        )
        assert written.status_code == 202, written.text
        mine = await _queued_for_retry(flaky_service, "human")
        await _take_over_and_drain(flaky_service, conversation_id)
        assert await _status(flaky_service, mine.id) == "sent"
        [sent] = flaky_service.green_api.sent_messages
        assert sent["message"] == "Rita here: the Graça flat is still available."

    async def test_notice_queued_before_a_hand_back_is_not_sent_after_it(
        self, flaky_service: Service
    ) -> None:
        """Any change of hands outdates a queued notice, not only a takeover: the claim checks
        the version it was queued under."""
        await flaky_service.post_webhook(_message(HELLO_TEXT, "3EB0BACK00000000001"))
        notice = await _queued_for_retry(flaky_service, "system")
        url = f"/api/v1/conversations/{notice.conversation_id}/mode"
        back = await flaky_service.client.post(
            url, headers=flaky_service.account.headers, json={"mode": "ai"}
        )
        assert back.status_code == 200, back.text
        await drained(flaky_service, notice.conversation_id)
        assert await _status(flaky_service, notice.id) == "cancelled"
        sent = [m["message"] for m in flaky_service.green_api.sent_messages]
        assert notice.text not in sent
