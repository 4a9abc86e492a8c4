"""The AI reply: debounce, read, draft outside any transaction, commit only if nobody took over.

Invariant 3 lives in `_commit`: one conditional UPDATE checks mode, version and that these
messages were not answered yet, in the same transaction as the outbox insert. The rows it
committed are then sent by this job, each through the outbox's guarded claim.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.ai.errors import LLMRateLimited, LLMRejected, LLMUnavailable
from whatsapp_assistant.ai.photo_tools import ListingPhotos
from whatsapp_assistant.ai.types import ReplyDraft
from whatsapp_assistant.ai.viewing_tools import BOOK_VIEWING, RESCHEDULE_VIEWING
from whatsapp_assistant.config import LLMSettings
from whatsapp_assistant.conversations import outbox, slot_choices
from whatsapp_assistant.conversations.assistant_tools import ConversationTools
from whatsapp_assistant.conversations.handoff import HandoffPlan, escalate, flag_for_agent
from whatsapp_assistant.conversations.model_calls import PausedTooLong
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.runtime import REPLY_JOB, Runtime
from whatsapp_assistant.conversations.scheduled.plan import schedule_followups
from whatsapp_assistant.conversations.snapshot import (
    LISTINGS,
    OFFER,
    VOICE_NOTE_TEMPLATE,
    Snapshot,
    offer_data,
    read_snapshot,
)
from whatsapp_assistant.conversations.states import Author, Mode
from whatsapp_assistant.escalation import messages, rules
from whatsapp_assistant.kit.clock import utcnow

logger = logging.getLogger(__name__)

MAX_DEBOUNCE_WAITS = 5
# A rate limit without a retry-after: the doubling wait stops growing here.
MAX_RATE_LIMIT_BACKOFF = 60.0


class Outcome(StrEnum):
    NOTHING_TO_ANSWER = "nothing_to_answer"
    NOT_AI_MODE = "not_ai_mode"
    QUEUED = "queued"
    HANDED_OFF = "handed_off"
    OPTED_OUT = "opted_out"
    DROPPED_AFTER_TAKEOVER = "dropped_after_takeover"
    ASKED_TO_TYPE = "asked_to_type"
    WAITING_FOR_MEDIA = "waiting_for_media"


def defer_reply(
    runtime: Runtime, session: AsyncSession, conversation_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    """One pending reply job per conversation, run one at a time per conversation
    (docs/architecture.md, invariant 4). The account rides along so the job can wait for its
    account's share before its first read (`answer_in_turn`)."""
    key = f"conversation:{conversation_id}"
    runtime.queue.defer_on_commit(
        session,
        REPLY_JOB,
        conversation_id=str(conversation_id),
        account_id=str(account_id),
        lock=key,
        queueing_lock=key,
        delay_seconds=runtime.settings.reply.debounce_seconds,
    )


async def answer_in_turn(
    runtime: Runtime, conversation_id: uuid.UUID, account_id: uuid.UUID | None
) -> Outcome:
    """Answer once fewer than WORKER_REPLIES_PER_ACCOUNT of the account's replies run here. A
    job queued before the account rode along (None) goes at once."""
    if account_id is None:
        return await answer_pending(runtime, conversation_id)
    async with runtime.reply_jobs.hold(account_id):
        return await answer_pending(runtime, conversation_id)


async def answer_pending(runtime: Runtime, conversation_id: uuid.UUID) -> Outcome:
    snapshot = await _wait_for_quiet(runtime, conversation_id)
    if isinstance(snapshot, Outcome):
        return snapshot
    if snapshot.awaiting_media and not snapshot.opted_out:
        # The file's fetch job defers this reply again once it is done (docs/decisions.md, 31).
        return Outcome.WAITING_FOR_MEDIA
    if snapshot.opted_out:
        return await _commit(runtime, snapshot, None, data={})  # mark read, say nothing
    if snapshot.only_undecryptable:
        # Nothing readable came: in the conversation's language if it has one yet, else in all.
        resend = messages.resend_text(snapshot.request.language)
        return await _commit(runtime, snapshot, resend, data={"template": "resend"})
    if snapshot.only_voice_notes:
        # Nobody has heard it: no model call, no listings; ask once per run of voice notes.
        text = None if snapshot.asked_to_type else messages.voice_note_text(snapshot.language)
        notice: dict[str, object] = {"template": VOICE_NOTE_TEMPLATE}
        return await _commit(runtime, snapshot, text, data=notice, flag="voice_note")
    detection = rules.detect(snapshot.pending_text)
    if detection is not None:
        plan = HandoffPlan(detection.reason, snapshot.pending_text, f"rules:{detection.rule}")
        return await _hand_off(runtime, snapshot, plan, data={"rule": detection.rule})
    tapped = await slot_choices.read_tap(runtime, snapshot)  # a list row: the time it names
    if isinstance(tapped, slot_choices.StaleTap):
        return await _commit(runtime, snapshot, tapped.text, data=tapped.data)
    snapshot = tapped
    tools = ConversationTools(
        runtime,
        snapshot.account_id,
        snapshot.conversation_id,
        snapshot.version,
        offer=snapshot.request.offer,
        viewings=snapshot.request.viewings,
        listings=snapshot.request.listings,
    )
    draft = await _draft_with_retries(runtime, snapshot, tools)
    if draft is None:
        plan = HandoffPlan("ai_unavailable", "the AI did not answer", "system")
        return await _hand_off(runtime, snapshot, plan, data={}, holding=True)
    data = slot_choices.with_choice(_draft_data(draft, tools), language=snapshot.language)
    if draft.handoff is not None:
        plan = HandoffPlan(draft.handoff.reason, draft.handoff.detail, "ai")
        return await _hand_off(runtime, snapshot, plan, data=data)
    return await _commit(runtime, snapshot, draft.text, data=data, photos=tools.photos)


