"""Input bytes into text and JSON, every failure an analyst-readable :class:`InputError`.

Shared by the lockfile parsers and the OSV loader so a UTF-16 file, a binary file, an empty file
or cut-short JSON is named the same way whichever reader met it.
"""

from __future__ import annotations

from typing import Any

import orjson

from ircore._errors import InputError


def decode_text(
    data: bytes,
    *,
    what: str,
    writer: str | None = None,
    kind: str = "not-text",
    empty_kind: str | None = "truncated",
) -> str:
    """Decode UTF-8 (BOM allowed) that holds no NUL byte and, unless allowed, is not blank.

    ``what`` names the input in messages ("the lockfile"), ``writer`` the tool that writes it
    ("pnpm"). UTF-16, undecodable bytes and NUL bytes raise ``kind``; an empty or blank input
    raises ``empty_kind``, or is returned as it is when ``empty_kind`` is None.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # PowerShell's `>` writes UTF-16; npm, pnpm, yarn, bun and OSV feeds write UTF-8.
        because = f"{writer} writes UTF-8, so " if writer else ""
        raise InputError(
            kind,
            f"{what} is UTF-16 encoded (it starts with a UTF-16 byte order mark); {because}it "
            "was re-saved by some other tool",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1]
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            kind,
            f"{what} is not UTF-8 text (byte {exc.start}, line {line}, is {bad!r}): a binary or "
            "corrupted file",
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError(kind, f"{what} holds a NUL byte on line {line}: a binary file, not text")
    if empty_kind is not None and not text.strip():
        message = f"{what} is empty ({len(data)} bytes)"
        if writer:
            message += (
                f"; {writer} never writes an empty lockfile, so it was cut short or created by hand"
            )
        raise InputError(empty_kind, message)
    return text


def load_json(text: str, *, what: str, writer: str | None = None, syntax: str = "JSON") -> Any:
    """Parse JSON text; a failure says where, and whether the input was cut short.

    Kinds: ``"unsupported"`` (nested deeper than orjson's 1024 levels), ``"truncated"`` (the
    error is at the end of the input) and ``"not-json"`` (any other syntax error). ``syntax`` is
    the dialect named in that last message (bun's "JSONC", whose caller blanked out comments).
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        if "depth limit" in exc.msg:
            # Valid JSON that orjson refuses; no tool writes lockfiles or records nested so deep.
            nobody = f"; no {writer}-written lockfile does" if writer else ""
            raise InputError(
                "unsupported",
                f"{what} nests JSON deeper than the 1024 levels ircore reads (at {where}){nobody}",
            ) from None
        if exc.pos >= len(text.rstrip()):
            raise InputError(
                "truncated",
                f"{what} is truncated: the JSON ends at {where} before it is complete ({exc.msg})",
            ) from None
        raise InputError(
            "not-json", f"{what} is not valid {syntax}: {exc.msg} at {where}"
        ) from None
