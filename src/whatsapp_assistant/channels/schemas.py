"""Channel shapes for the API: credentials go in and never come back out (webhook token: once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from whatsapp_assistant.kit.storable import StorableInput


class GreenAPIChannelCreate(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    type: Literal["green_api"]
    name: str = Field(default="", max_length=200)
    id_instance: str = Field(pattern=r"^\d{1,12}$")
    api_token: str = Field(min_length=8, max_length=500)
    api_url: HttpUrl | None = None
    webhook_token: str | None = Field(default=None, min_length=16, max_length=500)


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str
    name: str
    external_id: str
    api_url: str
    own_chat_id: str | None
    state: str
    active: bool
    created_at: datetime
    webhook_url: str = ""


class ChannelCreated(ChannelRead):
    """Returned once at creation: the token to paste into Green API's webhookUrlToken."""

    webhook_token: str
