"""Blast-radius numbers and tables: pure functions over the evidence frames.

Nothing here knows where the evidence came from; every function takes frames with the
schemas of :mod:`ircore._frames` and returns plain values or small frames for the report.

An *occurrence* is one place a compromised version is installed: a distinct (repo, ref,
surface, host, file, package, version, dependency path). The ``exposure`` frame may hold several
rows for one occurrence when more than one advisory matches it; those are counted once.
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
    # Two developer machines with the same project path are two occurrences.
    "host",
    "file",
    "name",
    "version",
    "dependency_path",
)

#: ``source`` values of the ``inputs`` rows that advisory loaders write. Every other input is
#: evidence of what is installed (a lockfile, a manifest, a folder): the thing looked *at*.
# Inputs that say what is compromised (threat intelligence, the registry), as opposed to inputs
# that say what is installed: only the latter count as lockfiles read.
ADVISORY_SOURCES: frozenset[str] = frozenset(
    {
        "osv-dir",
        "osv-zip",
        "osv-api",
        "list",
        "advisories",
        "incident",
        "ghsa",
        "ghsa-file",
        "threat-center",
        "threat-center-export",
        "registry",
        "registry-cache",
    }
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


def _on_machine(frame: pd.DataFrame) -> pd.Series:
    # Rows read on a developer machine: their "repo" is a project path there, not a repository.
    host = _text(frame["host"]) if "host" in frame.columns else pd.Series("", index=frame.index)
    if "surface" in frame.columns:
        return (_text(frame["surface"]) == "host") | (host != "")
    return host != ""


def _distinct_repos(*frames: pd.DataFrame) -> set[str]:
    repos: set[str] = set()
    for frame in frames:
        if "repo" in frame.columns and not frame.empty:
            kept = frame.loc[~_on_machine(frame), "repo"]
            repos.update(str(r) for r in kept.dropna() if str(r))
    return repos


def _distinct_hosts(*frames: pd.DataFrame) -> set[str]:
    hosts: set[str] = set()
    for frame in frames:
        if "host" in frame.columns and not frame.empty:
            hosts.update(str(h) for h in frame["host"].dropna() if str(h))
    return hosts


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
    advisories: pd.DataFrame | None = None,
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
    advisories : pandas.DataFrame, optional
        ``advisories`` frame the exposure was matched against. When given and it holds no
        claim (no row with role ``affected``), nothing was looked for, so the verdict is
        inconclusive rather than "not affected".

    Returns
    -------
    dict
        ``repos_scanned``, ``repos_affected`` (repositories: rows read on a developer machine
        are counted as ``hosts_scanned``, ``hosts_affected`` instead), ``refs_affected``
        (distinct repo and ref),
        ``default_branch_repos_affected``, ``occurrences``, ``direct``, ``transitive``,
        ``direct_unknown``, ``dev_only``, ``prod``, ``dev_unknown``, ``packages_affected``
        (sorted ``name@version`` list), ``inputs_total``, ``inputs_failed``,
        ``lockfile_inputs`` (inputs that are not advisory files), ``lockfiles_read`` (those
        parsed or empty), ``advisory_claims`` (``None`` when ``advisories`` is not given),
        ``problems``, ``unread`` (problem rows plus failed inputs that have none),
        ``complete`` (every input read), ``verdict`` (one plain sentence) and
        ``verdict_level`` (``"affected"``, ``"clear"`` or ``"inconclusive"``).
    """
    occ = occurrences(exposure)
    direct, transitive, direct_unknown = _count_flag(occ["direct"])
    dev_only, prod, dev_unknown = _count_flag(occ["dev"])
    affected = _distinct_repos(occ)
    default_branch = _distinct_repos(occ.loc[_text(occ["surface"]) == "default_branch"])
    in_repos = occ.loc[~_on_machine(occ)]
    refs = {(r, f) for r, f in zip(_text(in_repos["repo"]), _text(in_repos["ref"]), strict=True)}

    inputs_total = len(inputs)
    status = _text(inputs["status"])
    inputs_failed = int((status == "failed").sum())
    # package.json files are read for declared ranges (or flagged as unlocked): not lockfiles
    lockfile_rows = ~_text(inputs["source"]).isin(ADVISORY_SOURCES) & (
        _text(inputs["format"]) != "package.json"
    )
    lockfiles_read = int((lockfile_rows & (status != "failed")).sum())
    claims = None if advisories is None else advisory_claims(advisories)
    problem_count = 0 if problems is None else len(problems)
    unread = problem_count + _failed_without_problem(inputs, problems)
    complete = unread == 0
    scanned = _distinct_repos(inputs, inventory, occ)
    hosts_affected = _distinct_hosts(occ)
    hosts_scanned = _distinct_hosts(inputs, inventory, occ)

    level, verdict = _verdict(
        occurrences=len(occ),
        repos_affected=len(affected),
        repos_scanned=len(scanned),
        hosts_affected=len(hosts_affected),
        hosts_scanned=len(hosts_scanned),
        inputs_total=inputs_total,
        lockfiles_read=lockfiles_read,
        lockfile_inputs=int(lockfile_rows.sum()),
        claims=claims,
        unread=unread,
        complete=complete,
    )
    return {
        "repos_scanned": len(scanned),
        "repos_affected": len(affected),
        "hosts_scanned": len(hosts_scanned),
        "hosts_affected": len(hosts_affected),
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
        "lockfile_inputs": int(lockfile_rows.sum()),
        "lockfiles_read": lockfiles_read,
        "advisory_claims": claims,
        "problems": problem_count,
        "unread": unread,
        "complete": complete,
        "verdict": verdict,
        "verdict_level": level,
    }


