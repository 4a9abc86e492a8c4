"""Each change of a viewing, and what the customer is told of it, in one transaction.

The API, the Viewings page and the assistant's booking all go through these functions, so a
viewing never changes without its customer hearing of it: the text in the conversation's
language with the date and time in the account's zone, the address and a map link, and for a
new or moved time an `.ics` invitation. Both are outbox rows queued in the change's
transaction and sent on commit (docs/architecture.md, invariants 1 and 5); they carry the
takeover guard like every automated row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.conversations import live, outbox
from whatsapp_assistant.conversations.events import record_event
from whatsapp_assistant.conversations.handoff import alert_owner
from whatsapp_assistant.conversations.language import notice_language
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.scheduled import plan
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.conversations.viewing_facts import facts_for
from whatsapp_assistant.escalation import messages
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.scheduling import viewings, wording
from whatsapp_assistant.scheduling.errors import ViewingNotFound
from whatsapp_assistant.scheduling.facts import ViewingFacts, ViewingStatus
from whatsapp_assistant.scheduling.invitation import invitation
from whatsapp_assistant.scheduling.models import BookedBy, CancelReason, Viewing
from whatsapp_assistant.scheduling.wording import Notice

INVITATION_FILE = "viewing.ics"
APPROVAL_REASON = "viewing_request"  # the inbox's "needs you" while a request waits


class Change(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    DONE = "done"
    NO_SHOW = "no_show"


# The changes after which the customer's calendar must change too: a new event, a new time,
# or the event dropped (the invitation then carries STATUS:CANCELLED under the same UID).
_INVITES = frozenset({Change.BOOKED, Change.CONFIRMED, Change.RESCHEDULED, Change.CANCELLED})


def notice_for(viewing: Viewing, change: Change) -> Notice | None:
    """What the customer is told of `change`; None for a viewing done, which the after-viewing
    message asks about instead of a second text the same hour."""
    if change == Change.DONE:
        return None
    if change == Change.BOOKED:
        requested = viewing.status == ViewingStatus.REQUESTED
        return Notice.REQUESTED if requested else Notice.CONFIRMED
    if change == Change.CANCELLED:
        by_customer = viewing.cancel_reason == CancelReason.CUSTOMER
        return Notice.CANCELLED_BY_CUSTOMER if by_customer else Notice.CANCELLED_BY_AGENT
    return {
        Change.CONFIRMED: Notice.APPROVED,
        Change.DECLINED: Notice.DECLINED,
        Change.RESCHEDULED: Notice.RESCHEDULED,
        Change.NO_SHOW: Notice.NO_SHOW,
    }[change]


async def tell_customer(
    runtime: Runtime,
    session: AsyncSession,
    viewing: Viewing,
    change: Change,
    *,
    tell_agent: bool = False,
) -> list[Message]:
    """Queue the customer's notice (and invitation) of `change`, sent on commit; with
    `tell_agent` (the customer made the change, through the assistant) a note to the agent's
    own WhatsApp number too. A viewing booked without a conversation has nobody to tell."""
    await _reschedule_messages(runtime, session, viewing, change)
    notice = notice_for(viewing, change)
    if viewing.conversation_id is None or notice is None:
        return []
    conversation = await session.get(Conversation, viewing.conversation_id)
    if conversation is None or conversation.account_id != viewing.account_id:
        return []
    [facts] = await facts_for(session, viewing.account_id, [viewing])
    language = await notice_language(session, conversation)
    data: dict[str, object] = {"template": f"viewing_{notice}", "viewing_id": str(viewing.id)}
    channel = await session.get(Channel, conversation.channel_id)
    assert channel is not None
    max_length = adapter_for(runtime.channels, channel.type).max_text_length
    rows = outbox.queue_automated(
        session,
        conversation,
        wording.notice_text(notice, facts, language),
        author=Author.SYSTEM,
        max_length=max_length,
        data=data,
    )
    if change in _INVITES and viewing.status != ViewingStatus.REQUESTED:
        ics = invitation(facts, language=language).decode()
        rows.append(
            outbox.queue_invitation(
                session, conversation, filename=INVITATION_FILE, content=ics, data=data
            )
        )
    if tell_agent:
        rows += await _alert_agent(session, conversation, viewing, facts, max_length=max_length)
    if change == Change.BOOKED and viewing.status == ViewingStatus.REQUESTED:
        await _needs_approval(session, conversation, viewing)
    elif change in (Change.CONFIRMED, Change.DECLINED, Change.CANCELLED):
        await _approval_settled(session, conversation)
    record_event(
        session,
        conversation,
        "viewing_changed",
        actor="system",
        viewing_id=str(viewing.id),
        change=str(change),
        starts_at=viewing.starts_at.isoformat(),
    )
    await session.flush()
    outbox.send_on_commit(runtime, session, rows)
    return rows


async def _needs_approval(
    session: AsyncSession, conversation: Conversation, viewing: Viewing
) -> None:
    """A requested viewing waits for the agent: the inbox shows the conversation as needing
    them until it is confirmed, declined or cancelled."""
    session.add(
        Escalation(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            reason=APPROVAL_REASON,
            detail=f"viewing {viewing.id}",
        )
    )
    if not conversation.escalated:
        conversation.escalated = True
        await live.publish_conversation(session, conversation)


async def _approval_settled(session: AsyncSession, conversation: Conversation) -> None:
    """The agent answered the request: its flag goes, unless another reason still holds."""
    settled = await session.execute(
        update(Escalation)
        .where(
            Escalation.conversation_id == conversation.id,
            Escalation.reason == APPROVAL_REASON,
            Escalation.resolved_at.is_(None),
        )
        .values(resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(settled, "rowcount", 0):
        return
    others = await session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.conversation_id == conversation.id, Escalation.resolved_at.is_(None))
    )
    if not others and conversation.escalated:
        conversation.escalated = False
        await live.publish_conversation(session, conversation)


async def _reschedule_messages(
    runtime: Runtime, session: AsyncSession, viewing: Viewing, change: Change
) -> None:
    """The scheduled messages follow the viewing, in its transaction (docs/decisions.md, 25):
    a confirmed time gets its reminders (in place of any planned before), a booking ends the
    follow-up ladder, a viewing done gets the after-viewing note, and any other change cancels
    what was planned for it."""
    if viewing.conversation_id is None:
        return
    if change == Change.DONE:
        await plan.plan_after_viewing(session, viewing, queue=runtime.queue)
    elif viewing.status == ViewingStatus.CONFIRMED:
        await plan.plan_viewing_reminders(session, viewing, queue=runtime.queue)
    else:
        await plan.cancel_for_viewing(session, viewing.id, reason=f"the viewing: {change}")
        if change == Change.BOOKED:  # a request waiting for the agent's approval
            await plan.cancel_followups(
                session, viewing.conversation_id, reason="a viewing was booked"
            )


async def _alert_agent(
    session: AsyncSession,
    conversation: Conversation,
    viewing: Viewing,
    facts: ViewingFacts,
    *,
    max_length: int,
) -> list[Message]:
    account = await session.get(Account, conversation.account_id)
    contact = await session.get(Contact, conversation.contact_id)
    assert account is not None and contact is not None
    when = wording.slot_label(facts.starts_at, facts.zone, "en")
    change = "cancelled" if viewing.status == ViewingStatus.CANCELLED else str(viewing.status)
    if viewing.sequence > 0 and viewing.status != ViewingStatus.CANCELLED:
        change = "rescheduled"
    text = messages.viewing_alert_text(
        customer=viewing.customer_name or contact.name or contact.phone or contact.chat_id,
        change=change,
        listing=facts.place.title,
        when=when,
    )
    return await alert_owner(
        session, conversation, owner_phone=account.owner_phone, text=text, max_length=max_length
    )


async def book_for_customer(
    runtime: Runtime,
    session: AsyncSession,
    conversation: Conversation,
    *,
    property_id: uuid.UUID,
    starts_at: datetime,
    customer_name: str,
    now: datetime,
) -> Viewing:
    """The customer's booking, made by the assistant: only a free slot (SlotTaken with the next
    ones otherwise), confirmed or requested as the listing says; the agent is told."""
    viewing = await viewings.book(
        session,
        conversation.account_id,
        property_id=property_id,
        starts_at=starts_at,
        customer_name=customer_name,
        conversation_id=conversation.id,
        now=now,
    )
    await tell_customer(runtime, session, viewing, Change.BOOKED, tell_agent=True)
    return viewing


async def cancel_for_customer(
    runtime: Runtime, session: AsyncSession, conversation: Conversation, viewing_id: uuid.UUID
) -> Viewing:
    viewing = await _of_conversation(session, conversation, viewing_id)
    viewing = await viewings.cancel(
        session, conversation.account_id, viewing.id, reason=CancelReason.CUSTOMER
    )
    await tell_customer(runtime, session, viewing, Change.CANCELLED, tell_agent=True)
    return viewing


async def reschedule_for_customer(
    runtime: Runtime,
    session: AsyncSession,
    conversation: Conversation,
    viewing_id: uuid.UUID,
    *,
    starts_at: datetime,
    now: datetime,
) -> Viewing:
    """Moves the customer's viewing to a free slot; the agent is told."""
    viewing = await _of_conversation(session, conversation, viewing_id)
    viewing = await viewings.reschedule(
        session, conversation.account_id, viewing.id, starts_at=starts_at, by=BookedBy.AI, now=now
    )
    await tell_customer(runtime, session, viewing, Change.RESCHEDULED, tell_agent=True)
    return viewing


