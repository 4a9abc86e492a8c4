"""The `service` fixtures: the app wired to a fake Green API and one listing on file, with the
offline AI (`service`) or Claude through the fake Anthropic API (`claude_service`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, start_service
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


@pytest.fixture
async def service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    async for running in start_service(settings, db, api_account, fake_green_api):
        yield running


@pytest.fixture
async def claude_service(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    fake_anthropic: FakeAnthropic,
) -> AsyncIterator[Service]:
    """No listing on file: each test adds what its conversation is about."""
    claude = tuned(
        settings,
        llm_provider="anthropic",
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        llm_max_retries=0,
        llm_outage_backoff_seconds=0.01,
    )
    async for running in start_service(claude, db, api_account, fake_green_api):
        yield running
