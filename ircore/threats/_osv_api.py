"""The OSV.dev API: which advisories affect a set of (package, version) pairs, and their records.

``POST /v1/querybatch`` answers, per query, only the ``id`` and ``modified`` time of each
advisory (and a ``next_page_token`` where a query has more). Every distinct id is then read
once with ``GET /v1/vulns/{id}`` and turned into rows by the same reader as OSV files, so a
record reads the same whether it came from a clone, a zip or the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd

from ircore._errors import InputError, SourceError
from ircore._frames import new_frame, validate
from ircore._log import EvidenceLog
from ircore._paths import sha256
from ircore.http import Client
from ircore.threats._osv import osv_advisory_rows

__all__ = ["load_osv_api", "osv_client"]

SOURCE = "osv-api"
BASE_URL = "https://api.osv.dev"
QUERYBATCH = "/v1/querybatch"
# OSV refuses a querybatch of more than 1000 queries.
MAX_QUERIES = 1000
# Paging rounds before a querybatch that keeps handing out tokens is given up on.
MAX_ROUNDS = 1000
OSV_PAGE = "https://osv.dev/vulnerability/{id}"

_Query = tuple[str, str]  # (package, version); "" asks for every version


def osv_client(*, base_url: str = BASE_URL, **options: Any) -> Client:
    """A :class:`~ircore.http.Client` for the OSV API (``options`` go to it); OSV needs no key."""
    headers = {"Accept": "application/json", **options.pop("headers", {})}
    return Client(base_url=base_url, source=SOURCE, headers=headers, **options)


def _queries(packages: Iterable[tuple[str, str]] | Mapping[str, Sequence[str]]) -> list[_Query]:
    pairs: Iterable[tuple[str, Any]]
    if isinstance(packages, Mapping):
        pairs = [
            (name, version)
            for name, versions in packages.items()
            for version in (list(versions) or [""])
        ]
    else:
        pairs = packages
    seen: dict[_Query, None] = {}
    for name, version in pairs:
        seen[(str(name), "" if version is None else str(version))] = None
    return list(seen)


def _query_body(query: _Query, token: str | None) -> dict[str, Any]:
    name, version = query
    body: dict[str, Any] = {"package": {"name": name, "ecosystem": "npm"}}
    if version:
        body["version"] = version
    if token is not None:
        body["page_token"] = token
    return body


def _named(queries: Sequence[_Query], limit: int = 5) -> str:
    shown = ", ".join(f"{n}@{v}" if v else n for n, v in queries[:limit])
    more = len(queries) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _same_time(a: Any, b: Any) -> bool:
    """Whether two OSV time stamps name one instant (the API writes fractions, files may not)."""
    if a == b:
        return True
    try:
        return bool(pd.Timestamp(a) == pd.Timestamp(b))
    except (TypeError, ValueError):
        return False


class _Batch:
    """The querybatch phase: every query, paged, into {id: modified}."""

    def __init__(self, http: Client, log: EvidenceLog) -> None:
        self.http = http
        self.log = log
        self.url = http.redact(http.url(QUERYBATCH))
        self.found: dict[str, str] = {}

    def run(self, queries: list[_Query]) -> None:
        for chunk in _chunks(queries, MAX_QUERIES):
            pending: list[tuple[_Query, str | None]] = [(q, None) for q in chunk]
            seen_tokens: set[tuple[_Query, str]] = set()
            for round_ in range(MAX_ROUNDS):
                pending = self._round(pending, seen_tokens, round_)
                if not pending:
                    break
            else:
                self.log.problem(
                    source=SOURCE,
                    evidence=self.url,
                    kind="pagination",
                    message=f"OSV querybatch still had more pages after {MAX_ROUNDS} rounds for "
                    f"{_named([q for q, _ in pending])}; the later pages were not read",
                )

    def _round(
        self,
        pending: list[tuple[_Query, str | None]],
        seen_tokens: set[tuple[_Query, str]],
        round_: int,
    ) -> list[tuple[_Query, str | None]]:
        """Send one querybatch; return the queries that have a further page, with its token."""
        queries = [q for q, _ in pending]
        what = "a further page of " if round_ else ""
        try:
            data = self.http.post_json(
                QUERYBATCH, {"queries": [_query_body(q, t) for q, t in pending]}
            )
        except SourceError as exc:
            self.log.failed(
                source=SOURCE,
                evidence=exc.url,
                kind=exc.kind,
                message=f"OSV querybatch for {what}{len(queries)} package versions "
                f"({_named(queries)}) failed: {exc.message}; which advisories affect them is "
                "unknown",
                format="osv-querybatch",
            )
            return []
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != len(pending):
            got = len(results) if isinstance(results, list) else "no"
            self.log.failed(
                source=SOURCE,
                evidence=self.url,
                kind="invalid",
                message=f"OSV querybatch for {what}{len(queries)} package versions "
                f"({_named(queries)}) answered {got} results, not one per query; which "
                "advisories affect them is unknown",
                format="osv-querybatch",
            )
            return []
        following: list[tuple[_Query, str | None]] = []
        unreadable: list[_Query] = []
        vulns_seen = 0
        for query, result in zip(queries, results, strict=True):
            result = result if result is not None else {}
            vulns = result.get("vulns") if isinstance(result, dict) else None
            if not isinstance(result, dict) or not isinstance(vulns or [], list):
                unreadable.append(query)
                continue
            for vuln in vulns or []:
                if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str):
                    unreadable.append(query)
                    continue
                vulns_seen += 1
                self.found.setdefault(vuln["id"], str(vuln.get("modified") or ""))
            token = result.get("next_page_token")
            if token:
                if (query, str(token)) in seen_tokens:
                    self.log.problem(
                        source=SOURCE,
                        evidence=self.url,
                        kind="pagination",
                        message=f"OSV querybatch handed out the same page token twice for "
                        f"{_named([query])}; its later pages were not read",
                    )
                    continue
                seen_tokens.add((query, str(token)))
                following.append((query, str(token)))
        if unreadable:
            self.log.problem(
                source=SOURCE,
                evidence=self.url,
                kind="invalid",
                message=f"OSV querybatch answered results that are not lists of "
                f"{{id, modified}} for {_named(unreadable)}; the advisories affecting them "
                "may be incomplete",
            )
        self.log.input(
            source=SOURCE,
            evidence=self.url,
            status="parsed" if vulns_seen else "empty",
            format="osv-querybatch",
            packages=len({name for name, _ in queries}),
            notes=f"{'page ' + str(round_ + 1) + ' of ' if round_ else ''}{len(queries)} "
            f"queries; {vulns_seen} advisory ids"
            + (f"; {len(following)} queries have a further page" if following else ""),
        )
        return following


def _cached(http: Client, path: str) -> tuple[httpx.Response, Any] | None:
    """The cached answer of ``GET path`` without asking the server; None when not cached.

    :class:`Client` has no call for "read my cache only", but an offline fetch is exactly
    that, so the client is switched offline for this one lookup.
    """
    if getattr(http, "_cache", None) is None or http.offline:
        return None
    http.offline = True
    try:
        return http.fetch("GET", path)
    except SourceError:
        return None
    finally:
        http.offline = False


def load_osv_api(
    packages: Iterable[tuple[str, str]] | Mapping[str, Sequence[str]],
    *,
    base_url: str = BASE_URL,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Ask OSV.dev which advisories affect npm ``packages``, and read each advisory once.

    ``POST {base_url}/v1/querybatch`` (at most 1000 queries per request, each query paged with
    its own ``next_page_token``) gives the advisory ids and their ``modified`` times; each
    distinct id is then read with ``GET {base_url}/v1/vulns/{id}``. When the client has a
    ``cache_dir``, a cached record whose ``modified`` equals the one querybatch reports is
    used without a request, so a re-run reads only the advisories that changed.

    Parameters
    ----------
    packages
        ``(name, version)`` pairs, or a mapping of name to versions. An empty version (or an
        empty list of versions) asks for every advisory of the package.
    base_url
        The API root, used when no ``client`` is given.
    log
        Receives each querybatch request and each record read as an input, and every request
        or record that failed as a problem (the packages it concerned are named).
    client
        A configured :class:`ircore.http.Client` (see :func:`osv_client`) instead of one built
        from ``base_url``; it is not closed here. An offline client cannot run the querybatch
        (a POST is never cached), which is reported as a problem.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema, one row per claim of each record as
        :func:`ircore.load_advisories` reads OSV files: ``advisory_id``, ``aliases``,
        ``ecosystem``, ``package``, ``spec_kind`` (exact | osv_events), ``spec``, ``role``
        (affected | origin), ``origin``, ``classification`` (malware | vulnerability),
        ``severity``, ``summary``, ``url`` (``https://osv.dev/vulnerability/{id}``), ``source``
        (``osv-api``), ``evidence`` (the record's API URL) as string; ``published``,
        ``modified`` (datetime64[ns, UTC]); ``withdrawn`` is NA (withdrawn records give no
        rows; their input says so).
    """
    log = log if log is not None else EvidenceLog()
    queries = _queries(packages)
    own = client is None
    http = client if client is not None else osv_client(base_url=base_url)
    rows: list[dict[str, Any]] = []
    try:
        if not queries:
            return validate(new_frame("advisories"), "advisories")
        if http.offline:
            log.problem(
                source=SOURCE,
                evidence=http.redact(http.url(QUERYBATCH)),
                kind="offline",
                message=f"the OSV querybatch for {len(queries)} package versions "
                f"({_named(queries)}) is a POST, which the response cache does not keep, so an "
                "offline run cannot ask which advisories affect them",
            )
            return validate(new_frame("advisories"), "advisories")
        batch = _Batch(http, log)
        batch.run(queries)
        for vuln_id, modified in sorted(batch.found.items()):
            rows.extend(_read_vuln(http, vuln_id, modified, log))
    finally:
        if own:
            http.close()
    return validate(new_frame("advisories", rows), "advisories")


