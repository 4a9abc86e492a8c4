"""ingest: a parsed webhook becomes rows, committed before the webhook answers
(docs/architecture.md, invariant 1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from whatsapp_assistant.accounts.models import Account
from whatsapp_assistant.channels.models import Channel, WebhookEvent
from whatsapp_assistant.channels.types import (
    CallNotice,
    ChannelEvent,
    ChannelStateChange,
    Ignored,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    ParsedWebhook,
    StatusUpdate,
)
from whatsapp_assistant.conversations import control, delivery, language, live, optout
from whatsapp_assistant.conversations.media_files import MEDIA, has_reference, too_large_marker
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.scheduled import plan
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus, Mode
from whatsapp_assistant.conversations.threads import (
    Thread,
    find_conversation,
    open_conversation,
    open_thread,
)
from whatsapp_assistant.db.engine import bound_values, dialect_of, insert_for
from whatsapp_assistant.kit.clock import as_utc, utcnow
from whatsapp_assistant.kit.ids import new_id

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    duplicate: bool = False
    stored: int = 0
    to_answer: set[Any] = field(default_factory=set)  # conversation ids wanting a reply
    to_send: list[Message] = field(default_factory=list)  # notices queued while ingesting
    messages: list[Message] = field(default_factory=list)  # the messages stored, in order
    outcome: str = "processed"
    # A backfill's bound: a customer message WhatsApp timed before it is not answered but
    # flagged for the agent (docs/decisions.md, 26); None answers everything, as a webhook does.
    answer_after: datetime | None = None
    to_flag: list[tuple[Conversation, Message]] = field(default_factory=list)
    linked_again: bool = False  # the number's state turned authorized: look for missed messages
    to_fetch: list[Message] = field(default_factory=list)  # files to download once committed


async def record_webhook(
    session: AsyncSession,
    *,
    provider: str,
    channel: Channel | None,
    parsed: ParsedWebhook | None,
    payload: Any,
    outcome: str = "received",
    detail: str = "",
) -> bool:
    """Keep the raw body for audit and replay; False when this notification was seen before."""
    values = {
        "id": new_id(),
        "provider": provider,
        "channel_id": channel.id if channel else None,
        "account_id": channel.account_id if channel else None,
        "event_type": parsed.event_type if parsed else "",
        "dedup_key": parsed.dedup_key if parsed else None,
        "outcome": outcome,
        "detail": detail[:2000],
        "payload": payload if isinstance(payload, dict) else {"raw": payload},
        "received_at": utcnow(),
    }
    # The unique key decides, in the one statement: no savepoint, no re-read.
    keep = _webhook_insert(dialect_of(session))
    return (await session.execute(keep, values)).first() is not None


async def ingest_webhook(
    session: AsyncSession,
    channel: Channel,
    parsed: ParsedWebhook,
    payload: Any,
    *,
    answer_after: datetime | None = None,
) -> IngestResult:
    if not await record_webhook(
        session,
        provider=channel.type,
        channel=channel,
        parsed=parsed,
        payload=payload,
        outcome="processed",
    ):
        return IngestResult(duplicate=True, outcome="duplicate")
    return await ingest_events(session, channel, parsed.events, answer_after=answer_after)


async def ingest_events(
    session: AsyncSession,
    channel: Channel,
    events: list[ChannelEvent],
    *,
    answer_after: datetime | None = None,
) -> IngestResult:
    """Apply events that come with no raw body to keep (the simulator's)."""
    result = IngestResult(answer_after=answer_after)
    for event in events:
        await _apply(session, channel, event, result)
    return result


async def _apply(
    session: AsyncSession, channel: Channel, event: ChannelEvent, result: IngestResult
) -> None:
    match event:
        case InboundMessage():
            await ingest_message(session, channel, event, result)
        case MessageEdit():
            await _apply_edit(session, channel, event)
        case MessageDelete():
            await _apply_delete(session, channel, event)
        case StatusUpdate():
            await delivery.apply_status(session, channel, event)
        case ChannelStateChange():
            # Linked again (or for the first time): what came meanwhile is looked for.
            result.linked_again = event.state == "authorized" and channel.state != "authorized"
            channel.state = event.state
            if event.state != "authorized":
                logger.warning(
                    "channel %s is %s: the agent must re-link it", channel.id, event.state
                )
        case CallNotice():
            await _log_call(session, channel, event, result)
        case Ignored():
            result.outcome = f"ignored: {event.reason}"


async def ingest_message(
    session: AsyncSession, channel: Channel, event: InboundMessage, result: IngestResult
) -> Message | None:
    """Store one message once; a redelivery (same chat and provider id) changes nothing."""
    if event.origin == "api_echo":
        await delivery.reconcile_echo(session, channel, event)
        return None
    name = event.sender_name if event.origin == "customer" and not event.is_group else ""
    thread = await open_thread(
        session, channel, event.chat_id, name=name or event.chat_name, phone=event.phone
    )
    conversation = thread.conversation
    message = await store_once(session, _message_row(channel, conversation, event))
    if message is None:
        return None
    result.stored += 1
    result.messages.append(message)
    if has_reference(message):
        result.to_fetch.append(message)  # by a job, never in the webhook's time
    conversation.last_message_at = utcnow()
    live.publish_message(session, message)
    if event.origin == "phone":
        await _typed_on_phone(session, channel, conversation, event)
    elif event.answerable:
        await _from_customer(session, thread, message, result, written_at=event.timestamp)
    return message


async def store_once(session: AsyncSession, values: dict[str, Any]) -> Message | None:
    """INSERT the message unless its chat already has its provider id (then None): the unique
    key decides in one statement (docs/architecture.md, invariant 1)."""
    complete = dict.fromkeys(_MESSAGE_COLUMNS) | {"data": {}, "text": ""} | values
    message: Message | None = (
        await session.scalars(_message_insert(dialect_of(session)), complete)
    ).one_or_none()
    return message


_WEBHOOK_COLUMNS = (
    "id",
    "provider",
    "channel_id",
    "account_id",
    "event_type",
    "dedup_key",
    "outcome",
    "detail",
    "payload",
    "received_at",
)
_MESSAGE_COLUMNS = (
    "id",
    "account_id",
    "conversation_id",
    "channel_id",
    "direction",
    "author",
    "kind",
    "text",
    "media_url",
    "media_mime",
    "data",
    "provider_message_id",
    "reply_to_provider_id",
    "sender_id",
    "status",
    "created_at",
)


# Built once per backend: building an INSERT ... ON CONFLICT costs more CPU than running it.
@cache
def _webhook_insert(dialect: str) -> ReturningInsert[Any]:
    return (
        insert_for(dialect, WebhookEvent)
        .values(bound_values(WebhookEvent, _WEBHOOK_COLUMNS))
        .on_conflict_do_nothing(index_elements=[WebhookEvent.provider, WebhookEvent.dedup_key])
        .returning(WebhookEvent.id)
    )


@cache
def _message_insert(dialect: str) -> ReturningInsert[Any]:
    return (
        insert_for(dialect, Message)
        .values(bound_values(Message, _MESSAGE_COLUMNS))
        .on_conflict_do_nothing(
            index_elements=[Message.conversation_id, Message.provider_message_id]
        )
        .returning(Message)
    )


async def _typed_on_phone(
    session: AsyncSession, channel: Channel, conversation: Conversation, event: InboundMessage
) -> None:
    """The agent answered from the phone: a person is in this chat now (docs/providers.md, G4).

    A reaction or sticker from the phone is not an answer, so it does not take over.
    """
    conversation.last_human_at = utcnow()
    if event.kind in {"reaction", "sticker"}:
        return
    account = await session.get(Account, channel.account_id)
    if account is not None and account.takeover_on_phone_message:
        await control.take_over(session, conversation, actor="phone", reason="typed_on_phone")


async def _from_customer(
    session: AsyncSession,
    thread: Thread,
    message: Message,
    result: IngestResult,
    *,
    written_at: datetime,
) -> None:
    """STOP and START are handled here, at once; anything else may get an AI reply."""
    conversation, contact = thread.conversation, thread.contact
    wrote_at = conversation.customer_wrote_at
    if wrote_at is None or as_utc(wrote_at) < message.created_at:
        # Meta's window opens when we receive the message, not at its timestamp: a late
        # redelivery errs open, and Graph's 131047 fails the send (docs/decisions.md, 30).
        conversation.customer_wrote_at = message.created_at
    await language.observe(session, conversation, message, first=thread.opened)
    answered = _answered(conversation)
    notice = await optout.apply(session, conversation, contact, message)
    if notice is not None:
        result.to_send += notice
        return
    if answered:
        # The customer's first word since the AI's last answer: its ladder stops. Later words
        # find it stopped; the send-time check skips a follow-up after any customer message
        # in any case, so a webhook pays this statement only when a ladder can be pending.
        await plan.cancel_followups(session, conversation.id, reason="the customer wrote")
    if contact.opted_out_at is None and conversation.mode == Mode.AI:
        if result.answer_after is not None and written_at < result.answer_after:
            # Missed long ago: an answer now would come hours late, so the agent decides. It
            # does not wait for an answer either (invariant 2 re-derives from last_inbound_at).
            result.to_flag.append((conversation, message))
            return
        conversation.last_inbound_at = message.created_at
        result.to_answer.add(conversation.id)


def _answered(conversation: Conversation) -> bool:
    """The AI answered everything the customer wrote before this message."""
    answered, inbound = conversation.answered_through, conversation.last_inbound_at
    return answered is not None and (inbound is None or inbound <= answered)


def _message_row(
    channel: Channel, conversation: Conversation, event: InboundMessage
) -> dict[str, Any]:
    from_customer = event.origin == "customer"
    data = dict(event.data)
    if event.undecryptable:
        data["undecryptable"] = True
    marker = too_large_marker(event.kind, data)
    if marker is not None:
        data[MEDIA] = marker  # nothing to download: the thread says so at once
    return {
        "id": new_id(),
        "account_id": channel.account_id,
        "conversation_id": conversation.id,
        "channel_id": channel.id,
        "direction": Direction.IN if from_customer else "out",
        "author": Author.CUSTOMER if from_customer else Author.HUMAN,
        "kind": "undecryptable" if event.undecryptable else event.kind,
        "text": event.text,
        "media_url": event.media_url,
        "media_mime": event.media_mime,
        "data": data | {"provider_timestamp": event.timestamp.isoformat()},
        "provider_message_id": event.provider_message_id,
        "reply_to_provider_id": event.reply_to,
        "sender_id": event.sender_id,
        "status": MessageStatus.RECEIVED if from_customer else "sent",
        "created_at": utcnow(),
    }


async def _find_message(
    session: AsyncSession, channel: Channel, chat_id: str, provider_message_id: str
) -> Message | None:
    conversation = await find_conversation(session, channel, chat_id)
    if conversation is None:
        return None
    stmt = select(Message).where(
        Message.conversation_id == conversation.id,
        Message.provider_message_id == provider_message_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _apply_edit(session: AsyncSession, channel: Channel, event: MessageEdit) -> None:
    target = await _find_message(session, channel, event.chat_id, event.target_id)
    if target is None:
        logger.info("edit of an unknown message %s", event.target_id)
        return
    history = list(target.data.get("edits", []))
    history.append({"text": target.text, "replaced_at": event.timestamp.isoformat()})
    target.data = target.data | {"edits": history}  # keep the history, show the new text
    target.text = event.new_text
    target.edited_at = event.timestamp
    live.publish_message(session, target)


async def _apply_delete(session: AsyncSession, channel: Channel, event: MessageDelete) -> None:
    target = await _find_message(session, channel, event.chat_id, event.target_id)
    if target is not None:
        target.deleted_at = event.timestamp  # hidden from the AI's context from now on
        live.publish_message(session, target)


async def _log_call(
    session: AsyncSession, channel: Channel, event: CallNotice, result: IngestResult
) -> None:
    conversation = await open_conversation(session, channel, event.chat_id)
    values = {
        "id": new_id(),
        "account_id": channel.account_id,
        "conversation_id": conversation.id,
        "channel_id": channel.id,
        "direction": Direction.IN,
        "author": Author.SYSTEM,
        "kind": "call",
        "text": f"Voice call from the customer ({event.status})",
        "provider_message_id": f"{event.provider_message_id}:{event.status}",
        "status": MessageStatus.RECEIVED,
        "created_at": utcnow(),
    }
    row = await store_once(session, values)
    if row is None:
        return
    result.stored += 1
    live.publish_message(session, row)
