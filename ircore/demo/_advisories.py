"""Write the demo org's threat intelligence: OSV records, a published list, the incident spec.

The records are written from the incident's public facts, in the shape real OSV ``MAL-`` records
have (``affected[].versions``, ``database_specific.malicious-packages-origins``). Their prose is
ours. Where the real OSV id is not known from the incident notes the record gets a ``DEMO-`` id and
says so in its details; GHSA aliases appear only where the notes name them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ircore.demo._facts import (
    COMPROMISES,
    INCIDENT_NAME,
    INCIDENT_SUMMARY,
    IOCS,
    UTC,
    WINDOW_END,
    WINDOW_START,
    Compromise,
    iso,
)

CSV_NAME = "qix-2025-09-08.csv"
INCIDENT_ISSUE = "https://github.com/chalk/chalk/issues/656"

#: Records expressed with OSV SEMVER events instead of (or as well as) version lists, because
#: real feeds mix both and a matcher must handle each.
_RANGES_ONLY = frozenset({"wrap-ansi"})
_RANGES_AND_VERSIONS = frozenset({"supports-color"})

#: The clean release that followed each malicious one (the ``fixed`` event of a range record).
_NEXT = {"wrap-ansi": "9.0.2", "supports-color": "10.2.2"}

_CWE = {
    "cweId": "CWE-506",
    "description": "The product contains code that appears to be malicious in nature.",
    "name": "Embedded Malicious Code",
}


def _details(c: Compromise) -> str:
    text = (
        f"Version {c.version} of {c.name} was published on 2025-09-08 from a hijacked maintainer "
        "account after a phishing e-mail sent from the look-alike domain npmjs.help. The injected "
        "code runs when the package is bundled into a web page: it hooks wallet APIs "
        "(window.ethereum, Solana) and XMLHttpRequest/fetch and swaps cryptocurrency recipient "
        "addresses. There is no install script. The release was available for about two hours "
        "and was then removed from the registry; clean releases followed.\n\n"
        "Any build that resolved this version between "
        f"{iso(WINDOW_START)} and {iso(WINDOW_END)} may ship the payload in its bundles; rebuild "
        "and redeploy from a lockfile without it. Indicators: " + ", ".join(IOCS) + "."
    )
    if c.osv_id.startswith("DEMO-"):
        text += (
            "\n\n_Written by the ircore demo generator: the id is not a real OSV id; the affected "
            "version is the public fact._"
        )
    return text


def _affected(c: Compromise) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": "npm", "name": c.name}}
    if c.name in _RANGES_ONLY or c.name in _RANGES_AND_VERSIONS:
        affected["ranges"] = [
            {
                "type": "SEMVER",
                "events": [{"introduced": c.version}, {"fixed": _NEXT[c.name]}],
            }
        ]
    if c.name not in _RANGES_ONLY:
        affected["versions"] = [c.version]
    affected["database_specific"] = {"cwes": [dict(_CWE)]}
    return affected


def osv_record(c: Compromise) -> dict[str, Any]:
    """Build the OSV record for one malicious release.

    Parameters
    ----------
    c : Compromise
        The release and its known ids.

    Returns
    -------
    dict
        An OSV 1.5.0 document; ``aliases`` is omitted when no GHSA id is known.
    """
    published = datetime.strptime(c.published, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    imported = published.replace(minute=0, second=0) + timedelta(hours=7, minutes=35)
    modified = published.replace(hour=1, minute=13, second=34) + timedelta(days=3)
    origin_id = c.aliases[0] if c.aliases else c.osv_id
    origin = {
        "source": "ghsa-malware" if c.aliases else "ircore-demo",
        # A stand-in for the digest of the upstream record, stable across builds.
        "sha256": hashlib.sha256(f"{origin_id}:{c.name}@{c.version}".encode()).hexdigest(),
        "import_time": iso(imported),
        "id": origin_id,
        "modified_time": iso(published + timedelta(hours=1)),
        "versions": [c.version],
    }
    record: dict[str, Any] = {
        "modified": iso(modified),
        "published": c.published,
        "schema_version": "1.5.0",
        "id": c.osv_id,
    }
    if c.aliases:
        record["aliases"] = list(c.aliases)
    record["summary"] = f"Malicious code in {c.name} (npm)"
    record["details"] = _details(c)
    record["affected"] = [_affected(c)]
    record["references"] = [
        *({"type": "ADVISORY", "url": f"https://github.com/advisories/{a}"} for a in c.aliases),
        {"type": "REPORT", "url": INCIDENT_ISSUE},
    ]
    record["database_specific"] = {"malicious-packages-origins": [origin]}
    return record


def write_advisories(directory: Path) -> list[Path]:
    """Write one OSV JSON file per malicious release and the published CSV list.

    Parameters
    ----------
    directory : Path
        Target directory (created).

    Returns
    -------
    list of Path
        The written files, OSV records first (sorted by id), then the CSV.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for c in sorted(COMPROMISES, key=lambda c: c.osv_id):
        path = directory / f"{c.osv_id}.json"
        path.write_text(json.dumps(osv_record(c), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    lines = [
        "# source: ircore demo generator; the versions published from the hijacked npm account "
        '"qix" on 2025-09-08 (18) plus color 5.0.1 from the same phishing campaign',
        "name,version",
        *(f"{c.name},{c.version}" for c in sorted(COMPROMISES, key=lambda c: c.name)),
    ]
    csv_path = directory / CSV_NAME
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(csv_path)
    return written


def _q(value: str) -> str:
    # JSON strings are valid double-quoted YAML scalars in both YAML 1.1 and 1.2, so no value
    # can be re-typed by a reader (dates, "no", "1.10").
    return json.dumps(value)


def write_incident(path: Path) -> None:
    """Write ``incident.yaml``: name, summary, packages, advisories, window.

    Parameters
    ----------
    path : Path
        Target file.
    """
    lines = [
        f"name: {_q(INCIDENT_NAME)}",
        f"summary: {_q(INCIDENT_SUMMARY)}",
        "packages:",
        *(f"  {_q(c.name)}: [{_q(c.version)}]" for c in sorted(COMPROMISES, key=lambda c: c.name)),
        "advisories:",
        *(f"  - {_q(c.osv_id)}" for c in sorted(COMPROMISES, key=lambda c: c.osv_id)),
        "window:",
        f"  start: {_q(iso(WINDOW_START))}",
        f"  end: {_q(iso(WINDOW_END))}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_sources(
    path: Path, advisory_files: list[Path], repos_dir: Path, hosts_dir: Path | None = None
) -> None:
    """Write ``sources.yaml`` with paths relative to its own directory.

    Parameters
    ----------
    path : Path
        Target file.
    advisory_files : list of Path
        OSV records and published lists.
    repos_dir : Path
        Directory holding the git repositories.
    hosts_dir : Path, optional
        Directory of host scans and Dev Machine Guard exports (the ``hosts`` key).
    """
    base = path.parent
    lines = [
        "advisories:",
        *(f"  - {_q(p.relative_to(base).as_posix())}" for p in advisory_files),
        "repos:",
        f"  - {_q(repos_dir.relative_to(base).as_posix())}",
        "git_refs: true",
    ]
    if hosts_dir is not None:
        lines += ["hosts:", f"  - {_q(hosts_dir.relative_to(base).as_posix())}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
