"""Billable messages per channel, month and category, from Meta's status pricing
(docs/providers.md, M9; docs/decisions.md, 30)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import BillableMessage, Channel
from whatsapp_assistant.channels.types import StatusUpdate
from whatsapp_assistant.db.engine import dialect_insert
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit.clock import utcnow


@dataclass(frozen=True)
class MonthCount:
    month: str
    category: str
    count: int


async def record_billable(session: AsyncSession, channel: Channel, event: StatusUpdate) -> None:
    """Count the message once: the unique (channel, wamid) makes a redelivered status, or the
    pricing repeated on a later status, a no-op in the database."""
    if not event.billable_category:
        return
    stmt = (
        dialect_insert(session, BillableMessage)
        .values(
            id=uuid.uuid4(),
            account_id=channel.account_id,
            channel_id=channel.id,
            provider_message_id=event.provider_message_id,
            month=event.timestamp.strftime("%Y-%m"),
            category=event.billable_category,
            pricing_model=event.pricing_model,
            reported_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[BillableMessage.channel_id, BillableMessage.provider_message_id]
        )
    )
    await session.execute(stmt)


async def billable_counts(
    session: AsyncSession, account_id: uuid.UUID, channel_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MonthCount]]:
    """Each channel's counts, newest month first, then by category."""
    if not channel_ids:
        return {}
    stmt = (
        for_account(
            select(
                BillableMessage.channel_id,
                BillableMessage.month,
                BillableMessage.category,
                func.count(),
            ),
            BillableMessage,
            account_id,
        )
        .where(BillableMessage.channel_id.in_(channel_ids))
        .group_by(BillableMessage.channel_id, BillableMessage.month, BillableMessage.category)
        .order_by(BillableMessage.month.desc(), BillableMessage.category)
    )
    counts: dict[uuid.UUID, list[MonthCount]] = {channel_id: [] for channel_id in channel_ids}
    for channel_id, month, category, count in await session.execute(stmt):
        counts[channel_id].append(MonthCount(month, category, int(count)))
    return counts
