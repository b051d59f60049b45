"""StepSecurity Threat Center incidents (API and S3/webhook export) into ``advisories`` rows.

An incident names one package and its compromised versions in a free-form string
(``affected_versions``: "1.4.2, 1.4.3", a range, "all versions"). What is unambiguous becomes
exact versions or npm ranges; anything else (a "4.1.1-4.1.2" that may be a range or a
prerelease, "2.0 and later", a bare "1.4") is a problem naming the text, never a guess. The raw
text stays in each row's summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from ircore._decode import decode_text, load_json
from ircore._errors import InputError, InvalidRange, InvalidVersion, SourceError
from ircore._frames import new_frame, validate
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, sha256
from ircore.http import Client, _truthy
from ircore.inventory._stepsecurity import BASE_URL, KEY_ENV, stepsecurity_client
from ircore.semver import normalize_advisory_range, parse_version
from ircore.threats._iocs import extract_iocs

__all__ = [
    "load_threat_center",
    "load_threat_center_export",
    "parse_affected_versions",
    "threat_center_rows",
]

SOURCE = "threat-center"
EXPORT_SOURCE = "threat-center-export"
EXPORT_TYPE = "threat-intelligence"
DASHBOARD = "https://app.stepsecurity.io/github/{owner}/threat-center/incidents/{id}"
FOLDER_SUFFIXES = {".json", ".jsonl", ".ndjson"}
MAX_PAGES = 1000

# "All versions" as people write it; an incident that says so claims every version.
_ALL_VERSIONS = {
    "*",
    "all",
    "all versions",
    "all published versions",
    "any",
    "any version",
    "every version",
}
# Words that join a list of plain versions ("1.4.2 and 1.4.3"); never read inside a range.
_JOINERS = {"and", "or", "&"}
# What makes a part an npm range rather than a version or prose.
_RANGE_MARK = re.compile(r"[<>=^~*]|\s-\s|\|\||(?:^|[\s.])[xX](?:$|[\s.])")
_LOWER_BOUND = re.compile(r"^\s*>=?")
_UPPER_BOUND = re.compile(r"^\s*<=?")
# A prerelease that spells a version: "4.1.1-4.1.2" is more likely a range than a prerelease.
_VERSION_LIKE = re.compile(r"\d+\.\d+\.\d+")
_PARTIAL = re.compile(r"v?\d+(?:\.\d+)?")
_BOUND = re.compile(r"[<>]=?")
_COMPOUND = re.compile(r"\s-\s|\|\||[\^~]")


@dataclass
class AffectedVersions:
    """``affected_versions`` read: the claims made, and the parts too unclear to claim."""

    claims: list[tuple[str, str]] = field(default_factory=list)  # (spec_kind, spec)
    unclear: list[tuple[str, str]] = field(default_factory=list)  # (text, why)


def _plain_version(word: str, package: str) -> str | None:
    """``word`` as a version (``pkg@1.2.3`` and ``v1.2.3`` allowed); None if it is not one.

    Raises
    ------
    ValueError
        When the word is a version only by accident: ``4.1.1-4.1.2`` reads as a prerelease,
        but is far more likely a range written with a hyphen.
    """
    if package and word.startswith(f"{package}@"):
        word = word[len(package) + 1 :]
    try:
        version = parse_version(word)
    except InvalidVersion:
        return None
    prerelease = ".".join(str(i) for i in version.prerelease)
    if prerelease and _VERSION_LIKE.fullmatch(prerelease):
        raise ValueError(
            f"{word!r} may be the range {version.core.split('-')[0]} to {prerelease} or the "
            "prerelease it spells"
        )
    return str(version)


def parse_affected_versions(text: str | None, *, package: str = "") -> AffectedVersions:
    """Read a free-form affected-versions string into exact versions and npm ranges.

    Commas, semicolons and line breaks separate items; an item of plain versions (separated by
    spaces or "and"/"or") gives exact claims, an item holding a range operator is read as an
    npm range, and "all versions" claims ``*``. ``>= 1.0.0, < 1.2.3`` (GitHub's spelling, a
    lower then an upper bound) is one range. Everything else is returned as unclear, with why.
    """
    result = AffectedVersions()
    raw = (text or "").strip()
    if not raw:
        result.unclear.append((raw, "no affected versions are stated"))
        return result
    if raw.lower().rstrip(".") in _ALL_VERSIONS:
        result.claims.append(("npm_range", "*"))
        return result
    parts = [p.strip() for p in re.split(r"[,;\n]", raw) if p.strip()]
    if (
        len(parts) == 2
        and _LOWER_BOUND.match(parts[0])
        and _UPPER_BOUND.match(parts[1])
        and not _RANGE_MARK.search(_LOWER_BOUND.sub("", parts[0]))
        and not _RANGE_MARK.search(_UPPER_BOUND.sub("", parts[1]))
    ):
        # A lower and an upper bound split by a comma: read "or", they would claim everything.
        try:
            result.claims.append(("npm_range", normalize_advisory_range(raw)))
            return result
        except InvalidRange as exc:
            result.unclear.append((raw, str(exc)))
            return result
    ranged = [p for p in parts if _RANGE_MARK.search(p)]
    lone_bounds = [p for p in ranged if len(_BOUND.findall(p)) == 1 and not _COMPOUND.search(p)]
    if len(ranged) > 1 and lone_bounds:
        result.unclear.append(
            (
                raw,
                "several comparators split by commas: a comma may mean 'and' (GitHub's ranges) "
                "or 'or' (a list), and the two readings claim different versions",
            )
        )
        return result
    for part in parts:
        words = [w for w in part.split() if w.lower() not in _JOINERS]
        try:
            versions = [_plain_version(w, package) for w in words]
        except ValueError as exc:
            result.unclear.append((part, str(exc)))
            continue
        if words and all(v is not None for v in versions):
            result.claims.extend(("exact", v) for v in versions if v is not None)
            continue
        if _RANGE_MARK.search(part):
            try:
                result.claims.append(("npm_range", normalize_advisory_range(part)))
            except InvalidRange as exc:
                result.unclear.append((part, str(exc)))
            continue
        if _PARTIAL.fullmatch(part):
            result.unclear.append(
                (part, f"a partial version: it may mean {part}.0 or every {part}.x version")
            )
            continue
        result.unclear.append((part, "neither a version nor an npm range"))
    return result


@dataclass
class IncidentRead:
    """The rows of one incident, what could not be claimed (kind, message), and notes."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    issues: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def _active(value: Any) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _truthy(value)


