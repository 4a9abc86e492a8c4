"""The `service` fixture: the app wired to a fake Green API, offline AI, one listing on file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, start_service
from tests.fakes.green_api import FakeGreenAPI
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
