"""Latent exposure: declared ranges that would accept a compromised version on the next install.

A lockfile pins what was installed; the ranges in ``package.json`` (and those a lockfile
records for each package's own dependencies) say what *may* be installed. When such a range
admits a compromised version, a fresh install without the lockfile, ``npm update``, or a
lockfile-maintenance bot could resolve to it, even though the lockfile pins something else today.

Ranges are read as npm reads a dependency spec: ``npm-package-arg`` classifies a spec with
``semver.validRange(spec, loose=true)``, so :func:`ircore.semver.satisfies` runs in loose mode
with npm's prerelease rule. Each distinct (package, range) pair is evaluated once against each
compromised version of that package, then joined back to every declaring row (DESIGN.md).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ircore._errors import InvalidRange, InvalidVersion
from ircore._frames import BOOL, INT, STRING
from ircore._log import EvidenceLog
from ircore.analysis._blast_radius import _text, _typed
from ircore.analysis._surfaces import subjects
from ircore.semver import parse_version, satisfies, validate_range

#: ``spec_kind`` values of the ``declared`` frame that are version ranges. Tags, git URLs,
#: tarballs, folders, workspaces and pnpm catalog references do not name a registry version
#: a range could admit (what they resolved to is in the lockfile, which is matched already).
RANGE_KINDS: frozenset[str] = frozenset({"range", "alias"})
#: ``spec_kind`` of a spec the loader found npm would refuse: it might have been meant as a
#: range that admits a compromised version, so it is reported, never dropped.
INVALID_KIND = "invalid"

#: A dist-tag as npm-package-arg accepts one: text that ``encodeURIComponent`` leaves alone.
_TAG = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")

COMPROMISED_VERSIONS: dict[str, str] = {
    "name": STRING,
    "version": STRING,
    "advisory_ids": STRING,
}

LATENT: dict[str, str] = {
    "repo": STRING,
    "ref": STRING,
    "surface": STRING,
    "host": STRING,
    "file": STRING,
    "declared_by": STRING,
    "field": STRING,
    "direct": BOOL,
    "name": STRING,
    "spec": STRING,
    "spec_kind": STRING,
    "status": STRING,  # admits | unparseable
    "admits": STRING,  # the compromised versions the range accepts, comma-separated
    "advisory_ids": STRING,
    "resolves_now": BOOL,  # this repo and ref resolves a compromised version of the package now
    "resolved_versions": STRING,  # ... which ones
    "repo_resolves": BOOL,  # the repo resolves one on any ref or surface
    "message": STRING,  # why an unparseable range could not be read
    "evidence": STRING,
}

LATENT_REPOS: dict[str, str] = {
    "repo": STRING,
    "latent_only": BOOL,
    "packages": STRING,
    "specs": INT,
    "refs": STRING,
    "admits": STRING,
    "unparseable": INT,
    "example": STRING,
}

_VERSION_SEP = ", "
#: The columns of ``declared`` a latent row carries over.
_DECLARED_COLUMNS = (
    "repo",
    "ref",
    "surface",
    "host",
    "file",
    "declared_by",
    "field",
    "name",
    "spec",
    "spec_kind",
    "evidence",
)


def compromised_versions(
    advisories: pd.DataFrame,
    *,
    exposure: pd.DataFrame | None = None,
    log: EvidenceLog | None = None,
) -> pd.DataFrame:
    """List the concrete compromised versions a range could admit, with who claims each.

    Parameters
    ----------
    advisories : pandas.DataFrame
        ``advisories`` frame; its rows with role ``affected`` and spec_kind ``exact`` name
        versions. OSV event lists and npm ranges name no version by themselves.
    exposure : pandas.DataFrame, optional
        ``exposure`` frame: versions actually found and matched by any claim (an OSV range
        included) are concrete compromised versions too.
    log : EvidenceLog, optional
        Receives a problem for an exact claim whose version cannot be read.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`COMPROMISED_VERSIONS`, one row per distinct (name, version), with
        the advisory ids claiming it comma-separated; sorted by name and version.
    """
    frames = []
    if not advisories.empty:
        exact = advisories.loc[
            (_text(advisories["role"]) == "affected") & (_text(advisories["spec_kind"]) == "exact")
        ]
        frames.append(
            pd.DataFrame(
                {
                    "name": _text(exact["package"]),
                    "version": _text(exact["spec"]).str.strip(),
                    "advisory_id": _text(exact["advisory_id"]),
                }
            )
        )
    if exposure is not None and not exposure.empty:
        frames.append(
            pd.DataFrame(
                {
                    "name": _text(exposure["name"]),
                    "version": _text(exposure["version"]),
                    "advisory_id": _text(exposure["advisory_id"]),
                }
            )
        )
    if not frames:
        return _typed(pd.DataFrame(columns=list(COMPROMISED_VERSIONS)), COMPROMISED_VERSIONS)
    work = pd.concat(frames, ignore_index=True)
    readable = []
    for version in work["version"]:
        try:
            parse_version(version)
            readable.append(True)
        except InvalidVersion:
            readable.append(False)
    mask = pd.Series(readable, index=work.index)
    if log is not None:
        for row in work.loc[~mask].drop_duplicates().itertuples(index=False):
            log.problem(
                source="latent",
                evidence=f"{row.advisory_id}: {row.version}",
                kind="invalid-claim",
                message=f"{row.advisory_id} claims {row.name} version {row.version!r}, which is "
                "not a version; declared ranges cannot be checked against it",
            )
    grouped = (
        work.loc[mask]
        .groupby(["name", "version"], as_index=False)
        .agg(advisory_ids=("advisory_id", lambda s: _VERSION_SEP.join(sorted(set(s) - {""}))))
    )
    order = sorted(
        range(len(grouped)),
        key=lambda i: (grouped["name"].iloc[i], parse_version(grouped["version"].iloc[i])),
    )
    return _typed(grouped.iloc[order], COMPROMISED_VERSIONS)


def declared_range(spec: str, spec_kind: str) -> str | None:
    """The npm range inside a declared spec, or ``None`` when it names a dist-tag.

    Parameters
    ----------
    spec : str
        The spec verbatim: ``^4.3.0`` or, for an alias, ``npm:real@^4`` (``npm:@scope/x@~1``).
    spec_kind : str
        ``range`` or ``alias``.

    Returns
    -------
    str or None
        The range text (``""`` reads as ``*``, as in a manifest); ``None`` for an alias to a
        tag (``npm:x@latest``) or to no version at all, which npm resolves to ``latest``.
    """
    text = spec.strip()
    if spec_kind != "alias":
        return text
    if text.startswith("npm:"):
        target = text[4:]
        at = target.find("@", 1)  # a scoped name starts with "@"
        if at < 0:
            return None
        text = target[at + 1 :].strip()
    if text == "":
        return None
    # npm-package-arg: a valid range is a range; otherwise URI-safe text is a dist-tag; anything
    # else is returned, so that reading it fails loudly instead of vanishing as a "tag".
    try:
        validate_range(text, loose=True)
    except InvalidRange:
        return None if _TAG.match(text) else text
    return text


def _verdicts(
    pairs: pd.DataFrame, versions: pd.DataFrame
) -> dict[tuple[str, str], tuple[str, list[str], str]]:
    """(name, range) → (status, admitted versions, message), each range parsed once."""
    by_name: dict[str, list[str]] = {}
    for name, version in zip(versions["name"], versions["version"], strict=True):
        by_name.setdefault(str(name), []).append(str(version))
    out: dict[tuple[str, str], tuple[str, list[str], str]] = {}
    for name, range_ in zip(pairs["name"], pairs["range"], strict=True):
        key = (str(name), str(range_))
        if key in out:
            continue
        try:
            admitted = [v for v in by_name.get(key[0], []) if satisfies(v, key[1], loose=True)]
        except InvalidRange as exc:
            out[key] = ("unparseable", [], str(exc))
            continue
        out[key] = ("admits" if admitted else "clear", admitted, "")
    return out


def latent_exposure(
    declared: pd.DataFrame | None,
    advisories: pd.DataFrame,
    *,
    exposure: pd.DataFrame | None = None,
    log: EvidenceLog | None = None,
) -> pd.DataFrame:
    """Find declared ranges that admit a compromised version.

    Parameters
    ----------
    declared : pandas.DataFrame or None
        ``declared`` frame (ranges from manifests and those recorded in lockfiles). ``None``
        (evidence gathered before declared ranges were collected) and an empty frame both
        give an empty result.
    advisories : pandas.DataFrame
        ``advisories`` frame; see :func:`compromised_versions` for which claims count.
    exposure : pandas.DataFrame, optional
        ``exposure`` frame: adds the concrete versions it holds to the compromised set, and
        says which declaring repos resolve a compromised version now.
    log : EvidenceLog, optional
        Receives a ``problems`` row for every declaring row whose range cannot be read, and
        for every exact claim whose version cannot be read.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`LATENT`, one row per declaring row (spec_kind ``range`` or
        ``alias``) of a compromised package whose range either admits a compromised version
        (``status`` ``admits``, ``admits`` lists them) or cannot be read (``status``
        ``unparseable``, with the reason in ``message``: it might admit one, so it is never
        dropped; rows of spec_kind ``invalid`` are always unparseable). ``resolves_now`` says whether the same repo, ref and host resolves a
        compromised version of the package today, ``resolved_versions`` which ones, and
        ``repo_resolves`` whether the repo does on any ref. Sorted by repo, ref, file, name.
    """
    empty = _typed(pd.DataFrame(columns=list(LATENT)), LATENT)
    if declared is None or declared.empty:
        return empty
    versions = compromised_versions(advisories, exposure=exposure, log=log)
    names = set(versions["name"])
    kind = _text(declared["spec_kind"])
    rows = declared.loc[
        kind.isin(RANGE_KINDS | {INVALID_KIND}) & _text(declared["name"]).isin(names)
    ]
    if rows.empty:
        return empty
    work = pd.DataFrame(
        {
            c: _text(rows[c]) if c in rows.columns else pd.Series("", index=rows.index)
            for c in _DECLARED_COLUMNS
        }
    )
    work["direct"] = rows["direct"].astype("boolean").to_numpy()
    invalid = work["spec_kind"] == INVALID_KIND
    work["range"] = [
        "" if bad else declared_range(s, k)
        for s, k, bad in zip(work["spec"], work["spec_kind"], invalid, strict=True)
    ]
    # An alias to a dist-tag names no version a range could admit: what it resolves to is
    # in the lockfile, and the lockfile is already matched.
    keep = work["range"].notna()
    work, invalid = work.loc[keep], invalid.loc[keep]
    pairs = work.loc[~invalid, ["name", "range"]].drop_duplicates()
    verdicts = _verdicts(pairs, versions)
    refused = "not a spec npm accepts (its loader marked it invalid)"
    claimed = dict(
        zip(versions["name"] + "@" + versions["version"], versions["advisory_ids"], strict=True)
    )
    status, admits, ids, message = [], [], [], []
    for name, range_, bad in zip(work["name"], work["range"], invalid, strict=True):
        verdict, admitted, why = ("unparseable", [], refused) if bad else verdicts[(name, range_)]
        status.append(verdict)
        admits.append(_VERSION_SEP.join(admitted))
        found = {i for v in admitted for i in claimed[f"{name}@{v}"].split(_VERSION_SEP) if i}
        ids.append(_VERSION_SEP.join(sorted(found)))
        message.append(why)
    work = work.assign(status=status, admits=admits, advisory_ids=ids, message=message)
    work = work.loc[work["status"] != "clear"]
    if log is not None:
        for row in work.loc[work["status"] == "unparseable"].itertuples(index=False):
            log.problem(
                source="latent",
                evidence=str(row.evidence),
                kind="invalid-range",
                message=f"{row.file}: {row.declared_by} declares {row.name} {row.spec!r}, "
                f"which cannot be read as an npm range ({row.message}); it may admit a "
                "compromised version",
                repo=str(row.repo),
                ref=str(row.ref),
            )
    work = _resolution(work, exposure)
    work = work.sort_values(["repo", "ref", "file", "name", "declared_by", "field", "spec"])
    return _typed(work.drop(columns=["range"]), LATENT)


def _resolution(work: pd.DataFrame, exposure: pd.DataFrame | None) -> pd.DataFrame:
    if exposure is None or exposure.empty or work.empty:
        return work.assign(resolves_now=False, resolved_versions="", repo_resolves=False)
    found = pd.DataFrame(
        {c: _text(exposure[c]) for c in ("repo", "ref", "host", "name", "version")}
    ).drop_duplicates()
    here: dict[tuple[str, str, str, str], set[str]] = {}
    anywhere: set[tuple[str, str]] = set()
    for repo, ref, host, name, version in found.itertuples(index=False, name=None):
        here.setdefault((repo, ref, host, name), set()).add(version)
        if repo:
            anywhere.add((repo, name))
    keys = zip(work["repo"], work["ref"], work["host"], work["name"], strict=True)
    resolved = [here.get(k, set()) for k in keys]
    return work.assign(
        resolves_now=[bool(v) for v in resolved],
        resolved_versions=[
            _VERSION_SEP.join(sorted(v, key=parse_version)) if v else "" for v in resolved
        ],
        repo_resolves=[(r, n) in anywhere for r, n in zip(work["repo"], work["name"], strict=True)],
    )


def latent_repos(latent: pd.DataFrame, exposure: pd.DataFrame | None = None) -> pd.DataFrame:
    """Summarise latent exposure per repository, and say which are latent-only.

    Parameters
    ----------
    latent : pandas.DataFrame
        The result of :func:`latent_exposure`.
    exposure : pandas.DataFrame, optional
        ``exposure`` frame; a repository that resolves no compromised version anywhere in it
        is *latent-only*: nothing is installed today, but the next install could be. A
        developer machine's declarations are filed under ``host <name>``, as its occurrences
        are (:func:`ircore.analysis.subjects`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`LATENT_REPOS`, one row per repository with a latent row:
        ``latent_only``, ``packages`` (names, comma-separated), ``specs`` (declaring rows
        that admit a compromised version), ``refs``, ``admits`` (``name@version`` the ranges
        accept), ``unparseable`` (ranges that could not be read) and ``example`` (one
        declaration, ``file: name spec``). Latent-only repositories first.
    """
    if latent.empty:
        return _typed(pd.DataFrame(columns=list(LATENT_REPOS)), LATENT_REPOS)
    resolving = set() if exposure is None or exposure.empty else set(subjects(exposure))
    rows = []
    for repo, part in latent.groupby(subjects(latent), sort=True):
        admitting = part.loc[_text(part["status"]) == "admits"]
        pvs = {
            f"{n}@{v}"
            for n, vs in zip(admitting["name"], admitting["admits"], strict=True)
            for v in str(vs).split(_VERSION_SEP)
            if v
        }
        first = (admitting if not admitting.empty else part).iloc[0]
        rows.append(
            {
                "repo": repo,
                # Only a range that admits one makes a repo latent; an unreadable one makes
                # it inconclusive, which is said in "unparseable".
                "latent_only": not admitting.empty and repo not in resolving,
                "packages": _VERSION_SEP.join(sorted(set(_text(part["name"])))),
                "specs": len(admitting),
                "refs": _VERSION_SEP.join(sorted(set(_text(part["ref"])) - {""})),
                "admits": _VERSION_SEP.join(sorted(pvs)),
                "unparseable": int((_text(part["status"]) == "unparseable").sum()),
                "example": f"{first['file']}: {first['name']} {first['spec']}",
            }
        )
    out = pd.DataFrame(rows).sort_values(["latent_only", "repo"], ascending=[False, True])
    return _typed(out, LATENT_REPOS)


def latent_summary(latent: pd.DataFrame, exposure: pd.DataFrame | None = None) -> dict[str, Any]:
    """Headline counts of latent exposure.

    Returns
    -------
    dict
        ``specs`` (declaring rows that admit a compromised version), ``repos`` (repos with
        one), ``latent_only_repos``, ``packages`` (distinct names), ``unparseable`` (ranges
        that could not be read) and ``latent_only`` (sorted list of latent-only repos).
    """
    repos = latent_repos(latent, exposure)
    admitting = latent.loc[_text(latent["status"]) == "admits"]
    only = sorted(repos.loc[repos["latent_only"].astype(bool), "repo"].astype(str))
    return {
        "specs": len(admitting),
        "repos": int(subjects(admitting).nunique()),
        "latent_only_repos": len(only),
        "packages": int(_text(admitting["name"]).nunique()),
        "unparseable": int((_text(latent["status"]) == "unparseable").sum()),
        "latent_only": only,
    }