def threat_center_rows(
    incident: Any, *, evidence: str, source: str = SOURCE, owner: str = ""
) -> IncidentRead:
    """Rows of the ``advisories`` frame for one Threat Center incident (npm packages only).

    Raises
    ------
    InputError
        When ``incident`` is not an incident object (no ``id``).
    """
    if not isinstance(incident, dict) or not incident.get("id"):
        raise InputError("invalid", f"{evidence} is not a Threat Center incident (no 'id')")
    incident_id = str(incident["id"])
    title = str(incident.get("title") or "")
    label = f"Threat Center incident {incident_id}" + (f" ({title})" if title else "")
    read = IncidentRead()
    ecosystem = str(incident.get("ecosystem") or "").strip().lower()
    package = str(incident.get("package_name") or "").strip()
    if ecosystem != "npm":
        read.note = f"{label} is about ecosystem {ecosystem or 'not stated'}; not an npm claim"
        return read
    if not package:
        read.note = f"{label} names no package"
        return read
    raw = incident.get("affected_versions")
    affected = parse_affected_versions(raw if isinstance(raw, str) else None, package=package)
    for text, why in affected.unclear:
        read.issues.append(
            (
                "invalid",
                f"{label}: affected_versions {raw!r} for {package}"
                + (f": {text!r}" if text and text != raw else "")
                + f" cannot be read without guessing ({why}); no claim was made for it, "
                "read the incident's details",
            )
        )
    active = _active(incident.get("is_active"))
    state = {True: "active", False: "closed", None: "activity not stated"}[active]
    start = incident.get("incident_start_time")
    end = incident.get("incident_end_time")
    when = "".join((f" since {start}" if start else "", f", ended {end}" if end else ""))
    status = f"[{state}{when}; affected_versions as stated: {raw!r}]"
    body = title + (f": {incident['description']}" if incident.get("description") else "")
    classification = str(incident.get("classification") or "").strip().lower()
    url = incident.get("incident_url") or (
        DASHBOARD.format(owner=quote(owner, safe=""), id=quote(incident_id, safe=""))
        if owner
        else ""
    )
    cve = [c.strip() for c in str(incident.get("cve") or "").split(",") if c.strip()]
    common = {
        "advisory_id": f"threat-center:{incident_id}",
        "aliases": ",".join(sorted(set(cve))),
        "ecosystem": "npm",
        "package": package,
        "role": "affected",
        "origin": f"threat-center:{incident_id}",
        # Threat Center incidents are supply-chain compromises unless they say otherwise.
        "classification": "vulnerability" if classification == "vulnerability" else "malware",
        "severity": str(incident.get("severity") or "").strip().lower(),
        "summary": f"{status} {body}"[:500],
        "published": incident.get("created_at") or start,
        "modified": incident.get("updated_at"),
        "url": str(url),
        "source": source,
        "evidence": evidence,
    }
    read.rows = [
        {**common, "spec_kind": kind, "spec": spec} for kind, spec in dict.fromkeys(affected.claims)
    ]
    return read


