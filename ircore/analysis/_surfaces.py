"""Where the compromised versions sit (surfaces) and which dependencies bring them in.

A *surface* is the kind of place an occurrence was read from: the default branch, another
branch, an open pull request, a CI workflow run, a plain folder, or a developer machine. A
repository that holds a compromised version only on a pull request is a different job (close
or fix the PR) from one that ships it on its default branch, so every count here keeps them
apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ircore._frames import BOOL, INT, STRING
from ircore.analysis._blast_radius import _text, _typed, occurrences, package_versions

#: Every surface the inventory schema knows, in the order a reader meets them.
SURFACES: tuple[str, ...] = (
    "default_branch",
    "branch",
    "pull_request",
    "workflow_run",
    "folder",
    "host",
)

#: How each surface is named in reports.
SURFACE_LABELS: dict[str, str] = {
    "default_branch": "default branch",
    "branch": "other branch",
    "pull_request": "pull request",
    "workflow_run": "CI workflow run",
    "folder": "folder on disk",
    "host": "developer machine",
}

#: Plural forms, for sentences such as "only on pull requests".
_SURFACE_PLURALS: dict[str, str] = {
    "default_branch": "the default branch",
    "branch": "other branches",
    "pull_request": "pull requests",
    "workflow_run": "CI workflow runs",
    "folder": "folders on disk",
    "host": "developer machines",
}

SURFACE_COUNTS: dict[str, str] = {
    "surface": STRING,
    "label": STRING,
    "repos": INT,
    "only_here": INT,
    "refs": INT,
    "hosts": INT,
    "occurrences": INT,
    "packages": INT,
}

ADVISORY_SURFACES: dict[str, str] = {
    "advisory_id": STRING,
    "classification": STRING,
    "surface": STRING,
    "repos": INT,
    "refs": INT,
    "occurrences": INT,
}

REPO_SURFACES: dict[str, str] = {
    "repo": STRING,
    "surfaces": STRING,
    "default_branch": BOOL,
    "exposure": STRING,
    "refs": STRING,
    "occurrences": INT,
    "packages": STRING,
}

TOP_INTRODUCERS: dict[str, str] = {
    "introducer": STRING,
    "repos": INT,
    "refs": INT,
    "occurrences": INT,
    "packages": STRING,
    "itself_compromised": BOOL,
    "dev_only": BOOL,
    "example_path": STRING,
    "repo_list": STRING,
}

#: What an occurrence with neither a repository nor a host is filed under.
NO_SUBJECT = "(no repository recorded)"
#: What an occurrence whose lockfile does not say how it got there is filed under.
NO_INTRODUCER = "(not recorded)"


def surface_rank(surface: str) -> int:
    """Position of ``surface`` in :data:`SURFACES`; unknown surfaces sort last."""
    return SURFACES.index(surface) if surface in SURFACES else len(SURFACES)


def surface_label(surface: str) -> str:
    """Reader's name of a surface (``pull_request`` → ``pull request``); unknown ones verbatim."""
    return SURFACE_LABELS.get(surface, surface or "(not recorded)")


def _ordered(surfaces: Iterable[object]) -> list[str]:
    return sorted({str(s) for s in surfaces}, key=lambda s: (surface_rank(s), s))


def subjects(frame: pd.DataFrame) -> pd.Series:
    """Who an occurrence belongs to: its repository, or ``host <name>`` for a developer machine.

    A machine is one thing to clean up (its global installs, caches and checkouts together), and
    its project names (``(global npm)``, ``(npm cache)``, a path) mean nothing across machines,
    so every ``host``-surface row is filed under its machine. A row with neither a repository
    nor a host gets :data:`NO_SUBJECT`, so it is still counted and listed.
    """
    repo = _text(frame["repo"])
    host = _text(frame["host"]) if "host" in frame.columns else pd.Series("", index=frame.index)
    surface = (
        _text(frame["surface"]) if "surface" in frame.columns else pd.Series("", index=frame.index)
    )
    machine = (surface == "host") | ((repo == "") & (host != ""))
    out = repo.where(repo != "", NO_SUBJECT).where(~machine, "host " + host)
    return out.astype("string")


