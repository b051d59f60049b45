"""GitHub's global security advisories (REST), malware ones included, into ``advisories`` rows.

GitHub leaves malware out of ``GET /advisories`` unless ``type=malware`` is asked for, so each
type is asked for on its own. Ranges arrive in GitHub's spelling (``>= 1.0.0, < 1.2.3``) and are
rewritten to npm's by :func:`ircore.semver.normalize_advisory_range`; a range that cannot be
read is a problem naming it, never a guess. The same normaliser reads advisories saved from the
API as JSON files, so an export and a live answer give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from ircore._errors import InputError, InvalidRange, InvalidVersion, SourceError
from ircore._frames import new_frame, validate
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, sha256
from ircore.http import Client
from ircore.inventory._github import GITHUB_HEADERS
from ircore.semver import normalize_advisory_range, parse_version
from ircore.threats._osv import MALWARE_CWE, decode_json

__all__ = [
    "ghsa_advisory_rows",
    "ghsa_client",
    "load_github_advisories",
    "load_github_advisories_files",
]

SOURCE = "ghsa"
FILE_SOURCE = "ghsa-file"
BASE_URL = "https://api.github.com"
TOKEN_ENV = "GITHUB_TOKEN"
PAGE_SIZE = 100
ADVISORY_PAGE = "https://github.com/advisories/{id}"
FOLDER_SUFFIXES = {".json"}


def ghsa_client(*, base_url: str = BASE_URL, token_env: str = TOKEN_ENV, **options: Any) -> Client:
    """A :class:`~ircore.http.Client` for GitHub's advisory API (``options`` go to it).

    Public advisories need no token; one (from ``token_env``) raises the rate limit.
    """
    headers = {**GITHUB_HEADERS, **options.pop("headers", {})}
    return Client(base_url=base_url, source=SOURCE, token_env=token_env, headers=headers, **options)


@dataclass
class GhsaRead:
    """The rows of one advisory, and what in it could not be read (kind, message)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    issues: list[tuple[str, str]] = field(default_factory=list)


def _claim(range_text: str) -> tuple[str, str]:
    """GitHub's ``vulnerable_version_range`` as (spec_kind, spec); ``= 1.2.3`` is exact."""
    normalised = normalize_advisory_range(range_text)
    single = normalised[1:] if normalised.startswith("=") else normalised
    if " " not in single and "|" not in single:
        try:
            return "exact", str(parse_version(single))
        except InvalidVersion:
            pass
    return "npm_range", normalised


def _identifiers(advisory: dict[str, Any], own: str) -> list[str]:
    ids: list[str] = []
    for identifier in advisory.get("identifiers") or []:
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            ids.append(identifier["value"].strip())
    if isinstance(advisory.get("cve_id"), str):
        ids.append(advisory["cve_id"].strip())
    return sorted({i for i in ids if i and i != own})


def _is_malware(advisory: dict[str, Any]) -> bool:
    if advisory.get("type") == "malware":
        return True
    cwes = advisory.get("cwes") or []
    return any(isinstance(c, dict) and c.get("cwe_id") == MALWARE_CWE for c in cwes)


