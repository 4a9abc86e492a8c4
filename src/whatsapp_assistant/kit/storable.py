"""Text every database can store: the cleaning of raw input and the check of input models."""

from __future__ import annotations

import re

from pydantic import BaseModel, field_validator

# NUL and lone surrogates pass JSON and form parsing, but PostgreSQL refuses to store NUL and no
# encoder takes a lone surrogate (a 500 instead of a clear answer); SQLite would keep what
# PostgreSQL cannot, so both are handled here, for every database alike.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    """`text` with NUL dropped (it never carries meaning) and each lone surrogate as U+FFFD."""
    if not _UNSTORABLE.search(text):
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT, text.replace("\x00", ""))


class StorableInput(BaseModel):
    """Base of every model built from a user's input: its strings are cleaned as JSON bodies
    are (kit/json_input.py), so a form and the API keep the same text."""

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        if isinstance(value, str):
            return storable_text(value)
        if isinstance(value, list):
            return [storable_text(item) if isinstance(item, str) else item for item in value]
        return value
