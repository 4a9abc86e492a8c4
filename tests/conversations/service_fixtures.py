"""The `service` fixtures: the app wired to a fake Green API and one listing on file, with the
offline AI (`service`) or Claude through the fake Anthropic API (`claude_service`);
`start_claude`, for a test whose service on Claude needs its own settings; and `meta_service`,
the same app on a Meta Cloud API channel and the fake Graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, start_service
from tests.conversations.meta_harness import MetaService, start_meta_service
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.meta_graph import FakeMetaGraph
from tests.races.conftest import claude, serving
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


async def _file_a_listing(db: Database, account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, account.account_id)


@pytest.fixture
async def service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    await _file_a_listing(db, api_account)
    async for running in start_service(settings, db, api_account, fake_green_api):
        yield running


@pytest.fixture
async def meta_service(
    settings: Settings, db: Database, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph
) -> AsyncIterator[MetaService]:
    """The app with a Meta Cloud API channel on the fake Graph, the offline AI and one
    listing on file."""
    await _file_a_listing(db, api_account)
    async for running in start_meta_service(settings, db, api_account, fake_meta_graph):
        yield running


class StartClaude(Protocol):
    def __call__(
        self, *, listing: bool = False, **changes: object
    ) -> AbstractAsyncContextManager[Service]: ...


@pytest.fixture
def start_claude(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    fake_anthropic: FakeAnthropic,
) -> StartClaude:
    """Starts the service on Claude (`claude` settings with `changes`), stopped on leaving;
    with `listing`, one listing is on file first."""

    @asynccontextmanager
    async def start(*, listing: bool = False, **changes: object) -> AsyncIterator[Service]:
        if listing:
            await _file_a_listing(db, api_account)
        on_claude = claude(settings, fake_anthropic, **changes)
        async with serving(on_claude, db, api_account, fake_green_api) as running:
            yield running

    return start


@pytest.fixture
async def claude_service(start_claude: StartClaude) -> AsyncIterator[Service]:
    """No listing on file: each test adds what its conversation is about."""
    async with start_claude(llm_outage_backoff_seconds=0.01) as running:
        yield running