def unread_inputs(problems: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """List everything that stands between the evidence and a "not affected": one row each.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``problems`` frame.
    inputs : pandas.DataFrame
        ``inputs`` frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``evidence``, ``kind``, ``message``, ``repo``, ``ref``: every
        problem row, then every failed input that has no problem row (kind ``failed``). Its
        length is the ``unread`` count of :func:`blast_radius_summary`.
    """
    rows = problems.loc[:, ["source", "evidence", "kind", "message", "repo", "ref"]].copy()
    failed = inputs.loc[_text(inputs["status"]) == "failed"]
    # An input marked failed with no problem row would otherwise vanish from the list.
    covered = set(problems["evidence"].dropna().astype(str))
    orphans = failed.loc[~_text(failed["evidence"]).isin(covered)]
    if not orphans.empty:
        extra = pd.DataFrame(
            {
                "source": orphans["source"],
                "evidence": orphans["evidence"],
                "kind": "failed",
                "message": "marked as failed by its loader, with no further detail",
                "repo": orphans["repo"],
                "ref": orphans["ref"],
            }
        )
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows.reset_index(drop=True)


def _failed_without_problem(inputs: pd.DataFrame, problems: pd.DataFrame | None) -> int:
    # A loader may mark an input failed without a problem row; it is still unread.
    failed = _text(inputs.loc[_text(inputs["status"]) == "failed", "evidence"])
    covered = set() if problems is None else set(_text(problems["evidence"]))
    return int((~failed.isin(covered)).sum())


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """Return ``"1 input"``, ``"2 inputs"``: the count and the word that agrees with it.

    Parameters
    ----------
    n : int
        The count.
    singular : str
        The word for one (``"repository"``).
    plural_form : str, optional
        The word for any other count; ``singular + "s"`` by default.
    """
    return f"{n:,} {noun(n, singular, plural_form)}"


def noun(n: int, singular: str, plural_form: str | None = None) -> str:
    """Return ``singular`` when ``n`` is 1, else the plural (``singular + "s"`` by default)."""
    return singular if n == 1 else (plural_form or singular + "s")


def _verdict(
    *,
    occurrences: int,
    repos_affected: int,
    repos_scanned: int,
    hosts_affected: int = 0,
    hosts_scanned: int = 0,
    inputs_total: int,
    lockfiles_read: int,
    lockfile_inputs: int,
    claims: int | None,
    unread: int,
    complete: bool,
) -> tuple[str, str]:
    # The wording is the contract of DESIGN.md: "not affected" only when every input was read,
    # and only when something was both looked at (lockfiles) and looked for (advisories).
    unread_clause = f"{plural(unread, 'input')} could not be read"
    places = []
    if repos_scanned or not hosts_scanned:
        places.append(
            f"{repos_affected:,} of {plural(repos_scanned, 'repository', 'repositories')}"
        )
    if hosts_scanned:
        places.append(f"{hosts_affected:,} of {plural(hosts_scanned, 'developer machine')}")
    scanned_machines = f", {plural(hosts_scanned, 'developer machine')}" if hosts_scanned else ""
    if occurrences:
        sentence = (
            f"Affected: compromised versions were found in {' and '.join(places)} "
            f"({plural(occurrences, 'occurrence')})."
        )
        if not complete:
            sentence += f" {unread_clause}, so there may be more."
        return "affected", sentence
    if inputs_total == 0 and not claims:
        return "inconclusive", "Inconclusive: no inputs were recorded, so nothing can be concluded."
    missing = []
    if lockfile_inputs == 0:
        missing.append("no lockfiles were found in the sources")
    elif lockfiles_read == 0:
        missing.append(
            "the only lockfile found could not be read"
            if lockfile_inputs == 1
            else f"none of the {lockfile_inputs:,} lockfiles found could be read"
        )
    if claims == 0:
        missing.append("no advisories were loaded (nothing to match against)")
    if missing:
        sentence = f"Inconclusive: {' and '.join(missing)}, so nothing can be concluded."
        if unread and (lockfiles_read or lockfile_inputs == 0):
            sentence += f" {unread_clause}."
        return "inconclusive", sentence
    if not complete:
        return "inconclusive", (
            f"Inconclusive: no compromised version was found in what could be read, but "
            f'{unread_clause}, so "not affected" cannot be concluded.'
        )
    return "clear", (
        f"Not affected: no compromised version was found, and every input was read "
        f"({plural(inputs_total, 'input')}, "
        f"{plural(repos_scanned, 'repository', 'repositories')}{scanned_machines})."
    )


def advisory_claims(advisories: pd.DataFrame) -> int:
    """Count the claims in ``advisories`` that matching uses (rows with role ``affected``)."""
    if advisories.empty:
        return 0
    return int((_text(advisories["role"]) == "affected").sum())


def headline_figures(summary: Mapping[str, Any]) -> dict[str, str | int]:
    """Pick the four numbers every page leads with, labelled for a non-specialist reader.

    ``index.html`` and each section show the same tiles in the same order, so a reader who
    moves between them compares like with like.

    Parameters
    ----------
    summary : mapping
        The result of :func:`blast_radius_summary`.

    Returns
    -------
    dict of str to str or int
        Label → value: repositories affected ("12 of 27"), occurrences, branches and PRs
        affected, input problems. Each label agrees in number with its value.
    """
    repos, refs = summary["repos_affected"], summary["refs_affected"]
    occurrences_, unread = summary["occurrences"], summary["unread"]
    return {
        noun(repos, "Repository affected", "Repositories affected"): (
            f"{repos:,} of {summary['repos_scanned']:,}"
        ),
        noun(occurrences_, "Occurrence"): occurrences_,
        noun(refs, "Branch or PR affected", "Branches and PRs affected"): refs,
        noun(unread, "Input problem"): unread,
    }


def headline_highlight(summary: Mapping[str, Any]) -> list[str]:
    """Labels of :func:`headline_figures` to draw in red: affected repositories, input problems."""
    figures = list(headline_figures(summary))
    return [
        label
        for label, hot in zip(
            figures, (summary["repos_affected"], 0, 0, summary["unread"]), strict=True
        )
        if hot
    ]


def breakdown_figures(summary: Mapping[str, Any]) -> dict[str, int]:
    """How the occurrences are used: direct or transitive, dev-only or production.

    Parameters
    ----------
    summary : mapping
        The result of :func:`blast_radius_summary`.

    Returns
    -------
    dict of str to int
        Label → count of occurrences, in reading order. "Not stated" counts (a lockfile that
        does not say whether a package is direct or dev-only) appear only when there are some.
    """
    figures: dict[str, int] = {
        noun(summary["direct"], "Direct dependency", "Direct dependencies"): summary["direct"],
        noun(summary["transitive"], "Transitive dependency", "Transitive dependencies"): (
            summary["transitive"]
        ),
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
        Columns of :data:`AFFECTED_REPOS`, most repositories first. A developer machine counts
        once under ``repos`` (as ``host <name>``, whatever projects and caches hold it) and
        never under ``refs``.
    """
    from ircore.analysis._surfaces import subjects  # _surfaces builds on this module

    occ = occurrences(exposure)
    if occ.empty:
        return _typed(pd.DataFrame(columns=list(AFFECTED_REPOS)), AFFECTED_REPOS)
    machine = _on_machine(occ)
    work = pd.DataFrame(
        {
            "package_version": package_versions(occ),
            "package": _text(occ["name"]),
            "version": _text(occ["version"]),
            "repo": _text(subjects(occ)),
            "repo_ref": (_text(occ["repo"]) + "\x1f" + _text(occ["ref"])).where(~machine, ""),
        }
    )
    grouped = work.groupby(["package_version", "package", "version"], sort=False).agg(
        repos=("repo", lambda s: s[s != ""].nunique()),
        refs=("repo_ref", lambda s: s[s != ""].nunique()),
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
        file and package. For rows read on a developer machine, ``repo`` is
        ``host <name>: <project>`` (``(npm cache)``, ``(global npm)`` or the project path).
    """
    from ircore.analysis._surfaces import subjects  # _surfaces builds on this module

    occ = occurrences(exposure)
    # A checkout on a laptop is named by the machine first: "ledger-cli" alone would read as
    # the repository's own default branch.
    where = subjects(occ) if not occ.empty else pd.Series(dtype=STRING)
    project = _text(occ["repo"])
    machine = where.str.startswith("host ") & (project != "")
    out = pd.DataFrame(
        {
            "repo": where.where(~machine, where + ": " + project),
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
