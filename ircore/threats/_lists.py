"""Published ``name,version`` lists, as circulated during real incidents, into ``advisories`` rows."""

from __future__ import annotations

import re
from typing import Any

from ircore._errors import InputError, InvalidVersion
from ircore.semver import parse_version

# npm's package-name rules (legacy names may hold capitals); anything else is not a list entry.
_NAME = re.compile(r"^(@[a-z0-9][\w.~-]*/)?[a-z0-9_][\w.~-]*$", re.IGNORECASE)
_HEADER = re.compile(
    r"""^\s*["']?(package|name)["']?\s*[,;\t]\s*["']?(version|versions)["']?\s*$""",
    re.IGNORECASE,
)


def _split_entry(line: str) -> tuple[str, str] | None:
    """One list line into (name, version); the shapes seen in the wild, in order of specificity."""
    for sep in (",", "\t", ";"):
        if sep in line:
            name, _, version = line.partition(sep)
            # spreadsheet exports quote every field: "chalk","5.6.1"
            return _unquote(name), _unquote(version)
    parts = line.split(":")
    if len(parts) == 3 and parts[0].lower() == "npm":  # ecosystem:name:version
        return parts[1].strip(), parts[2].strip()
    if len(parts) == 2:  # name:version (npm names never hold ':')
        return parts[0].strip(), parts[1].strip()
    at = line.rfind("@")
    if at > 0:  # name@version, @scope/name@version
        return line[:at].strip(), line[at + 1 :].strip()
    return None


def _unquote(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] and field[0] in "\"'":
        return field[1:-1].strip()
    return field


def _is_version(text: str) -> bool:
    try:
        parse_version(text)
    except InvalidVersion:
        return False
    return True


def list_advisory_rows(
    data: bytes, *, evidence: str, name: str, modified: Any
) -> list[dict[str, Any]]:
    """Rows of ``advisories`` for a published list; comment lines are kept as the list's provenance.

    Raises :class:`InputError` when a line is neither a comment, a header nor a name/version pair, so
    a half-understood list is never taken as complete.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not-text", f"{evidence} is not UTF-8 text ({exc.reason})") from None
    provenance: list[str] = []
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            provenance.append(line.lstrip("#").strip())
            continue
        if _HEADER.match(line):
            continue
        entry = _split_entry(line)
        if entry is None or not _NAME.match(entry[0]) or not _is_version(entry[1]):
            raise InputError(
                "invalid", f"{evidence} line {number} is not a name/version pair: {line[:80]!r}"
            )
        pairs.append(entry)
    if not pairs:
        raise InputError("empty", f"{evidence} lists no name/version pairs")
    origin = " ".join(provenance)[:1000] or f"list {name}"
    return [
        {
            "advisory_id": f"list:{name}",
            "aliases": "",
            "ecosystem": "npm",
            "package": package,
            "spec_kind": "exact",
            "spec": version,
            "role": "affected",
            "origin": origin,
            "classification": "malware",
            "severity": "",
            "summary": f"published list {name}",
            "published": None,
            "modified": modified,
            "source": "list",
            "evidence": evidence,
        }
        for package, version in pairs
    ]
