"""Real advisories in the shapes of the APIs that serve them, for the threat-intel tests.

GitHub's REST shape of the corpus's reviewed GHSA records (``github/advisory-database`` files in
OSV format: ids, packages, ranges, CWEs and times carried over), and of the malware advisories
that the corpus's MAL records name as their ``ghsa-malware`` origins (id, package, latest claim).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = Path("corpus") / "advisories"


def _range(events: list[dict[str, str]]) -> str:
    """OSV events as GitHub writes a vulnerable_version_range."""
    start = next(e["introduced"] for e in events if "introduced" in e)
    parts = [] if start == "0" else [f">= {start}"]
    for event in events:
        if "fixed" in event:
            parts.append(f"< {event['fixed']}")
        if "last_affected" in event:
            parts.append(f"<= {event['last_affected']}")
    return ", ".join(parts) or ">= 0"


def _vulnerabilities(claims: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    vulnerabilities: list[dict[str, Any]] = []
    for claim in claims:
        versions = claim.get("versions") or []
        ranges = claim.get("ranges") or []
        # A range where the record has one, else GitHub's "= X" per version.
        specs = [_range(r["events"]) for r in ranges] or [f"= {v}" for v in versions]
        vulnerabilities += [
            {
                "package": {"ecosystem": "npm", "name": name},
                "vulnerable_version_range": spec,
                "first_patched_version": None,
                "vulnerable_functions": [],
            }
            for spec in specs
        ]
    return vulnerabilities


def rest_from_osv(record: dict[str, Any]) -> dict[str, Any]:
    """A github/advisory-database record in the shape ``GET /advisories/{id}`` answers."""
    specific = record.get("database_specific") or {}
    cves = [a for a in record.get("aliases") or [] if a.startswith("CVE-")]
    return {
        "ghsa_id": record["id"],
        "cve_id": cves[0] if cves else None,
        "url": f"https://api.github.com/advisories/{record['id']}",
        "html_url": f"https://github.com/advisories/{record['id']}",
        "summary": record["summary"],
        "description": record["details"],
        "type": "reviewed" if specific.get("github_reviewed") else "unreviewed",
        "severity": str(specific.get("severity", "unknown")).lower(),
        "identifiers": [{"type": "GHSA", "value": record["id"]}]
        + [{"type": "CVE", "value": c} for c in cves],
        "references": [r["url"] for r in record.get("references") or []],
        "published_at": record["published"],
        "updated_at": record["modified"],
        "withdrawn_at": None,
        "vulnerabilities": [
            v
            for affected in record["affected"]
            for v in _vulnerabilities([affected], affected["package"]["name"])
        ],
        "cwes": [{"cwe_id": c, "name": ""} for c in specific.get("cwe_ids") or []],
    }


def malware_from_mal(record: dict[str, Any]) -> dict[str, Any] | None:
    """The GitHub malware advisory a MAL record names as its ``ghsa-malware`` origin.

    Its claim is that origin's latest one; its times are the origin's.
    """
    origins = (record.get("database_specific") or {}).get("malicious-packages-origins") or []
    ghsa = [o for o in origins if o.get("source") == "ghsa-malware" and o.get("id")]
    if not ghsa:
        return None
    latest = ghsa[-1]
    name = record["affected"][0]["package"]["name"]
    return {
        "ghsa_id": latest["id"],
        "cve_id": None,
        "html_url": f"https://github.com/advisories/{latest['id']}",
        "summary": f"Malware in {name}",
        "description": record["details"],
        "type": "malware",
        "severity": "critical",
        "identifiers": [{"type": "GHSA", "value": latest["id"]}],
        "published_at": record["published"],
        "updated_at": latest.get("modified_time") or record["modified"],
        "withdrawn_at": None,
        "vulnerabilities": _vulnerabilities([latest], name),
        "cwes": [{"cwe_id": "CWE-506", "name": "Embedded Malicious Code"}],
    }


def corpus_advisories(shared: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((shared / CORPUS).glob("*.json")):
        record = json.loads(path.read_bytes())
        advisory = (
            rest_from_osv(record) if record["id"].startswith("GHSA-") else malware_from_mal(record)
        )
        if advisory is not None:
            found[advisory["ghsa_id"]] = advisory
    return found
