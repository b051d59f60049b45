"""Blast-radius numbers and tables: pure functions over the evidence frames.

Nothing here knows where the evidence came from; every function takes frames with the
schemas of :mod:`ircore._frames` and returns plain values or small frames for the report.

An *occurrence* is one place a compromised version is installed: a distinct
(repo, ref, surface, file, package, version, dependency path). The ``exposure`` frame may hold
several rows for one occurrence when more than one advisory matches it; those are counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ircore._frames import BOOL, INT, STRING

#: The columns that identify one occurrence in the ``exposure`` frame.
OCCURRENCE_KEY: tuple[str, ...] = (
    "repo",
    "ref",
    "surface",
    "file",
    "name",
    "version",
    "dependency_path",
)

AFFECTED_REPOS: dict[str, str] = {
    "package_version": STRING,
    "package": STRING,
    "version": STRING,
    "repos": INT,
    "refs": INT,
    "occurrences": INT,
}

DEPENDENCY_PATHS: dict[str, str] = {
    "repo": STRING,
    "ref": STRING,
    "file": STRING,
    "package_version": STRING,
    "introducer": STRING,
    "path": STRING,
    "dev": BOOL,
}


def _text(series: pd.Series) -> pd.Series:
    # Grouping drops NA keys; an occurrence with an unknown ref is still an occurrence.
    return series.astype("string").fillna("")


def package_versions(frame: pd.DataFrame) -> pd.Series:
    """Return ``name@version`` for each row of a frame with ``name`` and ``version`` columns."""
    return (_text(frame["name"]) + "@" + _text(frame["version"])).astype("string")


def occurrences(exposure: pd.DataFrame) -> pd.DataFrame:
    """Return one row per occurrence of a compromised version, advisories merged.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.

    Returns
    -------
    pandas.DataFrame
        The exposure columns, deduplicated on :data:`OCCURRENCE_KEY`; the first row of each
        occurrence is kept, so ``advisory_id`` shows one of the matching advisories.
    """
    if exposure.empty:
        return exposure.copy()
    keys = pd.DataFrame({c: _text(exposure[c]) for c in OCCURRENCE_KEY})
    return exposure.loc[~keys.duplicated()].reset_index(drop=True)


def _distinct_repos(*frames: pd.DataFrame) -> set[str]:
    repos: set[str] = set()
    for frame in frames:
        if "repo" in frame.columns and not frame.empty:
            repos.update(str(r) for r in frame["repo"].dropna() if str(r))
    return repos


def _count_flag(series: pd.Series) -> tuple[int, int, int]:
    # Booleans are nullable on purpose: NA means the lockfile does not say, which is
    # neither True nor False and must not be folded into either count.
    flags = series.astype("boolean")
    return int((flags == True).sum()), int((flags == False).sum()), int(flags.isna().sum())  # noqa: E712


def blast_radius_summary(
    exposure: pd.DataFrame,
    inventory: pd.DataFrame,
    inputs: pd.DataFrame,
    *,
    problems: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Count how far the compromised versions reached.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame: the inventory rows that match a compromised version.
    inventory : pandas.DataFrame
        ``inventory`` frame: everything that was read, used to count the repos scanned.
    inputs : pandas.DataFrame
        ``inputs`` frame: every input looked at, with its status.
    problems : pandas.DataFrame, optional
        ``problems`` frame; when given, any row makes the result incomplete.

    Returns
    -------
    dict
        ``repos_scanned``, ``repos_affected``, ``refs_affected`` (distinct repo and ref),
        ``default_branch_repos_affected``, ``occurrences``, ``direct``, ``transitive``,
        ``direct_unknown``, ``dev_only``, ``prod``, ``dev_unknown``, ``packages_affected``
        (sorted ``name@version`` list), ``inputs_total``, ``inputs_failed``, ``problems``,
        ``unread`` (problem rows plus failed inputs that have none), ``complete`` (every
        input read), ``verdict`` (one plain sentence) and ``verdict_level``
        (``"affected"``, ``"clear"`` or ``"inconclusive"``).
    """
    occ = occurrences(exposure)
    direct, transitive, direct_unknown = _count_flag(occ["direct"])
    dev_only, prod, dev_unknown = _count_flag(occ["dev"])
    affected = _distinct_repos(occ)
    default_branch = _distinct_repos(occ.loc[_text(occ["surface"]) == "default_branch"])
    refs = {(r, f) for r, f in zip(_text(occ["repo"]), _text(occ["ref"]), strict=True)}

    inputs_total = len(inputs)
    inputs_failed = int((_text(inputs["status"]) == "failed").sum())
    problem_count = 0 if problems is None else len(problems)
    unread = problem_count + _failed_without_problem(inputs, problems)
    complete = unread == 0
    scanned = _distinct_repos(inputs, inventory, occ)

    level, verdict = _verdict(
        occurrences=len(occ),
        repos_affected=len(affected),
        repos_scanned=len(scanned),
        inputs_total=inputs_total,
        unread=unread,
        complete=complete,
    )
    return {
        "repos_scanned": len(scanned),
        "repos_affected": len(affected),
        "refs_affected": len(refs),
        "default_branch_repos_affected": len(default_branch),
        "occurrences": len(occ),
        "direct": direct,
        "transitive": transitive,
        "direct_unknown": direct_unknown,
        "dev_only": dev_only,
        "prod": prod,
        "dev_unknown": dev_unknown,
        "packages_affected": sorted(set(package_versions(occ))),
        "inputs_total": inputs_total,
        "inputs_failed": inputs_failed,
        "problems": problem_count,
        "unread": unread,
        "complete": complete,
        "verdict": verdict,
        "verdict_level": level,
    }


