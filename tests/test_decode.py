"""The shared input decoding (ircore._decode): every failure has its kind and says where."""

from __future__ import annotations

import pytest

from ircore._decode import decode_text, load_json
from ircore._errors import InputError


def _text_error(
    data: bytes, expected: str, *, kind: str = "not-text", empty_kind: str = "truncated"
) -> InputError:
    with pytest.raises(InputError) as info:
        decode_text(data, what="the lockfile", writer="pnpm", kind=kind, empty_kind=empty_kind)
    assert info.value.kind == expected, info.value.message
    assert info.value.message.startswith("the lockfile ")
    return info.value


def _json_error(text: str, kind: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_json(text, what="the lockfile", writer="npm")
    assert info.value.kind == kind, info.value.message
    return info.value


def test_utf8_with_or_without_bom_is_text() -> None:
    assert decode_text(b"\xef\xbb\xbfa: 1\r\n", what="the lockfile") == "a: 1\r\n"
    assert decode_text("é\n".encode(), what="the lockfile") == "é\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_not_text(encoding: str) -> None:
    bom = "\ufeff" if encoding != "utf-16" else ""
    error = _text_error((bom + "a: 1\n").encode(encoding), "not-text")
    assert "UTF-16" in error.message and "pnpm writes UTF-8" in error.message


def test_bad_utf8_is_not_text_naming_byte_and_line() -> None:
    error = _text_error(b"a: 1\nb: \xff\n", "not-text")
    assert "byte 8" in error.message and "line 2" in error.message and "\\xff" in error.message


def test_nul_byte_is_not_text_naming_the_line() -> None:
    error = _text_error(b"a: 1\nb: 2\n\x00", "not-text")
    assert "NUL" in error.message and "line 3" in error.message


def test_failures_take_the_callers_kind() -> None:
    for data in (b"\xff\xfe{}", b"{\xff}", b"{}\x00"):
        _text_error(data, "not-json", kind="not-json")


@pytest.mark.parametrize("data", [b"", b" \r\n\t", b"\xef\xbb\xbf"])
def test_empty_is_truncated_unless_allowed(data: bytes) -> None:
    error = _text_error(data, "truncated")
    assert "empty" in error.message and "pnpm never writes" in error.message
    _text_error(data, "empty", empty_kind="empty")
    assert decode_text(data, what="the lockfile", empty_kind=None).strip() == ""


def test_json_loads() -> None:
    assert load_json('{"a": [1, "é"]}', what="the lockfile") == {"a": [1, "é"]}


@pytest.mark.parametrize("text", ['{"a": [1, 2', '{\n"a": "é', "{", '{"a": 1,\n  '])
def test_json_cut_short_is_truncated(text: str) -> None:
    error = _json_error(text, "truncated")
    assert "truncated" in error.message and "line" in error.message


def test_json_nested_too_deep_is_unsupported() -> None:
    error = _json_error("[" * 2000 + "]" * 2000, "unsupported")
    assert "1024" in error.message and "no npm-written lockfile" in error.message


@pytest.mark.parametrize("text", ['{"a": 1}x', "{'a': 1}", '{\n  "a": 1\n  "b": 2\n}', "a: 1"])
def test_bad_json_is_not_json_naming_line_and_column(text: str) -> None:
    error = _json_error(text, "not-json")
    assert "not valid JSON" in error.message and "line" in error.message
    assert "column" in error.message


def test_syntax_names_the_dialect() -> None:
    with pytest.raises(InputError, match="not valid JSONC"):
        load_json("{,}", what="the lockfile", syntax="JSONC")
