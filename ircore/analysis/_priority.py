"""Which repositories to look at first: one row per repository, ordered by how urgent it is.

The order is the order of the work: a compromised version resolved on a default branch ships
(production dependencies before dev-only ones), then what sits on other branches and pull
requests, then developer machines, then ranges that would admit one on the next install, and
last the repositories whose inputs could not be read: those are *inconclusive*, never clean.
"""

from __future__ import annotations

import pandas as pd

from ircore._frames import INT, STRING, new_frame
from ircore.analysis._blast_radius import (
    _text,
    _typed,
    occurrences,
    package_versions,
    plural,
    unread_inputs,
)
from ircore.analysis._surfaces import exposure_sentence, subjects, surface_label, surface_rank

#: Tier → short label, in priority order.
TIERS: dict[int, str] = {
    1: "default branch, production",
    2: "default branch, dev-only",
    3: "branches and pull requests",
    4: "developer machines",
    5: "latent only",
    6: "inconclusive",
    7: "nothing found",
}

#: The tier of a repository where every input was read and nothing was found.
CLEAR_TIER = 7

#: Surfaces that stand for what a repository ships today. A plain folder scan is a checkout on
#: disk with no branch recorded: the conservative reading is that it is what runs.
CURRENT_SURFACES = frozenset({"default_branch", "folder"})
#: Other refs of a repository: branches, pull requests, and the CI runs that built them.
REF_SURFACES = frozenset({"branch", "pull_request", "workflow_run"})

PRIORITY: dict[str, str] = {
    "rank": INT,
    "repo": STRING,
    "tier": INT,
    "priority": STRING,
    "reason": STRING,
    "occurrences": INT,
    "default_branch_prod": INT,
    "default_branch_dev": INT,
    "branches_prs": INT,
    "hosts": INT,
    "latent": INT,
    "unreadable_ranges": INT,
    "unread": INT,
    "packages": STRING,
    "refs": STRING,
    "top_evidence": STRING,
}


def _occurrence_tier(surface: str, dev: object) -> int:
    if surface in CURRENT_SURFACES:
        # A lockfile that does not say whether a package is dev-only is read as production:
        # the cost of the opposite mistake is shipping it.
        return 2 if dev is True else 1
    if surface == "host":
        return 4
    return 3  # branches, pull requests, CI runs, and any surface not known here


def _evidence_text(row: pd.Series) -> str:
    where = str(row["ref"]) or (f"host {row['host']}" if row["host"] else "")
    place = f"{where}: {row['file']}" if where else str(row["file"])
    path = str(row["path"]) or str(row["name"])
    return f"{row['pv']} via {path} ({place}, {surface_label(str(row['surface']))})"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def prioritize_repos(
    exposure: pd.DataFrame,
    *,
    latent: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    inputs: pd.DataFrame | None = None,
    inventory: pd.DataFrame | None = None,
    include_clear: bool = False,
) -> pd.DataFrame:
    """Order the repositories by what to do first, with the reason and the evidence for each.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame.
    latent : pandas.DataFrame, optional
        The result of :func:`ircore.analysis.latent_exposure`; its ``admits`` rows make a
        repository with nothing resolved *latent only*, its ``unparseable`` rows (a range
        that cannot be read might admit one) make a repository with nothing else
        *inconclusive*.
    problems, inputs : pandas.DataFrame, optional
        ``problems`` and ``inputs`` frames; a repository with an input that could not be read
        is counted in ``unread`` and, when nothing was found in it, listed as
        *inconclusive*. Unread inputs that belong to no repository (an advisory file) are not
        a repository's; the problems box of the report lists them.
    inventory : pandas.DataFrame, optional
        ``inventory`` frame. ``inputs`` and ``problems`` name a developer machine's projects
        by their folder, not by the machine; with the inventory, a name read only on one
        machine is filed under that machine (``host <name>``), as its occurrences are.
    include_clear : bool, optional
        Also list every repository in ``inputs`` where every input was read and nothing was
        found (tier 7).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`PRIORITY`, one row per repository and one per developer machine
        (``host <name>``, see :func:`ircore.analysis.subjects`), ``rank`` 1 first. ``tier`` is a key of :data:`TIERS`
        and ``priority`` its label; ``reason`` is one sentence; the counts are occurrences on
        the default branch (production, dev-only), on branches/PRs/CI runs, on developer
        machines, latent declarations, unreadable declared ranges and unread inputs; ``packages`` the compromised
        ``name@version`` resolved; ``top_evidence`` the most urgent occurrence (or
        declaration, or unread input) in plain words. Within a tier: most occurrences first.
    """
    occ = occurrences(exposure)
    work = pd.DataFrame(
        {
            "subject": subjects(occ),
            "surface": _text(occ["surface"]),
            "ref": _text(occ["ref"]),
            "host": _text(occ["host"]),
            "file": _text(occ["file"]),
            "name": _text(occ["name"]),
            "pv": package_versions(occ) if not occ.empty else pd.Series(dtype="string"),
            "path": _text(occ["dependency_path"]),
            "direct": occ["direct"].astype("boolean"),
        }
    )
    work["tier"] = [
        _occurrence_tier(s, None if pd.isna(d) else bool(d))
        for s, d in zip(work["surface"], occ["dev"].astype("boolean"), strict=True)
    ]
    latent_rows = _latent_rows(latent)
    machines = _machine_projects(inventory)
    unread = _unread_rows(problems, inputs)
    unread["repo"] = unread["repo"].map(lambda r: machines.get(r, r))
    names = set(work["subject"]) | set(latent_rows["repo"]) | set(unread["repo"])
    names.discard("")
    if include_clear and inputs is not None:
        names |= {machines.get(r, r) for r in _text(inputs["repo"])} - {""}
    rows = []
    for name in names:
        rows.append(
            _repo_row(
                name,
                work.loc[work["subject"] == name],
                latent_rows.loc[latent_rows["repo"] == name],
                unread.loc[unread["repo"] == name],
            )
        )
    if not rows:
        return _typed(pd.DataFrame(columns=list(PRIORITY)), PRIORITY)
    out = pd.DataFrame(rows).sort_values(
        ["tier", "default_branch_prod", "occurrences", "latent", "unread", "repo"],
        ascending=[True, False, False, False, False, True],
        kind="stable",
    )
    out["rank"] = range(1, len(out) + 1)
    return _typed(out, PRIORITY)