def ghsa_advisory_rows(advisory: Any, *, evidence: str, source: str = SOURCE) -> GhsaRead:
    """Rows of the ``advisories`` frame for one GitHub REST advisory (npm packages only).

    Each ``vulnerabilities[]`` entry for an npm package gives one claim. A withdrawn advisory's
    claims are kept with role ``origin`` (shown, never matched) and ``withdrawn`` set.

    Raises
    ------
    InputError
        When ``advisory`` is not a GitHub advisory object (no ``ghsa_id``), or its
        ``vulnerabilities`` is not a list.
    """
    if not isinstance(advisory, dict) or not isinstance(advisory.get("ghsa_id"), str):
        if isinstance(advisory, dict) and "affected" in advisory and "id" in advisory:
            raise InputError(
                "unsupported",
                f"{evidence} is an OSV record ({advisory['id']}), not a GitHub REST advisory; "
                "read it with load_advisories",
            )
        raise InputError("invalid", f"{evidence} is not a GitHub advisory (no 'ghsa_id')")
    ghsa_id = advisory["ghsa_id"].strip()
    vulnerabilities = advisory.get("vulnerabilities") or []
    if not isinstance(vulnerabilities, list):
        raise InputError("invalid", f"{evidence}: {ghsa_id} 'vulnerabilities' is not a list")
    malware = _is_malware(advisory)
    # GitHub's malware advisories carry no severity of their own; reviewed ones keep theirs.
    severity = "" if advisory.get("type") == "malware" else str(advisory.get("severity") or "")
    withdrawn = advisory.get("withdrawn_at") or None
    summary = str(advisory.get("summary") or advisory.get("description") or "")
    if withdrawn:
        summary = f"[withdrawn {withdrawn}] {summary}"
    common = {
        "advisory_id": ghsa_id,
        "aliases": ",".join(_identifiers(advisory, ghsa_id)),
        "ecosystem": "npm",
        "role": "origin" if withdrawn else "affected",
        "origin": f"ghsa:{ghsa_id}" + (" (withdrawn)" if withdrawn else ""),
        "classification": "malware" if malware else "vulnerability",
        "severity": severity.lower(),
        "summary": summary[:500],
        "published": advisory.get("published_at"),
        "modified": advisory.get("updated_at"),
        "withdrawn": withdrawn,
        "url": str(advisory.get("html_url") or ADVISORY_PAGE.format(id=ghsa_id)),
        "source": source,
        "evidence": evidence,
    }
    read = GhsaRead()
    for vulnerability in vulnerabilities:
        package = vulnerability.get("package") if isinstance(vulnerability, dict) else None
        if not isinstance(package, dict) or not package.get("name"):
            read.issues.append(
                ("invalid", f"{evidence}: {ghsa_id} has a vulnerability that names no package")
            )
            continue
        if str(package.get("ecosystem", "")).lower() != "npm":
            continue
        name = str(package["name"])
        range_text = vulnerability.get("vulnerable_version_range")
        try:
            if not isinstance(range_text, str) or not range_text.strip():
                raise InvalidRange("no vulnerable_version_range")
            kind, spec = _claim(range_text)
        except InvalidRange as exc:
            read.issues.append(
                (
                    "invalid",
                    f"{ghsa_id} ({name}): vulnerable_version_range {range_text!r} cannot be read "
                    f"as a version range ({exc}); no claim was made for {name} from it",
                )
            )
            continue
        read.rows.append({**common, "package": name, "spec_kind": kind, "spec": spec})
    return read


@dataclass
class _Collected:
    """Advisories by GHSA id (the first place each was read), for reading once."""

    advisories: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    def add(self, advisory: Any, evidence: str) -> bool:
        if isinstance(advisory, dict) and isinstance(advisory.get("ghsa_id"), str):
            self.advisories.setdefault(advisory["ghsa_id"].strip(), (advisory, evidence))
            return True
        return False


def _listing(
    http: Client, params: dict[str, Any], collected: _Collected, log: EvidenceLog, what: str
) -> None:
    pages = 0
    count = 0
    first = ""
    malformed = 0
    try:
        for page in http.paginate_link("/advisories", params=params):
            pages += 1
            first = first or page.url
            if not isinstance(page.data, list):
                log.failed(
                    source=SOURCE,
                    evidence=page.url,
                    kind="invalid",
                    message=f"GitHub advisories for {what} answered something other than a "
                    "list of advisories; they could not be read",
                    format="ghsa-rest",
                )
                return
            for advisory in page.data:
                if collected.add(advisory, page.url):
                    count += 1
                else:
                    malformed += 1
    except SourceError as exc:
        later = f" (after {pages} pages were read)" if pages else ""
        log.failed(
            source=SOURCE,
            evidence=exc.url,
            kind=exc.kind,
            message=f"GitHub advisories for {what} could not be read{later}: {exc.message}",
            format="ghsa-rest",
        )
        return
    if malformed:
        log.problem(
            source=SOURCE,
            evidence=first,
            kind="invalid",
            message=f"GitHub advisories for {what}: {malformed} entries are not advisories "
            "(no ghsa_id); they were not read",
        )
    log.input(
        source=SOURCE,
        evidence=first,
        status="parsed" if count else "empty",
        format="ghsa-rest",
        notes=f"{what}: {count} advisories on {pages} pages",
    )


