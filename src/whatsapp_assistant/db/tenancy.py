"""for_account: the one filter every tenant-owned query goes through (docs/architecture.md,
invariant 6)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar, Unpack

from sqlalchemy import Select

# SQLAlchemy 2.1 types Select over a variadic row (Select[Property], Select[int]), not a tuple.
SelectT = TypeVar("SelectT", bound=Select[Unpack[tuple[Any, ...]]])  # noqa: UP044 - py3.11 syntax


def for_account(stmt: SelectT, model: Any, account_id: uuid.UUID) -> SelectT:
    return stmt.where(model.account_id == account_id)
