"""OSV records (MAL- and GHSA-style JSON) into ``advisories`` rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from ircore._decode import decode_text, load_json
from ircore._errors import InputError

MALWARE_CWE = "CWE-506"


def decode_json(data: bytes, *, what: str) -> Any:
    """Decode JSON bytes (BOM tolerated) or raise :class:`InputError` saying what was wrong."""
    text = decode_text(data, what=what, kind="not-json", empty_kind="empty")
    return load_json(text, what=what)


def _is_malware(record: Mapping[str, Any]) -> bool:
    if str(record.get("id", "")).startswith("MAL-"):
        return True
    specific = record.get("database_specific") or {}
    cwes = list(specific.get("cwe_ids") or [])
    for affected in record.get("affected") or []:
        cwes += [
            c.get("cweId") for c in (affected.get("database_specific") or {}).get("cwes") or []
        ]
    return MALWARE_CWE in cwes


def _severity(record: Mapping[str, Any]) -> str:
    specific = record.get("database_specific") or {}
    if specific.get("severity"):
        return str(specific["severity"]).lower()
    scores = [s.get("score", "") for s in record.get("severity") or []]
    return ";".join(str(s) for s in scores if s)


def _claims(holder: Mapping[str, Any], *, where: str) -> Iterator[tuple[str, str]]:
    """The (kind, spec) claims of an ``affected`` entry or an origin; malformed shapes raise.

    A string where a list belongs would otherwise be read character by character.
    """
    versions = holder.get("versions") or []
    ranges = holder.get("ranges") or []
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise InputError("invalid", f"{where}: 'versions' must be a list of strings")
    if not isinstance(ranges, list) or not all(isinstance(r, dict) for r in ranges):
        raise InputError("invalid", f"{where}: 'ranges' must be a list of objects")
    for version in versions:
        yield "exact", version
    for rng in ranges:
        if str(rng.get("type", "")).upper() in {"SEMVER", "ECOSYSTEM"}:
            events = rng.get("events")
            if not isinstance(events, list) or not events:
                raise InputError("invalid", f"{where}: a range has no 'events' list")
            yield "osv_events", orjson.dumps(events).decode()


def osv_advisory_rows(record: Any, *, evidence: str, source: str) -> list[dict[str, Any]]:
    """Rows of the ``advisories`` frame for one OSV record (npm packages only).

    The record's own ``affected`` entries are the claims used for matching (role ``affected``);
    each ``malicious-packages-origins`` entry is kept as a separate claim (role ``origin``) so the
    report can show which feed claimed what, and when, even where a later import narrowed it.
    """
    if not isinstance(record, dict) or "id" not in record:
        raise InputError("invalid", f"{evidence} is not an OSV record (no 'id')")
    if record.get("withdrawn"):
        return []
    if not isinstance(record.get("affected"), list):
        raise InputError(
            "invalid", f"{evidence}: record {record['id']} lists no 'affected' packages"
        )
    malware = _is_malware(record)
    common = {
        "advisory_id": str(record["id"]),
        "aliases": ",".join(str(a) for a in record.get("aliases") or []),
        "ecosystem": "npm",
        "classification": "malware" if malware else "vulnerability",
        "severity": "" if malware else _severity(record),
        "summary": str(record.get("summary") or record.get("details") or "")[:500],
        "published": record.get("published"),
        "modified": record.get("modified"),
        "source": source,
        "evidence": evidence,
    }
    rows: list[dict[str, Any]] = []
    npm_packages = []
    for affected in record["affected"]:
        if not isinstance(affected, dict):
            raise InputError("invalid", f"{evidence}: an 'affected' entry is not an object")
        package = affected.get("package") or {}
        if str(package.get("ecosystem", "")).lower() != "npm" or not package.get("name"):
            continue
        npm_packages.append(str(package["name"]))
        for kind, spec in _claims(affected, where=f"{evidence} ({package['name']})"):
            rows.append(
                {
                    **common,
                    "package": str(package["name"]),
                    "spec_kind": kind,
                    "spec": spec,
                    "role": "affected",
                    "origin": f"osv:{record['id']}",
                }
            )
    origins = (record.get("database_specific") or {}).get("malicious-packages-origins") or []
    if len(set(npm_packages)) == 1:
        for origin in origins:
            label = f"{origin.get('source', '?')}:{origin.get('id', '')}@{origin.get('import_time', '')}"
            for kind, spec in _claims(origin, where=f"{evidence} (origin {label})"):
                rows.append(
                    {
                        **common,
                        "package": npm_packages[0],
                        "spec_kind": kind,
                        "spec": spec,
                        "role": "origin",
                        "origin": label,
                    }
                )
    return rows
