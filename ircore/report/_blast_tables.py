"""Blast-radius tables for the report: analysis frames reshaped for a reader, then escaped.

Each ``*_display`` function takes the frame an :mod:`ircore.analysis` function returns and
gives the columns a reader sees, with plain headers; ``show_*`` functions display them through
:func:`ircore.report.show_table`, which escapes every cell. Surfaces are shown by their names
("pull request"), never their keys.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from ircore.analysis._blast_radius import _text, plural
from ircore.analysis._latent import RANGE_KINDS, latent_repos, latent_summary
from ircore.analysis._priority import CLEAR_TIER
from ircore.analysis._surfaces import SURFACES, surface_label
from ircore.report._display import _publish, headline_html, show_table, table_html


def priority_display(priorities: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.prioritize_repos`, in reading order."""
    return pd.DataFrame(
        {
            "#": priorities["rank"],
            "repository": priorities["repo"],
            "priority": priorities["priority"],
            "why": priorities["reason"],
            "most urgent evidence": priorities["top_evidence"].mask(
                _text(priorities["top_evidence"]) == ""
            ),
            "occurrences": priorities["occurrences"],
            "could not be read": priorities["unread"] + priorities["unreadable_ranges"],
        }
    ).reset_index(drop=True)


def show_priorities(priorities: pd.DataFrame, *, max_rows: int = 200) -> None:
    """Display the prioritized list; repositories where nothing was found are only counted.

    Parameters
    ----------
    priorities : pandas.DataFrame
        The result of :func:`ircore.analysis.prioritize_repos`, with or without
        ``include_clear``: its tier-7 rows (every input read, nothing found) are summed up in
        one sentence under the table instead of listed.
    max_rows : int, optional
        Longest table shown.
    """
    clear = priorities["tier"] == CLEAR_TIER
    markup = table_html(
        priority_display(priorities.loc[~clear]),
        max_rows=max_rows,
        empty_message="No repository holds, admits or may hide a compromised version.",
    )
    rest = int(clear.sum())
    if rest:
        markup += (
            '<p class="ircore-note">'
            f"{html.escape(plural(rest, 'other repository or folder', 'other repositories and folders'))} "
            f"{'was' if rest == 1 else 'were'} read completely and "
            f"{'holds' if rest == 1 else 'hold'} no compromised version.</p>"
        )
    _publish(markup, f"[priority list: {int((~clear).sum())} repositories]")


