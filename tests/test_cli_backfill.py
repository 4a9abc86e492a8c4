"""`whatsapp-assistant backfill` as a user runs it: a real process, the test database, the fake
Green API's journal; then the service's start answers what the command stored."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import AsyncGenerator

from sqlalchemy import select

from tests.conftest import ApiAccount
from tests.conversations.harness import (
    ANA,
    JAMES,
    conversation_of,
    drained,
    journal_entry,
    start_service,
)
from tests.fakes.green_api import FakeGreenAPI
from tests.test_cli import CLI
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


def backfill_env(database_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "LLM_PROVIDER": "offline",
        "ANTHROPIC_API_KEY": "",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def run_backfill(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, "backfill", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def connected_channel(
    settings: Settings, db: Database, account: ApiAccount, fake: FakeGreenAPI
) -> uuid.UUID:
    """The fake's instance connected by a service that then stopped."""
    running = start_service(settings, db, account, fake)
    assert isinstance(running, AsyncGenerator)
    await anext(running)
    await running.aclose()
    async with db.session_scope() as session:
        return (
            await session.execute(select(Channel.id).where(Channel.type == "green_api"))
        ).scalar_one()


class TestBackfillCommand:
    async def test_stores_the_missed_messages_then_the_service_answers_the_recent_one(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        database_url: str,
    ) -> None:
        channel_id = await connected_channel(settings, db, api_account, fake_green_api)
        fake_green_api.add_incoming(journal_entry("Any T2 in Graça?", chat_id=JAMES, minutes_ago=4))
        fake_green_api.add_incoming(journal_entry("Olá?", chat_id=ANA, minutes_ago=150))

        done = run_backfill(
            backfill_env(database_url), "--channel", str(channel_id), "--since", "6h"
        )

        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report == {"read": 2, "known": 0, "stored": 2, "answered": 1, "flagged": 1}
        assert (await conversation_of(db, ANA)).escalated
        assert fake_green_api.sent_messages == []  # the command only stores: replies are jobs

        again = run_backfill(backfill_env(database_url), "--channel", str(channel_id))
        assert json.loads(again.stdout)["stored"] == 0

        running = start_service(settings, db, api_account, fake_green_api, connect=False)
        assert isinstance(running, AsyncGenerator)
        service = await anext(running)
        try:
            sent = await service.wait_for_sends(1)
            await drained(service)
        finally:
            await running.aclose()
        assert [body["chatId"] for body in sent] == [JAMES]
        assert len(fake_green_api.sent_messages) == 1

    def test_a_bad_duration_is_refused_with_a_clear_message(self, database_url: str) -> None:
        done = run_backfill(
            backfill_env(database_url), "--channel", str(uuid.uuid4()), "--since", "6 weeks"
        )
        assert done.returncode == 2
        assert "90m, 6h or 2d" in done.stderr

    async def test_an_unknown_channel_is_refused(self, db: Database, database_url: str) -> None:
        done = run_backfill(backfill_env(database_url), "--channel", str(uuid.uuid4()))
        assert done.returncode == 2
        assert "no such channel" in done.stderr