def _single(http: Client, ghsa_id: str, collected: _Collected, log: EvidenceLog) -> None:
    path = f"/advisories/{quote(ghsa_id, safe='')}"
    try:
        response, data = http.fetch("GET", path)
    except SourceError as exc:
        log.failed(
            source=SOURCE,
            evidence=exc.url,
            kind=exc.kind,
            message=f"GitHub advisory {ghsa_id} could not be read: {exc.message}",
            format="ghsa-rest",
        )
        return
    url = http.redact(response.request.url)
    if not collected.add(data, url):
        log.failed(
            source=SOURCE,
            evidence=url,
            kind="invalid",
            message=f"GitHub advisory {ghsa_id} answered something that is not an advisory "
            "(no ghsa_id)",
            format="ghsa-rest",
            sha256=sha256(response.content),
        )
        return
    log.input(
        source=SOURCE,
        evidence=url,
        status="parsed",
        format="ghsa-rest",
        sha256=sha256(response.content),
    )


def _rows(
    advisories: Iterable[tuple[Any, str]], source: str, log: EvidenceLog
) -> tuple[list[dict[str, Any]], int]:
    """The rows of ``advisories``, and how many of them could not be read at all."""
    rows: list[dict[str, Any]] = []
    unreadable = 0
    for advisory, evidence in advisories:
        try:
            read = ghsa_advisory_rows(advisory, evidence=evidence, source=source)
        except InputError as exc:
            log.problem(source=source, evidence=evidence, kind=exc.kind, message=exc.message)
            unreadable += 1
            continue
        for kind, message in read.issues:
            log.problem(source=source, evidence=evidence, kind=kind, message=message)
        rows.extend(read.rows)
    return rows, unreadable


