"""Blast-radius charts: surfaces, advisories by surface, introducers, priority tiers.

Same rules as :mod:`ircore.report._figures`: frames in, plotly Figures out, every label escaped
with :func:`plot_text`, an :func:`empty_figure` with a sentence instead of an empty chart.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ircore.analysis._priority import TIERS
from ircore.analysis._surfaces import (
    SURFACES,
    advisory_surface_counts,
    surface_counts,
    surface_label,
    top_introducers,
)
from ircore.report._figures import ALERT, _dtick, _layout, empty_figure, plot_text

#: One colour per surface, the same in every chart: reds for what ships, ambers for what
#: waits on a branch, blue for developer machines.
SURFACE_COLOURS: dict[str, str] = {
    "default_branch": "#b42318",
    "branch": "#e04f16",
    "pull_request": "#f79009",
    "workflow_run": "#6941c6",
    "folder": "#912018",
    "host": "#1570ef",
}
_OTHER_SURFACE = "#667085"

#: One colour per priority tier of :func:`ircore.analysis.prioritize_repos`.
TIER_COLOURS: dict[int, str] = {
    1: "#b42318",
    2: "#e04f16",
    3: "#f79009",
    4: "#1570ef",
    5: "#fdb022",
    6: "#667085",
    7: "#12b76a",
}


def _legend_below(fig: go.Figure, height: int) -> go.Figure:
    """Put the legend a fixed distance under the x-axis title, whatever the chart's height.

    Legend positions are fractions of the plot area, so a fixed fraction drifts away from the
    axis as a chart grows; above the plot it collides with the title on a phone.
    """
    top, bottom = 60, 110
    plot = max(height - top - bottom, 1)
    fig.update_layout(
        legend=dict(
            orientation="h", x=0, xanchor="left", y=-62 / plot, yanchor="top", traceorder="normal"
        ),
        margin=dict(t=top, b=bottom),
    )
    return fig


_NOTHING = "No compromised version was found in the inputs that were read."


def _surface_colour(surface: str) -> str:
    return SURFACE_COLOURS.get(surface, _OTHER_SURFACE)


def surface_figure(
    exposure: pd.DataFrame,
    *,
    inventory: pd.DataFrame | None = None,
    title: str = "Repositories per surface",
) -> go.Figure:
    """Bar chart: how many repositories hold a compromised version on each surface.

    Each bar is split into the repositories found *only* on that surface and those also found
    elsewhere, so "3 repositories only on pull requests" reads straight off the chart.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame.
    inventory : pandas.DataFrame, optional
        ``inventory`` frame: surfaces scanned but clean get an empty bar (see
        :func:`ircore.analysis.surface_counts`).
    title : str, optional
        Chart title.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal stacked bars, default branch on top; an :func:`empty_figure` when
        ``exposure`` has no rows.
    """
    counts = surface_counts(exposure, inventory=inventory)
    if exposure.empty or counts.empty:
        return empty_figure(_NOTHING, title=title)
    counts = counts.iloc[::-1]  # plotly draws the first category at the bottom
    labels = [plot_text(v) for v in counts["label"]]
    colours = [_surface_colour(str(s)) for s in counts["surface"]]
    only = counts["only_here"].astype(int)
    also = (counts["repos"] - counts["only_here"]).astype(int)
    custom = list(
        zip(
            counts["repos"].astype(int),
            counts["refs"].astype(int),
            counts["occurrences"].astype(int),
            strict=True,
        )
    )
    hover = (
        "%{y}<br>repositories: %{customdata[0]}<br>branches and PRs: %{customdata[1]}"
        "<br>occurrences: %{customdata[2]}<extra>%{fullData.name}</extra>"
    )
    fig = go.Figure(
        [
            go.Bar(
                name="only on this surface",
                x=only.tolist(),
                y=labels,
                orientation="h",
                marker=dict(color=colours),
                customdata=custom,
                hovertemplate=hover,
            ),
            go.Bar(
                name="also on another surface",
                x=also.tolist(),
                y=labels,
                orientation="h",
                marker=dict(color=colours, opacity=0.4),
                customdata=custom,
                hovertemplate=hover,
                text=counts["repos"].astype(int).tolist(),
                textposition="outside",
                cliponaxis=False,
            ),
        ]
    )
    # No legend: both parts share the surface's colour; hover names them and the text says so.
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_xaxes(title_text="repositories", rangemode="tozero", dtick=_dtick(counts["repos"]))
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, title=title, height=150 + 40 * len(counts))


def advisory_surface_figure(
    exposure: pd.DataFrame,
    *,
    title: str = "Occurrences per advisory, by surface",
    max_bars: int = 30,
) -> go.Figure:
    """Stacked bars: for each advisory, its occurrences on each surface.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame.
    title : str, optional
        Chart title.
    max_bars : int, optional
        Show the advisories reaching the most repositories only, and say so in the title.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar per advisory (most repositories on top), one colour per surface;
        an :func:`empty_figure` when ``exposure`` has no rows.
    """
    counts = advisory_surface_counts(exposure)
    if counts.empty:
        return empty_figure(_NOTHING, title=title)
    order = list(dict.fromkeys(counts["advisory_id"].astype(str)))
    if len(order) > max_bars:
        title = f"{title} (the {max_bars} most widespread of {len(order)})"
        order = order[:max_bars]
        counts = counts.loc[counts["advisory_id"].isin(order)]
    labels = {a: plot_text(a) for a in order}
    surfaces = sorted(
        set(counts["surface"].astype(str)),
        key=lambda s: SURFACES.index(s) if s in SURFACES else len(SURFACES),
    )
    traces = []
    for surface in surfaces:
        part = counts.loc[counts["surface"] == surface]
        found = {
            str(a): (int(o), int(r))
            for a, o, r in zip(part["advisory_id"], part["occurrences"], part["repos"], strict=True)
        }
        ids = [a for a in reversed(order) if a in found]
        traces.append(
            go.Bar(
                name=plot_text(surface_label(surface)),
                x=[found[a][0] for a in ids],
                y=[labels[a] for a in ids],
                orientation="h",
                marker_color=_surface_colour(surface),
                customdata=[found[a][1] for a in ids],
                hovertemplate=(
                    "%{y}<br>%{fullData.name}: %{x} occurrences in %{customdata} "
                    "repositories<extra></extra>"
                ),
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="occurrences", rangemode="tozero")
    fig.update_yaxes(
        type="category",
        automargin=True,
        categoryorder="array",
        categoryarray=[labels[a] for a in reversed(order)],
    )
    height = 230 + 30 * len(order)
    return _legend_below(_layout(fig, title=title, height=height), height)


def introducers_figure(
    exposure: pd.DataFrame,
    *,
    title: str = "Dependencies bringing them in",
    max_bars: int = 20,
) -> go.Figure:
    """Bar chart: for each direct dependency, how many repositories it exposes.

    Parameters
    ----------
    exposure : pandas.DataFrame
        ``exposure`` frame.
    title : str, optional
        Chart title.
    max_bars : int, optional
        Show the introducers reaching the most repositories only, and say so in the title.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars, most repositories on top, coloured by whether the introducer is a
        compromised package declared directly or a dependency that pulls one in; hover
        lists the compromised versions it brings. An :func:`empty_figure` when ``exposure``
        has no rows.
    """
    top = top_introducers(exposure)
    if top.empty:
        return empty_figure(_NOTHING, title=title)
    if len(top) > max_bars:
        title = f"{title} (the {max_bars} most widespread of {len(top)})"
        top = top.head(max_bars)
    top = top.iloc[::-1]
    labels = [plot_text(v) for v in top["introducer"]]
    itself = top["itself_compromised"].fillna(False).astype(bool).tolist()
    traces = []
    for flag, name, colour in (
        (True, "compromised package, declared directly", ALERT),
        (False, "pulls a compromised version in", "#f79009"),
    ):
        keep = [i for i, v in enumerate(itself) if v is flag]
        if not keep:
            continue
        part = top.iloc[keep]
        traces.append(
            go.Bar(
                name=name,
                x=part["repos"].astype(int).tolist(),
                y=[labels[i] for i in keep],
                orientation="h",
                marker_color=colour,
                text=part["repos"].astype(int).tolist(),
                textposition="outside",
                cliponaxis=False,
                customdata=list(
                    zip(
                        [plot_text(p) for p in part["packages"]],
                        part["occurrences"].astype(int),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    "%{y}<br>repositories: %{x}<br>occurrences: %{customdata[1]}"
                    "<br>brings: %{customdata[0]}<extra></extra>"
                ),
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="repositories", rangemode="tozero", dtick=_dtick(top["repos"]))
    fig.update_yaxes(type="category", automargin=True, categoryorder="array", categoryarray=labels)
    height = 230 + 32 * len(top)
    return _legend_below(_layout(fig, title=title, height=height), height)


def priority_figure(
    priorities: pd.DataFrame, *, title: str = "Repositories by priority"
) -> go.Figure:
    """Bar chart: how many repositories fall in each priority tier.

    Parameters
    ----------
    priorities : pandas.DataFrame
        The result of :func:`ircore.analysis.prioritize_repos`.
    title : str, optional
        Chart title.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar per tier that holds a repository, most urgent on top; hover lists
        the repositories. An :func:`empty_figure` when there is none.
    """
    if priorities.empty:
        return empty_figure(
            "No repository needs attention in the inputs that were read.", title=title
        )
    repos: dict[int, list[str]] = {}
    for tier, repo in zip(priorities["tier"], priorities["repo"], strict=True):
        repos.setdefault(int(tier), []).append(str(repo))
    tiers = sorted(repos, reverse=True)
    labels = [plot_text(f"{t}. {TIERS[t]}") for t in tiers]
    fig = go.Figure(
        go.Bar(
            x=[len(repos[t]) for t in tiers],
            y=labels,
            orientation="h",
            marker_color=[TIER_COLOURS.get(t, _OTHER_SURFACE) for t in tiers],
            text=[len(repos[t]) for t in tiers],
            textposition="outside",
            cliponaxis=False,
            customdata=[plot_text(_list(repos[t])) for t in tiers],
            hovertemplate="%{y}: %{x}<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title_text="repositories", rangemode="tozero", dtick=_dtick(len(r) for r in repos.values())
    )
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, title=title, height=160 + 40 * len(tiers))


def _list(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