def _record(
    incident: Any,
    evidence: str,
    source: str,
    owner: str,
    log: EvidenceLog,
    notes: list[str],
    indicators: list[pd.DataFrame] | None = None,
) -> list[dict[str, Any]]:
    try:
        read = threat_center_rows(incident, evidence=evidence, source=source, owner=owner)
    except InputError as exc:
        log.problem(source=source, evidence=evidence, kind=exc.kind, message=exc.message)
        return []
    if indicators is not None:
        indicators.append(_incident_iocs(incident, evidence=evidence, source=source))
    for kind, message in read.issues:
        log.problem(source=source, evidence=evidence, kind=kind, message=message)
    if read.note:
        notes.append(read.note)
    return read.rows


def _incident_iocs(incident: dict[str, Any], *, evidence: str, source: str) -> pd.DataFrame:
    """Indicators in an incident's prose: its markdown details hold them, not a field."""
    text = "\n\n".join(str(incident.get(k) or "") for k in ("title", "description", "details"))
    package = str(incident.get("package_name") or "").strip()
    return extract_iocs(
        text,
        advisory_id=f"threat-center:{incident['id']}",
        source=source,
        evidence=evidence,
        packages=[package] if package else [],
    )


def _detections(data: Any) -> list[Any] | None:
    """The incidents of an answer: ``detections`` is a list, or one object on detail calls."""
    if not isinstance(data, dict):
        return None
    found = data.get("detections")
    if isinstance(found, dict):
        return [found]
    if isinstance(found, list):
        return found
    if found is None and "detections" in data:
        return []
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class _Read:
    """Incidents read from one request (or one paged listing), and the input to record for it.

    The input is recorded once the incidents have been turned into rows, so that what they
    did not claim (another ecosystem, no package) lands in its notes.
    """

    incidents: list[tuple[Any, str]] = field(default_factory=list)
    input: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _list(http: Client, owner: str, log: EvidenceLog) -> _Read | None:
    path = f"/github/{quote(owner, safe='')}/threat-intel/incidents"
    listed = _Read()
    seen: set[str] = set()
    pages = 0
    first = http.redact(http.url(path))
    try:
        for page in http.paginate_pages(path, envelope="pagination", items_key="detections"):
            pages += 1
            items = _detections(page.data)
            if items is None:
                log.failed(
                    source=SOURCE,
                    evidence=page.url,
                    kind="invalid",
                    message=f"Threat Center incidents of {owner} answered no 'detections' list; "
                    "its incidents could not be read",
                    format="threat-center-api",
                )
                return None
            new = 0
            for item in items:
                key = str(item.get("id")) if isinstance(item, dict) else repr(item)
                if key not in seen:
                    seen.add(key)
                    new += 1
                    listed.incidents.append((item, page.url))
            meta = page.data.get("pagination") if isinstance(page.data, dict) else None
            meta = meta if isinstance(meta, dict) else {}
            limit = _int(meta.get("limit"))
            current = _int(meta.get("current_page"))
            full = limit is not None and len(items) >= limit > 0
            if current is not None and current != pages:
                # The server did not turn the page: asking on would read page 1 forever.
                if full:
                    log.problem(
                        source=SOURCE,
                        evidence=page.url,
                        kind="pagination",
                        message=f"Threat Center incidents of {owner}: asked for page {pages}, "
                        f"the answer says page {current}; incidents past the first "
                        f"{len(listed.incidents)} may be missing",
                    )
                break
            if not meta or new == 0 or not full:
                break
            if pages >= MAX_PAGES:
                log.problem(
                    source=SOURCE,
                    evidence=page.url,
                    kind="pagination",
                    message=f"Threat Center incidents of {owner} run past {MAX_PAGES} pages; "
                    "the later ones were not read",
                )
                break
    except SourceError as exc:
        later = f" (after {pages} pages were read)" if pages else ""
        log.failed(
            source=SOURCE,
            evidence=exc.url,
            kind=exc.kind,
            message=f"Threat Center incidents of {owner} could not be read{later}: {exc.message}",
            format="threat-center-api",
        )
        return None
    listed.input = {
        "evidence": first,
        "status": "parsed" if listed.incidents else "empty",
        "notes": f"{len(listed.incidents)} incidents on {pages} pages",
    }
    return listed


