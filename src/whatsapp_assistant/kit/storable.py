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
    """Base of every model built from a user's input: its strings must be storable text.

    JSON bodies arrive cleaned (kit/json_input.py); this refuses what a form still carries.
    """

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and _UNSTORABLE.search(text) for text in texts):
            raise ValueError("text contains characters that cannot be stored (NUL or surrogates)")
        return value
