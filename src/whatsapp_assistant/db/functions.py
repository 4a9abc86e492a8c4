"""SQL expressions that the two backends spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class hours_between(FunctionElement[float]):  # noqa: N801 (reads as a SQL function)
    """hours_between(earlier, later): the hours from one timestamp to the other, fractional."""

    type = Float()
    inherit_cache = True


def _arguments(element: hours_between, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    earlier, later = (compiler.process(clause, **kw) for clause in element.clauses)
    return earlier, later


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = _arguments(element, compiler, **kw)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps timestamps as ISO text; julianday() reads it with any fraction of a second.
    earlier, later = _arguments(element, compiler, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"
