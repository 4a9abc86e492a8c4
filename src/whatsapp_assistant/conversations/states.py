"""The states a conversation and its messages can be in, as typed values with CHECK constraints."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class Mode(StrEnum):
    """Who answers: the assistant, or a person (docs/architecture.md, invariant
    3)."""

    AI = "ai"
    HUMAN = "human"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Author(StrEnum):
    CUSTOMER = "customer"
    AI = "ai"
    HUMAN = "human"  # the agent, from the app or the phone
    SYSTEM = "system"  # hand-over and holding notices, opt-out confirmations, alerts


class MessageStatus(StrEnum):
    """Inbound rows are `received`; outbound ones move queued → sending → sent → delivered → read,
    or end `failed` or `cancelled` (docs/architecture.md, invariant 5)."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    CANCELLED = "cancelled"


def column_type(enum: type[StrEnum], *, name: str, length: int) -> Enum:
    """A VARCHAR of `length` holding the enum's values, refused by the database otherwise."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
