"""Triage: the filters behind the interactive notebook, as pure functions over frames.

The widgets of :mod:`ircore.report._triage` only collect choices and display what these
functions return, so everything an analyst can click is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from ircore._frames import BOOL, INT, STRING
from ircore.analysis._blast_radius import OCCURRENCE_KEY, _text, _typed, package_versions
from ircore.analysis._surfaces import NO_SUBJECT, surface_rank

TRIAGE_OCCURRENCES: dict[str, str] = {
    "occurrence": INT,  # a stable id within one exposure frame, for selecting a row
    "repo": STRING,
    "team": STRING,
    "ref": STRING,
    "surface": STRING,
    "host": STRING,
    "file": STRING,
    "package_version": STRING,
    "name": STRING,
    "version": STRING,
    "introducer": STRING,
    "dependency_path": STRING,
    "dev": BOOL,
    "direct": BOOL,
    "advisories": STRING,
}

PATH_STEPS: dict[str, str] = {
    "depth": INT,  # 0 is the dependency the project declares
    "package": STRING,
    "versions": STRING,  # the version(s) installed under that name in this lockfile
    "compromised": BOOL,  # one of those versions is compromised
    "dev": BOOL,
    "direct": BOOL,
    "install_path": STRING,
}

OTHER_PATHS: dict[str, str] = {
    "dependency_path": STRING,
    "install_path": STRING,
    "dev": BOOL,
    "direct": BOOL,
}

#: Team name for a repository the team mapping does not list.
NO_TEAM = "(no team)"


def _advisory_sets(exposure: pd.DataFrame) -> pd.Series:
    ids = _text(exposure["advisory_id"])
    aliases = _text(exposure["aliases"])
    return pd.Series(
        [
            {i, *(a.strip() for a in al.split(",") if a.strip())}
            for i, al in zip(ids, aliases, strict=True)
        ],
        index=exposure.index,
    )


def triage_occurrences(
    exposure: pd.DataFrame, *, teams: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per occurrence with the advisories that claim it merged, ready to filter.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame.
    teams : mapping of str to str, optional
        Repository → owning team. Repositories it does not list get :data:`NO_TEAM`; without
        it ``team`` is NA.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`TRIAGE_OCCURRENCES`, sorted by surface (default branch first),
        repository, ref, file and package; ``occurrence`` numbers the rows 0, 1, … in that
        order and ``advisories`` lists advisory ids and aliases, comma-separated.
    """
    if exposure.empty:
        return _typed(pd.DataFrame(columns=list(TRIAGE_OCCURRENCES)), TRIAGE_OCCURRENCES)
    keys = pd.DataFrame({c: _text(exposure[c]) for c in OCCURRENCE_KEY})
    group = keys.apply(lambda r: "\x1f".join(r), axis=1)
    advisories: dict[str, set[str]] = {}
    for key, ids in zip(group, _advisory_sets(exposure), strict=True):
        advisories.setdefault(key, set()).update(ids)
    first = exposure.loc[~group.duplicated()].copy()
    first_group = group.loc[first.index]
    out = pd.DataFrame(
        {
            # the project on a machine keeps its own name here: the host is its own column
            "repo": _text(first["repo"]).where(
                _text(first["repo"]) != "",
                ("host " + _text(first["host"])).where(_text(first["host"]) != "", NO_SUBJECT),
            ),
            "ref": _text(first["ref"]),
            "surface": _text(first["surface"]),
            "host": _text(first["host"]),
            "file": _text(first["file"]),
            "package_version": package_versions(first),
            "name": _text(first["name"]),
            "version": _text(first["version"]),
            "introducer": _text(first["introducer"]),
            "dependency_path": _text(first["dependency_path"]),
            "dev": first["dev"].astype("boolean"),
            "direct": first["direct"].astype("boolean"),
            "advisories": [", ".join(sorted(advisories[g] - {""})) for g in first_group],
        }
    )
    out["team"] = pd.NA if teams is None else [teams.get(r, NO_TEAM) for r in _text(first["repo"])]
    out["_rank"] = out["surface"].map(surface_rank)
    out = out.sort_values(["_rank", "repo", "ref", "file", "package_version", "dependency_path"])
    out["occurrence"] = range(len(out))
    return _typed(out, TRIAGE_OCCURRENCES)


