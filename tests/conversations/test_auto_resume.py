"""Auto-resume: quiet human conversations go back to the AI by their own periodic job."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.builders import create_account, create_channel, create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    drained,
    eventually,
    fixture,
    start_service,
)
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.auto_resume import resume_due
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow


async def _quiet_for(service: Service, hours: float, **where: object) -> None:
    """Make the agent's last word `hours` old, for the conversations matching `where`."""
    stmt = update(Conversation).values(last_human_at=utcnow() - timedelta(hours=hours))
    for name, value in where.items():
        stmt = stmt.where(getattr(Conversation, name) == value)
    async with service.db.session_scope() as session:
        await session.execute(stmt)


async def _update(service: Service, conversation_id: uuid.UUID, **values: object) -> None:
    async with service.db.session_scope() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(**values)
        )


async def _set_hours(service: Service, hours: int | None) -> None:
    response = await service.client.patch(
        "/api/v1/account/settings",
        headers=service.account.headers,
        json={"auto_resume_hours": hours},
    )
    assert response.status_code == 200, response.text


async def _taken_over_by_phone(service: Service) -> Conversation:
    """The agent answered from the phone: the conversation is in human mode, not escalated."""
    await service.post_webhook(fixture("outgoing_from_phone"))
    [conversation] = await service.conversations()
    assert (conversation.mode, conversation.escalated) == (Mode.HUMAN, False)
    return conversation


async def _other_accounts_quiet_conversation(db: Database) -> uuid.UUID:
    """Another account, without auto-resume, whose agent went quiet days ago."""
    async with db.session_scope() as session:
        other = await create_account(session, name="Outra Imobiliária")
        channel = await create_channel(session, other.id, external_id="1109999999")
        conversation = await open_conversation(session, channel, "351934567890@c.us")
        conversation.mode = Mode.HUMAN
        conversation.last_human_at = utcnow() - timedelta(days=3)
        return conversation.id


async def _mode(db: Database, conversation_id: uuid.UUID) -> Mode:
    async with db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.mode


class TestResumeDue:
    async def test_only_conversations_quiet_for_the_accounts_hours_go_back(
        self, service: Service
    ) -> None:
        await _set_hours(service, 2)
        conversation = await _taken_over_by_phone(service)
        other = await _other_accounts_quiet_conversation(service.db)

        assert await resume_due(service.runtime) == 0  # the agent wrote just now
        await _quiet_for(service, 1.5, id=conversation.id)
        assert await resume_due(service.runtime) == 0  # quiet, but not for two hours yet
        await _quiet_for(service, 2.5, id=conversation.id)
        assert await resume_due(service.runtime) == 1

        assert await _mode(service.db, conversation.id) == Mode.AI
        assert await _mode(service.db, other) == Mode.HUMAN  # its account has no auto-resume
        assert await resume_due(service.runtime) == 0  # nothing left to hand back

    async def test_an_escalated_conversation_waits_for_a_person(self, service: Service) -> None:
        await _set_hours(service, 1)
        conversation = await _taken_over_by_phone(service)
        await _update(
            service, conversation.id, escalated=True, last_human_at=utcnow() - timedelta(days=2)
        )

        assert await resume_due(service.runtime) == 0
        assert await _mode(service.db, conversation.id) == Mode.HUMAN

    async def test_without_a_word_from_the_agent_the_last_change_counts(
        self, service: Service
    ) -> None:
        await _set_hours(service, 1)
        conversation = await _taken_over_by_phone(service)
        await _update(
            service, conversation.id, last_human_at=None, updated_at=utcnow() - timedelta(hours=2)
        )

        assert await resume_due(service.runtime) == 1

    async def test_turning_auto_resume_off_keeps_the_conversation_with_the_agent(
        self, service: Service
    ) -> None:
        await _set_hours(service, 1)
        conversation = await _taken_over_by_phone(service)
        await _quiet_for(service, 5)
        await _set_hours(service, None)

        assert await resume_due(service.runtime) == 0
        assert await _mode(service.db, conversation.id) == Mode.HUMAN


class TestTheJob:
    @pytest.fixture
    async def often(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> AsyncIterator[Service]:
        async with db.session_scope() as session:
            await create_property(session, api_account.account_id)
        quick = tuned(settings, recovery_every_seconds=1)
        async for running in start_service(quick, db, api_account, fake_green_api):
            yield running

    async def test_the_periodic_job_hands_back_and_answers_the_waiting_customer(
        self, often: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        await _set_hours(often, 2)
        conversation = await _taken_over_by_phone(often)
        question = fixture("incoming_text")
        question["idMessage"] = "3EB0AUTORESUME000001"
        await often.post_webhook(question)  # in human mode: stored, not answered
        await drained(often, conversation.id)
        assert fake_green_api.sent_messages == []

        await _quiet_for(often, 3)

        async def back_with_the_ai() -> bool:
            return await _mode(often.db, conversation.id) == Mode.AI

        await eventually(back_with_the_ai, within=10)  # no call to resume_due: the job did it
        [answer] = await often.wait_for_sends(1)
        assert answer["chatId"] == JAMES
        assert "Sunny T2 in Graça" in answer["message"]
