"""Channel shapes for the API: credentials go in and never come back out (webhook token: once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, HttpUrl, Tag

from whatsapp_assistant.channels.models import ReceiveMode, TemplatePurpose
from whatsapp_assistant.kit.storable import StorableInput


class GreenAPIChannelCreate(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    type: Literal["green_api"]
    name: str = Field(default="", max_length=200)
    id_instance: str = Field(pattern=r"^\d{1,12}$")
    api_token: str = Field(min_length=8, max_length=500)
    api_url: HttpUrl | None = None
    webhook_token: str | None = Field(default=None, min_length=16, max_length=500)
    # polling: the worker pulls the notifications, so no public webhook URL is needed.
    receive_mode: ReceiveMode = ReceiveMode.WEBHOOK


class ChannelUpdate(StorableInput):
    model_config = ConfigDict(extra="forbid")

    receive_mode: ReceiveMode


_PRINTABLE_ASCII = r"^[!-~]+$"


class MetaCloudChannelCreate(StorableInput):
    """A number of Meta's WhatsApp Cloud API; `graph_url` defaults to Graph's own (settings)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    type: Literal["meta_cloud"]
    name: str = Field(default="", max_length=200)
    phone_number_id: str = Field(pattern=r"^\d{1,30}$")
    waba_id: str = Field(pattern=r"^\d{1,30}$")
    # Meta's tokens and secrets are printable ASCII; the token travels in a header.
    access_token: str = Field(min_length=8, max_length=500, pattern=_PRINTABLE_ASCII)
    app_secret: str = Field(min_length=8, max_length=500, pattern=_PRINTABLE_ASCII)
    verify_token: str = Field(min_length=8, max_length=500, pattern=_PRINTABLE_ASCII)
    graph_url: HttpUrl | None = None


def _channel_type(value: object) -> str | None:
    """The body's "type", which picks its shape (a callable: every field of an input model,
    "type" too, is cleaned by a before-validator, which pydantic's own discriminator refuses)."""
    raw = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return raw if isinstance(raw, str) else None


ChannelCreate = Annotated[
    Annotated[GreenAPIChannelCreate, Tag("green_api")]
    | Annotated[MetaCloudChannelCreate, Tag("meta_cloud")],
    Discriminator(_channel_type),
]


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str
    name: str
    external_id: str
    api_url: str
    waba_id: str | None = None
    own_chat_id: str | None
    state: str
    active: bool
    receive_mode: ReceiveMode
    created_at: datetime
    webhook_url: str = ""


class ChannelCreated(ChannelRead):
    """Returned once at creation: for Green API, the token to paste into its webhookUrlToken;
    none for Meta, whose app secret and verify token the agent chose."""

    webhook_token: str | None = None


class TemplateRead(BaseModel):
    """A template of the business account as Graph lists it; only an APPROVED one maps."""

    name: str
    language: str
    status: str
    category: str
    body: str
    parameter_count: int
    approved: bool


class TemplateMappingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    purpose: TemplatePurpose
    name: str
    language: str
    parameter_count: int


class TemplateChoice(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(min_length=2, max_length=20, pattern=r"^[A-Za-z_]+$")


class TemplateMappingUpdate(StorableInput):
    """The template for one purpose; `template: null` stops using one."""

    model_config = ConfigDict(extra="forbid")

    purpose: TemplatePurpose
    template: TemplateChoice | None


class ChannelTemplates(BaseModel):
    templates: list[TemplateRead]
    mappings: list[TemplateMappingRead]


class BillableCount(BaseModel):
    """Messages Meta reported as billable, for one month (UTC) and pricing category."""

    month: str
    category: str
    count: int
