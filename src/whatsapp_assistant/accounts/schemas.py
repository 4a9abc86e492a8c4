"""Account, user, API key and persona shapes for the CLI and the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from whatsapp_assistant.kit.phone import chat_id_from_phone
from whatsapp_assistant.kit.storable import StorableInput

PersonaStyle = Literal["professional", "friendly", "casual", "premium"]


class AccountCreate(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    owner_phone: str | None = Field(default=None, max_length=32)


class UserCreate(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    name: str = Field(default="", max_length=200)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    email: str
    name: str


class ApiKeyCreate(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=100)


class ApiKeyRead(BaseModel):
    """A key as listed: never the key itself, only the prefix that identifies it."""

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The plaintext key, shown only in this answer.")


class CreatedAccount(BaseModel):
    account_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    api_key: str


class PersonaData(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", from_attributes=True)

    style: PersonaStyle = "friendly"
    agent_name: str = Field(default="", max_length=200)
    agency_name: str = Field(default="", max_length=200)
    custom_instructions: str = Field(default="", max_length=4000)
    default_language: str | None = Field(default=None, max_length=8)


class AccountSettings(StorableInput):
    """How the assistant behaves around the agent: takeover, hand-back, alerts, holding text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", from_attributes=True)

    owner_phone: str | None = Field(default=None, max_length=32)
    takeover_on_phone_message: bool = True
    auto_resume_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    answer_pending_on_hand_back: bool = True
    holding_message: str | None = Field(default=None, min_length=1, max_length=1000)

    @field_validator("owner_phone")
    @classmethod
    def _possible_number(cls, value: str | None) -> str | None:
        if value is not None:
            chat_id_from_phone(value)  # raises ValueError: a clear field error
        return value