def _detail(http: Client, owner: str, incident_id: str, log: EvidenceLog) -> _Read | None:
    path = f"/github/{quote(owner, safe='')}/threat-intel/incidents/{quote(incident_id, safe='')}"
    try:
        response, data = http.fetch("GET", path)
    except SourceError as exc:
        log.failed(
            source=SOURCE,
            evidence=exc.url,
            kind=exc.kind,
            message=f"Threat Center incident {incident_id} of {owner} could not be read: "
            f"{exc.message}",
            format="threat-center-api",
        )
        return None
    url = http.redact(response.request.url)
    items = _detections(data)
    if not items or not isinstance(items[0], dict):
        log.failed(
            source=SOURCE,
            evidence=url,
            kind="invalid",
            message=f"Threat Center incident {incident_id} of {owner} answered no incident in "
            "'detections'",
            format="threat-center-api",
            sha256=sha256(response.content),
        )
        return None
    if len(items) > 1:
        log.problem(
            source=SOURCE,
            evidence=url,
            kind="invalid",
            message=f"Threat Center incident {incident_id} of {owner} answered {len(items)} "
            "incidents; only the first was read",
        )
    return _Read(
        incidents=[(items[0], url)],
        input={"evidence": url, "status": "parsed", "sha256": sha256(response.content)},
    )


