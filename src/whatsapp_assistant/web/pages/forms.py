"""What the pages' forms share: reading what was typed, and a schema's errors in plain words.

The wording itself stays with each page; only the words several pages use are here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from fastapi import Request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

REQUIRED = "Required."
CHOOSE_ONE = "Choose one of the options."

# A page's wording for a field's error: a message per field (pydantic's own words for a field
# it does not name), or a function of the field and the error.
Describe = Mapping[str, str] | Callable[[str, ErrorDetails], str]


def schema_words(error: ErrorDetails) -> str:
    """The schema's own message, without pydantic's "Value error, " prefix."""
    return str(error["msg"]).removeprefix("Value error, ")


def text_fields(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The named fields of a form as typed (missing ones empty, files ignored)."""
    values = {name: form.get(name) for name in names}
    return {name: value if isinstance(value, str) else "" for name, value in values.items()}


async def posted_text(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named fields of the posted form as typed (missing ones empty, files ignored)."""
    return text_fields(await request.form(), names)


def field_errors(exc: ValidationError, describe: Describe, *, unnamed: str = "") -> dict[str, str]:
    """One plain-language message per field, about the first error on it.

    An error that names no field (a whole-model check) is filed under `unnamed`.
    """
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else unnamed
        if field in errors:
            continue
        if isinstance(describe, Mapping):
            errors[field] = describe.get(field, schema_words(error))
        else:
            errors[field] = describe(field, error)
    return errors
