"""A conversation's language: followed from the customer, pinned by the agent, used by notices."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.conftest import ApiAccount
from tests.conversations.harness import Service, customer_text, drained, eventually
from tests.fakes.anthropic_server import FakeAnthropic
from tests.web.signin import sign_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HANDOFF_WORD = {"en": "personally", "es": "personalmente", "pt": "pessoalmente"}


def _voice_note() -> dict[str, Any]:
    payload = customer_text("")
    payload["messageData"] = {
        "typeMessage": "audioMessage",
        "fileMessageData": {
            "downloadUrl": "https://media.example/1101823456/voice.oga",
            "caption": "",
            "fileName": "voice.oga",
            "mimeType": "audio/ogg; codecs=opus",
        },
    }
    return payload


async def _say(service: Service, *texts: str) -> None:
    """Each text in turn, waiting for the reply to it (an AI answer or a notice)."""
    for text in texts:
        before = len(service.green_api.sent_messages)
        await service.post_webhook(customer_text(text))
        await service.wait_for_sends(before + 1)


async def _conversation(service: Service) -> dict[str, Any]:
    [conversation] = await service.conversations()
    response = await service.client.get(
        f"/api/v1/conversations/{conversation.id}", headers=service.account.headers
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _last_sent(service: Service) -> str:
    message: str = service.green_api.sent_messages[-1]["message"]
    return message


class TestDetectedLanguage:
    async def test_a_short_offer_after_portuguese_gets_the_handover_in_portuguese(
        self, service: Service
    ) -> None:
        await _say(
            service,
            "Olá, vi o anúncio do T3 em Campo de Ourique.",
            "Ainda está disponível? Qual é o valor do condomínio?",
            "Aceitariam 370 mil?",
        )

        notice = _last_sent(service)
        assert HANDOFF_WORD["pt"] in notice
        assert (await _conversation(service))["language"] == "pt"

    async def test_a_spanish_conversation_stays_spanish_on_a_short_ambiguous_line(
        self, service: Service
    ) -> None:
        await _say(
            service,
            "Hola, busco un piso de dos habitaciones en Sevilla.",
            "¿Está disponible todavía? ¿Cuánto cuesta la comunidad al mes?",
            "Desconto?",
        )

        assert HANDOFF_WORD["es"] in _last_sent(service)
        assert (await _conversation(service))["language"] == "es"

    async def test_a_clear_switch_changes_the_language(self, service: Service) -> None:
        await _say(service, "Hola, busco un piso de dos habitaciones en Sevilla.")
        assert (await _conversation(service))["language"] == "es"

        await _say(service, "Sorry, can I speak to a real person about the parking, please?")

        assert HANDOFF_WORD["en"] in _last_sent(service)
        body = await _conversation(service)
        assert body["language"] == "en"
        assert body["language_pinned"] is False


class TestUnreadableMessage:
    async def test_the_resend_request_is_in_the_conversations_language_once_known(
        self, service: Service
    ) -> None:
        await service.post_webhook(customer_text("{{SWE001}}"))
        [first] = await service.wait_for_sends(1)
        assert "Could you send it again?" in first["message"]  # no language yet: all three
        assert "Pode reenviá-la?" in first["message"]

        await _say(service, "Olá, procuro um T2 na Graça para comprar, até 400 mil euros.")
        await service.post_webhook(customer_text("{{SWE003}}"))
        sent = await service.wait_for_sends(3)
        assert sent[-1]["message"] == "Desculpe, a sua mensagem não chegou bem. Pode reenviá-la?"


class TestPinnedLanguage:
    async def test_a_pinned_language_is_kept_and_used(self, service: Service) -> None:
        await _say(service, "Hi, I'm looking for a two-bedroom flat in Lisbon to buy.")
        conversation_id = (await _conversation(service))["id"]

        pinned = await service.client.patch(
            f"/api/v1/conversations/{conversation_id}",
            headers=service.account.headers,
            json={"language": "pt"},
        )
        assert pinned.status_code == 200
        assert pinned.json()["language"] == "pt"
        assert pinned.json()["language_pinned"] is True

        await _say(service, "Thanks. Can I speak to a real person about the price, please?")

        assert HANDOFF_WORD["pt"] in _last_sent(service)
        body = await _conversation(service)
        assert (body["language"], body["language_pinned"]) == ("pt", True)

    async def test_null_unpins_and_detection_resumes(self, service: Service) -> None:
        await _say(service, "Hi, I'm looking for a two-bedroom flat in Lisbon to buy.")
        url = f"/api/v1/conversations/{(await _conversation(service))['id']}"
        headers = service.account.headers
        await service.client.patch(url, headers=headers, json={"language": "es"})

        unpinned = await service.client.patch(url, headers=headers, json={"language": None})

        assert unpinned.status_code == 200
        assert (unpinned.json()["language"], unpinned.json()["language_pinned"]) == ("es", False)
        await _say(service, "Sorry, can I speak to a real person about the parking, please?")
        assert (await _conversation(service))["language"] == "en"

    async def test_bad_values_are_refused_and_change_nothing(self, service: Service) -> None:
        await _say(service, "Hi, I'm looking for a two-bedroom flat in Lisbon to buy.")
        url = f"/api/v1/conversations/{(await _conversation(service))['id']}"
        for body in ({"language": "fr"}, {"language": "PT"}, {}, {"language": 1}, {"mode": "ai"}):
            response = await service.client.patch(url, headers=service.account.headers, json=body)
            assert response.status_code == 422, body
        after = await _conversation(service)
        assert (after["language"], after["language_pinned"]) == ("en", False)

    async def test_another_accounts_conversation_is_not_found(
        self, service: Service, other_account: ApiAccount
    ) -> None:
        await _say(service, "Hi, I'm looking for a two-bedroom flat in Lisbon to buy.")
        url = f"/api/v1/conversations/{(await _conversation(service))['id']}"

        response = await service.client.patch(
            url, headers=other_account.headers, json={"language": "pt"}
        )

        assert response.status_code == 404
        assert (await _conversation(service))["language_pinned"] is False


class TestThreadPage:
    async def test_the_thread_shows_and_pins_the_language(self, service: Service) -> None:
        await _say(service, "Hola, busco un piso de dos habitaciones en Sevilla.")
        conversation_id = (await _conversation(service))["id"]
        await sign_in(service.client, service.account.email)

        page = await service.client.get(f"/inbox/{conversation_id}")
        assert "Spanish, detected" in page.text
        token = _CSRF.search(page.text)
        assert token is not None
        saved = await service.client.post(
            f"/inbox/{conversation_id}/language",
            data={"language": "pt", "csrf_token": token.group(1)},
        )

        assert saved.status_code == 303
        page = await service.client.get(saved.headers["location"])
        assert "Portuguese, set by you" in page.text
        body = await _conversation(service)
        assert (body["language"], body["language_pinned"]) == ("pt", True)


class TestVoiceNote:
    async def test_a_voice_note_asks_once_to_type_and_flags_the_conversation(
        self, claude_service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.queue_text("Olá! Temos um T2 na Graça.")
        await _say(claude_service, "Olá, procuro um T2 na Graça para comprar, até 400 mil euros.")
        asked_model = len(fake_anthropic.requests)

        await claude_service.post_webhook(_voice_note())
        await claude_service.wait_for_sends(2)
        await claude_service.post_webhook(_voice_note())
        [conversation] = await claude_service.conversations()
        await _drained(claude_service, conversation.id, voice_notes=2)

        sent = [m["message"] for m in claude_service.green_api.sent_messages]
        assert len(sent) == 2
        assert "mensagens de voz" in sent[1]
        assert len(fake_anthropic.requests) == asked_model
        body = await _conversation(claude_service)
        assert body["escalated"] is True
        assert body["escalation_reason"] == "voice_note"
        assert body["mode"] == "ai"


async def _drained(service: Service, conversation_id: uuid.UUID, *, voice_notes: int) -> None:
    """Both voice notes are stored, and nothing more can reach the customer."""

    async def stored() -> bool:
        audio = await service.messages(conversation_id=conversation_id, kind="audio")
        return len(audio) == voice_notes

    await eventually(stored)
    await drained(service, conversation_id)
