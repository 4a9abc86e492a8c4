"""Conversation and message shapes for the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from whatsapp_assistant.ai.language import Language
from whatsapp_assistant.conversations.states import Author, Direction, MessageStatus, Mode
from whatsapp_assistant.kit.storable import StorableInput


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chat_id: str
    phone: str | None
    name: str


class MessagePreview(BaseModel):
    """The newest message of a conversation, as the inbox list shows it (text cut at 160)."""

    author: Author
    kind: str
    text: str
    status: MessageStatus
    created_at: datetime


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel_id: uuid.UUID
    contact: ContactRead
    is_group: bool
    mode: Mode
    version: int
    escalated: bool
    escalation_reason: str | None = None
    language: Language | None = Field(
        default=None, description="of the system texts and the AI's lead; null until detected"
    )
    language_pinned: bool = Field(
        default=False, description="chosen by the agent: detection leaves it alone"
    )
    opted_out: bool
    last_message_at: datetime | None
    created_at: datetime
    unread: int = Field(default=0, description="customer messages since the agent last read")
    last_message: MessagePreview | None = None


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: Direction
    author: Author
    kind: str
    text: str
    media_url: str | None
    data: dict[str, Any]
    provider_message_id: str | None
    reply_to_provider_id: str | None
    status: MessageStatus
    error: str | None
    edited_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime

    @field_validator("data")
    @classmethod
    def _without_storage_key(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A received file is shown at /media/<message id>; where it is kept (its key in
        MEDIA_DIR or the bucket) is the service's business (docs/decisions.md, 31)."""
        media = data.get("media")
        if isinstance(media, dict) and "path" in media:
            return data | {"media": {k: v for k, v in media.items() if k != "path"}}
        return data


class ConversationFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode | None = None
    escalated: bool | None = None
    needs_me: bool = Field(default=False, description="only escalated or human-mode ones")
    q: str | None = Field(
        default=None, max_length=200, description="name, number or message text contains"
    )
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class SimulatedMessage(StorableInput):
    """A customer message typed into the simulator (no WhatsApp number needed)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    customer: str = Field(default="Simulated customer", min_length=1, max_length=100)
    phone: str = Field(default="351900000001", pattern=r"^\d{6,15}$")


class ModeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode


class ConversationUpdate(BaseModel):
    """PATCH body: `language` pins it (en, es, pt); null unpins it, back to detection."""

    model_config = ConfigDict(extra="forbid")

    language: Language | None


class AgentMessage(StorableInput):
    """Text the agent sends by hand; sending takes the conversation over."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    actor: str
    detail: dict[str, Any]
    created_at: datetime
