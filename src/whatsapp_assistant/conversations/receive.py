"""receive: the one way a channel's notification enters, with the work it sets off on commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import ParsedWebhook
from whatsapp_assistant.conversations import handoff, media, outbox, read_receipts
from whatsapp_assistant.conversations.ingest import IngestResult, ingest_events, ingest_webhook
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import BACKFILL_JOB, Runtime

MISSED_REASON = "missed_message"


async def receive(
    runtime: Runtime,
    session: AsyncSession,
    channel: Channel,
    parsed: ParsedWebhook,
    *,
    raw: Any | None,
    answer_after: datetime | None = None,
    defer_replies: bool = True,
) -> IngestResult:
    """Store `parsed`, then defer its replies and queue its notices, both leaving on commit.

    `raw` is the body as received, kept for audit, replay and de-duplication; None when there
    is no provider body (the simulator). Nothing is sent before the rows commit
    (docs/architecture.md, invariant 1). With `answer_after` (a backfill), a customer message
    written before it is flagged for the agent instead of answered, and without
    `defer_replies` the caller defers the replies of `result.to_answer` itself, once it stored
    all it had.
    """
    if raw is None:
        result = await ingest_events(session, channel, parsed.events, answer_after=answer_after)
    else:
        result = await ingest_webhook(session, channel, parsed, raw, answer_after=answer_after)
    # A customer's file is answered once its fetch job is done, which defers the reply itself:
    # the reply then sees the stored picture (docs/decisions.md, 31).
    after_fetch = media.defer_fetches(runtime, session, channel, result.to_fetch)
    for conversation_id in result.to_answer if defer_replies else ():
        if conversation_id not in after_fetch:
            defer_reply(runtime, session, conversation_id, channel.account_id)
    for conversation, message in result.to_flag:
        await handoff.flag_message(session, conversation, message.id, reason=MISSED_REASON)
    outbox.send_on_commit(runtime, session, result.to_send)
    if result.linked_again and channel.type == "green_api":
        defer_backfill(runtime, session, channel, since_created=True)
    read_receipts.mark_read_on_commit(runtime, session, channel, result.messages)
    return result


def defer_backfill(
    runtime: Runtime, session: AsyncSession, channel: Channel, *, since_created: bool
) -> None:
    """Look for messages the number received while we did not listen, once this commits
    (docs/decisions.md, 26): never in the request's own time."""
    runtime.queue.defer_on_commit(
        session,
        BACKFILL_JOB,
        queueing_lock=f"backfill:{channel.id}",
        channel_id=str(channel.id),
        minutes=runtime.settings.backfill.automatic_minutes,
        since_created=since_created,
    )
