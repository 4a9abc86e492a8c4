"""The harness itself: the schema comes from the migrations and matches the models."""

from __future__ import annotations

from sqlalchemy import select

from tests.builders import create_account, create_property
from whatsapp_assistant.db import migrate
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties.models import Property


def test_migrations_match_models(database_url: str) -> None:
    migrate.check(database_url)  # raises when a model change has no migration


async def test_rows_written_in_one_test_are_gone_in_the_next(db: Database) -> None:
    async with db.session_scope() as session:
        rows = (await session.execute(select(Property))).scalars().all()
        assert rows == []
        account = await create_account(session)
        await create_property(session, account.id)
