"""What a reply is drafted from: the unanswered messages, the history and the version read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.models import Account, Persona
from whatsapp_assistant.ai.types import (
    FOLLOWUP,
    BookedViewing,
    PersonaSpec,
    ReplyRequest,
    SlotOffer,
    Turn,
)
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.registry import ChannelRegistry, adapter_for
from whatsapp_assistant.conversations.language import resolve
from whatsapp_assistant.conversations.media_files import awaiting_fetch, model_images
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus
from whatsapp_assistant.infra.file_store import FileStore
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling.models import ACTIVE_STATUSES, Viewing
from whatsapp_assistant.scheduling.service import time_zone

UNANSWERABLE_KINDS = ("reaction", "sticker", "unsupported", "poll_update", "call")
VOICE_NOTE_TEMPLATE = "voice_note"  # data["template"] of the notice asking to type instead
LISTINGS = "listings"  # data of an AI reply: the ids of the listings it named, in order
OFFER = "offer"  # data of an AI reply: the viewing times it offered (offer_data)


@dataclass(frozen=True)
class Snapshot:
    """Read in one short transaction; the version must still match when the reply commits."""

    conversation_id: uuid.UUID
    account_id: uuid.UUID
    channel_id: uuid.UUID
    version: int
    newest_pending: datetime
    pending_ids: list[uuid.UUID]
    pending_text: str  # the unanswered customer messages, oldest first
    request: ReplyRequest
    only_undecryptable: bool
    opted_out: bool
    max_length: int
    contact_label: str
    owner_phone: str | None
    holding_message: str | None
    language: str  # of every system text here (conversations/language.py)
    only_voice_notes: bool  # nobody has listened to what is waiting (no transcription yet)
    asked_to_type: bool  # the newest message to the customer already asked for text
    # A file the customer sent is still being fetched: its job defers the reply when done
    # (docs/decisions.md, 31), so this one waits for it.
    awaiting_media: bool = False


async def read_snapshot(
    session: AsyncSession,
    conversation: Conversation,
    *,
    channels: ChannelRegistry,
    history: int,
    media_files: FileStore | None = None,
) -> Snapshot | None:
    """None when nothing is waiting for an answer. With `media_files`, the customer's newest
    stored pictures ride along on their turns (conversations/media_files.model_images)."""
    read = await _pending_messages(session, conversation)
    if read is None:
        return None
    pending, (contact, channel, account, persona, newest_out, has_viewings) = read
    turns, listings = await _history(session, conversation, history, media_files=media_files)
    return Snapshot(
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        channel_id=conversation.channel_id,
        version=conversation.version,
        newest_pending=max(m.created_at for m in pending),
        pending_ids=[m.id for m in pending],
        pending_text="\n".join(m.text for m in pending if m.text),
        request=ReplyRequest(
            persona=PersonaSpec.from_model(persona),
            history=turns,
            contact_name=contact.name,
            language=conversation.language,
            language_pinned=conversation.language_pinned,
            listings=listings,
            offer=offer_of(newest_out),
            viewings=await booked_viewings(session, conversation) if has_viewings else (),
        ),
        only_undecryptable=all(m.kind == "undecryptable" for m in pending),
        opted_out=contact.opted_out_at is not None,
        max_length=adapter_for(channels, channel.type).max_text_length,
        contact_label=contact.name or contact.phone or contact.chat_id,
        owner_phone=account.owner_phone,
        holding_message=account.holding_message,
        language=resolve(conversation, default=persona.default_language),
        only_voice_notes=all(m.kind == "audio" and not m.text.strip() for m in pending),
        asked_to_type=_asks_to_type(newest_out),
        awaiting_media=any(awaiting_fetch(m) for m in pending),
    )


class _Context(NamedTuple):
    """What a reply needs besides the messages, read with the pending ones."""

    contact: Contact
    channel: Channel
    account: Account
    persona: Persona
    newest_out: dict[str, Any] | None  # data of the newest message to the customer
    has_viewings: bool  # requested or confirmed ones: only then are they read


async def _pending_messages(
    session: AsyncSession, conversation: Conversation
) -> tuple[list[Message], _Context] | None:
    """The unanswered customer messages, oldest first, each row carrying the conversation's
    contact, channel, account and persona, the newest outgoing message's data and whether a
    viewing is booked: one statement where one each cost seven round trips in every reply. None
    when nothing is pending."""
    newest_out = (
        select(Message.data)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.OUT)
        .order_by(Message.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    active_viewing = (
        select(Viewing.id)
        .where(Viewing.conversation_id == conversation.id, Viewing.status.in_(ACTIVE_STATUSES))
        .exists()
    )
    stmt = (
        select(Message, Contact, Channel, Account, Persona, newest_out, active_viewing)
        .join(Account, Account.id == Message.account_id)
        .join(Contact, (Contact.account_id == Account.id) & (Contact.id == conversation.contact_id))
        .join(Channel, (Channel.account_id == Account.id) & (Channel.id == conversation.channel_id))
        .outerjoin(Persona, Persona.account_id == Account.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.author == Author.CUSTOMER,
            Message.deleted_at.is_(None),
            Message.kind.not_in(UNANSWERABLE_KINDS),
        )
    )
    if conversation.answered_through is not None:
        stmt = stmt.where(Message.created_at > conversation.answered_through)
    rows = (await session.execute(stmt.order_by(Message.created_at))).all()
    if not rows:
        return None
    _, contact, channel, account, persona, data, has_viewings = rows[0]
    if persona is None:  # an account without one gets the default, as everywhere
        persona = await accounts.get_persona(session, conversation.account_id)
    context = _Context(contact, channel, account, persona, data, bool(has_viewings))
    return [row[0] for row in rows], context


def _asks_to_type(data: dict[str, Any] | None) -> bool:
    """The newest message to the customer is the voice-note notice: one per run of notes."""
    return data is not None and data.get("template") == VOICE_NOTE_TEMPLATE


def offer_of(data: dict[str, Any] | None) -> SlotOffer | None:
    """The viewing times the newest message to the customer offered (reply data["offer"])."""
    offer = (data or {}).get(OFFER)
    if not isinstance(offer, dict):
        return None
    try:
        viewing = offer.get("viewing_id")
        return SlotOffer(
            property_id=uuid.UUID(str(offer["property_id"])),
            title=str(offer["title"]),
            zone=str(offer["zone"]),
            slots=tuple(datetime.fromisoformat(str(slot)) for slot in offer["slots"]),
            viewing_id=uuid.UUID(str(viewing)) if viewing else None,
        )
    except (KeyError, TypeError, ValueError):
        return None  # an offer written by an older version: nothing to read against


def offer_data(offer: SlotOffer) -> dict[str, object]:
    """The reply data["offer"] that offer_of reads back."""
    return {
        "property_id": str(offer.property_id),
        "title": offer.title,
        "zone": offer.zone,
        "slots": [slot.isoformat() for slot in offer.slots],
        "viewing_id": str(offer.viewing_id) if offer.viewing_id else None,
    }


async def booked_viewings(
    session: AsyncSession, conversation: Conversation
) -> tuple[BookedViewing, ...]:
    """The conversation's requested and confirmed viewings, soonest first."""
    stmt = (
        select(Viewing, Property.title)
        .join(Property, (Property.id == Viewing.property_id))
        .where(
            Viewing.account_id == conversation.account_id,
            Viewing.conversation_id == conversation.id,
            Viewing.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Viewing.starts_at)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return ()
    zone = await time_zone(session, conversation.account_id)
    return tuple(
        BookedViewing(
            id=viewing.id,
            property_id=viewing.property_id,
            title=title,
            starts_at=viewing.starts_at,
            status=viewing.status,
            zone=zone,
        )
        for viewing, title in rows
    )


async def _history(
    session: AsyncSession,
    conversation: Conversation,
    limit: int,
    *,
    media_files: FileStore | None = None,
) -> tuple[list[Turn], tuple[uuid.UUID, ...]]:
    """The last `limit` messages as turns: customer text is data in messages, never the prompt;
    and the listings the newest reply that named some named (data["listings"]). A turn whose
    picture is passed to the model carries it, its text the caption alone (possibly empty)."""
    stmt = (
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.deleted_at.is_(None),
            Message.author.in_([Author.CUSTOMER, Author.AI, Author.HUMAN]),
            Message.kind.not_in([*UNANSWERABLE_KINDS, "undecryptable"]),
            or_(
                Message.direction == Direction.IN,
                Message.status.not_in([MessageStatus.CANCELLED, MessageStatus.FAILED]),
            ),
        )
        .order_by(Message.created_at.desc())
        .limit(limit)
    )
    rows = list(reversed((await session.execute(stmt)).scalars().all()))
    images = await model_images(media_files, conversation.account_id, rows) if media_files else {}
    turns = [
        Turn(role="user", text=m.text, images=(images[m.id],))
        if m.id in images
        else Turn(role="user" if m.author == Author.CUSTOMER else "assistant", text=_as_text(m))
        for m in _unanswered_after_ai_replies(rows, conversation.answered_through)
    ]
    named: list[object] = next(
        (m.data[LISTINGS] for m in reversed(rows) if m.data.get(LISTINGS)), []
    )
    listings = tuple(uuid.UUID(str(listing)) for listing in named)
    return [turn for turn in turns if turn.text or turn.images], listings


