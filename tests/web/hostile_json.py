"""Hostile JSON bodies as raw text (what no encoder would write) and a count of every table."""

from __future__ import annotations

import json

from hypothesis import strategies as st
from sqlalchemy import func, select

from whatsapp_assistant.all_models import Base
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.json_input import MAX_DEPTH, UnreadableJSON, read_json

_MARK = "\x01field under test\x01"

# Text with what breaks a database or an encoder: NUL, lone surrogates, controls, astral chars.
hostile_text = st.text(
    alphabet=st.sampled_from('a Ç\x00\x01\n"\\\ud800\udbff\udc00\udfff🏠\u202e\ufeff'),
    max_size=12,
) | st.text(max_size=12)


def _raw_text(text: str) -> str:
    return json.dumps(text)  # ensure_ascii: a lone surrogate becomes a \udXXX escape


hostile_leaves = st.one_of(
    hostile_text.map(_raw_text),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(21, 5000).map(lambda digits: "9" * digits),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "true", "false", "null"]),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.integers(MAX_DEPTH - 2, MAX_DEPTH + 8).map(lambda depth: "[" * depth + "]" * depth),
    st.sampled_from(["{}", "[]", '""']),
)


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    members = st.lists(st.tuples(hostile_text.map(_raw_text), children), max_size=4)
    objects = members.map(lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}")
    return arrays | objects


hostile_json = st.recursive(hostile_leaves, _containers, max_leaves=8)


def _paths(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _replaced(node: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    head, *rest = path
    if isinstance(node, dict):
        return {k: _replaced(v, tuple(rest), value) if k == head else v for k, v in node.items()}
    assert isinstance(node, list)
    return [_replaced(v, tuple(rest), value) if i == head else v for i, v in enumerate(node)]


@st.composite
def with_one_field_hostile(draw: st.DrawFn, sample: object) -> bytes:
    """`sample` with one field (at any depth, the root included) replaced by hostile JSON."""
    path = draw(st.sampled_from(_paths(sample)[1:] or [()]))
    marked = json.dumps(_replaced(sample, path, _MARK))
    return marked.replace(json.dumps(_MARK), draw(hostile_json), 1).encode()


def is_readable(body: bytes) -> bool:
    try:
        read_json(body)
    except UnreadableJSON:
        return False
    return True


async def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table of the schema: a body that was refused must change none of them."""
    async with db.session_scope() as session:
        return {
            table.name: int(
                (await session.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in Base.metadata.sorted_tables
        }
