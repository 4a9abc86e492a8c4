"""What a customer's webhook costs the database: a fixed, small number of statements.

Counted on the app's own engine (`before_cursor_execute`), so a change that adds a query to
every webhook fails here. The reply is deferred past the test (high debounce), so nothing but
the webhook's own transaction runs while it is counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import ApiAccount
from tests.conversations.harness import Service, customer_text, start_service
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database

# In the transaction: INSERT raw webhook, upsert contact, upsert conversation, INSERT message
# (each ON CONFLICT ... RETURNING), and the UPDATE of the conversation's times at commit. The
# channel comes from the process's cache; the language is read from the message itself. A new
# chat costs no more: its first language needs no live event of its own, as the message's event
# already brings the conversation to the inbox.
STATEMENTS_PER_MESSAGE = 5
COMMIT = "COMMIT"


@pytest.fixture
async def quiet_service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    quiet = tuned(settings, reply_debounce_seconds=120, recovery_every_seconds=3600)
    async for running in start_service(quiet, db, api_account, fake_green_api):
        yield running


@contextmanager
def counted(service: Service) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = service.runtime.db.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split("\n", 1)[0][:80])

    def commit(_conn: Any) -> None:
        statements.append(COMMIT)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", commit)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "commit", commit)


def split(statements: list[str]) -> tuple[list[str], list[str]]:
    """The webhook transaction's statements, and those run after its commit."""
    at = statements.index(COMMIT)
    return statements[:at], [s for s in statements[at + 1 :] if s != COMMIT]


def written(chat: str, message_id: str) -> dict[str, Any]:
    return customer_text(chat_id=chat, message_id=message_id)


async def post(service: Service, payload: dict[str, Any]) -> None:
    response = await service.post_webhook(payload)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1


class TestStatementsPerWebhook:
    async def test_a_new_chats_first_message_costs_a_fixed_number_of_statements(
        self, quiet_service: Service
    ) -> None:
        await post(quiet_service, written("351910000001@c.us", "WARM-1"))  # channel cached
        with counted(quiet_service) as statements:
            await post(quiet_service, written("351910000002@c.us", "NEW-1"))
        inside, after = split(statements)
        assert len(inside) == STATEMENTS_PER_MESSAGE, "\n".join(inside)
        assert after == [], "\n".join(after)

    async def test_a_known_chats_next_message_costs_five_statements(
        self, quiet_service: Service
    ) -> None:
        await post(quiet_service, written("351910000003@c.us", "FIRST-1"))
        with counted(quiet_service) as statements:
            await post(quiet_service, written("351910000003@c.us", "NEXT-1"))
        inside, after = split(statements)
        assert len(inside) == STATEMENTS_PER_MESSAGE, "\n".join(inside)
        assert after == [], "\n".join(after)

    async def test_a_redelivered_webhook_stops_after_its_first_statement(
        self, quiet_service: Service
    ) -> None:
        payload = written("351910000004@c.us", "AGAIN-1")
        await post(quiet_service, payload)
        with counted(quiet_service) as statements:
            response = await quiet_service.post_webhook(payload)
        assert response.json()["stored"] == 0
        assert split(statements) == (statements[:1], []), statements
