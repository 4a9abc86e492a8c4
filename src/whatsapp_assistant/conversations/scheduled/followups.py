"""Each account's follow-up ladder and reminder settings: defaults until the agent changes them
(as the schedule's, docs/decisions.md, 18)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations.scheduled.models import FollowupSettings
from whatsapp_assistant.conversations.scheduled.schemas import FollowupsData
from whatsapp_assistant.db.engine import dialect_insert
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id

# On for every account that never changed it: a day and three days after an unanswered AI
# message; reminders the day before and an hour before a viewing.
DEFAULT_FOLLOWUPS = FollowupsData(
    enabled=True, steps_hours=[24, 72], reminder_day_before=True, reminder_hour_before=True
)


async def get_followups(session: AsyncSession, account_id: uuid.UUID) -> FollowupsData:
    stmt = for_account(select(FollowupSettings), FollowupSettings, account_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return DEFAULT_FOLLOWUPS
    return FollowupsData(
        enabled=row.enabled,
        steps_hours=list(row.steps_hours),
        reminder_day_before=row.reminder_day_before,
        reminder_hour_before=row.reminder_hour_before,
    )


async def replace_followups(
    session: AsyncSession, account_id: uuid.UUID, data: FollowupsData
) -> FollowupsData:
    """Every value at once; the first change stores the row (two first changes: one inserts,
    the other updates it). Rows already scheduled keep their times."""
    values = data.model_dump()
    await session.execute(
        dialect_insert(session, FollowupSettings)
        .values(account_id=account_id, id=new_id(), **values)
        .on_conflict_do_update(
            index_elements=["account_id"], set_=values | {"updated_at": utcnow()}
        )
    )
    return await get_followups(session, account_id)