def _unanswered_after_ai_replies(
    rows: list[Message], answered_through: datetime | None
) -> list[Message]:
    """`rows` in time order, except that an unanswered customer message goes after the AI
    replies that follow it.

    A message's created_at is taken in its webhook's transaction, before the commit: one that
    committed after a reply job had read the conversation can be older than that reply, which
    never saw it (an AI reply moves answered_through past everything it read). In time order
    the history would end with that reply, and build_messages refuses an assistant turn last:
    the customer would get the holding notice. A person's message keeps its place, since the
    agent may have read the customer's message in the inbox.
    """
    if answered_through is None:
        return rows  # no AI reply was ever committed here
    ordered: list[Message] = []
    waiting: list[Message] = []
    for row in rows:
        if row.author == Author.CUSTOMER and row.created_at > answered_through:
            waiting.append(row)
        elif row.author == Author.AI:
            ordered.append(row)
        else:
            ordered += [*waiting, row]
            waiting = []
    return ordered + waiting


def _as_text(message: Message) -> str:
    if message.kind == "location":
        return f"[location shared] {message.text}"
    if message.kind in {"image", "video", "document", "audio"}:
        caption = f": {message.text}" if message.text else ""
        return f"[{message.kind} sent{caption}]"
    return message.text


async def followup_request(
    session: AsyncSession, conversation: Conversation, contact: Contact, *, history: int
) -> ReplyRequest:
    """What the model needs to write a follow-up: the conversation so far, which ends with the
    assistant's unanswered message, and the task (ai/prompt.py turns it into one instruction)."""
    persona = await accounts.get_persona(session, conversation.account_id)
    turns, listings = await _history(session, conversation, history)
    return ReplyRequest(
        persona=PersonaSpec.from_model(persona),
        history=turns,
        listings=listings,
        contact_name=contact.name,
        language=conversation.language,
        language_pinned=conversation.language_pinned,
        task=FOLLOWUP,
    )
