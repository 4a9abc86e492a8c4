"""States are typed: the database refuses a mode or message state the code does not know."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, StatementError

from tests.conversations.harness import Service, fixture
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus, Mode


class TestTheDatabaseRefusesUnknownStates:
    @pytest.mark.parametrize(
        ("table", "column"),
        [
            ("conversations", "mode"),
            ("messages", "status"),
            ("messages", "author"),
            ("messages", "direction"),
        ],
    )
    async def test_a_raw_update_to_an_unknown_value_fails(
        self, service: Service, table: str, column: str
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        with pytest.raises(IntegrityError):
            async with service.db.session_scope() as session:
                await session.execute(text(f"UPDATE {table} SET {column} = 'zz'"))  # noqa: S608

        [message] = await service.messages(author=Author.CUSTOMER)
        assert (message.direction, message.status) == (Direction.IN, MessageStatus.RECEIVED)
        [conversation] = await service.conversations()
        assert conversation.mode is Mode.AI  # read back as the enum, unchanged

    async def test_the_orm_refuses_an_unknown_value_before_the_database_sees_it(
        self, service: Service
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        with pytest.raises(StatementError, match="bogus"):
            async with service.db.session_scope() as session:
                await session.execute(update(Message).values(status="bogus"))
        async with service.db.session_scope() as session:
            statuses = (await session.execute(select(Message.status))).scalars().all()
        assert statuses == [MessageStatus.RECEIVED]
