"""The follow-up settings and scheduled messages, in and out of the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from whatsapp_assistant.kit.storable import StorableInput
from whatsapp_assistant.scheduling.schemas import UtcMoment

MIN_STEP_HOURS = 1
MAX_STEP_HOURS = 30 * 24
MAX_STEPS = 5


class _Input(StorableInput):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


StepHours = Annotated[int, Field(ge=MIN_STEP_HOURS, le=MAX_STEP_HOURS)]


class FollowupsData(_Input):
    """The follow-up ladder (hours after an AI message the customer left unanswered) and the
    viewing reminders. Replaced whole by PUT."""

    enabled: bool
    steps_hours: list[StepHours] = Field(min_length=1, max_length=MAX_STEPS)
    reminder_day_before: bool
    reminder_hour_before: bool

    @field_validator("steps_hours")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(later <= earlier for earlier, later in pairwise(value)):
            raise ValueError("each step should come after the one before it")
        return value


def _in_storable_years(moment: datetime) -> datetime:
    if not 2000 <= moment.year <= 2199:
        raise ValueError("should be in the years 2000 to 2199")
    return moment.astimezone(UTC)


# Aware only: a time without its offset names no instant (422).
DueAt = Annotated[
    AwareDatetime,
    Field(examples=["2027-04-05T09:00:00+01:00"]),
    AfterValidator(_in_storable_years),
]


class ScheduledCreate(_Input):
    """A message the agent writes now and the customer gets at `due_at` (ISO 8601 with its
    offset, in the future), whatever the conversation's mode."""

    text: str = Field(min_length=1, max_length=4096)
    due_at: DueAt


class ScheduledUpdate(_Input):
    """`keep_in_human`: a pending reminder still goes after a person took the conversation
    over (and a takeover does not cancel it)."""

    keep_in_human: bool


class ClockAdvance(_Input):
    hours: float = Field(gt=0, le=MAX_STEP_HOURS)


class ClockRead(BaseModel):
    now: UtcMoment
    woken: int  # scheduled messages found due and woken


ScheduledKindName = Literal["followup", "reminder", "after_viewing", "manual"]
ScheduledStatusName = Literal["pending", "sent", "cancelled", "skipped"]


class ScheduledRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    kind: ScheduledKindName
    due_at: UtcMoment
    status: ScheduledStatusName
    reason: str | None
    text: str
    keep_in_human: bool
    message_id: uuid.UUID | None
    created_at: UtcMoment
    created_by: str