def _machine_projects(inventory: pd.DataFrame | None) -> dict[str, str]:
    """Project name → ``host <name>``, for names read on exactly one machine and nowhere else."""
    if inventory is None or inventory.empty:
        return {}
    surface = _text(inventory["surface"])
    repo = _text(inventory["repo"])
    elsewhere = set(repo.loc[surface != "host"])
    hosts = (
        pd.DataFrame({"repo": repo, "host": _text(inventory["host"])})
        .loc[surface == "host"]
        .drop_duplicates()
    )
    single = hosts.groupby("repo")["host"].nunique()
    return {
        str(r): f"host {h}"
        for r, h in zip(hosts["repo"], hosts["host"], strict=True)
        if r and h and single[r] == 1 and r not in elsewhere
    }


def _latent_rows(latent: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["repo", "file", "name", "spec", "field", "admits", "ref", "status", "message"]
    if latent is None or latent.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    out = pd.DataFrame({c: _text(latent[c]) for c in columns})
    # A machine's declarations are filed under "host <name>", as its occurrences are.
    out["repo"] = subjects(latent)
    return out


def _unread_rows(problems: pd.DataFrame | None, inputs: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["repo", "ref", "kind", "message", "evidence"]
    if problems is None and inputs is None:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    unread = unread_inputs(
        problems if problems is not None else new_frame("problems"),
        inputs if inputs is not None else new_frame("inputs"),
    )
    frame = pd.DataFrame({c: _text(unread[c]) for c in columns})
    # One file may be reported by two loaders (what it installs, what it declares): one input.
    frame = frame.drop_duplicates(["repo", "evidence"])
    return frame.loc[frame["repo"] != ""]


def _repo_row(
    name: str, occ: pd.DataFrame, declared: pd.DataFrame, unread: pd.DataFrame
) -> dict[str, object]:
    current = occ.loc[occ["tier"] <= 2]
    latent = declared.loc[declared["status"] == "admits"]
    unreadable = declared.loc[declared["status"] == "unparseable"]
    counts = {
        "default_branch_prod": int((occ["tier"] == 1).sum()),
        "default_branch_dev": int((occ["tier"] == 2).sum()),
        "branches_prs": int((occ["tier"] == 3).sum()),
        "hosts": int((occ["tier"] == 4).sum()),
        "latent": len(latent),
        "unreadable_ranges": len(unreadable),
        "unread": len(unread),
    }
    if not occ.empty:
        tier = int(occ["tier"].min())
        # The most urgent occurrence: its tier, then a direct dependency (the one line to
        # change), then the earliest surface and ref.
        ranked = occ.assign(
            _direct=~occ["direct"].fillna(False).astype(bool),
            _surface=occ["surface"].map(surface_rank),
        ).sort_values(["tier", "_direct", "_surface", "ref", "file", "pv"])
        evidence = _evidence_text(ranked.iloc[0])
    elif not latent.empty:
        tier = 5
        first = latent.sort_values(["ref", "file", "name"]).iloc[0]
        evidence = (
            f"{first['file']}: {first['name']} {first['spec']} ({first['field']}) admits "
            f"{first['admits']}" + (f" on {first['ref']}" if first["ref"] else "")
        )
    elif not unread.empty:
        tier = 6
        first = unread.iloc[0]
        evidence = _short(f"{first['kind']}: {first['message']}")
    elif not unreadable.empty:
        tier = 6
        first = unreadable.sort_values(["ref", "file", "name"]).iloc[0]
        evidence = _short(
            f"{first['file']}: {first['name']} {first['spec']} ({first['field']}) cannot be "
            f"read: {first['message']}"
        )
    else:
        tier = CLEAR_TIER
        evidence = ""
    return {
        "repo": name,
        "tier": tier,
        "priority": TIERS[tier],
        "reason": _reason(tier, occ, current, counts),
        "occurrences": len(occ),
        **counts,
        "packages": ", ".join(sorted(set(occ["pv"]))),
        "refs": ", ".join(sorted(set(occ["ref"]) - {""})),
        "top_evidence": evidence,
    }


def _reason(tier: int, occ: pd.DataFrame, current: pd.DataFrame, counts: dict[str, int]) -> str:
    parts: list[str] = []
    if tier in (1, 2):
        versions = ", ".join(sorted(set(current["pv"])))
        kind = "in production dependencies" if tier == 1 else "in dev-only dependencies"
        if tier == 1 and counts["default_branch_dev"]:
            kind = "in production dependencies (and dev-only ones)"
        where = (
            "on the default branch" if (current["surface"] == "default_branch").any() else "on disk"
        )
        parts.append(f"Resolves {versions} {where}, {kind}")
    elif tier == 3:
        elsewhere = occ.loc[occ["tier"] == 3]
        refs = sorted(set(elsewhere["ref"]) - {""})
        where = exposure_sentence(sorted(set(elsewhere["surface"]), key=surface_rank))
        parts.append(
            f"Resolves {', '.join(sorted(set(occ['pv'])))} {where}"
            + (f" ({', '.join(refs)})" if refs else "")
            + ", not on the default branch"
        )
    elif tier == 4:
        hosts = sorted(set(occ.loc[occ["tier"] == 4, "host"]) - {""})
        parts.append(
            f"Installed on {plural(len(hosts), 'developer machine')}"
            + (f" ({', '.join(hosts)})" if hosts else "")
        )
    elif tier == 5:
        parts.append(
            f"Resolves no compromised version today, but {plural(counts['latent'], 'declared range')} "
            "would accept one on a fresh install or update"
        )
    elif tier == 6:
        missing = [
            f"{plural(n, what)} could not be read"
            for n, what in (
                (counts["unread"], "input"),
                (counts["unreadable_ranges"], "declared range"),
            )
            if n
        ]
        parts.append(
            f"Nothing found in what was read, but {' and '.join(missing)}: inconclusive, not clean"
        )
    else:
        return "Every input was read and no compromised version was found."
    if tier <= 2 and counts["branches_prs"]:
        parts.append(f"also on {plural(counts['branches_prs'], 'occurrence')} in branches/PRs")
    if tier <= 3 and counts["hosts"]:
        parts.append(f"also on {plural(counts['hosts'], 'developer-machine occurrence')}")
    if tier <= 4 and counts["latent"]:
        parts.append(f"{plural(counts['latent'], 'declared range')} would admit one too")
    if tier <= 5 and counts["unread"]:
        parts.append(f"{plural(counts['unread'], 'input')} could not be read")
    if tier <= 5 and counts["unreadable_ranges"]:
        parts.append(f"{plural(counts['unreadable_ranges'], 'declared range')} could not be read")
    return "; ".join(parts) + "."


def priority_counts(priorities: pd.DataFrame) -> pd.DataFrame:
    """Count repositories per tier of :func:`prioritize_repos`, every tier present in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``tier`` (Int64), ``priority`` (label) and ``repos`` (Int64), one row per
        tier that holds a repository.
    """
    counts = priorities.groupby("tier").size() if not priorities.empty else pd.Series(dtype=int)
    rows = [
        {"tier": tier, "priority": label, "repos": int(counts.get(tier, 0))}
        for tier, label in TIERS.items()
        if counts.get(tier, 0)
    ]
    schema = {"tier": INT, "priority": STRING, "repos": INT}
    return _typed(pd.DataFrame(rows, columns=list(schema)), schema)
