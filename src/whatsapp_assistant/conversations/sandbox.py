"""The persona page's "try it" chat: one simulator conversation per account, read and reset.

The agent plays a customer on the simulator channel with a reserved phone number
(SANDBOX_CHAT_ID); the real pipeline answers. Everything here is scoped by account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.conversations import inbox
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.simulator import SANDBOX_PHONE, find_simulated
from whatsapp_assistant.conversations.states import Author, Mode

# How the agent appears as the customer in the sandbox thread.
SANDBOX_CUSTOMER = "You (try it)"
MESSAGE_LIMIT = 100


@dataclass(frozen=True)
class Sandbox:
    """The sandbox thread as the panel shows it."""

    conversation: Conversation
    contact: Contact
    messages: list[Message]
    escalation_reason: str | None

    @property
    def handed_over(self) -> bool:
        """An escalation (or a takeover) left it to a person: the assistant stays silent."""
        return self.conversation.mode != Mode.AI

    @property
    def opted_out(self) -> bool:
        return self.contact.opted_out_at is not None

    @property
    def awaiting_reply(self) -> bool:
        """The newest message is the customer's and the assistant has not answered it yet."""
        if self.handed_over or self.opted_out or not self.messages:
            return False
        if self.messages[-1].author != Author.CUSTOMER:
            return False
        inbound = self.conversation.last_inbound_at
        answered = self.conversation.answered_through
        return inbound is not None and (answered is None or answered < inbound)


async def _find(
    session: AsyncSession, account_id: uuid.UUID
) -> tuple[Conversation, Contact] | None:
    conversation = await find_simulated(session, account_id, SANDBOX_PHONE)
    if conversation is None:
        return None
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None
    return conversation, contact


async def find_sandbox(session: AsyncSession, account_id: uuid.UUID) -> Conversation | None:
    """The account's sandbox conversation, if the agent has tried the assistant yet."""
    found = await _find(session, account_id)
    return found[0] if found is not None else None


async def read_sandbox(session: AsyncSession, account_id: uuid.UUID) -> Sandbox | None:
    """The newest MESSAGE_LIMIT messages (oldest first) and why it was handed over, if it was."""
    found = await _find(session, account_id)
    if found is None:
        return None
    conversation, contact = found
    messages = await inbox.thread_messages(session, conversation, limit=MESSAGE_LIMIT)
    read = await inbox.describe(session, conversation)
    return Sandbox(conversation, contact, list(messages), read.escalation_reason)


async def reset_sandbox(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Deletes the sandbox conversation and its contact, so the next message starts afresh.

    Its messages, events and escalations go with it (ON DELETE CASCADE). A reply job still
    running finds no conversation to answer. False when there was nothing to reset.
    """
    found = await _find(session, account_id)
    if found is None:
        return False
    conversation, contact = found
    await session.execute(
        delete(Conversation).where(
            Conversation.id == conversation.id, Conversation.account_id == account_id
        )
    )
    await session.execute(
        delete(Contact).where(Contact.id == contact.id, Contact.account_id == account_id)
    )
    return True