def surface_counts(
    exposure: pd.DataFrame, *, inventory: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Count repositories, refs, hosts and occurrences per surface.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.
    inventory : pandas.DataFrame, optional
        ``inventory`` frame. When given, surfaces that were scanned and hold nothing compromised
        get a row of zeros; surfaces that were not scanned at all get none, so a zero always
        means "looked, found nothing".

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`SURFACE_COUNTS`, one row per surface in :data:`SURFACES` order:
        ``repos`` (distinct repositories, or hosts for machines without one), ``only_here``
        (those found on this surface and no other), ``refs`` (distinct repo and ref), ``hosts``,
        ``occurrences`` and ``packages`` (distinct ``name@version``).
    """
    occ = occurrences(exposure)
    seen = set(_text(occ["surface"]))
    if inventory is not None and not inventory.empty:
        seen |= set(_text(inventory["surface"]))
    if occ.empty:
        rows = [
            {"surface": s, "label": surface_label(s), **dict.fromkeys(list(SURFACE_COUNTS)[2:], 0)}
            for s in _ordered(seen)
        ]
        return _typed(pd.DataFrame(rows, columns=list(SURFACE_COUNTS)), SURFACE_COUNTS)
    work = pd.DataFrame(
        {
            "surface": _text(occ["surface"]),
            "subject": subjects(occ),
            "ref": subjects(occ) + "\x1f" + _text(occ["ref"]),
            "host": _text(occ["host"]),
            "pv": package_versions(occ),
        }
    )
    per_subject = work.groupby("subject")["surface"].nunique()
    single = set(per_subject[per_subject == 1].index)
    rows = []
    for surface in _ordered(seen):
        part = work.loc[work["surface"] == surface]
        rows.append(
            {
                "surface": surface,
                "label": surface_label(surface),
                "repos": part["subject"].nunique(),
                "only_here": len(set(part["subject"]) & single),
                "refs": part["ref"].nunique(),
                "hosts": part.loc[part["host"] != "", "host"].nunique(),
                "occurrences": len(part),
                "packages": part["pv"].nunique(),
            }
        )
    return _typed(pd.DataFrame(rows, columns=list(SURFACE_COUNTS)), SURFACE_COUNTS)


def advisory_surface_counts(exposure: pd.DataFrame) -> pd.DataFrame:
    """Count repositories, refs and occurrences per advisory and surface.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema. Each of its rows is one (occurrence, advisory),
        so an occurrence claimed by three advisories counts once under each.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`ADVISORY_SURFACES`, one row per (advisory, surface) that holds
        anything; advisories with the most repositories first, surfaces in :data:`SURFACES`
        order.
    """
    if exposure.empty:
        return _typed(pd.DataFrame(columns=list(ADVISORY_SURFACES)), ADVISORY_SURFACES)
    keys = ["repo", "ref", "host", "surface", "file", "name", "version", "dependency_path"]
    work = pd.DataFrame({k: _text(exposure[k]) for k in keys})
    work["advisory_id"] = _text(exposure["advisory_id"])
    work["classification"] = _text(exposure["classification"])
    work["subject"] = subjects(exposure)
    work["subject_ref"] = work["subject"] + "\x1f" + work["ref"]
    # One row per (occurrence, advisory): a lockfile listing the same advisory twice is one.
    work = work.drop_duplicates([*keys, "advisory_id"])
    grouped = (
        work.groupby(["advisory_id", "surface"], sort=False)
        .agg(
            classification=("classification", "first"),
            repos=("subject", "nunique"),
            refs=("subject_ref", "nunique"),
            occurrences=("subject", "size"),
        )
        .reset_index()
    )
    total = work.groupby("advisory_id")["subject"].nunique().rename("total_repos")
    grouped = grouped.join(total, on="advisory_id")
    grouped["rank"] = grouped["surface"].map(surface_rank)
    grouped = grouped.sort_values(
        ["total_repos", "advisory_id", "rank"], ascending=[False, True, True]
    )
    return _typed(grouped, ADVISORY_SURFACES)


def exposure_sentence(surfaces: list[str]) -> str:
    """``"on the default branch"`` when it is among ``surfaces``, else ``"only on pull requests"``…"""
    if "default_branch" in surfaces:
        return "on the default branch"
    names = [_SURFACE_PLURALS.get(s, s or "an unrecorded surface") for s in surfaces]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"only on {joined}"


def repo_surfaces(exposure: pd.DataFrame) -> pd.DataFrame:
    """Say for each repository where its compromised versions are: default branch or only elsewhere.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`REPO_SURFACES`, one row per repository and one per developer
        machine (``host <name>``, see :func:`subjects`): ``surfaces`` (comma-separated, in
        :data:`SURFACES` order), ``default_branch``, ``exposure`` (``"on the default
        branch"`` or e.g. ``"only on pull requests"``), ``refs`` (comma-separated),
        ``occurrences`` and ``packages`` (``name@version``, comma-separated). Repositories
        exposed on the default branch come first.
    """
    occ = occurrences(exposure)
    if occ.empty:
        return _typed(pd.DataFrame(columns=list(REPO_SURFACES)), REPO_SURFACES)
    work = pd.DataFrame(
        {
            "subject": subjects(occ),
            "surface": _text(occ["surface"]),
            "ref": _text(occ["ref"]),
            "pv": package_versions(occ),
        }
    )
    rows = []
    for subject, part in work.groupby("subject", sort=True):
        surfaces = _ordered(part["surface"])
        rows.append(
            {
                "repo": subject,
                "surfaces": ", ".join(surface_label(s) for s in surfaces),
                "default_branch": "default_branch" in surfaces,
                "exposure": exposure_sentence(surfaces),
                "refs": ", ".join(sorted(set(part["ref"]) - {""})),
                "occurrences": len(part),
                "packages": ", ".join(sorted(set(part["pv"]))),
                "_rank": min(surface_rank(s) for s in surfaces),
            }
        )
    out = pd.DataFrame(rows).sort_values(["_rank", "repo"], kind="stable")
    return _typed(out, REPO_SURFACES)


def _introducers(occ: pd.DataFrame) -> pd.Series:
    # The lockfile's own introducer first; a path without one still names its first step.
    introducer = _text(occ["introducer"]).str.strip()
    first_step = _text(occ["dependency_path"]).str.split(" > ").str[0].fillna("").str.strip()
    out = introducer.where(introducer != "", first_step)
    return out.where(out != "", NO_INTRODUCER).astype("string")


def _dev_only(flags: pd.Series) -> object:
    values = flags.astype("boolean")
    if (values == False).any():  # noqa: E712 - nullable booleans: NA must not count as False
        return False
    if values.isna().any():
        return pd.NA
    return True


def top_introducers(exposure: pd.DataFrame) -> pd.DataFrame:
    """Rank the direct dependencies by how many repositories they drag compromised versions into.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema; ``introducer`` is the dependency declared in the
        project's own manifest (the first step of ``dependency_path`` when a lockfile does not
        record one).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`TOP_INTRODUCERS`, one row per introducer, most repositories first:
        ``repos``, ``refs``, ``occurrences``, ``packages`` (the compromised ``name@version``
        it brings, comma-separated), ``itself_compromised`` (the introducer is one of the
        compromised packages, declared directly), ``dev_only`` (every occurrence it brings
        is dev-only; NA when a lockfile does not say), ``example_path`` (its most frequent
        dependency path) and ``repo_list``.
    """
    occ = occurrences(exposure)
    if occ.empty:
        return _typed(pd.DataFrame(columns=list(TOP_INTRODUCERS)), TOP_INTRODUCERS)
    work = pd.DataFrame(
        {
            "introducer": _introducers(occ),
            "subject": subjects(occ),
            "name": _text(occ["name"]),
            "pv": package_versions(occ),
            "path": _text(occ["dependency_path"]),
            "dev": occ["dev"].astype("boolean"),
        }
    )
    work["subject_ref"] = work["subject"] + "\x1f" + _text(occ["ref"])
    rows = []
    for introducer, part in work.groupby("introducer", sort=False):
        paths = part.loc[part["path"] != "", "path"]
        example = paths.value_counts().sort_index().sort_values(ascending=False, kind="stable")
        rows.append(
            {
                "introducer": introducer,
                "repos": part["subject"].nunique(),
                "refs": part["subject_ref"].nunique(),
                "occurrences": len(part),
                "packages": ", ".join(sorted(set(part["pv"]))),
                "itself_compromised": bool((part["name"] == introducer).any()),
                "dev_only": _dev_only(part["dev"]),
                "example_path": example.index[0] if len(example) else "",
                "repo_list": ", ".join(sorted(set(part["subject"]))),
            }
        )
    out = pd.DataFrame(rows).sort_values(
        ["repos", "occurrences", "introducer"], ascending=[False, False, True]
    )
    return _typed(out, TOP_INTRODUCERS)
