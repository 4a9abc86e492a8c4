"""Account and persona shapes for the CLI and the API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

PersonaStyle = Literal["professional", "friendly", "casual", "premium"]


class AccountCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    owner_phone: str | None = Field(default=None, max_length=32)


class CreatedAccount(BaseModel):
    account_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    api_key: str


class PersonaData(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", from_attributes=True)

    style: PersonaStyle = "friendly"
    agent_name: str = Field(default="", max_length=200)
    agency_name: str = Field(default="", max_length=200)
    custom_instructions: str = Field(default="", max_length=4000)
    default_language: str | None = Field(default=None, max_length=8)
