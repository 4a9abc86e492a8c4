"""The inbox list as the agent reads it: unread counts, the newest message, search, 'needs me'."""

from __future__ import annotations

from tests.conftest import ApiAccount
from tests.conversations.harness import ANA, JAMES, Service, fixture
from whatsapp_assistant.conversations.schemas import SimulatedMessage
from whatsapp_assistant.conversations.simulator import SANDBOX_PHONE, receive_simulated


def _text(text: str, id_message: str) -> dict[str, object]:
    payload = fixture("incoming_text")
    payload["idMessage"] = id_message
    payload["messageData"]["textMessageData"]["textMessage"] = text
    return payload


async def _listed(service: Service, query: str = "") -> list[dict[str, object]]:
    response = await service.client.get(
        f"/api/v1/conversations{query}", headers=service.account.headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()
    return rows


def _chats(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["contact"]["chat_id"]) for row in rows]  # type: ignore[index]


class TestUnread:
    async def test_customer_messages_count_until_the_agent_reads(self, service: Service) -> None:
        await service.post_webhook(_text("Hello?", "3EB0000000000000000A"))
        await service.post_webhook(_text("Anyone there?", "3EB0000000000000000B"))
        await service.wait_for_sends(1)
        [row] = await _listed(service)
        assert row["unread"] == 2  # the assistant's answer does not count as unread

        read = await service.client.post(
            f"/api/v1/conversations/{row['id']}/read", headers=service.account.headers
        )
        assert read.status_code == 200
        assert read.json()["unread"] == 0
        [row] = await _listed(service)
        assert row["unread"] == 0

        await service.post_webhook(_text("One more thing", "3EB0000000000000000C"))
        [row] = await _listed(service)
        assert row["unread"] == 1

    async def test_reading_a_thread_with_nothing_new_writes_nothing(self, service: Service) -> None:
        await service.post_webhook(_text("Hello?", "3EB0000000000000000A"))
        [row] = await _listed(service)
        url = f"/api/v1/conversations/{row['id']}/read"
        await service.client.post(url, headers=service.account.headers)
        [conversation] = await service.conversations()
        first_read = conversation.agent_read_at
        assert first_read is not None

        await service.client.post(url, headers=service.account.headers)
        [conversation] = await service.conversations()
        assert conversation.agent_read_at == first_read

    async def test_another_accounts_conversation_cannot_be_marked(
        self, service: Service, other_account: ApiAccount
    ) -> None:
        await service.post_webhook(_text("Hello?", "3EB0000000000000000A"))
        [row] = await _listed(service)
        response = await service.client.post(
            f"/api/v1/conversations/{row['id']}/read", headers=other_account.headers
        )
        assert response.status_code == 404
        [row] = await _listed(service)
        assert row["unread"] == 1


class TestPreview:
    async def test_the_newest_message_is_shown_with_its_author(self, service: Service) -> None:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        [row] = await _listed(service)
        last = row["last_message"]
        assert isinstance(last, dict)
        assert last["author"] == "ai"
        # A preview: the long listing reply is cut, not carried whole on every list read.
        assert len(last["text"]) == 160 and last["text"].endswith("…")
        assert "Sunny T2 in Graça" in last["text"]


class TestSearchAndFilters:
    async def test_search_by_name_number_or_words_said(self, service: Service) -> None:
        await service.post_webhook(fixture("incoming_text"))  # James, asks about Graça
        await service.post_webhook(fixture("incoming_extended_text"))  # Ana
        assert _chats(await _listed(service, "?q=whitfield")) == [JAMES]
        assert _chats(await _listed(service, "?q=351912")) == [ANA]
        assert _chats(await _listed(service, "?q=2-bedroom flat")) == [JAMES]
        assert await _listed(service, "?q=nobody-says-this") == []
        # LIKE wildcards in the query are plain characters, not "match anything".
        assert await _listed(service, "?q=%25") == []
        assert await _listed(service, "?q=_") == []

    async def test_needs_me_lists_human_and_escalated_conversations(self, service: Service) -> None:
        await service.post_webhook(fixture("outgoing_from_phone"))  # James: the agent wrote
        await service.post_webhook(fixture("incoming_extended_text"))  # Ana: the AI answers
        assert _chats(await _listed(service, "?needs_me=true")) == [JAMES]
        assert len(await _listed(service)) == 2

    async def test_too_long_a_search_is_refused(self, service: Service) -> None:
        response = await service.client.get(
            "/api/v1/conversations?q=" + "x" * 201, headers=service.account.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "query.q"


async def test_the_persona_sandbox_is_not_a_customer(service: Service) -> None:
    async with service.db.session_scope() as session:
        await receive_simulated(
            service.runtime,
            session,
            service.account.account_id,
            SimulatedMessage(text="Testing my assistant", phone=SANDBOX_PHONE),
        )
        await receive_simulated(
            service.runtime,
            session,
            service.account.account_id,
            SimulatedMessage(text="A real simulated customer", phone="351900000777"),
        )
    assert _chats(await _listed(service)) == ["351900000777@c.us"]