def _failed_without_problem(inputs: pd.DataFrame, problems: pd.DataFrame | None) -> int:
    # A loader may mark an input failed without a problem row; it is still unread.
    failed = _text(inputs.loc[_text(inputs["status"]) == "failed", "evidence"])
    covered = set() if problems is None else set(_text(problems["evidence"]))
    return int((~failed.isin(covered)).sum())


def _inputs(n: int) -> str:
    return f"{n} input" if n == 1 else f"{n} inputs"


def _verdict(
    *,
    occurrences: int,
    repos_affected: int,
    repos_scanned: int,
    inputs_total: int,
    unread: int,
    complete: bool,
) -> tuple[str, str]:
    # The wording is the contract of DESIGN.md: "not affected" only when every input was read.
    if occurrences:
        sentence = (
            f"Affected: compromised versions were found in {repos_affected} of "
            f"{repos_scanned} repositories ({occurrences} occurrences)."
        )
        if not complete:
            sentence += f" {_inputs(unread)} could not be read, so there may be more."
        return "affected", sentence
    if inputs_total == 0:
        return "inconclusive", "Inconclusive: no inputs were recorded, so nothing can be concluded."
    if not complete:
        return "inconclusive", (
            f"Inconclusive: no compromised version was found in what could be read, but "
            f'{_inputs(unread)} could not be read, so "not affected" cannot be concluded.'
        )
    return "clear", (
        f"Not affected: no compromised version was found, and every input was read "
        f"({inputs_total} inputs, {repos_scanned} repositories)."
    )


def headline_figures(summary: Mapping[str, Any]) -> dict[str, str | int]:
    """Pick the big numbers of a blast-radius summary, labelled for a non-specialist reader.

    Parameters
    ----------
    summary : mapping
        The result of :func:`blast_radius_summary`.

    Returns
    -------
    dict of str to str or int
        Label → value, in reading order. "Not stated" counts (a lockfile that does not say
        whether a package is direct or dev-only) appear only when there are some.
    """
    figures: dict[str, str | int] = {
        "Repositories affected": f"{summary['repos_affected']} of {summary['repos_scanned']}",
        "Branches, PRs and commits affected": summary["refs_affected"],
        "Occurrences": summary["occurrences"],
        "Direct dependency": summary["direct"],
        "Transitive dependency": summary["transitive"],
    }
    if summary["direct_unknown"]:
        figures["Direct or transitive: not stated"] = summary["direct_unknown"]
    figures["Dev-only (build and test)"] = summary["dev_only"]
    figures["Production"] = summary["prod"]
    if summary["dev_unknown"]:
        figures["Dev or production: not stated"] = summary["dev_unknown"]
    return figures


def affected_repos(exposure: pd.DataFrame) -> pd.DataFrame:
    """Count repositories, refs and occurrences per compromised ``package@version``.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`AFFECTED_REPOS`, most repositories first.
    """
    occ = occurrences(exposure)
    if occ.empty:
        return _typed(pd.DataFrame(columns=list(AFFECTED_REPOS)), AFFECTED_REPOS)
    work = pd.DataFrame(
        {
            "package_version": package_versions(occ),
            "package": _text(occ["name"]),
            "version": _text(occ["version"]),
            "repo": _text(occ["repo"]),
            "repo_ref": _text(occ["repo"]) + "\x1f" + _text(occ["ref"]),
        }
    )
    grouped = work.groupby(["package_version", "package", "version"], sort=False).agg(
        repos=("repo", lambda s: s[s != ""].nunique()),
        refs=("repo_ref", "nunique"),
        occurrences=("repo", "size"),
    )
    out = grouped.reset_index().sort_values(
        ["repos", "occurrences", "package_version"], ascending=[False, False, True]
    )
    return _typed(out, AFFECTED_REPOS)


def dependency_paths(exposure: pd.DataFrame) -> pd.DataFrame:
    """List how each occurrence got there: which direct dependency pulls it in, and through what.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`DEPENDENCY_PATHS`, one row per distinct path, sorted by repo, ref,
        file and package.
    """
    occ = occurrences(exposure)
    out = pd.DataFrame(
        {
            "repo": occ["repo"],
            "ref": occ["ref"],
            "file": occ["file"],
            "package_version": package_versions(occ) if not occ.empty else pd.Series(dtype=STRING),
            "introducer": occ["introducer"],
            "path": occ["dependency_path"],
            "dev": occ["dev"],
        }
    )
    out = _typed(out, DEPENDENCY_PATHS)
    keys = pd.DataFrame({c: out[c].astype("object").fillna("") for c in out.columns})
    out = out.loc[~keys.duplicated()]
    order = (
        keys.loc[out.index].sort_values(["repo", "ref", "file", "package_version", "path"]).index
    )
    return out.loc[order].reset_index(drop=True)


def _typed(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    return frame.reindex(columns=list(schema)).astype(schema).reset_index(drop=True)
