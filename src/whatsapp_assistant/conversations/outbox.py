"""The outbox: outbound messages are rows first (queued), then sent once, by the reply that
committed them or by a job (docs/architecture.md, invariant 5)."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.base import ChannelAdapter, SendsInteractive, SendsTemplates
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.types import (
    ChoiceRow,
    OutboundChoice,
    OutboundFile,
    OutboundImage,
    OutboundLocation,
    OutboundMessage,
    OutboundTemplate,
    SendReceipt,
)
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations import live, window
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import SEND_JOB, Runtime
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus, Mode
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.kit.ids import new_id
from whatsapp_assistant.kit.text import split_text
from whatsapp_assistant.properties.photos import StoredPhoto, read_stored_photo

logger = logging.getLogger(__name__)

# The confirmation of STOP is the last automated message an opted-out contact receives.
OPT_NOTICE = "opt_notice"


# data[FILE] of a document row: {"filename", "mime", "content"}, sent with send_file.
FILE = "file"
INVITATION_MIME = "text/calendar"
# data[IMAGE] of a photo row: {"url", "filename"}, its caption the row's text, sent with
# send_image; data[LOCATION] of a pin: {"latitude", "longitude", "name", "address"}, sent with
# send_location (docs/decisions.md, 29).
IMAGE = "image"
LOCATION = "location"
# data[CHOICE] of a text row: {"button", "rows": [{"id", "title", "description"}]}, the row's
# text its body; sent with send_interactive where the adapter has it, else as the text
# (docs/decisions.md, 33).
CHOICE = "choice"
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


# What a person wrote; every other outbound author is automated and passes the guard.
AUTOMATED = (Author.AI, Author.SYSTEM)


def may_receive(contact: Contact, message: Message) -> bool:
    """Automated messages stop at opt-out; what the agent writes by hand still goes."""
    if contact.opted_out_at is None or message.author == Author.HUMAN:
        return True
    return bool(message.data.get(OPT_NOTICE))


def queue_human(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    max_length: int,
    data: dict[str, Any] | None = None,
) -> list[Message]:
    """What the agent wrote: never cancelled by a takeover, sent whatever the mode."""
    return _queue(session, conversation, text, Author.HUMAN, None, max_length, data)


def queue_automated(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    *,
    author: Author,
    max_length: int,
    data: dict[str, Any] | None = None,
) -> list[Message]:
    """The one way an automated message (AI reply, hand-over or holding notice, opt-out
    confirmation, alert, follow-up, reminder) enters the outbox: it remembers the version of
    `conversation` it was decided under and leaves only while that version holds, so a takeover
    cancels it (docs/architecture.md, invariant 3)."""
    assert author in AUTOMATED, author
    return _queue(session, conversation, text, author, conversation.version, max_length, data)


def queue_invitation(
    session: AsyncSession,
    conversation: Conversation,
    *,
    filename: str,
    content: str,
    data: dict[str, Any],
) -> Message:
    """A calendar file as a document, automated like a notice (the same takeover guard). Its
    text is kept on the row, a few hundred bytes, so a retry sends exactly what was decided."""
    attachment = {"filename": filename, "mime": INVITATION_MIME, "content": content}
    return _queue_one(
        session, conversation, Author.SYSTEM, "document", "", data | {FILE: attachment}
    )


def queue_image(
    session: AsyncSession,
    conversation: Conversation,
    *,
    url: str,
    caption: str = "",
    author: Author = Author.AI,
    data: dict[str, Any] | None = None,
) -> Message:
    """A photo by its URL, automated: the same row, guard and claim as a text
    (docs/architecture.md, invariants 3 and 5)."""
    assert author in AUTOMATED, author
    photo = {"url": url, "filename": photo_filename(url)}
    return _queue_one(
        session, conversation, author, "image", caption, (data or {}) | {IMAGE: photo}
    )


def queue_location(
    session: AsyncSession,
    conversation: Conversation,
    *,
    latitude: float,
    longitude: float,
    name: str = "",
    address: str = "",
    data: dict[str, Any] | None = None,
) -> Message:
    """A location pin, automated like a notice (the same takeover guard)."""
    pin = {"latitude": latitude, "longitude": longitude, "name": name, "address": address}
    return _queue_one(
        session, conversation, Author.SYSTEM, "location", name, (data or {}) | {LOCATION: pin}
    )


def photo_filename(url: str) -> str:
    """The URL's last path segment when it names an image, else photo.jpg: Green API decides
    by the extension that the file is an image (docs/providers.md, G20)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    if name.lower().endswith(_IMAGE_EXTENSIONS) and re.fullmatch(r"[\w.-]{1,100}", name):
        return name
    return "photo.jpg"


