"""Jobs are wake-up calls: work lost with a process is re-derived from the rows at start-up."""

from __future__ import annotations

from tests.builders import create_channel, create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import JAMES, drained, fixture, wait_until
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.app import running_services
from whatsapp_assistant.channels.green_api.payloads import parse_webhook
from whatsapp_assistant.channels.types import InboundMessage
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.ingest import IngestResult, ingest_message
from whatsapp_assistant.db.session import Database


async def _store_without_a_job(db: Database, account: ApiAccount, fake: FakeGreenAPI) -> None:
    """What a process that died right after committing the webhook leaves behind."""
    [event] = parse_webhook(fixture("incoming_text")).events
    assert isinstance(event, InboundMessage)
    async with db.session_scope() as session:
        await create_property(session, account.account_id)
        channel = await create_channel(
            session, account.account_id, api_url=fake.base_url, api_token=fake.token
        )
        await ingest_message(session, channel, event, IngestResult())


class TestRecoveryAtStartup:
    async def test_message_stored_before_a_crash_is_answered_once_after_restart(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        await _store_without_a_job(db, api_account, fake_green_api)

        async with running_services(settings, run_worker_here=True) as runtime:
            await wait_until(lambda: len(fake_green_api.sent_messages) == 1)
            await drained(runtime)
        async with running_services(settings, run_worker_here=True) as runtime:
            await drained(runtime)  # a second restart finds nothing left to do

        [sent] = fake_green_api.sent_messages
        assert sent["chatId"] == JAMES
        assert "Sunny T2 in Graça with terrace" in sent["message"]