def load_threat_center(
    owner: str,
    *,
    base_url: str = BASE_URL,
    key_env: str = KEY_ENV,
    incident_ids: Iterable[str] | None = None,
    log: EvidenceLog | None = None,
    client: Client | None = None,
    indicators: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Read StepSecurity Threat Center incidents of a GitHub org into advisories.

    ``GET {base_url}/github/{owner}/threat-intel/incidents`` (paged with ``page``; its
    ``pagination.{current_page, limit}`` are strings) lists the incidents; an incident listed
    without its ``affected_versions`` or ``details`` is read in full from
    ``.../incidents/{id}``, which answers ``detections`` as one object or a one-element list.
    Authenticated with the API key in ``key_env`` (Bearer).

    Parameters
    ----------
    owner
        The GitHub organization as StepSecurity knows it.
    base_url, key_env
        The API root and the environment variable holding the API key; used when no
        ``client`` is given.
    incident_ids
        Read only these incidents, from the detail endpoint (no listing).
    log
        Receives each listing and incident read as an input; failed requests, incidents that
        could not be read and affected versions that could not be read without guessing as
        problems; incidents that make no npm claim (another ecosystem, no package) in the notes.
    client
        A configured :class:`ircore.http.Client` (see
        :func:`ircore.inventory._stepsecurity.stepsecurity_client`); not closed here.
    indicators
        When given, receives one ``iocs`` frame per incident: what its title, description and
        markdown details name (confidence ``extracted``; Threat Center has no indicator field).

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema, one row per version or range the incident claims:
        ``advisory_id`` (``threat-center:<id>``), ``aliases`` (its ``cve``), ``ecosystem``
        (npm), ``package`` (``package_name``), ``spec_kind`` (exact | npm_range), ``spec``,
        ``role`` (affected), ``origin`` (``threat-center:<id>``), ``classification``
        (malware unless the incident says vulnerability), ``severity`` (as given, lower case),
        ``summary`` (active or closed, since when, the raw ``affected_versions``, title and
        description), ``url`` (the dashboard page), ``source`` (``threat-center``),
        ``evidence`` (the API URL) as string; ``published`` (``created_at``, else
        ``incident_start_time``), ``modified`` (``updated_at``) as datetime64[ns, UTC];
        ``withdrawn`` NA.
    """
    log = log if log is not None else EvidenceLog()
    own = client is None
    http = (
        client
        if client is not None
        else stepsecurity_client(base_url=base_url, key_env=key_env, source=SOURCE)
    )
    reads: list[_Read] = []
    try:
        if incident_ids is not None:
            asked = [incident_ids] if isinstance(incident_ids, str) else incident_ids
            for incident_id in dict.fromkeys(str(i) for i in asked):
                found = _detail(http, owner, incident_id, log)
                if found is not None:
                    reads.append(found)
        else:
            listed = _list(http, owner, log)
            if listed is not None:
                reads.append(listed)
                listed_only = []
                for incident, evidence in listed.incidents:
                    partial = (
                        isinstance(incident, dict)
                        and incident.get("id")
                        and not ("affected_versions" in incident and "details" in incident)
                    )
                    found = _detail(http, owner, str(incident["id"]), log) if partial else None
                    if found is not None:
                        reads.append(found)
                    else:
                        listed_only.append((incident, evidence))
                listed.incidents = listed_only
    finally:
        if own:
            http.close()
    rows: list[dict[str, Any]] = []
    for read in reads:
        for incident, evidence in read.incidents:
            rows.extend(_record(incident, evidence, SOURCE, owner, log, read.notes, indicators))
        notes = "; ".join(n for n in (read.input.pop("notes", ""), *read.notes) if n)
        log.input(source=SOURCE, format="threat-center-api", notes=notes, **read.input)
    return validate(new_frame("advisories", rows), "advisories")


# --- the S3 / webhook export -------------------------------------------------------------------


def _export_files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in FOLDER_SUFFIXES:
                yield child
    else:
        yield path


def _json_lines(text: str, path: Path, log: EvidenceLog) -> list[tuple[Any, str]]:
    records: list[tuple[Any, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        evidence = f"{path}:{number}"
        try:
            records.append((load_json(line, what=f"{path} line {number}"), evidence))
        except InputError as exc:
            log.problem(source=EXPORT_SOURCE, evidence=evidence, kind=exc.kind, message=exc.message)
    return records


def _export_records(data: bytes, path: Path, log: EvidenceLog) -> list[tuple[Any, str]]:
    """The records of one export file: one JSON document (object or list) or JSON lines."""
    text = decode_text(data, what=str(path), kind="not-json", empty_kind="empty")
    try:
        document = load_json(text, what=str(path))
    except InputError:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        json_lines = path.suffix.lower() in {".jsonl", ".ndjson"} or (
            len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines)
        )
        if not json_lines:
            raise
        return _json_lines(text, path, log)
    if isinstance(document, list):
        return [(record, f"{path}#{n}") for n, record in enumerate(document)]
    return [(document, str(path))]


def _is_incident(record: dict[str, Any]) -> bool | None:
    """True for a threat-intel record, False for another export type, None if unrecognised."""
    kind = record.get("type")
    if isinstance(kind, str) and kind.strip():
        return kind.strip().lower() == EXPORT_TYPE
    if record.get("id") and ("package_name" in record or "affected_versions" in record):
        return True
    return None


def load_threat_center_export(
    sources: PathLike | Iterable[PathLike],
    *,
    log: EvidenceLog | None = None,
    indicators: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Read Threat Center incidents exported to S3 or sent to a webhook (type ``Threat-Intelligence``).

    Parameters
    ----------
    sources
        Files, or folders searched recursively for ``.json``, ``.jsonl`` and ``.ndjson``
        files. A file holds one record, a JSON list of records, or JSON lines. Records of
        other export types (detections) are counted in the input's notes, not read.
    log
        Receives each file as an input, and as problems every file, line or record that could
        not be read and every affected-versions text that could not be read without guessing.
    indicators
        As for :func:`load_threat_center`.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema as :func:`load_threat_center` returns it, with source
        ``threat-center-export``, ``url`` the record's ``incident_url``, and ``evidence`` the
        file path (``path:N`` for line N of JSON lines, ``path#N`` for the N-th record of a
        list).
    """
    log = log if log is not None else EvidenceLog()
    rows: list[dict[str, Any]] = []
    for root in log.existing(as_paths(sources), source=EXPORT_SOURCE):
        for path in _export_files(root):
            data = log.read(path, source=EXPORT_SOURCE)
            if data is None:
                continue
            try:
                records = _export_records(data, path, log)
            except InputError as exc:
                log.refused(
                    exc,
                    source=EXPORT_SOURCE,
                    evidence=str(path),
                    path=path,
                    format="threat-center-export",
                    data=data,
                )
                continue
            mine: list[dict[str, Any]] = []
            notes: list[str] = []
            other: dict[str, int] = {}
            for record, evidence in records:
                verdict = _is_incident(record) if isinstance(record, dict) else None
                if verdict is False:
                    kind = str(record.get("type"))
                    other[kind] = other.get(kind, 0) + 1
                    continue
                if verdict is None:
                    keys = sorted(record)[:8] if isinstance(record, dict) else type(record).__name__
                    log.problem(
                        source=EXPORT_SOURCE,
                        evidence=evidence,
                        kind="unsupported",
                        message=f"{evidence} is not a Threat-Intelligence record (no 'type', "
                        f"and not an incident's fields; it holds {keys}); not read",
                    )
                    continue
                mine.extend(_record(record, evidence, EXPORT_SOURCE, "", log, notes, indicators))
            rows.extend(mine)
            if other:
                notes.append(
                    "records of other types not read: "
                    + ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
                )
            log.input(
                source=EXPORT_SOURCE,
                evidence=str(path),
                status="parsed" if mine else "empty",
                file=path.name,
                format="threat-center-export",
                packages=len({r["package"] for r in mine}),
                sha256=sha256(data),
                notes="; ".join(notes),
            )
    return validate(new_frame("advisories", rows), "advisories")
