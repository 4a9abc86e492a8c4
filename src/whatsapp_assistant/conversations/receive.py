"""receive: the one way a channel's notification enters, with the work it sets off on commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.types import ParsedWebhook
from whatsapp_assistant.conversations import outbox
from whatsapp_assistant.conversations.ingest import IngestResult, ingest_events, ingest_webhook
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime


async def receive(
    runtime: Runtime,
    session: AsyncSession,
    channel: Channel,
    parsed: ParsedWebhook,
    *,
    raw: Any | None,
) -> IngestResult:
    """Store `parsed`, then defer its replies and queue its notices, both leaving on commit.

    `raw` is the body as received, kept for audit, replay and de-duplication; None when there
    is no provider body (the simulator). Nothing is sent before the rows commit
    (docs/architecture.md, invariant 1).
    """
    if raw is None:
        result = await ingest_events(session, channel, parsed.events)
    else:
        result = await ingest_webhook(session, channel, parsed, raw)
    for conversation_id in result.to_answer:
        defer_reply(runtime, session, conversation_id, channel.account_id)
    outbox.send_on_commit(runtime, session, result.to_send)
    return result