def load_github_advisories(
    *,
    packages: Iterable[str] | None = None,
    ghsa_ids: Iterable[str] = (),
    types: Iterable[str] = ("malware", "reviewed"),
    base_url: str = BASE_URL,
    token_env: str = TOKEN_ENV,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Read GitHub's global security advisories for npm packages, malware included.

    ``GET {base_url}/advisories?type=T&ecosystem=npm&affects=NAME&per_page=100`` for each
    package and type, following ``Link`` headers, and ``GET {base_url}/advisories/{ghsa_id}``
    for each id asked for. An advisory met more than once is read once.

    Parameters
    ----------
    packages
        npm package names; each is asked for with ``affects``. None lists every npm advisory
        of ``types`` (thousands of malware advisories) unless ``ghsa_ids`` are given, in which
        case only those are read.
    ghsa_ids
        Advisories to read by id, whatever their type.
    types
        Advisory types to list: ``malware``, ``reviewed``, ``unreviewed``. GitHub lists malware
        only when asked for it by type.
    base_url, token_env
        The API root, and the environment variable holding a token (optional for public
        advisories; it raises the rate limit). Used when no ``client`` is given.
    log
        Receives each listing and advisory read as an input, and as problems every request
        that failed and every range that could not be read.
    client
        A configured :class:`ircore.http.Client` (see :func:`ghsa_client`); not closed here.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema, one row per npm ``vulnerabilities[]`` entry:
        ``advisory_id`` (GHSA id), ``aliases`` (the other ``identifiers``: CVE, MAL),
        ``ecosystem``, ``package``, ``spec_kind`` (``exact`` for ``= X``, else ``npm_range``),
        ``spec`` (the range in npm syntax), ``role`` (``affected``; ``origin`` when withdrawn),
        ``origin`` (``ghsa:<id>``), ``classification`` (``malware`` for type malware or
        CWE-506, else ``vulnerability``), ``severity`` (GitHub's, lower case; empty for
        type malware), ``summary``, ``url`` (``html_url``), ``source`` (``ghsa``),
        ``evidence`` (the API URL read) as string; ``published`` (``published_at``),
        ``modified`` (``updated_at``), ``withdrawn`` (``withdrawn_at``) as
        datetime64[ns, UTC].
    """
    log = log if log is not None else EvidenceLog()
    # One name given as a string means that name, not its letters.
    if isinstance(packages, str):
        packages = [packages]
    ids = [i.strip() for i in ([ghsa_ids] if isinstance(ghsa_ids, str) else ghsa_ids) if i.strip()]
    kinds = [types] if isinstance(types, str) else list(types)
    own = client is None
    http = client if client is not None else ghsa_client(base_url=base_url, token_env=token_env)
    collected = _Collected()
    try:
        names: list[str | None]
        if packages is None:
            names = [] if ids else [None]
        else:
            names = list(dict.fromkeys(str(p) for p in packages))
        for name in names:
            for kind in kinds:
                params: dict[str, Any] = {"type": kind, "ecosystem": "npm", "per_page": PAGE_SIZE}
                if name is not None:
                    params["affects"] = name
                what = f"{name} (type {kind})" if name is not None else f"npm (type {kind})"
                _listing(http, params, collected, log, what)
        for ghsa_id in dict.fromkeys(ids):
            _single(http, ghsa_id, collected, log)
    finally:
        if own:
            http.close()
    rows, _ = _rows(collected.advisories.values(), SOURCE, log)
    return validate(new_frame("advisories", rows), "advisories")


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in FOLDER_SUFFIXES:
                yield child
    else:
        yield path


def load_github_advisories_files(
    sources: PathLike | Iterable[PathLike], *, log: EvidenceLog | None = None
) -> pd.DataFrame:
    """Read GitHub advisories saved from the REST API as JSON files.

    Parameters
    ----------
    sources
        Files, or folders searched recursively for ``.json`` files. A file holds one
        advisory (as ``GET /advisories/{ghsa_id}`` answers) or a list of them (as a listing
        page answers).
    log
        Receives each file as an input, and every file or advisory that could not be read
        as a problem.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema as :func:`load_github_advisories` returns it, with source
        ``ghsa-file`` and the file path as evidence (``path#N`` for the N-th advisory of a
        list).
    """
    log = log if log is not None else EvidenceLog()
    rows: list[dict[str, Any]] = []
    for root in log.existing(as_paths(sources), source=FILE_SOURCE):
        for path in _files(root):
            data = log.read(path, source=FILE_SOURCE)
            if data is None:
                continue
            try:
                decoded = decode_json(data, what=str(path))
            except InputError as exc:
                log.refused(
                    exc,
                    source=FILE_SOURCE,
                    evidence=str(path),
                    path=path,
                    format="ghsa-json",
                    data=data,
                )
                continue
            if isinstance(decoded, list):
                found = [(a, f"{path}#{n}") for n, a in enumerate(decoded)]
            else:
                found = [(decoded, str(path))]
            mine, unreadable = _rows(found, FILE_SOURCE, log)
            rows.extend(mine)
            failed = unreadable > 0 and not mine
            log.input(
                source=FILE_SOURCE,
                evidence=str(path),
                status="failed" if failed else ("parsed" if mine else "empty"),
                file=path.name,
                format="ghsa-json",
                packages=len({r["package"] for r in mine}),
                sha256=sha256(data),
            )
    return validate(new_frame("advisories", rows), "advisories")