def _queue_one(
    session: AsyncSession,
    conversation: Conversation,
    author: Author,
    kind: str,
    text: str,
    data: dict[str, Any],
) -> Message:
    row = Message(
        id=new_id(),
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction=Direction.OUT,
        author=author,
        kind=kind,
        text=text,
        data=data,
        status=MessageStatus.QUEUED,
        guard_version=conversation.version,
        created_at=utcnow(),
    )
    session.add(row)
    conversation.last_message_at = utcnow()
    live.publish_message(session, row)
    return row


def _queue(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    author: Author,
    guard_version: int | None,
    max_length: int,
    data: dict[str, Any] | None,
) -> list[Message]:
    """Outbound rows for `text`, split where the provider's limit requires (docs/providers.md,
    G8)."""
    parts = split_text(text, max_length)
    rows = [
        Message(
            id=new_id(),  # known before the flush: the send job is deferred with it
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            direction=Direction.OUT,
            author=author,
            kind="text",
            text=part,
            data=_part_data(data, last=index == len(parts) - 1),
            status=MessageStatus.QUEUED,
            guard_version=guard_version,
            created_at=utcnow(),
        )
        for index, part in enumerate(parts)
    ]
    session.add_all(rows)
    conversation.last_message_at = utcnow()
    for row in rows:
        live.publish_message(session, row)
    return rows


def _part_data(data: dict[str, Any] | None, *, last: bool) -> dict[str, Any]:
    """A split text's choice goes with its last part, after everything it answers."""
    part = dict(data or {})
    if not last:
        part.pop(CHOICE, None)
    return part


def fail_unsent(session: AsyncSession, messages: list[Message], reason: str) -> None:
    """Rows just queued that must not leave: failed at once, the reason shown in the thread."""
    for message in messages:
        message.status = MessageStatus.FAILED
        message.error = reason
        live.publish_status(session, message)


def send_on_commit(runtime: Runtime, session: AsyncSession, messages: list[Message]) -> None:
    """One send job for the rows of one change, sending them in their order: a notice's text
    arrives before its invitation, as the customer should read them (docs/decisions.md, 24)."""
    if messages:
        first, *rest = (str(message.id) for message in messages)
        extra = {"then": rest} if rest else {}
        runtime.queue.defer_on_commit(session, SEND_JOB, message_id=first, **extra)


async def send_committed(runtime: Runtime, message_ids: list[uuid.UUID]) -> None:
    """Send rows the caller has just committed, here and in their order, instead of through the
    send queue (docs/decisions.md, 24). Each passes the same claim as a send job's, so a takeover
    committed meanwhile still stops it and a job or recovery that got there first sends it
    alone; a failed send is retried by the send job. What an error or a dead process leaves
    behind is the recovery's (conversations/recovery.py): a queued row after STALE_QUEUED, a
    row left sending after SEND_STALE_AFTER_SECONDS."""
    for message_id in message_ids:
        try:
            await send_message(runtime, message_id)
        except Exception:
            # The next rows are still tried: each claim is its own statement.
            logger.exception("send of %s failed before it was recorded", message_id)


