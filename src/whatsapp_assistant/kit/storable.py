"""Input models whose text every database can store."""

from __future__ import annotations

import re

from pydantic import BaseModel, field_validator

# NUL and lone surrogates pass JSON and form parsing, but PostgreSQL refuses to store them (a 500
# instead of a clear 422); SQLite would keep what PostgreSQL cannot, so both refuse them here.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class StorableInput(BaseModel):
    """Base of every model built from a user's input: its strings must be storable text."""

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and _UNSTORABLE.search(text) for text in texts):
            raise ValueError("text contains characters that cannot be stored (NUL or surrogates)")
        return value
