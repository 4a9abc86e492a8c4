"""Backfill: the messages a Green API number received while nothing listened (the service down,
the number unlinked), read from its journal and stored once, as their webhooks would have been
(docs/decisions.md, 26)."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy import select

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.green_api import journal
from whatsapp_assistant.channels.green_api.message_data import JSONObject, get_number
from whatsapp_assistant.channels.models import Channel, WebhookEvent
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.service import ChannelNotFound
from whatsapp_assistant.channels.types import ParsedWebhook
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.receive import defer_backfill, receive
from whatsapp_assistant.conversations.reply import defer_reply
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.states import Mode
from whatsapp_assistant.errors import Invalid
from whatsapp_assistant.kit.clock import as_utc, from_unix, utcnow

logger = logging.getLogger(__name__)

# Known keys are looked up this many at a time: one short query instead of a transaction each.
_KEY_BATCH = 500

Progress = Callable[[int, int], None]


class CannotBackfill(Invalid):
    code = "channel_cannot_be_backfilled"


@runtime_checkable
class ReadsJournal(Protocol):
    """An adapter that can list the number's recent incoming messages (Green API's can)."""

    async def last_incoming_messages(
        self, channel: Channel, *, minutes: int
    ) -> list[JSONObject]: ...


@runtime_checkable
class ReadsSentJournal(Protocol):
    """An adapter that can also list what the number sent, from the phone or the API."""

    async def last_outgoing_messages(
        self, channel: Channel, *, minutes: int
    ) -> list[JSONObject]: ...


@dataclass
class BackfillReport:
    read: int = 0  # journal entries in the window: customer messages and the agent's phone ones
    known: int = 0  # stored before (by a webhook, a poll or an earlier backfill)
    stored: int = 0  # stored now
    answered: int = 0  # conversations whose reply was deferred (not those taken over meanwhile)
    flagged: int = 0  # conversations flagged for the agent


async def backfill(
    runtime: Runtime,
    channel_id: uuid.UUID,
    *,
    since: timedelta,
    since_created: bool = False,
    on_progress: Progress | None = None,
) -> BackfillReport:
    """Store what the journal of the last `since` holds and the database lacks, each message in
    its own transaction through `receive`, the webhook's own path: the raw log's unique dedup
    key makes a message stored here and by a webhook at the same moment one row, answered once.

    Customer messages younger than BACKFILL_ANSWER_WITHIN_MINUTES are answered, by one reply
    job per conversation deferred once all is stored; older ones flag their conversation for
    the agent. With `since_created`, nothing older than the channel's connection is read: the
    automatic check looks for what was missed, not for the number's earlier life.
    """
    channel = await _channel(runtime, channel_id)
    adapter = adapter_for(runtime.channels, channel.type)
    if not isinstance(adapter, ReadsJournal):
        raise CannotBackfill(f"a {channel.type} channel has no message journal to read")
    now = utcnow()
    minutes = max(1, math.ceil(since.total_seconds() / 60))
    not_before = now - since
    if since_created:
        # Whole seconds, as the journal's times are.
        not_before = max(not_before, as_utc(channel.created_at).replace(microsecond=0))
    entries = await adapter.last_incoming_messages(channel, minutes=minutes)
    bodies = [journal.as_webhook(entry, channel.external_id) for entry in entries]
    if isinstance(adapter, ReadsSentJournal):
        # What the agent typed on the phone meanwhile takes its chat over, as its webhook would
        # have, so the AI does not answer a customer the agent already answered.
        sent = await adapter.last_outgoing_messages(channel, minutes=minutes)
        bodies += [
            journal.as_phone_webhook(entry, channel.external_id)
            for entry in sent
            if journal.typed_on_phone(entry)
        ]
    notices = _notices(adapter.parse_webhook, bodies, not_before)
    report = BackfillReport(read=len(notices))
    answer_after = now - timedelta(minutes=runtime.settings.backfill.answer_within_minutes)
    answered = await _store_missing(runtime, channel, notices, answer_after, report, on_progress)
    report.answered = await _defer_replies(runtime, channel, answered)
    logger.info("backfill of channel %s: %s", channel.id, report)
    return report


async def _store_missing(
    runtime: Runtime,
    channel: Channel,
    notices: Sequence[tuple[dict[str, object], ParsedWebhook]],
    answer_after: datetime,
    report: BackfillReport,
    on_progress: Progress | None,
) -> set[uuid.UUID]:
    """Each notice not in the raw log yet, through `receive` in its own transaction; the
    conversations to answer come back, the counts go into `report`."""
    known = await _known_keys(runtime, [parsed.dedup_key for _, parsed in notices])
    answered: set[uuid.UUID] = set()
    flagged: set[uuid.UUID] = set()
    for done, (body, parsed) in enumerate(notices, start=1):
        if parsed.dedup_key in known:
            report.known += 1
        else:
            async with runtime.db.session_scope() as session:
                row = await session.get(Channel, channel.id)
                assert row is not None
                result = await receive(
                    runtime,
                    session,
                    row,
                    parsed,
                    raw=body,
                    answer_after=answer_after,
                    defer_replies=False,
                )
            report.known += int(result.duplicate)
            report.stored += result.stored
            answered |= result.to_answer
            flagged |= {conversation.id for conversation, _ in result.to_flag}
        if on_progress is not None:
            on_progress(done, len(notices))
    report.flagged = len(flagged)
    return answered


async def _defer_replies(
    runtime: Runtime, channel: Channel, conversation_ids: set[uuid.UUID]
) -> int:
    """One reply job per conversation still in AI mode once everything is stored, so the reply
    reads all its missed messages at once. Stored meanwhile, they wait for it in
    `last_inbound_at`: a crash before this line leaves them to the recovery
    (docs/architecture.md, invariant 2). The reply job checks the mode again when it runs."""
    async with runtime.db.session_scope() as session:
        wanted = list(conversation_ids)
        in_ai_mode: list[uuid.UUID] = []
        for start in range(0, len(wanted), _KEY_BATCH):
            stmt = select(Conversation.id).where(
                Conversation.id.in_(wanted[start : start + _KEY_BATCH]),
                Conversation.mode == Mode.AI,
            )
            in_ai_mode.extend((await session.execute(stmt)).scalars())
        for conversation_id in in_ai_mode:
            defer_reply(runtime, session, conversation_id, channel.account_id)
    return len(in_ai_mode)


async def _channel(runtime: Runtime, channel_id: uuid.UUID) -> Channel:
    async with runtime.db.session_scope() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not channel.active:
            raise ChannelNotFound("no such channel")
        session.expunge(channel)
    return channel


Parse = Callable[[object], ParsedWebhook]


def _notices(
    parse: Parse, bodies: Sequence[dict[str, object]], not_before: datetime
) -> list[tuple[dict[str, object], ParsedWebhook]]:
    """The journals' messages in the window as webhook bodies, oldest first (stored in the
    order they were written, so a phone answer lands after the question), each once; an entry
    without an id or a time cannot be keyed and is left."""
    seen: set[str] = set()
    notices: list[tuple[dict[str, object], ParsedWebhook]] = []
    timed = [(get_number(body, "timestamp"), body) for body in bodies]
    in_window = [
        (seconds, body)
        for seconds, body in timed
        if seconds is not None and from_unix(seconds) >= not_before
    ]
    for _, body in sorted(in_window, key=lambda pair: pair[0]):
        parsed = parse(body)
        if parsed.dedup_key is None or parsed.dedup_key in seen:
            continue
        seen.add(parsed.dedup_key)
        notices.append((body, parsed))
    return notices


async def _known_keys(runtime: Runtime, keys: Sequence[str | None]) -> set[str]:
    wanted = [key for key in keys if key is not None]
    known: set[str] = set()
    async with runtime.db.session_scope() as session:
        for start in range(0, len(wanted), _KEY_BATCH):
            batch = wanted[start : start + _KEY_BATCH]
            stmt = select(WebhookEvent.dedup_key).where(
                WebhookEvent.provider == "green_api", WebhookEvent.dedup_key.in_(batch)
            )
            known.update(key for key in (await session.execute(stmt)).scalars() if key)
    return known


async def defer_all(runtime: Runtime) -> int:
    """At start-up: one backfill job per connected Green API number, as a job (a start-up never
    waits on Green API), reading no further back than each number's connection."""
    async with runtime.db.session_scope() as session:
        rows = await channels.list_green_api_channels(session)
        for channel in rows:
            defer_backfill(runtime, session, channel, since_created=True)
    return len(rows)
