"""The one reader of a JSON body from outside: refuse what no handler can use, clean the text."""

from __future__ import annotations

import json
import math
from typing import Any

from whatsapp_assistant.kit.storable import storable_text

MAX_DEPTH = 32
# The widest integer any id or count of ours can be: 2**64 has 20 digits. Python refuses to
# parse past 4,300 digits with a bare ValueError; far shorter is already no number we use.
MAX_INT_DIGITS = 20


class UnreadableJSON(ValueError):
    """The body is not JSON we can use; `str()` says why, in words a caller can act on."""


def read_json(body: bytes) -> Any:
    """Parse `body` as UTF-8 JSON; every string (keys too) comes back storable (storable_text).

    Raises UnreadableJSON for a body that is not UTF-8 or not JSON, holds NaN or Infinity, an
    integer of more than MAX_INT_DIGITS digits, or containers nested deeper than MAX_DEPTH.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableJSON("body is not UTF-8 text") from None
    try:
        value = json.loads(
            text, parse_int=_integer, parse_float=_finite, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise UnreadableJSON(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise UnreadableJSON(f"body is nested deeper than {MAX_DEPTH} levels") from None
    return _clean(value, depth=0)


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise UnreadableJSON(f"body holds an integer of more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise UnreadableJSON("body holds a number too large for a float")
    return number


def _no_constant(name: str) -> float:
    raise UnreadableJSON(f"body holds {name}, which is not a JSON number")


def _clean(value: object, *, depth: int) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list | dict):
        if depth >= MAX_DEPTH:
            raise UnreadableJSON(f"body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, list):
            return [_clean(item, depth=depth + 1) for item in value]
        return {storable_text(key): _clean(item, depth=depth + 1) for key, item in value.items()}
    return value
