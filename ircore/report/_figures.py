"""Chart builders: frames in, plotly Figures out.

Every label is HTML-escaped before it reaches plotly. plotly.js interprets a subset of HTML in
text (``<b>``, ``<br>``, ``<a href>``) and silently drops tags it does not know, so a package
named ``<img src=x onerror=…>`` would otherwise show up as an empty label. Escaped, plotly
decodes the entities and draws the name literally, as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

from ircore.analysis._blast_radius import affected_repos, occurrences, package_versions, plural
from ircore.analysis._surfaces import subjects

#: Colour of compromised versions; a red that reads as "bad" without shouting.
ALERT = "#b42318"
#: A qualitative palette for telling package versions apart in the treemap.
PALETTE: tuple[str, ...] = (
    "#b42318",
    "#c4320a",
    "#b54708",
    "#7a2e0e",
    "#912018",
    "#932f19",
    "#a15c07",
    "#6c2e1b",
)
_FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13)


def plot_text(value: object) -> str:
    """Escape ``value`` for use as plotly text (labels, hover text, titles)."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=False)


def _layout(fig: go.Figure, *, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=plot_text(title), x=0, xanchor="left", font=dict(size=16)),
        template="plotly_white",
        font=_FONT,
        height=height,
        margin=dict(l=20, r=20, t=60, b=40),
    )
    return fig


