"""for_account: the one filter every tenant-owned query goes through (invariant 6)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select

T = TypeVar("T", bound=tuple[Any, ...])


def for_account(stmt: Select[T], model: Any, account_id: uuid.UUID) -> Select[T]:
    return stmt.where(model.account_id == account_id)
