"""Mode control through the API: takeover, hand-back, the agent's own messages, the audit log."""

from __future__ import annotations

from tests.conversations.harness import Service, drained, eventually, fixture

JAMES = "447700900123@c.us"


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
