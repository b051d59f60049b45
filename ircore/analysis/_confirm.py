"""Confirm (step 1): who claims which versions, since when, and what to look for.

Pure functions over the ``advisories``, ``versions`` and ``iocs`` frames (after
:func:`ircore.threats.merge_aliases`, which ``investigate`` applies). Nothing here knows how a
source is read; a *source* is the ``source`` column (``osv-dir``, ``ghsa``, ``list``, ...), and a
claim is a row with role ``affected``. Rows with role ``origin`` (what a feed said before an
OSV record merged it, or a withdrawn GitHub advisory) are shown, never counted as claims.

Sources disagree: OSV's MAL-2025-47141 claims every version of ``@ctrl/tinycolor`` through one
origin and 4.1.1-4.1.2 through another. A version is *compromised* here when every source that
speaks of its package claims it, and *disputed* when only some do; both are shown, with who
says what, so the analyst decides rather than the kit.

Every (package, version) is evaluated once against each distinct claim, as in
:func:`ircore.analysis.match_exposure`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ircore._errors import InvalidRange, InvalidVersion
from ircore._frames import BOOL, INT, STRING, TIME, conform
from ircore._investigation import Incident
from ircore._log import EvidenceLog
from ircore.analysis._blast_radius import ADVISORY_SOURCES, _text, plural, unread_inputs
from ircore.analysis._exposure import _matching_pairs
from ircore.registry import publish_window
from ircore.semver import advisory_matches, parse_version
from ircore.threats._aliases import canonical_order, merge_aliases

#: Column order of the agreement matrix: OSV (folder, zip, API), GitHub, Threat Center, lists,
#: the analyst's own incident spec. Sources not named here come after, alphabetically.
SOURCE_ORDER: tuple[str, ...] = (
    "osv-dir",
    "osv-zip",
    "osv-api",
    "ghsa",
    "ghsa-file",
    "threat-center",
    "threat-center-export",
    "list",
    "incident",
)

#: ``source`` values of the inputs the confirm step reads: threat intelligence and the registry.
THREAT_SOURCES: frozenset[str] = ADVISORY_SOURCES | {
    "osv-api",
    "ghsa",
    "ghsa-file",
    "threat-center",
    "threat-center-export",
    "registry",
    "registry-cache",
}

# Problems that concern the confirm step: unread threat or registry inputs, and claims the
# matcher could not evaluate.
_THREAT_PROBLEM_SOURCES = THREAT_SOURCES | {"matcher"}

#: What a source says of one version: it claims it; it speaks of the package but not of this
#: version (or withdrew its claim); it says nothing about the package at all.
CLAIMED, NOT_CLAIMED, NOT_COVERED = "claimed", "not claimed", "not covered"
STATES: tuple[str, ...] = (CLAIMED, NOT_CLAIMED, NOT_COVERED)

#: A version's standing: every source that speaks of the package claims it, only some do, none.
COMPROMISED, DISPUTED, UNCLAIMED = "compromised", "disputed", "not claimed"
STATUSES: tuple[str, ...] = (COMPROMISED, DISPUTED, UNCLAIMED)

#: Confidence of an indicator, strongest first.
CONFIDENCE_ORDER: tuple[str, ...] = ("analyst", "structured", "extracted")

#: Indicator types in reading order: what can be blocked on the network first.
IOC_TYPE_ORDER: tuple[str, ...] = (
    "url",
    "domain",
    "ip",
    "email",
    "sha256",
    "sha1",
    "md5",
    "integrity",
    "tlsh",
    "hash",
    "file_name",
    "process",
    "repository",
    "wallet",
    "package_version",
    "other",
    "reference",
)

SOURCE_CLAIMS: dict[str, str] = {
    "advisory_id": STRING,
    "source": STRING,
    "origin": STRING,
    "role": STRING,  # affected | origin
    "withdrawn": TIME,
    "package": STRING,
    "claim": STRING,  # the spec as a person reads it: "5.6.1", "all versions", "4.1.1 – 4.1.2"
    "spec_kind": STRING,
    "spec": STRING,
    "published": TIME,
    "modified": TIME,
    "url": STRING,
    "summary": STRING,
    "evidence": STRING,
}

ADVISORY_CARDS: dict[str, str] = {
    "advisory_id": STRING,
    "aliases": STRING,
    "classification": STRING,
    "label": STRING,  # "malware" | "vulnerability, high" | "vulnerability, severity not stated"
    "severity": STRING,
    "packages": STRING,  # the packages in scope it names, comma-separated
    "other_packages": INT,  # packages it names outside the scope (a list of 800 packages)
    "sources": STRING,  # comma-separated, in SOURCE_ORDER
    "summary": STRING,
    "published": TIME,  # the earliest any source gives
    "modified": TIME,  # the latest any source gives
    "age_days": INT,  # whole days from ``modified`` to ``now``
    "withdrawn": TIME,  # the latest withdrawal any source states
    "standing": BOOL,  # some source still claims it (role affected)
    "claims": INT,  # distinct (source, origin, package, spec) claims, feeds' included
    "claims_differ": BOOL,  # the sources or origins claim different versions of a package
    "url": STRING,
    "url_derived": BOOL,  # no source gave a link; this one is osv.dev's page for the id
}

CLAIM_STATES: dict[str, str] = {
    "package": STRING,
    "version": STRING,
    "source": STRING,
    "state": STRING,  # claimed | not claimed | not covered
    "advisory_ids": STRING,  # the source's advisories claiming it, comma-separated
}

VERSION_TIMELINE: dict[str, str] = {
    "name": STRING,
    "version": STRING,
    "published": TIME,
    "in_registry": BOOL,  # NA: the registry was not asked about this version
    "dist_tags": STRING,
    "install_scripts": STRING,
    "status": STRING,  # compromised | disputed | not claimed
    "claimed_by": STRING,  # sources, comma-separated
    "not_claimed_by": STRING,  # sources that speak of the package but not of this version
    "advisory_ids": STRING,
}

RELEASE_WINDOWS: dict[str, str] = {
    "name": STRING,
    "compromised": STRING,
    "disputed": INT,
    "start": TIME,
    "last_bad_published": TIME,
    "last_good_before": STRING,
    "last_good_before_published": TIME,
    "first_clean_after": STRING,
    "first_clean_after_published": TIME,
    "not_in_registry": STRING,
    "unknown_time": STRING,
}

INDICATORS: dict[str, str] = {
    "ioc_type": STRING,
    "value": STRING,  # as the iocs frame holds it: re-fanged, ready to search logs with
    "port": INT,
    "confidence": STRING,  # every confidence it was given, strongest first
    "advisory_ids": STRING,  # canonical ids (after alias merging), comma-separated
    "context": STRING,  # where it was first found
    "sources": STRING,
}

AGREEMENT_SEP = ", "
# A matrix row names up to this many versions; more are counted.
_NAMED_IN_ROW = 3
_OSV_PAGE = "https://osv.dev/vulnerability/{id}"
_OSV_ID = re.compile(r"^(MAL|GHSA|CVE|PYSEC|OSV|RUSTSEC|GO)-[\w.-]+$")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_INCLUSIVE = re.compile(r"^>=\s*(\S+)\s+<=\s*(\S+)$")
_HALF_OPEN = re.compile(r"^>=\s*(\S+)\s+<\s*(\S+)$")
_EVERY = {"*", "", "x", ">=0", ">=0.0.0", ">= 0", ">= 0.0.0"}


def _source_key(source: str) -> tuple[int, str]:
    return (SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER), source)


def order_sources(sources: Iterable[str]) -> list[str]:
    """Return the distinct ``sources`` in :data:`SOURCE_ORDER`, unknown ones after by name."""
    return sorted({s for s in sources if s}, key=_source_key)


def _version_key(version: str) -> tuple[Any, ...]:
    try:
        return (0, parse_version(version), version)
    except InvalidVersion:
        return (1, (), version)


def _join(values: Iterable[object], *, key: Any = None) -> str:
    distinct = {str(v) for v in values if v is not None and v is not pd.NA and str(v)}
    return AGREEMENT_SEP.join(sorted(distinct, key=key))


def _advisory_key(advisory_id: str) -> tuple[Any, ...]:
    return canonical_order(advisory_id)


# --- scope -------------------------------------------------------------------------------------


def _ids(advisories: pd.DataFrame) -> pd.Series:
    """Every id each row answers to: its own and its aliases, as a set."""
    own = _text(advisories["advisory_id"])
    aliases = _text(advisories["aliases"])
    return pd.Series(
        [
            {o, *[a.strip() for a in al.split(",") if a.strip()]}
            for o, al in zip(own, aliases, strict=True)
        ],
        index=advisories.index,
        dtype=object,
    )


def confirm_scope(
    advisories: pd.DataFrame,
    incident: Incident | None = None,
    *,
    exposure: pd.DataFrame | None = None,
) -> list[str]:
    """Return the packages this confirmation is about.

    An advisory folder can be a clone of a whole malware database; the confirm step looks at the
    incident's packages, those of the advisories it names (by id or alias), and those found in
    the inventory (``exposure``). When none of these names a package (an incident given only as
    a list file), every package an advisory claims is in scope.

    Parameters
    ----------
    advisories : pandas.DataFrame
        ``advisories`` frame, aliases merged.
    incident : Incident, optional
        The incident spec: its ``packages`` and ``advisories``.
    exposure : pandas.DataFrame, optional
        ``exposure`` frame: packages found installed are in scope whatever claims them.

    Returns
    -------
    list of str
        Package names, sorted.
    """
    named: set[str] = set()
    if incident is not None:
        named |= set(incident.packages)
        wanted = {a.strip() for a in incident.advisories if a.strip()}
        if wanted and not advisories.empty:
            hit = _ids(advisories).map(lambda ids: bool(ids & wanted))
            named |= set(_text(advisories.loc[hit.astype(bool), "package"])) - {""}
    if exposure is not None and not exposure.empty:
        named |= set(_text(exposure["name"])) - {""}
    if not named and not advisories.empty:
        claims = _text(advisories["role"]) == "affected"
        named = set(_text(advisories.loc[claims, "package"])) - {""}
    return sorted(named)


def _in_scope(advisories: pd.DataFrame, packages: Sequence[str] | None) -> pd.DataFrame:
    frame = (
        advisories if packages is None else advisories[_text(advisories["package"]).isin(packages)]
    )
    return frame.reset_index(drop=True)


# --- claims as a person reads them -------------------------------------------------------------


def describe_claim(spec_kind: str, spec: str) -> str:
    """Return a claim as a person reads it.

    ``exact`` claims are the version; OSV events become ``all versions``, ``4.1.1 – 4.1.2``
    (``introduced``/``last_affected``), ``≥ 3.7.2, < 4.0.0`` (``introduced``/``fixed``),
    ``< 2.0.0`` or ``≥ 1.0.0``, several ranges joined with ``; ``; npm ranges ``>=A <=B`` and
    ``>=A <B`` read the same way, and ``*``/``>=0`` is ``all versions``. Anything unreadable is returned as
    written.
    """
    text = "" if spec is None or spec is pd.NA else str(spec).strip()
    if spec_kind == "exact":
        return text
    if spec_kind == "npm_range":
        if text in _EVERY:
            return "all versions"
        inclusive = _INCLUSIVE.match(text)
        if inclusive:
            return f"{inclusive.group(1)} – {inclusive.group(2)}"
        half_open = _HALF_OPEN.match(text)
        return f"≥ {half_open.group(1)}, < {half_open.group(2)}" if half_open else text
    if spec_kind != "osv_events":
        return text
    try:
        events = json.loads(text)
    except ValueError:
        return text
    if not isinstance(events, list) or not all(isinstance(e, dict) and len(e) == 1 for e in events):
        return text
    segments: list[str] = []
    start: str | None = None
    for event in events:
        ((kind, value),) = event.items()
        value = str(value)
        if kind == "introduced":
            if start is not None:
                segments.append(_segment(start, None, None))
            start = value
        elif kind in ("fixed", "last_affected") and start is not None:
            segments.append(_segment(start, value if kind == "fixed" else None, value))
            start = None
        elif kind == "limit":
            segments.append(f"below {value}" if value != "*" else "")
    if start is not None:
        segments.append(_segment(start, None, None))
    described = "; ".join(s for s in segments if s)
    return described or text


def _segment(start: str, fixed: str | None, last: str | None) -> str:
    everything = start == "0"
    if last is not None and fixed is None:
        return f"≤ {last}" if everything else f"{start} – {last}"
    if fixed is not None:
        return f"< {fixed}" if everything else f"≥ {start}, < {fixed}"
    return "all versions" if everything else f"≥ {start}"


def source_claims(
    advisories: pd.DataFrame, *, packages: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return what each source says of each advisory: one row per distinct claim.

    Parameters
    ----------
    advisories : pandas.DataFrame
        ``advisories`` frame, aliases merged.
    packages : sequence of str, optional
        Keep the claims about these packages only (see :func:`confirm_scope`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`SOURCE_CLAIMS`, one row per distinct (advisory, source, origin, role,
        package, spec); ``claim`` is :func:`describe_claim`. Sorted by advisory (canonical
        order), source (:data:`SOURCE_ORDER`), own claims before feeds' claims, origin, package
        and version.
    """
    frame = _in_scope(advisories, packages)
    if frame.empty:
        return conform(pd.DataFrame(columns=list(SOURCE_CLAIMS)), SOURCE_CLAIMS)
    out = frame.reindex(columns=[c for c in SOURCE_CLAIMS if c != "claim"]).copy()
    out["claim"] = [
        describe_claim(str(k), str(s))
        for k, s in zip(_text(frame["spec_kind"]), _text(frame["spec"]), strict=True)
    ]
    key = ["advisory_id", "source", "origin", "role", "package", "spec_kind", "spec"]
    keys = pd.DataFrame({c: _text(out[c]) for c in key})
    out = out.loc[~keys.duplicated()]
    keys = keys.loc[out.index]

    def order_key(row: Mapping[Any, str]) -> tuple[Any, ...]:
        exact = row["spec_kind"] == "exact"
        return (
            _advisory_key(row["advisory_id"]),
            _source_key(row["source"]),
            row["role"] != "affected",
            row["origin"],
            row["package"],
            _version_key(row["spec"]) if exact else (2,),
            row["spec"],
        )

    ordered = sorted(
        zip(out.index, keys.astype(str).to_dict("records"), strict=True),
        key=lambda pair: order_key(pair[1]),
    )
    order = [i for i, _ in ordered]
    return conform(out.loc[order], SOURCE_CLAIMS)


