"""A worker SIGKILLed while it holds a due reminder: the reminder is sent exactly once.

PostgreSQL, the jobs in two worker processes. The test holds the reminder's row lock, so the
worker that took the job waits inside its send; that worker is killed, the lock released. The
dead worker's transaction never commits; the survivor's sweep wakes the row again and the stalled
job is retried; the conditional claim (pending -> sent) lets one of them send.
"""

from __future__ import annotations

import functools
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import JAMES, eventually, rows_settled, wait_until
from tests.fakes.green_api import FakeGreenAPI
from tests.races.conftest import Processes, serving
from tests.races.test_crash_recovery import (
    FAST_RECOVERY,
    _job_query,
    _registered_all_queues,
    _worker_ids,
)
from tests.settings import tuned
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.scheduled.models import (
    ScheduledKind,
    ScheduledMessage,
    ScheduledStatus,
)
from whatsapp_assistant.conversations.threads import open_conversation
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings

HOLDING_WORKER = (
    "SELECT worker_id FROM procrastinate_jobs"
    " WHERE task_name = 'scheduled.send' AND status = 'doing' LIMIT 1"
)
UNFINISHED = (
    "SELECT count(*) FROM procrastinate_jobs"
    " WHERE task_name = 'scheduled.send' AND status IN ('todo', 'doing')"
)
ALL_WEEK = [
    {"weekday": day, "start": "00:00", "end": "24:00"}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
]


async def _due_reminder(db: Database, account: ApiAccount) -> ScheduledMessage:
    """A viewing in two hours and its hour-before reminder, due a minute ago; no job for it
    (the workers' sweep finds it)."""
    async with db.session_scope() as session:
        listing = await create_property(session, account.account_id)
        channel = (
            await session.execute(select(Channel).where(Channel.account_id == account.account_id))
        ).scalar_one()
        conversation = await open_conversation(session, channel, JAMES)
        starts_at = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
        viewing = await viewings.book_by_agent(
            session,
            account.account_id,
            property_id=listing.id,
            starts_at=starts_at,
            customer_name="James",
            conversation_id=conversation.id,
            now=utcnow(),
        )
        row = ScheduledMessage(
            account_id=account.account_id,
            conversation_id=conversation.id,
            kind=ScheduledKind.REMINDER,
            due_at=utcnow() - timedelta(minutes=1),
            status=ScheduledStatus.PENDING,
            data={
                "viewing_id": str(viewing.id),
                "starts_at": starts_at.isoformat(),
                "notice": "reminder_hour",
            },
            created_by="system",
        )
        session.add(row)
    return row


@pytest.mark.postgres
async def test_a_worker_killed_holding_a_due_reminder_leaves_it_sent_once(
    settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    processes: Processes,
) -> None:
    here = tuned(settings, worker_in_process=False)
    async with serving(here, db, api_account, fake_green_api) as service:
        schedule = await service.client.put(
            "/api/v1/account/schedule",
            headers=api_account.headers,
            json={
                "time_zone": "Europe/Lisbon",
                "business_hours": ALL_WEEK,
                "viewing_minutes": 30,
                "buffer_minutes": 0,
                "notice_minutes": 0,
                "horizon_days": 14,
            },
        )
        assert schedule.status_code == 200, schedule.text
        reminder = await _due_reminder(db, api_account)
        async with db.session_scope() as holder:
            # The worker's claim of the row waits behind this lock, inside its job.
            await holder.execute(
                select(ScheduledMessage.id)
                .where(ScheduledMessage.id == reminder.id)
                .with_for_update()
            )
            workers = {}
            for _ in range(2):  # one at a time, so each registers before the next starts
                known = await _worker_ids(db)
                [worker] = await processes.workers(1, **FAST_RECOVERY)
                await eventually(functools.partial(_registered_all_queues, db, known), within=30)
                workers |= dict.fromkeys(await _worker_ids(db) - known, worker)

            async def held() -> bool:
                async with db.session_scope() as session:
                    found = await session.execute(text(HOLDING_WORKER))
                    return found.first() is not None

            await eventually(held, within=30)
            workers[await _job_query(db, HOLDING_WORKER)].kill()
        # The lock is gone with the holder's transaction; the dead worker's never commits.
        await wait_until(lambda: bool(fake_green_api.sent_messages), within=30)
        await rows_settled(db)

        async def finished() -> bool:
            return await _job_query(db, UNFINISHED) == 0

        await eventually(finished, within=30)  # the dead worker's job was retried, and ended
    [sent] = fake_green_api.sent_messages
    assert sent["chatId"] == JAMES
    assert sent["message"].startswith("See you soon! Your viewing of *Sunny T2 in Graça")
    async with db.session_scope() as session:
        row = await session.get(ScheduledMessage, reminder.id)
        assert row is not None
        assert (row.status, row.message_id is not None) == (ScheduledStatus.SENT, True)
