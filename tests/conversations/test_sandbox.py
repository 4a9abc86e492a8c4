"""The sandbox chat: which conversation it is, when it awaits a reply, and resetting it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import create_channel
from tests.conftest import ApiAccount
from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.conversations import sandbox
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.simulator import SANDBOX_CHAT_ID
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.clock import utcnow

OTHER_SIMULATED = "351900000001@c.us"


def add_message(
    session: AsyncSession, conversation: Conversation, author: str, text: str, *, ago: float = 0
) -> Message:
    message = Message(
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="in" if author == "customer" else "out",
        author=author,
        text=text,
        status="received" if author == "customer" else "sent",
        created_at=utcnow() - timedelta(seconds=ago),
    )
    session.add(message)
    return message


async def open_sandbox(session: AsyncSession, account_id: uuid.UUID) -> Conversation:
    channel = await channels.get_or_create_simulator(session, account_id)
    return await open_conversation(session, channel, SANDBOX_CHAT_ID, name=sandbox.SANDBOX_CUSTOMER)


async def count(session: AsyncSession, model: type[object], **where: object) -> int:
    stmt = select(func.count()).select_from(model).filter_by(**where)
    return int((await session.execute(stmt)).scalar_one())


class TestFinding:
    async def test_only_the_simulator_chat_with_the_reserved_number_is_the_sandbox(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        account_id = api_account.account_id
        async with db.session_scope() as session:
            assert await sandbox.find_sandbox(session, account_id) is None
            simulator = await channels.get_or_create_simulator(session, account_id)
            await open_conversation(session, simulator, OTHER_SIMULATED, name="Simulated customer")
            # A real WhatsApp chat with the same number is a customer, never the sandbox.
            whatsapp = await create_channel(session, account_id)
            await open_conversation(session, whatsapp, SANDBOX_CHAT_ID)
            assert await sandbox.find_sandbox(session, account_id) is None

            expected = await open_sandbox(session, account_id)
            found = await sandbox.find_sandbox(session, account_id)
        assert found is not None
        assert found.id == expected.id

    async def test_another_accounts_sandbox_is_not_found(
        self, db: Database, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            await open_sandbox(session, other_account.account_id)
            assert await sandbox.find_sandbox(session, api_account.account_id) is None
            assert await sandbox.read_sandbox(session, api_account.account_id) is None

    async def test_messages_come_oldest_first_and_only_this_conversations(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        account_id = api_account.account_id
        async with db.session_scope() as session:
            conversation = await open_sandbox(session, account_id)
            add_message(session, conversation, "customer", "first", ago=3)
            add_message(session, conversation, "ai", "second", ago=2)
            simulator = await channels.get_or_create_simulator(session, account_id)
            elsewhere = await open_conversation(session, simulator, OTHER_SIMULATED)
            add_message(session, elsewhere, "customer", "not in the sandbox", ago=1)
            await session.flush()
            read = await sandbox.read_sandbox(session, account_id)
            foreign = await sandbox.read_sandbox(session, uuid.uuid4())
        assert read is not None
        assert [m.text for m in read.messages] == ["first", "second"]
        assert foreign is None


class TestAwaitingReply:
    async def test_the_customers_unanswered_message_awaits_a_reply_until_answered(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        account_id = api_account.account_id
        async with db.session_scope() as session:
            conversation = await open_sandbox(session, account_id)
            asked = add_message(session, conversation, "customer", "Any flats?")
            conversation.last_inbound_at = asked.created_at
            await session.flush()
            pending = await sandbox.read_sandbox(session, account_id)
            assert pending is not None
            assert pending.awaiting_reply

            conversation.answered_through = asked.created_at
            add_message(session, conversation, "ai", "Yes: a T2 in Graça.")
            await session.flush()
            answered = await sandbox.read_sandbox(session, account_id)
        assert answered is not None
        assert not answered.awaiting_reply

    async def test_a_handed_over_chat_awaits_no_reply_and_gives_the_reason(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        account_id = api_account.account_id
        async with db.session_scope() as session:
            conversation = await open_sandbox(session, account_id)
            asked = add_message(session, conversation, "customer", "Can I talk to a person?")
            conversation.last_inbound_at = asked.created_at
            conversation.mode = "human"
            conversation.escalated = True
            session.add(
                Escalation(
                    account_id=account_id, conversation_id=conversation.id, reason="human_request"
                )
            )
            await session.flush()
            view = await sandbox.read_sandbox(session, account_id)
        assert view is not None
        assert view.handed_over
        assert view.escalation_reason == "human_request"
        assert not view.awaiting_reply


class TestReset:
    async def test_reset_deletes_the_sandbox_and_nothing_else(
        self, db: Database, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        mine, theirs = api_account.account_id, other_account.account_id
        async with db.session_scope() as session:
            conversation = await open_sandbox(session, mine)
            message = add_message(session, conversation, "customer", "I offer 300k")
            await session.flush()
            session.add(
                Escalation(
                    account_id=mine,
                    conversation_id=conversation.id,
                    message_id=message.id,
                    reason="negotiation",
                )
            )
            simulator = await channels.get_or_create_simulator(session, mine)
            kept = await open_conversation(session, simulator, OTHER_SIMULATED)
            add_message(session, kept, "customer", "kept")
            their_sandbox = await open_sandbox(session, theirs)
            add_message(session, their_sandbox, "customer", "theirs")

        async with db.session_scope() as session:
            assert await sandbox.reset_sandbox(session, mine)

        async with db.session_scope() as session:
            assert await sandbox.find_sandbox(session, mine) is None
            assert await count(session, Conversation, id=conversation.id) == 0
            assert await count(session, Contact, chat_id=SANDBOX_CHAT_ID, account_id=mine) == 0
            assert await count(session, Message, conversation_id=conversation.id) == 0
            assert await count(session, Escalation, conversation_id=conversation.id) == 0
            # The simulator channel, its other chats and the other account's sandbox stay.
            assert await count(session, Channel, id=simulator.id) == 1
            assert await count(session, Message, conversation_id=kept.id) == 1
            theirs_now = await sandbox.read_sandbox(session, theirs)
        assert theirs_now is not None
        assert [m.text for m in theirs_now.messages] == ["theirs"]

    async def test_reset_without_a_sandbox_does_nothing(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            assert not await sandbox.reset_sandbox(session, api_account.account_id)

    async def test_after_a_reset_the_next_message_opens_a_fresh_sandbox(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        account_id = api_account.account_id
        async with db.session_scope() as session:
            old = await open_sandbox(session, account_id)
            old.mode = "human"
        async with db.session_scope() as session:
            await sandbox.reset_sandbox(session, account_id)
        async with db.session_scope() as session:
            fresh = await open_sandbox(session, account_id)
            assert fresh.id != old.id
            assert fresh.mode == "ai"
