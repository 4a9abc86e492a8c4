"""What a reply is drafted from (conversations/snapshot.py): the history as the model reads it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete

from tests.conversations.harness import Service, drained, fixture
from tests.fakes.anthropic_server import FakeAnthropic, last_user_text
from tests.statements import statements
from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.models import Persona
from whatsapp_assistant.ai.types import PersonaSpec, Turn
from whatsapp_assistant.conversations import reply
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.snapshot import Snapshot, read_snapshot
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus

LATE_QUESTION = "And is there parking?"


class TestHistory:
    """A message's created_at is taken inside its webhook's transaction, before the commit: one
    committed while a reply was drafted (after the reply job had read the conversation) can be
    older than that reply, which never saw it. The next reply must read it as the customer's
    last turn; before, the history ended with the AI's reply, build_messages refused it, and
    the customer got the "assistant is unavailable" notice and was handed to the agent."""

    async def test_message_older_than_the_reply_that_missed_it_is_answered(
        self, claude_service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.responder = lambda body: f"About: {last_user_text(body)}"
        assert (await claude_service.post_webhook(fixture("incoming_text"))).status_code == 200
        await claude_service.wait_for_sends(1)
        await drained(claude_service)
        [question] = await claude_service.messages(author=Author.CUSTOMER)
        [answer] = await claude_service.messages(author=Author.AI)
        async with claude_service.db.session_scope() as session:
            # Created while the first reply was being drafted, committed after it had read
            # the conversation; its webhook then woke the reply job again.
            late = question.created_at + (answer.created_at - question.created_at) / 2
            session.add(
                Message(
                    account_id=question.account_id,
                    conversation_id=question.conversation_id,
                    channel_id=question.channel_id,
                    direction=Direction.IN,
                    author=Author.CUSTOMER,
                    kind="text",
                    text=LATE_QUESTION,
                    status=MessageStatus.RECEIVED,
                    provider_message_id="3EB0LATE000000000001",
                    created_at=late,
                )
            )
            conversation = await session.get(Conversation, question.conversation_id)
            assert conversation is not None
            conversation.last_inbound_at = late

        outcome = await reply.answer_pending(claude_service.runtime, question.conversation_id)
        await drained(claude_service)

        assert outcome == reply.Outcome.QUEUED
        assert last_user_text(fake_anthropic.last_body) == LATE_QUESTION
        sent = [message["message"] for message in claude_service.green_api.sent_messages]
        assert sent[1:] == [f"About: {LATE_QUESTION}"]
        [conversation] = await claude_service.conversations()
        assert conversation.mode == "ai"


async def answered_then_asked_again(service: Service) -> tuple[Message, Message]:
    """The sample question answered, then a customer message after the answer, still pending."""
    assert (await service.post_webhook(fixture("incoming_text"))).status_code == 200
    await service.wait_for_sends(1)
    await drained(service)
    [question] = await service.messages(author=Author.CUSTOMER)
    [answer] = await service.messages(author=Author.AI)
    async with service.db.session_scope() as session:
        session.add(
            Message(
                account_id=question.account_id,
                conversation_id=question.conversation_id,
                channel_id=question.channel_id,
                direction=Direction.IN,
                author=Author.CUSTOMER,
                kind="text",
                text=LATE_QUESTION,
                status=MessageStatus.RECEIVED,
                provider_message_id="3EB0NEXT000000000001",
                created_at=answer.created_at + timedelta(seconds=1),
            )
        )
    return question, answer


async def snapshot_of(service: Service, conversation_id: uuid.UUID) -> tuple[Snapshot, list[str]]:
    """The snapshot a reply would read now, and the statements reading it took."""
    async with service.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        with statements(service.db) as seen:
            snapshot = await read_snapshot(
                session, conversation, channels=service.runtime.channels, history=20
            )
    assert snapshot is not None
    return snapshot, seen


class TestReadCost:
    async def test_a_snapshot_is_read_in_two_statements(self, service: Service) -> None:
        question, answer = await answered_then_asked_again(service)

        snapshot, seen = await snapshot_of(service, question.conversation_id)

        # The pending messages with everything else the reply needs, then the history.
        assert len(seen) == 2, "\n".join(seen)
        assert snapshot.pending_text == LATE_QUESTION
        assert snapshot.request.history == [
            Turn("user", question.text),
            Turn("assistant", answer.text),
            Turn("user", LATE_QUESTION),
        ]
        async with service.db.session_scope() as session:
            persona = await accounts.get_persona(session, question.account_id)
        assert snapshot.request.persona == PersonaSpec.from_model(persona)
        assert snapshot.request.contact_name == snapshot.contact_label == "James Whitfield"
        assert (snapshot.max_length, snapshot.owner_phone) == (20_000, None)  # Green API
        assert (snapshot.opted_out, snapshot.asked_to_type) == (False, False)

    async def test_an_account_without_a_persona_row_gets_the_default_one(
        self, service: Service
    ) -> None:
        question, _ = await answered_then_asked_again(service)
        async with service.db.session_scope() as session:
            await session.execute(delete(Persona).where(Persona.account_id == question.account_id))

        snapshot, _ = await snapshot_of(service, question.conversation_id)

        assert snapshot.request.persona == PersonaSpec()
        assert snapshot.pending_text == LATE_QUESTION