def classification_label(classification: str, severity: str) -> str:
    """Return how a card names an advisory's class: malware has no severity, and needs none.

    Tools that read a missing severity as "unknown" let malware through a gate; here malware
    is its own class. A vulnerability without a severity says so.
    """
    if classification == "malware":
        return "malware"
    severity = severity.strip()
    return f"vulnerability, {severity}" if severity else "vulnerability, severity not stated"


def advisory_cards(
    advisories: pd.DataFrame,
    *,
    packages: Sequence[str] | None = None,
    now: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Return one card per advisory: its ids, class, sources, and how old what they say is.

    Parameters
    ----------
    advisories : pandas.DataFrame
        ``advisories`` frame; aliases are merged here too (merging is idempotent), so an
        advisory read from OSV and GitHub gives one card.
    packages : sequence of str, optional
        Only advisories that name one of these packages (see :func:`confirm_scope`).
    now : pandas.Timestamp or str, optional
        The report's time, for ``age_days``; the current time by default.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`ADVISORY_CARDS`, one row per advisory, in canonical id order (MAL-,
        GHSA-, CVE-, then the others by name).
    """
    when = pd.Timestamp.now(tz="UTC") if now is None else _utc(now)
    if advisories.empty:
        return conform(pd.DataFrame(columns=list(ADVISORY_CARDS)), ADVISORY_CARDS)
    merged = merge_aliases(advisories)
    chosen = set(_text(_in_scope(merged, packages)["advisory_id"])) - {""}
    # every row of the chosen advisories (a list's other packages are counted), nothing else:
    # the folder may be a whole malware database
    merged = merged[_text(merged["advisory_id"]).isin(chosen)]
    scope = set(packages) if packages is not None else None
    claims = source_claims(merged)
    rows: list[dict[str, Any]] = []
    for advisory_id in sorted(chosen, key=_advisory_key):
        part = merged[_text(merged["advisory_id"]) == advisory_id]
        said = claims[_text(claims["advisory_id"]) == advisory_id]
        if scope is not None:
            said = said[_text(said["package"]).isin(scope)]
        named = sorted(set(_text(part["package"])) - {""})
        shown = [p for p in named if scope is None or p in scope]
        classification = (
            "malware"
            if (_text(part["classification"]) == "malware").any()
            else (_first(part["classification"]) or "vulnerability")
        )
        severity = "" if classification == "malware" else _first(part["severity"])
        url = next((u for u in _text(part["url"]) if _HTTP.match(u)), "")
        derived = not url and bool(_OSV_ID.match(advisory_id))
        if derived:
            url = _OSV_PAGE.format(id=advisory_id)
        modified = part["modified"].max()
        rows.append(
            {
                "advisory_id": advisory_id,
                "aliases": _first(part["aliases"]),
                "classification": classification,
                "label": classification_label(classification, severity),
                "severity": severity,
                "packages": AGREEMENT_SEP.join(shown),
                "other_packages": len(named) - len(shown),
                "sources": AGREEMENT_SEP.join(order_sources(_text(part["source"]))),
                "summary": _summary(part),
                "published": part["published"].min(),
                "modified": modified,
                "age_days": None if pd.isna(modified) else int((when - modified).days),
                "withdrawn": part["withdrawn"].max(),
                "standing": bool((_text(part["role"]) == "affected").any()),
                "claims": len(said),
                "claims_differ": _claims_differ(said),
                "url": url or None,
                "url_derived": derived,
            }
        )
    return conform(pd.DataFrame(rows, columns=list(ADVISORY_CARDS)), ADVISORY_CARDS)


def _utc(value: pd.Timestamp | str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _first(series: pd.Series) -> str:
    return next((v for v in _text(series) if v), "")


def _summary(part: pd.DataFrame) -> str:
    # The summary of the record that gives the advisory its id, else the first one given.
    own = part[_text(part["role"]) == "affected"]
    return _first(own["summary"]) or _first(part["summary"])


_VERSION_WORD = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


def _probes(specs: Iterable[str]) -> list[str]:
    """Versions at and around every version the specs name, and far below and above them."""
    probes = {"0.0.0", "0.0.1", "99999.0.0"}
    for spec in specs:
        for word in _VERSION_WORD.findall(spec):
            try:
                v = parse_version(word)
            except InvalidVersion:
                continue
            probes |= {
                str(v),
                f"{v.major}.{v.minor}.{v.patch + 1}",
                f"{v.major}.{v.minor + 1}.0",
                f"{v.major + 1}.0.0",
            }
            if v.patch:
                probes.add(f"{v.major}.{v.minor}.{v.patch - 1}")
    return sorted(probes)


def _claims_differ(said: pd.DataFrame) -> bool:
    """Whether two sources or origins claim different versions of one package.

    Claims are compared by what they admit, not how they are written: "9.0.1" and
    "≥ 9.0.1, < 9.0.2" agree; "all versions" and "4.1.1 – 4.1.2" do not. Each claim is
    evaluated on the versions its package's claims name and those next to them.
    """
    claims: dict[str, dict[tuple[str, str], set[tuple[str, str]]]] = {}
    for package, source, origin, kind, spec in zip(
        *(_text(said[c]) for c in ("package", "source", "origin", "spec_kind", "spec")),
        strict=True,
    ):
        claims.setdefault(package, {}).setdefault((source, origin), set()).add((kind, spec))
    for groups in claims.values():
        probes = _probes(spec for group in groups.values() for _, spec in group)
        admitted = {
            frozenset(v for v in probes if any(_admits(v, k, sp) for k, sp in group))
            for group in groups.values()
        }
        if len(admitted) > 1:
            return True
    return False


def _admits(version: str, spec_kind: str, spec: str) -> bool:
    try:
        return advisory_matches(version, spec_kind=spec_kind, spec=spec)
    except (InvalidRange, InvalidVersion, ValueError):
        # an unreadable claim cannot be shown to agree
        return spec_kind == "exact" and version == spec


# --- which source claims which version ---------------------------------------------------------


def claim_states(
    advisories: pd.DataFrame,
    *,
    versions: pd.DataFrame | None = None,
    packages: Sequence[str] | None = None,
    log: EvidenceLog | None = None,
) -> pd.DataFrame:
    """Return, for every version some source claims, what each source says of it.

    The versions are the exact versions claimed, and every version the registry lists
    (``versions``) that a range claim admits; each is evaluated once against each distinct
    claim of its package. A source *claims* a version when one of its rows with role
    ``affected`` matches it; it has *not claimed* it when it has rows about the package (any
    role: a withdrawn advisory, a feed's earlier claim) but none matching; the package is *not
    covered* by a source that has no row about it.

    Parameters
    ----------
    advisories : pandas.DataFrame
        ``advisories`` frame, aliases merged.
    versions : pandas.DataFrame, optional
        ``versions`` frame: the registry's versions, against which range claims are expanded.
        Without it only exactly claimed versions are rows (ranges still decide their cells).
    packages : sequence of str, optional
        Only these packages (see :func:`confirm_scope`).
    log : EvidenceLog, optional
        Receives a problem for each claim that cannot be evaluated against a version.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`CLAIM_STATES`: one row per (package, version, source) for every
        source in ``advisories`` (within scope), sorted by package, version (SemVer
        precedence) and source (:data:`SOURCE_ORDER`).
    """
    log = log if log is not None else EvidenceLog()
    frame = _in_scope(advisories, packages)
    empty = conform(pd.DataFrame(columns=list(CLAIM_STATES)), CLAIM_STATES)
    if frame.empty:
        return empty
    affected = frame[_text(frame["role"]) == "affected"]
    claims = pd.DataFrame(
        {c: _text(affected[c]) for c in ("advisory_id", "package", "spec_kind", "spec", "source")}
    ).drop_duplicates()
    exact = claims[claims["spec_kind"] == "exact"]
    candidates = [pd.DataFrame({"name": exact["package"], "version": exact["spec"].str.strip()})]
    if versions is not None and not versions.empty:
        known = versions[_text(versions["name"]).isin(set(claims["package"]))]
        candidates.append(
            pd.DataFrame({"name": _text(known["name"]), "version": _text(known["version"])})
        )
    pairs = pd.concat(candidates, ignore_index=True)
    pairs = pairs[(pairs["name"] != "") & (pairs["version"] != "")].drop_duplicates()
    hits = _matching_pairs(pairs, claims, log)
    if hits.empty:
        return empty
    claimed = hits.groupby(["name", "version", "source"], as_index=False).agg(
        advisory_ids=("advisory_id", lambda s: _join(s, key=_advisory_key))
    )
    rows_of = claimed[["name", "version"]].drop_duplicates()
    sources = order_sources(_text(frame["source"]))
    covered = {
        (str(p), str(s))
        for p, s in zip(_text(frame["package"]), _text(frame["source"]), strict=True)
    }
    said = {
        (str(n), str(v), str(s)): str(a)
        for n, v, s, a in claimed[["name", "version", "source", "advisory_ids"]].itertuples(
            index=False
        )
    }
    out: list[dict[str, Any]] = []
    ordered = sorted(rows_of.itertuples(index=False), key=lambda r: (r[0], _version_key(r[1])))
    for name, version in ordered:
        for source in sources:
            ids = said.get((name, version, source))
            if ids is not None:
                state = CLAIMED
            elif (name, source) in covered:
                state = NOT_CLAIMED
            else:
                state = NOT_COVERED
            out.append(
                {
                    "package": name,
                    "version": version,
                    "source": source,
                    "state": state,
                    "advisory_ids": ids,
                }
            )
    return conform(pd.DataFrame(out, columns=list(CLAIM_STATES)), CLAIM_STATES)


def version_status(states: pd.DataFrame) -> pd.DataFrame:
    """Return each claimed version's standing from :func:`claim_states`.

    Returns
    -------
    pandas.DataFrame
        Columns ``package``, ``version``, ``status`` (compromised: every source that speaks of
        the package claims it; disputed: only some do), ``claimed_by`` and ``not_claimed_by``
        (sources, comma-separated, in :data:`SOURCE_ORDER`), ``advisory_ids``; in the order of
        ``states``.
    """
    columns = ["package", "version", "status", "claimed_by", "not_claimed_by", "advisory_ids"]
    if states.empty:
        return pd.DataFrame(columns=columns).astype("string")
    # plain Python over the rows: thousands of versions, a handful of sources each
    said: dict[tuple[str, str], tuple[list[str], list[str], set[str]]] = {}
    for package, version, source, state, ids in zip(
        *(_text(states[c]) for c in ("package", "version", "source", "state", "advisory_ids")),
        strict=True,
    ):
        by, not_by, named = said.setdefault((package, version), ([], [], set()))
        if state == CLAIMED:
            by.append(source)
        elif state == NOT_CLAIMED:
            not_by.append(source)
        named.update(a.strip() for a in ids.split(",") if a.strip())
    rows = [
        {
            "package": package,
            "version": version,
            "status": COMPROMISED if by and not not_by else (DISPUTED if by else UNCLAIMED),
            "claimed_by": AGREEMENT_SEP.join(order_sources(by)),
            "not_claimed_by": AGREEMENT_SEP.join(order_sources(not_by)),
            "advisory_ids": AGREEMENT_SEP.join(sorted(named, key=_advisory_key)),
        }
        for (package, version), (by, not_by, named) in said.items()
    ]
    return pd.DataFrame(rows, columns=columns).astype("string")


def agreement_matrix(states: pd.DataFrame, *, group: bool = True) -> pd.DataFrame:
    """Return :func:`claim_states` as a table: one column per source.

    Parameters
    ----------
    states : pandas.DataFrame
        :func:`claim_states`.
    group : bool, optional
        Make the versions of a package on which every source says the same one row (an "all
        versions" claim would otherwise give one identical row per release); one row per
        version when False.

    Returns
    -------
    pandas.DataFrame
        String columns ``row`` (``package@version``, ``package@v1, v2`` or ``package (n
        versions)``), ``package``,
        ``versions`` (comma-separated, by SemVer precedence), ``count``, one column per source
        (:data:`SOURCE_ORDER`) holding ``claimed`` / ``not claimed`` / ``not covered``, and
        ``status``. Rows by package, then by their first version.
    """
    if states.empty:
        columns = ["row", "package", "versions", "count", "status"]
        return pd.DataFrame(columns=columns).astype("string")
    sources = order_sources(_text(states["source"]))
    status = version_status(states)
    wide = states.pivot_table(
        index=["package", "version"], columns="source", values="state", aggfunc="first"
    )
    keys = list(zip(_text(status["package"]), _text(status["version"]), strict=True))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(keys), columns=sources)
    groups: dict[tuple[str, ...], tuple[list[str], list[str], str]] = {}
    for (package, version), said, kind in zip(
        keys, wide.itertuples(index=False, name=None), status["status"], strict=True
    ):
        cells = [str(c) for c in said]
        key = (package, str(kind), *cells) if group else (package, version)
        groups.setdefault(key, ([], cells, str(kind)))[0].append(version)
    rows: list[dict[str, Any]] = []
    for key, (versions, cells, kind) in groups.items():
        package = key[0]
        rows.append(
            {
                "row": f"{package}@{', '.join(versions)}"
                if len(versions) <= _NAMED_IN_ROW
                else f"{package} ({len(versions)} versions)",
                "package": package,
                "versions": AGREEMENT_SEP.join(versions),
                "count": str(len(versions)),
                **dict(zip(sources, cells, strict=True)),
                "status": kind,
            }
        )
    columns = ["row", "package", "versions", "count", *sources, "status"]
    return pd.DataFrame(rows, columns=columns).astype("string")


def advisory_agreement(states: pd.DataFrame) -> pd.DataFrame:
    """Return how far each source corroborates each advisory, from :func:`claim_states`.

    For an advisory and a source: how many of the versions the advisory claims the source
    claims too (under any id). A source *claims* the advisory when it claims every one of its
    versions, has *not claimed* it when it speaks of the packages but misses some, and does not
    cover it when it says nothing of any of them.

    Returns
    -------
    pandas.DataFrame
        Columns ``advisory_id``, ``source``, ``state`` (string), ``claimed`` and ``of``
        (Int64: versions of the advisory the source claims, and how many the advisory claims),
        one row per (advisory, source); advisories in canonical order, sources in
        :data:`SOURCE_ORDER`.
    """
    columns = {"advisory_id": STRING, "source": STRING, "state": STRING, "claimed": INT, "of": INT}
    if states.empty:
        return conform(pd.DataFrame(columns=list(columns)), columns)
    work = states.assign(
        row=_text(states["package"]) + "@" + _text(states["version"]),
        ids=_text(states["advisory_ids"]).map(
            lambda v: [a.strip() for a in v.split(",") if a.strip()]
        ),
    )
    claimed = work[_text(work["state"]) == CLAIMED]
    per_advisory = claimed.explode("ids")
    versions_of: dict[str, set[str]] = {}
    for advisory_id, row in zip(per_advisory["ids"], per_advisory["row"], strict=True):
        versions_of.setdefault(str(advisory_id), set()).add(str(row))
    by_source: dict[str, set[str]] = {}
    for source, row in zip(_text(claimed["source"]), claimed["row"], strict=True):
        by_source.setdefault(source, set()).add(str(row))
    silent = {
        (str(s), str(r))
        for s, r, st in zip(_text(work["source"]), work["row"], _text(work["state"]), strict=True)
        if st == NOT_COVERED
    }
    rows = []
    for advisory_id in sorted(versions_of, key=_advisory_key):
        mine = versions_of[advisory_id]
        for source in order_sources(_text(states["source"])):
            also = len(mine & by_source.get(source, set()))
            if also == len(mine):
                state = CLAIMED
            elif all((source, r) in silent for r in mine):
                state = NOT_COVERED
            else:
                state = NOT_CLAIMED
            rows.append(
                {
                    "advisory_id": advisory_id,
                    "source": source,
                    "state": state,
                    "claimed": also,
                    "of": len(mine),
                }
            )
    return conform(pd.DataFrame(rows, columns=list(columns)), columns)


# --- versions in time --------------------------------------------------------------------------


def version_timeline(
    versions: pd.DataFrame,
    states: pd.DataFrame,
    *,
    packages: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return every version of the packages in scope, when it came out, and who claims it.

    Parameters
    ----------
    versions : pandas.DataFrame
        ``versions`` frame (the registry's facts).
    states : pandas.DataFrame
        :func:`claim_states` for the same packages.
    packages : sequence of str, optional
        Only these packages; by default those of ``states`` and ``versions``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`VERSION_TIMELINE`: every row of ``versions`` for the packages, and a
        row for each claimed version the registry frame does not hold (``published`` NaT,
        ``in_registry`` NA: it was not asked), sorted by package, then publish time (unknown
        last), then version.
    """
    status = version_status(states)
    wanted = (
        set(packages)
        if packages is not None
        else set(_text(status["package"])) | set(_text(versions["name"]))
    )
    known = versions[_text(versions["name"]).isin(wanted)]
    base = pd.DataFrame(
        {
            "name": _text(known["name"]),
            "version": _text(known["version"]),
            "published": known["published"],
            "in_registry": known["in_registry"],
            "dist_tags": known["dist_tags"],
            "install_scripts": known["install_scripts"],
        }
    ).drop_duplicates(["name", "version"])
    claimed = status[_text(status["package"]).isin(wanted)].rename(columns={"package": "name"})
    merged = base.merge(claimed, on=["name", "version"], how="outer")
    merged["status"] = merged["status"].fillna(UNCLAIMED)
    out = conform(merged, VERSION_TIMELINE)
    published = out["published"]
    timed = published.notna().to_numpy()
    stamps = published.dt.tz_convert(None).fillna(pd.Timestamp(0)).to_numpy()
    order = sorted(
        range(len(out)),
        key=lambda i: (
            str(out["name"].iloc[i]),
            not timed[i],
            stamps[i],
            _version_key(str(out["version"].iloc[i])),
        ),
    )
    return out.iloc[order].reset_index(drop=True)


def release_windows(timeline: pd.DataFrame, *, start: Any = None) -> pd.DataFrame:
    """Return, per package, where the compromised releases sit among the others.

    For each package with a compromised version (every source that covers it agrees), the
    registry's last good release before the compromise began and its first clean release after
    (:func:`ircore.registry.publish_window`): what to roll back or forward to. Disputed
    versions are counted, not used as bounds.

    Parameters
    ----------
    timeline : pandas.DataFrame
        :func:`version_timeline`.
    start : optional
        When the compromise began (the incident window's start); by default the earliest
        publish time of a compromised version of the package.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`RELEASE_WINDOWS`, one row per package, by name.
    """
    rows: list[dict[str, Any]] = []
    for name, part in timeline.groupby(_text(timeline["name"]), sort=True):
        status = _text(part["status"])
        bad = list(_text(part.loc[status == COMPROMISED, "version"]))
        if not bad:
            continue
        window = publish_window(part, str(name), bad, start=start)
        rows.append(
            {
                "name": name,
                "compromised": AGREEMENT_SEP.join(window["bad"]),
                "disputed": int((status == DISPUTED).sum()),
                "start": window["start"],
                "last_bad_published": window["last_bad_published"],
                "last_good_before": window["last_good_before"],
                "last_good_before_published": window["last_good_before_published"],
                "first_clean_after": window["first_clean_after"],
                "first_clean_after_published": window["first_clean_after_published"],
                "not_in_registry": AGREEMENT_SEP.join(window["not_in_registry"]) or None,
                "unknown_time": AGREEMENT_SEP.join(window["unknown_time"]) or None,
            }
        )
    return conform(pd.DataFrame(rows, columns=list(RELEASE_WINDOWS)), RELEASE_WINDOWS)


# --- indicators ---------------------------------------------------------------------------------


def canonical_ids(advisories: pd.DataFrame) -> dict[str, str]:
    """Map every id and alias in ``advisories`` (aliases merged) to its advisory's id."""
    mapping: dict[str, str] = {}
    for own, ids in zip(_text(advisories["advisory_id"]), _ids(advisories), strict=True):
        for identifier in ids:
            mapping.setdefault(identifier, own)
    return mapping


def indicator_table(
    iocs: pd.DataFrame,
    *,
    advisories: pd.DataFrame | None = None,
    advisory_ids: Iterable[str] | None = None,
    references: bool = False,
) -> pd.DataFrame:
    """Return the indicators to look for, one row per distinct indicator.

    Parameters
    ----------
    iocs : pandas.DataFrame
        ``iocs`` frame.
    advisories : pandas.DataFrame, optional
        ``advisories`` frame, aliases merged: an indicator read from a GHSA record is listed
        under the MAL id that record merged into.
    advisory_ids : iterable of str, optional
        Keep indicators of these advisories (canonical ids, e.g. the cards'); the analyst's own
        indicators are always kept. All by default.
    references : bool, optional
        Return the write-ups the advisories cite (``ioc_type`` ``reference``) instead of the
        indicators.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`INDICATORS`, one row per distinct (``ioc_type``, ``value``, ``port``);
        ``confidence`` and ``sources`` list every one given (strongest confidence first),
        ``context`` is the first place it was found. Sorted by type (:data:`IOC_TYPE_ORDER`:
        network indicators first), then value.
    """
    if iocs.empty:
        return conform(pd.DataFrame(columns=list(INDICATORS)), INDICATORS)
    canonical = canonical_ids(advisories) if advisories is not None else {}
    frame = iocs.copy()
    frame["advisory_id"] = _text(frame["advisory_id"]).map(lambda a: canonical.get(a, a))
    kind = _text(frame["ioc_type"])
    frame = frame[(kind == "reference") if references else (kind != "reference")]
    if advisory_ids is not None:
        keep = set(advisory_ids)
        frame = frame[
            _text(frame["advisory_id"]).isin(keep) | (_text(frame["confidence"]) == "analyst")
        ]
    if frame.empty:
        return conform(pd.DataFrame(columns=list(INDICATORS)), INDICATORS)
    port = frame["port"].astype("Int64").astype("string").fillna("")
    groups = frame.assign(_port=port).groupby(
        [_text(frame["ioc_type"]), _text(frame["value"]), port], sort=False
    )
    confidence_key = _order_key(CONFIDENCE_ORDER)
    rows = [
        {
            "ioc_type": ioc_type,
            "value": value,
            "port": int(str(p)) if p else None,
            "confidence": _join(part["confidence"], key=confidence_key),
            "advisory_ids": _join(part["advisory_id"], key=_advisory_key),
            "context": _first(part["context"]) or None,
            "sources": AGREEMENT_SEP.join(order_sources(_text(part["source"]))),
        }
        for (ioc_type, value, p), part in groups
    ]
    type_key = _order_key(IOC_TYPE_ORDER)
    rows.sort(key=lambda r: (type_key(r["ioc_type"]), r["value"], r["port"] or 0))
    return conform(pd.DataFrame(rows, columns=list(INDICATORS)), INDICATORS)


def _order_key(order: Sequence[str]) -> Any:
    def key(value: str) -> tuple[int, str]:
        return (order.index(value) if value in order else len(order), value)

    return key


# --- the headline ------------------------------------------------------------------------------


def threat_inputs(inputs: pd.DataFrame) -> pd.DataFrame:
    """Return the ``inputs`` rows of threat intelligence and registry reads (the confirm step's)."""
    return inputs[_text(inputs["source"]).isin(THREAT_SOURCES)].reset_index(drop=True)


def threat_problems(problems: pd.DataFrame) -> pd.DataFrame:
    """Return the ``problems`` of threat intelligence and registry reads, and the claims that
    could not be evaluated (source ``matcher``): what the confirm step may be missing."""
    keep = _text(problems["source"]).isin(_THREAT_PROBLEM_SOURCES)
    return problems[keep].reset_index(drop=True)


def confirm_summary(
    cards: pd.DataFrame,
    states: pd.DataFrame,
    *,
    timeline: pd.DataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    inputs: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Return the confirm step's numbers and one-sentence verdict.

    Parameters
    ----------
    cards : pandas.DataFrame
        :func:`advisory_cards`.
    states : pandas.DataFrame
        :func:`claim_states`.
    timeline : pandas.DataFrame, optional
        :func:`version_timeline`: counts the compromised versions the registry no longer lists.
    indicators : pandas.DataFrame, optional
        :func:`indicator_table`.
    problems, inputs : pandas.DataFrame, optional
        ``problems`` and ``inputs``: threat or registry inputs that could not be read make the
        verdict say so.

    Returns
    -------
    dict
        ``advisories``, ``malware`` (advisories classed malware), ``packages``, ``sources``
        (distinct, in :data:`SOURCE_ORDER`), ``compromised``, ``disputed``, ``gone``
        (compromised or disputed versions the registry no longer lists; None when the registry
        said nothing, and its tile is then left out), ``indicators``,
        ``unread`` (threat and registry inputs not read), ``verdict``, ``verdict_level``
        (``affected`` or ``inconclusive``, as :data:`ircore.report.VERDICT_TONES`
        maps them).
    """
    status = version_status(states)
    kinds = _text(status["status"])
    compromised = int((kinds == COMPROMISED).sum())
    disputed = int((kinds == DISPUTED).sum())
    packages = int(status.loc[kinds != UNCLAIMED, "package"].nunique())
    sources = order_sources(_text(states["source"])) if not states.empty else []
    # None: the registry said nothing (not configured or not read), which is not "none gone"
    gone: int | None = None
    if timeline is not None and not timeline.empty and timeline["in_registry"].notna().any():
        claimed = _text(timeline["status"]) != UNCLAIMED
        pulled = timeline["in_registry"].astype("boolean").eq(False).fillna(False)
        gone = int((claimed & pulled).sum())
    unread = 0
    if problems is not None and inputs is not None:
        unread_rows = unread_inputs(problems, inputs)
        unread = int(_text(unread_rows["source"]).isin(_THREAT_PROBLEM_SOURCES).sum())
    malware = int((_text(cards["classification"]) == "malware").sum()) if not cards.empty else 0
    if compromised and not set(sources) - {"incident"}:
        # the analyst's own spec cannot confirm itself
        verdict = (
            f"Not confirmed: only the incident spec claims {plural(compromised, 'version')} of "
            f"{plural(packages, 'package')}; no advisory source speaks of it."
        )
        level = "inconclusive"
    elif compromised:
        verdict = (
            f"Confirmed: {plural(compromised, 'version')} of "
            f"{plural(packages, 'package')} claimed compromised by every source that covers "
            f"them ({plural(len(sources), 'source')} read)."
        )
        level = "affected"
    elif disputed:
        verdict = (
            f"Disputed: {plural(disputed, 'version')} claimed compromised by some sources "
            "and not by others; read what each source says below."
        )
        level = "inconclusive"
    else:
        # Nothing claimed is not good news at this step: the sources may be the wrong ones.
        verdict = "Not confirmed: no source claims a version of the packages in scope."
        level = "inconclusive"
    if unread:
        verdict += f" {plural(unread, 'threat or registry input')} could not be read."
    return {
        "advisories": len(cards),
        "malware": malware,
        "packages": packages,
        "sources": sources,
        "compromised": compromised,
        "disputed": disputed,
        "gone": gone,
        "indicators": 0 if indicators is None else len(indicators),
        "unread": unread,
        "verdict": verdict,
        "verdict_level": level,
    }


def confirm_figures(summary: Mapping[str, Any]) -> dict[str, int]:
    """Return the headline tiles of the confirm section, label to value."""
    return {
        "Advisories": int(summary["advisories"]),
        "Compromised versions": int(summary["compromised"]),
        "Disputed versions": int(summary["disputed"]),
        **({} if summary["gone"] is None else {"No longer in the registry": int(summary["gone"])}),
        "Indicators": int(summary["indicators"]),
    }