def _read_vuln(http: Client, vuln_id: str, modified: str, log: EvidenceLog) -> list[dict[str, Any]]:
    path = f"/v1/vulns/{quote(vuln_id, safe='')}"
    url = http.redact(http.url(path))
    notes = ""
    hit = _cached(http, path)
    if (
        hit is not None
        and isinstance(hit[1], dict)
        and modified
        and _same_time(hit[1].get("modified"), modified)
    ):
        response, record = hit
        notes = "from the response cache (unchanged since it was stored)"
    else:
        try:
            response, record = http.fetch("GET", path)
        except SourceError as exc:
            log.failed(
                source=SOURCE,
                evidence=exc.url,
                kind=exc.kind,
                message=f"OSV advisory {vuln_id} could not be read: {exc.message}; the packages "
                "and versions it claims are unknown",
                format="OSV record",
            )
            return []
    digest = sha256(response.content)
    try:
        found = osv_advisory_rows(record, evidence=url, source=SOURCE)
    except InputError as exc:
        log.failed(
            source=SOURCE,
            evidence=url,
            kind=exc.kind,
            message=exc.message,
            format="OSV record",
            sha256=digest,
        )
        return []
    if isinstance(record, dict) and record.get("withdrawn"):
        notes = "; ".join(n for n in (notes, f"withdrawn {record['withdrawn']}") if n)
    page = OSV_PAGE.format(id=quote(vuln_id, safe=""))
    for row in found:
        row["url"] = page
    log.input(
        source=SOURCE,
        evidence=url,
        status="parsed" if found else "empty",
        format="OSV record",
        packages=len({r["package"] for r in found}),
        sha256=digest,
        notes=notes,
    )
    return found