def triage_options(
    exposure: pd.DataFrame, *, teams: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """What each triage filter can be set to, given the evidence.

    Returns
    -------
    dict of str to list of str
        ``advisories`` (ids, most occurrences first), ``packages`` (names, then
        ``name@version``, sorted), ``surfaces`` (in :data:`SURFACES` order), ``repos``
        (sorted) and ``teams`` (sorted; empty without a mapping).
    """
    occ = triage_occurrences(exposure, teams=teams)
    counts: dict[str, int] = {}
    for ids in occ["advisories"]:
        for advisory in str(ids).split(", "):
            if advisory:
                counts[advisory] = counts.get(advisory, 0) + 1
    # Aliases ride along in "advisories"; the dropdown offers the ids the frame carries.
    ids = set(_text(exposure["advisory_id"])) - {""}
    return {
        "advisories": sorted((a for a in counts if a in ids), key=lambda a: (-counts[a], a)),
        "packages": sorted(set(occ["name"]) - {""}) + sorted(set(occ["package_version"])),
        "surfaces": sorted(set(occ["surface"]), key=lambda s: (surface_rank(s), s)),
        "repos": sorted(set(occ["repo"])),
        "teams": [] if teams is None else sorted(set(occ["team"].dropna())),
    }


def filter_occurrences(
    occurrences: pd.DataFrame,
    *,
    advisory: str | None = None,
    package: str | None = None,
    surfaces: Collection[str] = (),
    repos: Collection[str] = (),
    teams: Collection[str] = (),
) -> pd.DataFrame:
    """Keep the occurrences that pass every filter set; an unset filter keeps everything.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        The result of :func:`triage_occurrences`.
    advisory : str, optional
        An advisory id or alias claiming the occurrence.
    package : str, optional
        A package name (any version) or ``name@version``.
    surfaces, repos, teams : collection of str, optional
        Keep occurrences on one of these surfaces, in one of these repositories, owned by
        one of these teams. Empty means no filter.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``occurrences``, order kept.
    """
    keep = pd.Series(True, index=occurrences.index)
    if advisory:
        keep &= _text(occurrences["advisories"]).map(lambda ids: advisory in str(ids).split(", "))
    if package:
        keep &= (_text(occurrences["name"]) == package) | (
            _text(occurrences["package_version"]) == package
        )
    if surfaces:
        keep &= _text(occurrences["surface"]).isin(set(surfaces))
    if repos:
        keep &= _text(occurrences["repo"]).isin(set(repos))
    if teams:
        keep &= _text(occurrences["team"]).isin(set(teams))
    return occurrences.loc[keep.astype(bool)]


def _same_lockfile(inventory: pd.DataFrame, occurrence: Mapping[Any, Any]) -> pd.DataFrame:
    mask = pd.Series(True, index=inventory.index)
    for column in ("repo", "ref", "host", "file"):
        value = "" if occurrence.get(column) is None else str(occurrence.get(column))
        if (
            column == "repo"
            and value.startswith("host ")
            and not _text(inventory["repo"]).eq(value).any()
        ):
            value = ""  # a machine's project listed under "host <name>" has no repository
        mask &= _text(inventory[column]) == value
    return inventory.loc[mask]


def occurrence_paths(
    inventory: pd.DataFrame,
    occurrence: Mapping[Any, Any],
    *,
    exposure: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Walk the dependency path of one occurrence, step by step, inside its lockfile.

    Parameters
    ----------
    inventory : pandas.DataFrame
        ``inventory`` frame.
    occurrence : mapping
        A row of :func:`triage_occurrences` (``repo``, ``ref``, ``host``, ``file``, ``name``,
        ``version``, ``dependency_path``).
    exposure : pandas.DataFrame, optional
        ``exposure`` frame; marks the steps that are themselves compromised.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`PATH_STEPS`, one row per step of ``dependency_path`` (the declared
        dependency at depth 0, the compromised package last). Each step is the lockfile
        entry whose own path is that prefix; where none is recorded, every version installed
        under the name is listed.
    """
    lock = _same_lockfile(inventory, occurrence)
    steps = [s.strip() for s in str(occurrence.get("dependency_path") or "").split(" > ") if s]
    if not steps:
        steps = [str(occurrence.get("name") or "")]
    bad: set[tuple[str, str]] = set()
    if exposure is not None and not exposure.empty:
        bad = set(zip(_text(exposure["name"]), _text(exposure["version"]), strict=True))
    install_name = _text(lock["alias"]).where(_text(lock["alias"]) != "", _text(lock["name"]))
    paths = _text(lock["dependency_path"])
    rows = []
    for depth, step in enumerate(steps):
        prefix = " > ".join(steps[: depth + 1])
        here = lock.loc[(install_name == step) & (paths == prefix)]
        if here.empty:
            here = lock.loc[install_name == step]
        if depth == len(steps) - 1 and occurrence.get("version"):
            exact = here.loc[_text(here["version"]) == str(occurrence["version"])]
            here = exact if not exact.empty else here
        names = sorted(set(_text(here["name"]))) or [step]
        versions = sorted(set(_text(here["version"])))
        rows.append(
            {
                "depth": depth,
                "package": names[0] if len(names) == 1 else ", ".join(names),
                "versions": ", ".join(versions) if versions else pd.NA,
                "compromised": any((n, v) in bad for n in names for v in versions),
                "dev": _one(here["dev"]),
                "direct": _one(here["direct"]),
                "install_path": ", ".join(sorted(set(_text(here["install_path"])) - {""})) or pd.NA,
            }
        )
    return _typed(pd.DataFrame(rows, columns=list(PATH_STEPS)), PATH_STEPS)


def _one(flags: pd.Series) -> object:
    values = set(flags.astype("boolean").dropna())
    return values.pop() if len(values) == 1 else pd.NA


def other_paths(inventory: pd.DataFrame, occurrence: Mapping[Any, Any]) -> pd.DataFrame:
    """Every place the same ``name@version`` is installed in the occurrence's lockfile.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`OTHER_PATHS`, one row per inventory entry of that package and
        version in the same repository, ref, host and lockfile, sorted by path.
    """
    lock = _same_lockfile(inventory, occurrence)
    same = lock.loc[
        (_text(lock["name"]) == str(occurrence.get("name") or ""))
        & (_text(lock["version"]) == str(occurrence.get("version") or ""))
    ]
    out = pd.DataFrame({c: same[c] for c in OTHER_PATHS}).sort_values(
        ["dependency_path", "install_path"], na_position="last"
    )
    return _typed(out, OTHER_PATHS)