async def _draft_with_retries(
    runtime: Runtime, snapshot: Snapshot, tools: ConversationTools
) -> ReplyDraft | None:
    """A draft, or None to hand the conversation over (dropped by the guard after a takeover).

    Outages (timeouts, 5xx) are tried again `LLM_OUTAGE_RETRIES` times with backoff. A rate
    limit (429, 529) slows every call of the process down (conversations/model_calls.py) and
    this reply waits its turn again, until a wait would end past
    `LLM_RATE_LIMIT_GIVE_UP_SECONDS` after it first asked for the model.
    """
    llm = runtime.settings.llm
    give_up_at = asyncio.get_running_loop().time() + llm.rate_limit_give_up_seconds
    outages = rate_limits = 0
    while True:
        try:
            async with runtime.model_calls.claim(snapshot.account_id, deadline=give_up_at) as call:
                if rate_limits and await _taken_over(runtime, snapshot):
                    return None
                try:
                    draft = await runtime.llm.draft_reply(snapshot.request, tools)
                except LLMRateLimited as exc:
                    rate_limits += 1
                    call.rate_limited(exc.retry_after or _rate_limit_backoff(llm, rate_limits))
                    logger.info("AI rate-limited for %s: %s", snapshot.conversation_id, exc)
                    continue
                call.succeeded()
                return draft
        except PausedTooLong as exc:
            logger.warning("AI still rate-limited for %s: %s", snapshot.conversation_id, exc)
            return None
        except LLMRejected as exc:
            logger.error(
                "AI provider refused the request for %s: %s", snapshot.conversation_id, exc
            )
            return None
        except LLMUnavailable as exc:
            outages += 1
            logger.warning(
                "AI unavailable for %s (attempt %d): %s", snapshot.conversation_id, outages, exc
            )
            if outages > llm.outage_retries:
                return None
            await asyncio.sleep(llm.outage_backoff_seconds * 2 ** (outages - 1))


def _rate_limit_backoff(llm: LLMSettings, rate_limits: int) -> float:
    """The wait when the provider named none: doubling with each limit this reply met."""
    doubled = llm.rate_limit_backoff_seconds * 2.0 ** min(rate_limits - 1, 16)
    return min(doubled, MAX_RATE_LIMIT_BACKOFF)


async def _taken_over(runtime: Runtime, snapshot: Snapshot) -> bool:
    """One primary-key read before trying again after a rate limit, which may have lasted
    minutes: a takeover meanwhile spares the provider the call. The guarded commit is what keeps
    invariant 3 (docs/architecture.md); this only saves work."""
    async with runtime.db.session_scope() as session:
        row = (
            await session.execute(
                select(Conversation.mode, Conversation.version).where(
                    Conversation.id == snapshot.conversation_id
                )
            )
        ).one_or_none()
    return row is None or row.mode != Mode.AI or row.version != snapshot.version


def _draft_data(draft: ReplyDraft, tools: ConversationTools) -> dict[str, object]:
    data: dict[str, object] = {
        "provider": draft.provider,
        "model": draft.model,
        "offline": draft.offline,
        "tools": [call.name for call in draft.tool_calls],
    }
    # The listings the reply names, of those its searches found: "the flat" in the next
    # message, and a follow-up, refer to these.
    named = [str(listing) for listing, title in tools.shown.items() if title in draft.text]
    if named:
        data[LISTINGS] = named
    offer = draft.offer or tools.offer_made
    if offer is not None:
        data[OFFER] = offer_data(offer)
    return data


async def _hand_off(
    runtime: Runtime,
    snapshot: Snapshot,
    plan: HandoffPlan,
    *,
    data: dict[str, object],
    holding: bool = False,
) -> Outcome:
    persona = snapshot.request.persona
    language = snapshot.language
    agent = persona.agent_name or persona.agency_name or ""
    if holding:
        text = snapshot.holding_message or messages.holding_text(
            language, agent_name=agent, style=persona.style
        )
    else:
        text = messages.handoff_text(language, agent_name=agent, style=persona.style)
    return await _commit(runtime, snapshot, text, data=data | {"handoff": plan.reason}, plan=plan)


