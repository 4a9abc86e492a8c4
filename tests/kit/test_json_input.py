"""read_json: the one reader of outside JSON refuses what no handler can use and cleans text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatsapp_assistant.kit.json_input import MAX_DEPTH, UnreadableJSON, read_json
from whatsapp_assistant.kit.storable import storable_text


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)


def _expected(value: object) -> object:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_expected(item) for item in value]
    if isinstance(value, dict):
        return {storable_text(key): _expected(item) for key, item in value.items()}
    return value


class TestReadJson:
    def test_an_ordinary_body_reads_as_the_standard_library_reads_it(self) -> None:
        body = '{"a": [1, -2, 3.5, true, null, "Graça 🏠"], "b": {"c": 12345678901234567890}}'
        assert read_json(body.encode()) == json.loads(body)

    @pytest.mark.parametrize(
        "body",
        [
            b"1" * 5000,
            b'{"id": ' + b"9" * 5000 + b"}",
            b"-" + b"9" * 21,
            b"[123456789012345678901]",
        ],
        ids=["bare-5000-digits", "field-5000-digits", "negative-21-digits", "21-digits"],
    )
    def test_an_integer_past_any_ids_size_is_refused(self, body: bytes) -> None:
        with pytest.raises(UnreadableJSON, match="more than 20 digits"):
            read_json(body)

    @pytest.mark.parametrize("body", [b"NaN", b"[Infinity]", b'{"x": -Infinity}', b"1e999"])
    def test_numbers_that_are_not_finite_are_refused(self, body: bytes) -> None:
        with pytest.raises(UnreadableJSON):
            read_json(body)

    def test_nesting_up_to_the_limit_reads_and_past_it_is_refused(self) -> None:
        assert read_json(_nested(MAX_DEPTH)) is not None
        with pytest.raises(UnreadableJSON, match="nested deeper"):
            read_json(_nested(MAX_DEPTH + 1))
        with pytest.raises(UnreadableJSON, match="nested deeper"):
            read_json(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)

    @pytest.mark.parametrize(
        "body",
        [b"not json", b"", b'{"a": 1', b"\xff\xfe{}", b'"\xed\xa0\x80"', b"\xef\xbb\xbf{}"],
        ids=["text", "empty", "truncated", "utf-16-bom", "utf-8-encoded-surrogate", "utf-8-bom"],
    )
    def test_a_body_that_is_not_utf8_json_is_refused(self, body: bytes) -> None:
        with pytest.raises(UnreadableJSON, match="not"):
            read_json(body)

    def test_lone_surrogates_become_replacement_characters_in_keys_and_values(self) -> None:
        body = b'{"na\\udc80me": ["Ana \\ud83d", {"\\ud800": "x\\udfffy"}], "ok": "\\ud83d\\ude00"}'
        assert read_json(body) == {
            "na\ufffdme": ["Ana \ufffd", {"\ufffd": "x\ufffdy"}],
            "ok": "😀",  # a proper pair is one character, kept
        }

    def test_nul_is_dropped_from_keys_and_values(self) -> None:
        assert read_json(b'{"a\\u0000b": "Rita\\u0000Almeida"}') == {"ab": "RitaAlmeida"}

    @given(st.recursive(st.text() | st.integers(-(10**19), 10**19), _containers, max_leaves=20))
    @settings(max_examples=200)
    def test_whatever_json_reads_every_string_is_storable(self, value: object) -> None:
        read = read_json(json.dumps(value).encode())
        assert read == _expected(value)
        json.dumps(read).encode("utf-8")  # encodable: no lone surrogate is left


class TestStorableText:
    def test_clean_text_is_returned_unchanged(self) -> None:
        text = "Olá, T2 em Graça 🏠"
        assert storable_text(text) is text

    def test_nul_is_dropped_and_a_lone_surrogate_replaced(self) -> None:
        assert storable_text("a\x00b\ud800c\udfff") == "ab\ufffdc\ufffd"