def guard_holds() -> ColumnElement[bool]:
    """The send-time half of the guard (docs/architecture.md, invariant 3), as SQL on `messages`: a
    person's message
    always goes; an automated one only while its conversation is at the version it was queued
    under, and an AI one only while the conversation is in AI mode."""
    current = select(Conversation.id).where(
        Conversation.id == Message.conversation_id,
        Conversation.version == Message.guard_version,
        or_(Message.author != Author.AI, Conversation.mode == Mode.AI),
    )
    return or_(Message.author == Author.HUMAN, current.exists())


async def _claim(
    runtime: Runtime, message_id: uuid.UUID
) -> tuple[Message, Channel, Contact, bool] | None:
    """queued -> sending in one statement, so two workers never send the same row
    (docs/architecture.md, invariant 5).

    The guard is part of that statement: a takeover either committed first (the row is not
    claimed, and is cancelled here if the takeover did not already), or it waits for this
    claim's row lock and then, after its commit, for the send to finish (control.py).
    """
    async with runtime.db.session_scope() as session:
        claimed = await session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.status == MessageStatus.QUEUED,
                guard_holds(),
            )
            .values(status=MessageStatus.SENDING, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            await _cancel_stale(session, message_id)
            return None
        # The row, its number, its customer and the window in one read: a send is on every
        # reply's path.
        message, channel, contact, wrote_at = (
            await session.execute(
                select(Message, Channel, Contact, Conversation.customer_wrote_at)
                .join(Channel, Channel.id == Message.channel_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Message.id == message_id)
            )
        ).one()
        if not may_receive(contact, message):
            message.status = MessageStatus.CANCELLED
            message.error = "cancelled: the contact opted out"
            live.publish_status(session, message)
            return None
        if not channel.active:
            message.status = MessageStatus.FAILED
            message.error = "the number was disconnected"
            live.publish_status(session, message)
            return None
        open_now = window.is_open(adapter_for(runtime.channels, channel.type), wrote_at, utcnow())
        if not open_now and not message.data.get(window.TEMPLATE):
            # Never tried free-form outside Meta's window: Graph would refuse it (131047)
            # after accepting it (docs/decisions.md, 30).
            message.status = MessageStatus.FAILED
            message.error = window.CLOSED
            live.publish_status(session, message)
            return None
        return message, channel, contact, open_now


async def _cancel_stale(session: AsyncSession, message_id: uuid.UUID) -> None:
    """An automated row whose conversation changed hands since it was queued never leaves."""
    error = "cancelled: the conversation changed hands"
    cancelled = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.QUEUED, ~guard_holds())
        .values(status=MessageStatus.CANCELLED, error=error)
        .execution_options(synchronize_session=False)
    )
    if getattr(cancelled, "rowcount", 0) == 1:
        message = await session.get(Message, message_id)
        assert message is not None
        live.publish_status(session, message)


async def send_message(runtime: Runtime, message_id: uuid.UUID) -> str:
    """Send one queued message; returns its final state for this attempt."""
    claimed = await _claim(runtime, message_id)
    if claimed is None:
        return "skipped"
    message, channel, contact, open_now = claimed
    try:
        adapter = adapter_for(runtime.channels, channel.type)
        receipt = await _deliver(
            adapter, channel, message, contact.chat_id, open_now=open_now, settings=runtime.settings
        )
    except SendError as exc:
        return await _record_failure(runtime, message, exc)
    async with runtime.db.session_scope() as session:
        done = await session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == MessageStatus.SENDING)
            .values(
                status=MessageStatus.SENT,
                provider_message_id=receipt.provider_message_id,
                sent_at=utcnow(),
            )
        )
        if getattr(done, "rowcount", 0) == 1:
            live.publish_updated_status(
                session, message, status=MessageStatus.SENT, error=message.error
            )
    return "sent"