async def _of_conversation(
    session: AsyncSession, conversation: Conversation, viewing_id: uuid.UUID
) -> Viewing:
    """A customer changes only their own conversation's viewings."""
    viewing = await viewings.get_viewing(session, conversation.account_id, viewing_id, lock=True)
    if viewing.conversation_id != conversation.id:
        raise ViewingNotFound("no such viewing in this conversation")
    return viewing


async def book_by_agent(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    property_id: uuid.UUID,
    starts_at: datetime,
    customer_name: str,
    conversation_id: uuid.UUID | None,
    now: datetime,
) -> Viewing:
    viewing = await viewings.book_by_agent(
        session,
        account_id,
        property_id=property_id,
        starts_at=starts_at,
        customer_name=customer_name,
        conversation_id=conversation_id,
        now=now,
    )
    await tell_customer(runtime, session, viewing, Change.BOOKED)
    return viewing


async def confirm(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID
) -> Viewing:
    viewing = await viewings.confirm(session, account_id, viewing_id)
    await tell_customer(runtime, session, viewing, Change.CONFIRMED)
    return viewing


async def decline(
    runtime: Runtime, session: AsyncSession, account_id: uuid.UUID, viewing_id: uuid.UUID
) -> Viewing:
    viewing = await viewings.decline(session, account_id, viewing_id)
    await tell_customer(runtime, session, viewing, Change.DECLINED)
    return viewing


async def cancel(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    *,
    reason: CancelReason,
) -> Viewing:
    viewing = await viewings.cancel(session, account_id, viewing_id, reason=reason)
    await tell_customer(runtime, session, viewing, Change.CANCELLED)
    return viewing


async def reschedule(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    *,
    starts_at: datetime,
    by: BookedBy,
    now: datetime,
) -> Viewing:
    viewing = await viewings.reschedule(
        session, account_id, viewing_id, starts_at=starts_at, by=by, now=now
    )
    await tell_customer(runtime, session, viewing, Change.RESCHEDULED)
    return viewing


async def mark_done(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    *,
    now: datetime,
) -> Viewing:
    viewing = await viewings.mark_done(session, account_id, viewing_id, now=now)
    await tell_customer(runtime, session, viewing, Change.DONE)
    return viewing


async def mark_no_show(
    runtime: Runtime,
    session: AsyncSession,
    account_id: uuid.UUID,
    viewing_id: uuid.UUID,
    *,
    now: datetime,
) -> Viewing:
    viewing = await viewings.mark_no_show(session, account_id, viewing_id, now=now)
    await tell_customer(runtime, session, viewing, Change.NO_SHOW)
    return viewing