async def _wait_for_quiet(runtime: Runtime, conversation_id: uuid.UUID) -> Snapshot | Outcome:
    """Wait until the customer has been quiet for the debounce window, so a burst gets one reply."""
    debounce = runtime.settings.reply.debounce_seconds
    snapshot = await _read(runtime, conversation_id)
    for _ in range(MAX_DEBOUNCE_WAITS):
        if isinstance(snapshot, Outcome):
            return snapshot
        quiet_for = (utcnow() - snapshot.newest_pending).total_seconds()
        if quiet_for >= debounce:
            return snapshot
        await asyncio.sleep(debounce - quiet_for)
        snapshot = await _read(runtime, conversation_id)
    return snapshot


async def _read(runtime: Runtime, conversation_id: uuid.UUID) -> Snapshot | Outcome:
    async with runtime.db.session_scope() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.is_group:
            return Outcome.NOTHING_TO_ANSWER
        if conversation.mode != Mode.AI:
            return Outcome.NOT_AI_MODE
        snapshot = await read_snapshot(
            session,
            conversation,
            channels=runtime.channels,
            history=runtime.settings.llm.history_messages,
            media_files=runtime.files,
        )
    return snapshot if snapshot is not None else Outcome.NOTHING_TO_ANSWER


def _queue_photos(
    session: AsyncSession,
    conversation: Conversation,
    photos: Sequence[ListingPhotos],
    data: dict[str, object],
) -> list[Message]:
    """Each chosen listing's photos, its title under the first."""
    meta = {key: data[key] for key in ("provider", "model", "offline") if key in data}
    return [
        outbox.queue_image(
            session,
            conversation,
            url=url,
            caption=chosen.title if index == 0 else "",
            data=meta | {"listing": str(chosen.property_id)},
        )
        for chosen in photos
        for index, url in enumerate(chosen.urls)
    ]


def _booked(data: dict[str, object]) -> bool:
    tools = data.get("tools")
    return isinstance(tools, list) and bool({BOOK_VIEWING, RESCHEDULE_VIEWING} & set(tools))


async def _commit(
    runtime: Runtime,
    snapshot: Snapshot,
    text: str | None,
    *,
    data: dict[str, object],
    plan: HandoffPlan | None = None,
    flag: str | None = None,
    photos: Sequence[ListingPhotos] = (),
) -> Outcome:
    async with runtime.db.session_scope() as session:
        guard = await session.execute(
            update(Conversation)
            .where(
                Conversation.id == snapshot.conversation_id,
                Conversation.mode == Mode.AI,
                Conversation.version == snapshot.version,
                or_(
                    Conversation.answered_through.is_(None),
                    Conversation.answered_through < snapshot.newest_pending,
                ),
            )
            .values(answered_through=snapshot.newest_pending)
            .execution_options(synchronize_session=False)
        )
        if getattr(guard, "rowcount", 0) != 1:
            return Outcome.DROPPED_AFTER_TAKEOVER
        conversation = await session.get(Conversation, snapshot.conversation_id)
        assert conversation is not None
        if flag is not None:
            await flag_for_agent(session, conversation, snapshot, reason=flag)
        if text is None:
            return Outcome.ASKED_TO_TYPE if flag else Outcome.OPTED_OUT
        # The handoff notice is the system's, not the AI's: it must go out although the same
        # transaction switches the conversation to human (AI rows only leave in AI mode). It is
        # queued under the version the escalation leaves, so a takeover after it still cancels it.
        alerts = [] if plan is None else await escalate(session, conversation, snapshot, plan)
        author = Author.SYSTEM if plan is not None or flag is not None else Author.AI
        # An empty draft says nothing of its own: what it did (a booking) sent its own notice.
        rows = (
            outbox.queue_automated(
                session,
                conversation,
                text,
                author=author,
                max_length=snapshot.max_length,
                data=data,
            )
            if text.strip()
            else []
        )
        rows += alerts
        if author == Author.AI:
            # After the text, in the same commit and under the same guard: a takeover before
            # they leave cancels them with it (docs/decisions.md, 29).
            rows += _queue_photos(session, conversation, photos, data)
        if author == Author.AI and rows and not _booked(data):
            # The ladder starts again from this message, in its transaction, naming the listings
            # this reply named, or else those named before it (docs/decisions.md, 25). A reply
            # that booked ends it instead (viewing_changes cancelled it with the booking).
            named = data.get(LISTINGS)
            listings = [str(item) for item in named] if isinstance(named, list) else []
            await schedule_followups(
                session,
                conversation,
                queue=runtime.queue,
                listings=listings or [str(item) for item in snapshot.request.listings],
            )
        await session.flush()
        committed = [row.id for row in rows]
    # Sent by this job, not the send queue: a committed reply never waits for a send slot
    # (docs/architecture.md, invariant 9; docs/decisions.md, 24).
    await outbox.send_committed(runtime, committed)
    if flag is not None:
        return Outcome.ASKED_TO_TYPE
    return Outcome.HANDED_OFF if plan else Outcome.QUEUED