async def _deliver(
    adapter: ChannelAdapter,
    channel: Channel,
    message: Message,
    chat_id: str,
    *,
    open_now: bool,
    settings: Settings,
) -> SendReceipt:
    """The row as the provider takes it now: its template when the window is closed, else its
    choice (where the provider has lists), file, photo, pin or text."""
    template = message.data.get(window.TEMPLATE)
    if isinstance(template, dict) and not open_now and isinstance(adapter, SendsTemplates):
        return await adapter.send_template(
            channel,
            OutboundTemplate(
                chat_id=chat_id,
                name=str(template["name"]),
                language=str(template["language"]),
                parameters=tuple(str(v) for v in template.get("parameters", [])),
                parameter_names=tuple(str(v) for v in template.get("parameter_names", [])),
            ),
        )
    choice = message.data.get(CHOICE)
    if isinstance(choice, dict) and isinstance(adapter, SendsInteractive):
        # Only inside the window: outside it the claim failed a row without a template.
        return await adapter.send_interactive(channel, _choice(chat_id, message.text, choice))
    attachment, photo, pin = (message.data.get(key) for key in (FILE, IMAGE, LOCATION))
    if isinstance(attachment, dict):
        file = OutboundFile(
            chat_id=chat_id,
            filename=str(attachment["filename"]),
            mime=str(attachment["mime"]),
            content=str(attachment["content"]).encode(),
            caption=message.text,
        )
        return await adapter.send_file(channel, file)
    if isinstance(photo, dict):
        url = str(photo["url"])
        stored = await _stored(settings, url)
        image = OutboundImage(
            chat_id=chat_id,
            url=url,
            filename=stored.name if stored else str(photo["filename"]),
            caption=message.text,
            content=stored.content if stored else None,
            mime=stored.mime if stored else "image/jpeg",
        )
        return await adapter.send_image(channel, image)
    if isinstance(pin, dict):
        location = OutboundLocation(
            chat_id=chat_id,
            latitude=float(pin["latitude"]),
            longitude=float(pin["longitude"]),
            name=str(pin.get("name") or ""),
            address=str(pin.get("address") or ""),
        )
        return await adapter.send_location(channel, location)
    return await adapter.send_text(channel, OutboundMessage(chat_id=chat_id, text=message.text))


def _choice(chat_id: str, text: str, choice: dict[str, Any]) -> OutboundChoice:
    rows = tuple(
        ChoiceRow(
            id=str(row["id"]),
            title=str(row["title"]),
            description=str(row.get("description") or ""),
        )
        for row in choice["rows"]
    )
    return OutboundChoice(chat_id=chat_id, body=text, button=str(choice["button"]), rows=rows)


async def _stored(settings: Settings, url: str) -> StoredPhoto | None:
    """A photo uploaded here goes as its bytes, whether or not the provider could reach this
    service's URL (docs/decisions.md, 29); read off the event loop, as other sends go on."""
    try:
        return await asyncio.to_thread(
            read_stored_photo, settings.photos.dir, settings.public_base_url, url
        )
    except OSError:
        raise SendError(
            "the photo's file is no longer stored", status_code=None, retryable=False
        ) from None


async def _record_failure(runtime: Runtime, message: Message, exc: SendError) -> str:
    delays = runtime.settings.send.retry_delays_seconds
    attempts = int(message.data.get("send_attempts", 0)) + 1
    retry = exc.retryable and attempts <= len(delays)
    logger.warning("send of %s failed (%s), retry=%s", message.id, exc.status_code, retry)
    status = MessageStatus.QUEUED if retry else MessageStatus.FAILED
    async with runtime.db.session_scope() as session:
        done = await session.execute(
            update(Message)
            .where(Message.id == message.id, Message.status == MessageStatus.SENDING)
            .values(
                status=status, error=exc.message, data=message.data | {"send_attempts": attempts}
            )
        )
        if getattr(done, "rowcount", 0) == 1:
            live.publish_updated_status(session, message, status=status, error=exc.message)
        if retry:
            runtime.queue.defer_on_commit(
                session,
                SEND_JOB,
                message_id=str(message.id),
                delay_seconds=delays[attempts - 1],
            )
    return "retrying" if retry else "failed"
