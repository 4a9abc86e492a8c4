"""drained(): a test that asserts an absence first waits for every job that could still act."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, drained, fixture, pending_jobs, start_service
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.runtime import REPLY_JOB
from whatsapp_assistant.db.session import Database

DEBOUNCE_SECONDS = 1.0


@pytest.fixture
async def debounced(
    settings: Settings, db: Database, api_account: ApiAccount, fake_green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    slow = tuned(settings, reply_debounce_seconds=DEBOUNCE_SECONDS)
    async for running in start_service(slow, db, api_account, fake_green_api):
        yield running


async def test_returns_only_after_the_debounced_reply_was_sent(
    debounced: Service, fake_green_api: FakeGreenAPI
) -> None:
    await debounced.post_webhook(fixture("incoming_text"))
    # The reply job waits out the debounce: it is pending, and nothing has been sent yet.
    assert [job.task_name for job in await pending_jobs(debounced.runtime)] == [REPLY_JOB]
    assert fake_green_api.sent_messages == []

    await drained(debounced)

    assert len(fake_green_api.sent_messages) == 1
    assert await pending_jobs(debounced.runtime) == []


async def test_a_conversation_with_a_job_pending_is_not_drained(debounced: Service) -> None:
    await debounced.post_webhook(fixture("incoming_text"))
    [conversation] = await debounced.conversations()

    with pytest.raises(AssertionError, match="not met in time"):
        await drained(debounced, conversation.id, within=DEBOUNCE_SECONDS / 4)
    await drained(debounced, conversation.id)