def empty_figure(message: str, *, title: str = "") -> go.Figure:
    """Return a figure that shows ``message`` in place of a chart.

    Parameters
    ----------
    message : str
        What the reader should know, e.g. that nothing was found in the inputs read.
    title : str, optional
        The chart title the figure stands in for.

    Returns
    -------
    plotly.graph_objects.Figure
        A figure without axes and with ``message`` centred; it renders like any other chart.
    """
    fig = go.Figure()
    fig.add_annotation(
        text=plot_text(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font=dict(size=15, color="#475467"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title=title, height=220)


def affected_repos_figure(
    exposure: pd.DataFrame,
    *,
    title: str = "Repositories per compromised version",
    max_bars: int = 40,
) -> go.Figure:
    """Bar chart: how many repositories contain each compromised ``package@version``.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.
    title : str, optional
        Chart title.
    max_bars : int, optional
        Show the most widespread versions only, and say so in the title: a worm-style
        incident can involve hundreds of versions.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars, most affected version on top; an :func:`empty_figure` when
        ``exposure`` has no rows.
    """
    counts = affected_repos(exposure)
    if counts.empty:
        return empty_figure(
            "No compromised version was found in the inputs that were read.", title=title
        )
    if len(counts) > max_bars:
        title = f"{title} (the {max_bars} most widespread of {len(counts)})"
        counts = counts.head(max_bars)
    # Horizontal bars keep long scoped names readable; reversed so the largest is on top.
    counts = counts.iloc[::-1]
    labels = [plot_text(v) for v in counts["package_version"]]
    fig = go.Figure(
        go.Bar(
            x=counts["repos"].astype(int).tolist(),
            y=labels,
            orientation="h",
            marker_color=ALERT,
            text=counts["repos"].astype(int).tolist(),
            textposition="outside",
            cliponaxis=False,
            customdata=list(
                zip(counts["refs"].astype(int), counts["occurrences"].astype(int), strict=True)
            ),
            hovertemplate=(
                "%{y}<br>repositories: %{x}<br>branches and PRs: %{customdata[0]}"
                "<br>occurrences: %{customdata[1]}<extra></extra>"
            ),
        )
    )
    machines = bool((exposure["surface"].astype("string") == "host").any())
    axis = "repositories and developer machines" if machines else "repositories"
    fig.update_xaxes(title_text=axis, rangemode="tozero", dtick=_dtick(counts["repos"]))
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, title=title, height=140 + 36 * len(counts))


def _blend(low: str, high: str, t: float) -> str:
    a = [int(low[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i : i + 2], 16) for i in (1, 3, 5)]
    t = min(max(t, 0.0), 1.0)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _dtick(values: Iterable[int]) -> int | None:
    # Repository counts are whole numbers; plotly would otherwise tick at 0.5 for small counts.
    top = max((int(v) for v in values), default=0)
    return 1 if top <= 10 else None


def blast_radius_tree_figure(
    exposure: pd.DataFrame,
    *,
    org_name: str = "all repositories",
    kind: Literal["treemap", "sunburst"] = "treemap",
    # Short enough not to be cut off on a phone: plotly does not wrap titles.
    title: str = "Occurrences by repository and version",
    max_repos_expanded: int = 15,
) -> go.Figure:
    """Treemap (or sunburst) of occurrences: organization → repository → ``package@version``.

    Parameters
    ----------
    exposure : pandas.DataFrame
        A frame with the ``exposure`` schema.
    org_name : str, optional
        Label of the root of the chart: the organization's name when it is known.
    kind : {"treemap", "sunburst"}, optional
        Chart type.
    title : str, optional
        Chart title.
    max_repos_expanded : int, optional
        With more repositories than this, the chart opens at repository level; clicking a
        repository shows its versions.

    Returns
    -------
    plotly.graph_objects.Figure
        Areas sized by occurrences; hover gives the branches and PRs affected. An
        :func:`empty_figure` when ``exposure`` has no rows.
    """
    occ = occurrences(exposure)
    if occ.empty:
        return empty_figure(
            "No compromised version was found in the inputs that were read.", title=title
        )
    work = pd.DataFrame(
        {
            # a developer machine is one area, whatever projects and caches hold it
            "repo": subjects(occ).astype("object").fillna("(no repository)"),
            "ref": occ["ref"].astype("object").fillna(""),
            "pv": package_versions(occ).astype("object"),
        }
    )
    leaves = (
        work.groupby(["repo", "pv"], sort=True)
        .agg(occ=("ref", "size"), refs=("ref", lambda s: ", ".join(sorted(set(s) - {""}))))
        .reset_index()
    )
    colours = {pv: PALETTE[i % len(PALETTE)] for i, pv in enumerate(sorted(set(work["pv"])))}

    # ids only need to be unique; the unit separator cannot occur in a repo or package name.
    sep = "\x1f"
    root = "root"
    ids, labels, parents, values, colors, hover = [root], [plot_text(org_name)], [""], [], [], []
    values.append(int(leaves["occ"].sum()))
    colors.append("#f2f4f7")
    hover.append(f"{plural(int(leaves['repo'].nunique()), 'repository', 'repositories')} affected")
    most = int(leaves.groupby("repo")["occ"].sum().max())
    # Past a screenful of repositories the version boxes become unreadable slivers: show
    # repositories first and let the reader click one to see its versions.
    collapsed = leaves["repo"].nunique() > max_repos_expanded
    # Shade repositories by how much they hold: strongly when they are all the reader sees,
    # lightly when the dark version boxes sit inside them.
    shade = ("#fee4e2", "#d92d20") if collapsed else ("#fef3f2", "#fda29b")
    for repo, rows in leaves.groupby("repo", sort=True):
        repo_id = root + sep + str(repo)
        ids.append(repo_id)
        labels.append(plot_text(repo))
        parents.append(root)
        values.append(int(rows["occ"].sum()))
        colors.append(_blend(*shade, int(rows["occ"].sum()) / most))
        hover.append(f"{plural(len(rows), 'compromised version')}; click to see them")
        for pv, occ_count, refs in zip(rows["pv"], rows["occ"], rows["refs"], strict=True):
            ids.append(repo_id + sep + str(pv))
            labels.append(plot_text(pv))
            parents.append(repo_id)
            values.append(int(occ_count))
            colors.append(colours[str(pv)])
            hover.append("refs: " + plot_text(refs or "(none recorded)"))

    trace_type = go.Treemap if kind == "treemap" else go.Sunburst
    depth = 2 if collapsed else -1
    fig = go.Figure(
        trace_type(
            maxdepth=depth,
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker=dict(colors=colors),
            customdata=hover,
            hovertemplate="%{label}<br>occurrences: %{value}<br>%{customdata}<extra></extra>",
            textinfo="label+value",
        )
    )
    return _layout(fig, title=title, height=520)