def surface_display(counts: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.surface_counts`."""
    return pd.DataFrame(
        {
            "surface": counts["label"],
            "repositories": counts["repos"],
            "only on this surface": counts["only_here"],
            "branches, PRs and refs": counts["refs"],
            "developer machines": counts["hosts"],
            "occurrences": counts["occurrences"],
            "compromised versions": counts["packages"],
        }
    ).reset_index(drop=True)


def elsewhere_display(repo_surfaces: pd.DataFrame) -> pd.DataFrame:
    """The repositories of :func:`ircore.analysis.repo_surfaces` not exposed on the default branch."""
    rows = repo_surfaces.loc[~repo_surfaces["default_branch"].fillna(False).astype(bool)]
    return pd.DataFrame(
        {
            "repository": rows["repo"],
            "where": rows["exposure"],
            "branches and PRs": rows["refs"],
            "compromised versions": rows["packages"],
            "occurrences": rows["occurrences"],
        }
    ).reset_index(drop=True)


def advisory_surface_display(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per advisory of :func:`ircore.analysis.advisory_surface_counts`, repos per surface.

    Returns
    -------
    pandas.DataFrame
        ``advisory``, ``class``, one column per surface present (repositories; ``—`` where
        none) and ``occurrences`` (all surfaces), most widespread advisory first.
    """
    if counts.empty:
        return pd.DataFrame(columns=["advisory", "class", "occurrences"])
    order = list(dict.fromkeys(counts["advisory_id"].astype(str)))
    present = sorted(
        set(counts["surface"].astype(str)),
        key=lambda s: SURFACES.index(s) if s in SURFACES else len(SURFACES),
    )
    repos: dict[tuple[str, str], int] = {}
    total: dict[str, int] = {}
    kind: dict[str, str] = {}
    for advisory, surface, classification, n_repos, n_occ in zip(
        counts["advisory_id"].astype(str),
        counts["surface"].astype(str),
        counts["classification"].astype(str),
        counts["repos"].astype(int),
        counts["occurrences"].astype(int),
        strict=True,
    ):
        repos[(advisory, surface)] = int(n_repos)
        total[advisory] = total.get(advisory, 0) + int(n_occ)
        kind.setdefault(advisory, classification)
    out = pd.DataFrame({"advisory": order, "class": [kind[a] for a in order]})
    for surface in present:
        column = [repos.get((a, surface)) for a in order]
        out[f"repos: {surface_label(surface)}"] = pd.array(column, dtype="Int64")
    out["occurrences"] = pd.array([total[a] for a in order], dtype="Int64")
    return out


def introducers_display(top: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.top_introducers`."""
    return pd.DataFrame(
        {
            "introduced by": top["introducer"],
            "repositories": top["repos"],
            "compromised versions it brings": top["packages"],
            "dev-only": top["dev_only"],
            "in": top["repo_list"],
            "example path": top["example_path"],
        }
    ).reset_index(drop=True)


def latent_display(latent: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.latent_exposure`, one per declaration."""
    unparseable = _text(latent["status"]) == "unparseable"
    admits = _text(latent["admits"]).where(~unparseable, "cannot tell: " + _text(latent["message"]))
    return pd.DataFrame(
        {
            "repository": latent["repo"],
            "ref": latent["ref"],
            "file": latent["file"],
            "field": latent["field"],
            "package": latent["name"],
            "range": latent["spec"],
            "admits": admits,
            "resolves one now": latent["resolves_now"],
        }
    ).reset_index(drop=True)


def latent_repos_display(repos: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.latent_repos`."""
    return pd.DataFrame(
        {
            "repository": repos["repo"],
            "latent only": repos["latent_only"],
            "would admit": repos["admits"],
            "declarations": repos["specs"],
            "unreadable ranges": repos["unparseable"],
            "refs": repos["refs"],
            "example": repos["example"],
        }
    ).reset_index(drop=True)


def _ranges_read(declared: pd.DataFrame) -> int:
    return int(_text(declared["spec_kind"]).isin(RANGE_KINDS).sum())


def latent_html(
    latent: pd.DataFrame,
    *,
    declared: pd.DataFrame | None,
    exposure: pd.DataFrame | None = None,
    max_rows: int = 200,
) -> str:
    """Render the latent-exposure section: what was checked, what admits, which repos are latent-only.

    Parameters
    ----------
    latent : pandas.DataFrame
        The result of :func:`ircore.analysis.latent_exposure`.
    declared : pandas.DataFrame or None
        The ``declared`` frame it was computed from; ``None`` when the evidence has none (it
        was gathered before declared ranges were collected), which the section says instead
        of suggesting that no range admits anything.
    exposure : pandas.DataFrame, optional
        ``exposure`` frame, to tell latent-only repositories from those resolving one today.
    max_rows : int, optional
        Longest table shown.

    Returns
    -------
    str
        HTML: a box saying what could be concluded, then (when anything admits or is
        unreadable) headline figures, the repositories and the declarations.
    """
    if declared is None:
        return (
            '<div class="ircore-box ircore-info"><h3>Latent exposure was not assessed.</h3>'
            "<p>This evidence holds no declared ranges (the ranges in <code>package.json</code> "
            "and those recorded in lockfiles): it was gathered before they were collected. "
            "Gather the evidence again to see which ranges would accept a compromised version "
            "on the next install.</p></div>"
        )
    if declared.empty:
        return (
            '<div class="ircore-box ircore-info"><h3>No declared ranges are in this evidence.'
            "</h3><p>Either no <code>package.json</code> or lockfile range was read, or the "
            "evidence was gathered before ircore collected them. Whether a fresh install could "
            "resolve a compromised version cannot be said.</p></div>"
        )
    read = plural(_ranges_read(declared), "declared range")
    if latent.empty:
        return (
            '<div class="ircore-box ircore-ok"><h3>No declared range admits a compromised '
            f"version ({html.escape(read)} read).</h3><p>A fresh install or an update resolves "
            "only versions the ranges allow; none of them allows a compromised one.</p></div>"
        )
    counts = latent_summary(latent, exposure)
    figures = {
        "Declarations admitting one": counts["specs"],
        "Repositories": counts["repos"],
        "Latent-only repositories": counts["latent_only_repos"],
        "Unreadable ranges": counts["unparseable"],
    }
    hot = ["Latent-only repositories"] if counts["latent_only_repos"] else []
    if counts["unparseable"]:
        hot.append("Unreadable ranges")
    only = counts["latent_only"]
    if only:
        names = ", ".join(f"<code>{html.escape(r)}</code>" for r in only)
        box = (
            '<div class="ircore-box ircore-warn"><h3>'
            f"{html.escape(plural(len(only), 'repository', 'repositories'))} "
            f"resolve{'s' if len(only) == 1 else ''} no compromised version today but could on "
            f"the next install: {names}.</h3><p>Their lockfiles pin a safe version; a range "
            "below accepts a compromised one. Pin or raise the range, and keep the lockfile "
            f"(checked against {html.escape(read)}).</p></div>"
        )
    else:
        box = (
            '<div class="ircore-box ircore-info"><h3>Every repository with a range that admits '
            "a compromised version already resolves one.</h3><p>Fixing the lockfile is not "
            f"enough: raise the ranges below too ({html.escape(read)} read).</p></div>"
        )
    if counts["unparseable"]:
        box += (
            '<div class="ircore-box ircore-bad"><h3>'
            f"{html.escape(plural(counts['unparseable'], 'range'))} could not be read.</h3>"
            "<p>npm may read them differently, and they may admit a compromised version: "
            "check them by hand.</p></div>"
        )
    repos = table_html(latent_repos_display(latent_repos(latent, exposure)), max_rows=max_rows)
    rows = table_html(latent_display(latent), max_rows=max_rows)
    return (
        f"{box}{headline_html(figures, highlight=hot)}"
        f'<p class="ircore-note">Per repository:</p>{repos}'
        f'<p class="ircore-note">Every declaration:</p>{rows}'
    )


def show_latent(
    latent: pd.DataFrame,
    *,
    declared: pd.DataFrame | None,
    exposure: pd.DataFrame | None = None,
    max_rows: int = 200,
) -> None:
    """Display :func:`latent_html`."""
    markup = latent_html(latent, declared=declared, exposure=exposure, max_rows=max_rows)
    _publish(markup, re.sub(r"<[^>]+>", " ", markup.split("</h3>")[0]).strip())


def show_surfaces(counts: pd.DataFrame, repo_surfaces: pd.DataFrame) -> None:
    """Display surface counts, then the repositories exposed only off the default branch."""
    elsewhere = elsewhere_display(repo_surfaces)
    markup = table_html(surface_display(counts), empty_message="No surface was scanned.")
    if not repo_surfaces.empty:
        markup += (
            '<p class="ircore-note">Repositories with a compromised version only off their '
            "default branch:</p>"
            + table_html(
                elsewhere,
                max_rows=200,
                empty_message="None: every affected repository holds one on its default branch.",
            )
        )
    _publish(markup, f"[surfaces: {len(counts)}]")


def show_introducers(top: pd.DataFrame, *, max_rows: int = 50) -> None:
    """Display :func:`introducers_display` as a table."""
    show_table(
        introducers_display(top),
        max_rows=max_rows,
        empty_message="No compromised version was found.",
    )
