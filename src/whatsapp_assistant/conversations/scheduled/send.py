"""Sending a due scheduled row, once, and the sweep that re-defers rows whose job was lost
(docs/architecture.md, invariant 2; docs/decisions.md, 25).

The send is one transaction that starts with a conditional UPDATE pending -> sent of the row: a
second job, or the same one run again after a crash, finds it no longer pending and does
nothing; the checks and the outbox row commit with it or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai.errors import LLMRateLimited, LLMRejected, LLMUnavailable
from whatsapp_assistant.ai.providers.offline import OfflineProvider
from whatsapp_assistant.ai.tools import AccountTools
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.conversations import outbox, window
from whatsapp_assistant.conversations.errors import ClockFixed
from whatsapp_assistant.conversations.language import notice_language
from whatsapp_assistant.conversations.model_calls import PausedTooLong
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import SCHEDULED_JOB, Runtime
from whatsapp_assistant.conversations.scheduled import texts
from whatsapp_assistant.conversations.scheduled.models import (
    ScheduledKind,
    ScheduledMessage,
    ScheduledStatus,
)
from whatsapp_assistant.conversations.scheduled.plan import defer_send
from whatsapp_assistant.conversations.scheduled.templated import template_for
from whatsapp_assistant.conversations.snapshot import LISTINGS, followup_request
from whatsapp_assistant.conversations.states import Author, Mode
from whatsapp_assistant.conversations.viewing_facts import facts_for
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.kit import clock
from whatsapp_assistant.kit.clock import as_utc, utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import PropertyFilters
from whatsapp_assistant.properties.service import search_properties
from whatsapp_assistant.scheduling.facts import ViewingStatus
from whatsapp_assistant.scheduling.models import ACTIVE_STATUSES, Viewing
from whatsapp_assistant.scheduling.service import load_calendar
from whatsapp_assistant.scheduling.wording import Notice, notice_text

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 500  # due rows re-deferred per sweep; the next sweep takes the rest
SIMILAR_LISTINGS = 3


async def send_due(runtime: Runtime, scheduled_id: uuid.UUID) -> str:
    """Send the row if it is due and still wanted; returns what became of it."""
    written = await _written_by_model(runtime, scheduled_id)
    async with runtime.db.session_scope() as session:
        claimed = await session.execute(
            update(ScheduledMessage)
            .where(
                ScheduledMessage.id == scheduled_id,
                ScheduledMessage.status == ScheduledStatus.PENDING,
            )
            .values(status=ScheduledStatus.SENT)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return "not pending"
        row = await session.get(ScheduledMessage, scheduled_id, populate_existing=True)
        assert row is not None
        return await _send_claimed(runtime, session, row, written)


async def _written_by_model(runtime: Runtime, scheduled_id: uuid.UUID) -> str | None:
    """With a real model, a due follow-up is written by it from the conversation, outside any
    transaction (docs/architecture.md); None for the offline template: offline, for any other
    row, when the row will not be sent now, or when the model does not answer."""
    if isinstance(runtime.llm, OfflineProvider):
        return None
    async with runtime.db.session_scope() as session:
        row = await session.get(ScheduledMessage, scheduled_id)
        if row is None or row.kind != ScheduledKind.FOLLOWUP or row.status != "pending":
            return None
        now = utcnow()
        found = (
            await session.execute(
                select(Conversation, Contact)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Conversation.id == row.conversation_id)
            )
        ).one()
        conversation, contact = found
        if as_utc(row.due_at) > now or conversation.mode != Mode.AI or contact.opted_out_at:
            return None
        if (await load_calendar(session, row.account_id)).next_open(now) > now:
            return None
        account_id = row.account_id
        request = await followup_request(
            session, conversation, contact, history=runtime.settings.llm.history_messages
        )
    llm = runtime.settings.llm
    deadline = asyncio.get_running_loop().time() + llm.rate_limit_give_up_seconds
    try:
        async with runtime.model_calls.claim(account_id, deadline=deadline) as call:
            try:
                draft = await runtime.llm.draft_reply(request, AccountTools(runtime.db, account_id))
            except LLMRateLimited as exc:
                call.rate_limited(exc.retry_after or llm.rate_limit_backoff_seconds)
                raise
            call.succeeded()
    except (LLMRateLimited, LLMRejected, LLMUnavailable, PausedTooLong) as exc:
        logger.warning(
            "follow-up %s from the template: no answer from the model (%s)", scheduled_id, exc
        )
        return None
    if draft.handoff is not None or not draft.text.strip():
        return None
    return draft.text


async def _send_claimed(
    runtime: Runtime, session: AsyncSession, row: ScheduledMessage, written: str | None
) -> str:
    now = utcnow()
    if as_utc(row.due_at) > now:
        # Woken before its time (its due time moved): back to pending, woken again then.
        row.status = ScheduledStatus.PENDING
        defer_send(runtime.queue, session, row)
        return "early"
    conversation, contact, channel = (
        await session.execute(
            select(Conversation, Contact, Channel)
            .join(Contact, Contact.id == Conversation.contact_id)
            .join(Channel, Channel.id == Conversation.channel_id)
            .where(Conversation.id == row.conversation_id)
        )
    ).one()
    viewing = await _viewing_of(session, row)
    refusal = await _refusal(session, row, conversation, contact, viewing)
    if refusal is not None:
        return _skip(row, refusal)
    text = row.text
    if row.kind != ScheduledKind.MANUAL:
        calendar = await load_calendar(session, row.account_id)
        opening = calendar.next_open(now)
        if opening > now:
            reminder = viewing is not None and row.kind == ScheduledKind.REMINDER
            if reminder and viewing is not None and opening >= as_utc(viewing.starts_at):
                return _skip(row, "outside business hours until the viewing")
            # Nothing automated goes outside business hours: the row waits for the opening.
            row.status = ScheduledStatus.PENDING
            row.due_at = opening
            defer_send(runtime.queue, session, row)
            return "moved"
        text = written or await _compose(session, row, conversation, contact, viewing)
    adapter = adapter_for(runtime.channels, channel.type)
    max_length = adapter.max_text_length
    data: dict[str, object] = {"scheduled_id": str(row.id), "scheduled": row.kind}
    closed: str | None = None
    if row.kind != ScheduledKind.MANUAL and not window.is_open(
        adapter, conversation.customer_wrote_at, now
    ):
        language = await notice_language(session, conversation)
        template = await template_for(session, row, channel, contact, viewing, language)
        if isinstance(template, str):
            closed = template
        else:
            data[window.TEMPLATE] = template
    if row.kind == ScheduledKind.FOLLOWUP and row.data.get("listings"):
        data[LISTINGS] = row.data["listings"]  # "the flat" in the customer's answer means these
    if row.kind == ScheduledKind.MANUAL:
        data["by"] = row.created_by
        rows = outbox.queue_human(session, conversation, text, max_length=max_length, data=data)
    else:
        author = Author.SYSTEM if row.kind == ScheduledKind.REMINDER else Author.AI
        rows = outbox.queue_automated(
            session, conversation, text, author=author, max_length=max_length, data=data
        )
    await session.flush()
    row.message_id = rows[0].id
    if closed is not None:
        # Never free-form outside the window: the thread shows the text that was not sent,
        # and why (docs/decisions.md, 30).
        outbox.fail_unsent(session, rows, closed)
        return _skip(row, closed[:200])
    outbox.send_on_commit(runtime, session, rows)
    return "sent"


def _skip(row: ScheduledMessage, reason: str) -> str:
    row.status = ScheduledStatus.SKIPPED
    row.reason = reason
    return "skipped"


async def _viewing_of(session: AsyncSession, row: ScheduledMessage) -> Viewing | None:
    viewing_id = row.data.get("viewing_id")
    if not viewing_id:
        return None
    stmt = for_account(select(Viewing), Viewing, row.account_id).where(
        Viewing.id == uuid.UUID(str(viewing_id))
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _refusal(
    session: AsyncSession,
    row: ScheduledMessage,
    conversation: Conversation,
    contact: Contact,
    viewing: Viewing | None,
) -> str | None:
    """Why the row must not be sent now, read in the sending transaction; None to send."""
    if row.kind == ScheduledKind.MANUAL:
        return None  # the agent's own words go in any mode, as a message typed now would
    if contact.opted_out_at is not None:
        return "the customer opted out"
    kept = row.kind == ScheduledKind.REMINDER and row.keep_in_human
    if conversation.mode != Mode.AI and not kept:
        return "a person took over the conversation"
    if row.kind == ScheduledKind.FOLLOWUP:
        if await _customer_wrote_since(session, conversation.id, row.created_at):
            return "the customer wrote since"
        if await _viewing_booked(session, row):
            return "the customer has a viewing booked"
    if row.kind == ScheduledKind.REMINDER:
        starts_at = row.data.get("starts_at")
        if (
            viewing is None
            or viewing.status not in ACTIVE_STATUSES
            or as_utc(viewing.starts_at).isoformat() != starts_at
        ):
            return "the viewing was cancelled or moved"
    if row.kind == ScheduledKind.AFTER_VIEWING and (
        viewing is None or viewing.status != ViewingStatus.DONE
    ):
        return "the viewing is not marked done"
    return None


async def _customer_wrote_since(
    session: AsyncSession, conversation_id: uuid.UUID, since: datetime
) -> bool:
    stmt = select(
        exists().where(
            Message.conversation_id == conversation_id,
            Message.author == Author.CUSTOMER,
            Message.created_at > since,
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def _viewing_booked(session: AsyncSession, row: ScheduledMessage) -> bool:
    """A viewing booked since the row was made (whatever became of it), or an active one still
    ahead."""
    active_ahead = Viewing.status.in_(ACTIVE_STATUSES) & (Viewing.starts_at > utcnow())
    stmt = select(
        exists().where(
            Viewing.account_id == row.account_id,
            Viewing.conversation_id == row.conversation_id,
            (Viewing.created_at > row.created_at) | active_ahead,
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def _compose(
    session: AsyncSession,
    row: ScheduledMessage,
    conversation: Conversation,
    contact: Contact,
    viewing: Viewing | None,
) -> str:
    language = await notice_language(session, conversation)
    if row.kind == ScheduledKind.FOLLOWUP:
        titles = await _titles(session, row.account_id, row.data.get("listings") or [])
        return texts.followup_text(language, listings=titles, name=contact.name)
    assert viewing is not None  # _refusal checked it
    listing = await session.get(Property, viewing.property_id)
    assert listing is not None
    if row.kind == ScheduledKind.AFTER_VIEWING:
        similar = await _similar(session, listing)
        return texts.after_viewing_text(language, listing=listing.title, similar=similar)
    [facts] = await facts_for(session, row.account_id, [viewing])
    return notice_text(Notice(str(row.data["notice"])), facts, language)


async def _titles(session: AsyncSession, account_id: uuid.UUID, ids: list[object]) -> list[str]:
    wanted: list[uuid.UUID] = []
    for value in ids:
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return []
    stmt = for_account(select(Property.id, Property.title), Property, account_id).where(
        Property.id.in_(wanted)
    )
    found = {row.id: row.title for row in await session.execute(stmt)}
    return [found[key] for key in dict.fromkeys(wanted) if key in found]


async def _similar(session: AsyncSession, listing: Property) -> list[str]:
    """Other available listings of the same type in the same area (the one search path)."""
    place = listing.neighborhood or listing.city
    filters = PropertyFilters(
        location=[place],
        listing_type=listing.listing_type,
        property_type=listing.property_type,
        limit=SIMILAR_LISTINGS + 1,
    )
    found = await search_properties(session, listing.account_id, filters)
    return [prop.title for prop in found if prop.id != listing.id][:SIMILAR_LISTINGS]


async def advance_clock(runtime: Runtime, *, hours: float) -> int:
    """The demo's fast-forward (DEMO_CLOCK): this process's clock moves on and the rows now due
    are woken at once, as the next sweep would."""
    if not runtime.settings.demo_clock:
        raise ClockFixed("the clock moves only in a demo (DEMO_CLOCK=true)")
    clock.advance(timedelta(hours=hours))
    return await sweep(runtime)


async def sweep(runtime: Runtime) -> int:
    """Re-defer the due pending rows, oldest first, in ONE statement: their jobs may have been
    lost (the in-memory queue dies with its process). A row whose job is still queued gets a
    second wake-up under its own lock; the claim makes the later one do nothing."""
    async with runtime.db.session_scope() as session:
        due = (
            (
                await session.execute(
                    select(ScheduledMessage.id)
                    .where(
                        ScheduledMessage.status == ScheduledStatus.PENDING,
                        ScheduledMessage.due_at <= utcnow(),
                    )
                    .order_by(ScheduledMessage.due_at)
                    .limit(SWEEP_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        for scheduled_id in due:
            runtime.queue.defer_on_commit(
                session,
                SCHEDULED_JOB,
                scheduled_id=str(scheduled_id),
                queueing_lock=f"scheduled:{scheduled_id}:due",
            )
    if due:
        logger.info("scheduled sweep: %d due rows re-deferred", len(due))
    return len(due)
