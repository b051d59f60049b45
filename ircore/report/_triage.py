"""The interactive triage view: ipywidgets over the pure filters of :mod:`ircore.analysis._triage`.

For analysts in JupyterLab only. Widgets never go into shared reports: their static HTML loads
a widget manager from a CDN and shows frozen state (see :func:`ircore.report.strip_widgets`),
so the triage notebook is marked interactive and ``build_report`` refuses it.

Every table is rendered by :func:`ircore.report.table_html` (escaped) into an ``HTML`` widget;
dropdown labels are plain text, which the widget front end never interprets as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ircore._investigation import Investigation
from ircore.analysis._blast_radius import plural
from ircore.analysis._surfaces import surface_label
from ircore.analysis._triage import (
    PATH_STEPS,
    filter_occurrences,
    occurrence_paths,
    other_paths,
    triage_occurrences,
    triage_options,
)
from ircore.report._display import table_html, wrap

#: Dropdown value meaning "no filter".
ANY = ""

_OCCURRENCE_COLUMNS = [
    "occurrence",
    "repo",
    "ref",
    "surface",
    "file",
    "package_version",
    "introducer",
    "dependency_path",
    "dev",
    "advisories",
]


def _label(row: Mapping[Any, Any]) -> str:
    where = str(row["ref"] or row["host"] or "")
    return f"#{row['occurrence']} {row['repo']} · {where} · {row['package_version']}"


class TriageView:
    """Filters (advisory, package, surface, repository, team) and a dependency-path drill-down.

    Parameters
    ----------
    investigation : Investigation
        The evidence: its ``exposure`` is filtered, its ``inventory`` walked for paths.
    teams : mapping of str to str, optional
        Repository → team. Without it (or when empty) there is no team filter.
    max_rows : int, optional
        Longest occurrence table shown.

    Attributes
    ----------
    advisory, package, repo, team : ipywidgets.Dropdown
        ``""`` means any. ``team`` is ``None`` without a team mapping.
    surfaces : ipywidgets.SelectMultiple
        Nothing selected means every surface.
    occurrence : ipywidgets.Dropdown
        The occurrence whose dependency path is shown; its options follow the filters.
    summary, table, paths_view : ipywidgets.HTML
        What the analyst reads.
    widget : ipywidgets.VBox
        Everything, for ``display``.
    """

    def __init__(
        self,
        investigation: Investigation,
        *,
        teams: Mapping[str, str] | None = None,
        max_rows: int = 200,
    ) -> None:
        self._inventory = investigation.inventory
        self._exposure = investigation.exposure
        self._teams = dict(teams) if teams else None
        self._max_rows = max_rows
        self.occurrences = triage_occurrences(self._exposure, teams=self._teams)
        options = triage_options(self._exposure, teams=self._teams)
        layout = widgets.Layout(width="auto", min_width="260px")
        self.advisory = widgets.Dropdown(
            options=[("any advisory", ANY), *((a, a) for a in options["advisories"])],
            value=ANY,
            description="Advisory",
            layout=layout,
        )
        self.package = widgets.Dropdown(
            options=[("any package", ANY), *((p, p) for p in options["packages"])],
            value=ANY,
            description="Package",
            layout=layout,
        )
        self.surfaces = widgets.SelectMultiple(
            options=[(surface_label(s), s) for s in options["surfaces"]],
            value=(),
            description="Surface",
            rows=min(max(len(options["surfaces"]), 2), 6),
            layout=layout,
        )
        self.repo = widgets.Dropdown(
            options=[("any repository", ANY), *((r, r) for r in options["repos"])],
            value=ANY,
            description="Repository",
            layout=layout,
        )
        self.team: widgets.Dropdown | None = None
        if self._teams is not None:
            self.team = widgets.Dropdown(
                options=[("any team", ANY), *((t, t) for t in options["teams"])],
                value=ANY,
                description="Team",
                layout=layout,
            )
        self.occurrence = widgets.Dropdown(description="Occurrence", layout=layout)
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.paths_view = widgets.HTML()
        filters = [self.advisory, self.package, self.repo, self.surfaces]
        if self.team is not None:
            filters.insert(3, self.team)
        for control in filters:
            control.observe(self._refresh, names="value")
        self.occurrence.observe(self._show_paths, names="value")
        self.widget = widgets.VBox(
            [
                widgets.HBox(filters[:3]),
                widgets.HBox(filters[3:]),
                self.summary,
                self.table,
                self.occurrence,
                self.paths_view,
            ]
        )
        self._refresh()

    @property
    def frame(self) -> pd.DataFrame:
        """The occurrences passing the current filters (see :func:`filter_occurrences`)."""
        return filter_occurrences(
            self.occurrences,
            advisory=self.advisory.value or None,
            package=self.package.value or None,
            surfaces=tuple(self.surfaces.value),
            repos=(self.repo.value,) if self.repo.value else (),
            teams=(self.team.value,) if self.team is not None and self.team.value else (),
        )

    @property
    def selected(self) -> dict[str, Any] | None:
        """The occurrence chosen in :attr:`occurrence`, as a dict, or ``None``."""
        chosen = self.occurrence.value
        if chosen is None:
            return None
        rows = self.occurrences.loc[self.occurrences["occurrence"] == chosen]
        return None if rows.empty else dict(rows.iloc[0])

    @property
    def paths(self) -> pd.DataFrame:
        """The dependency-path steps of the selected occurrence (see :func:`occurrence_paths`)."""
        selected = self.selected
        if selected is None:
            return pd.DataFrame({c: pd.Series(dtype=d) for c, d in PATH_STEPS.items()})
        return occurrence_paths(self._inventory, selected, exposure=self._exposure)

    def _refresh(self, change: object = None) -> None:
        frame = self.frame
        repos = frame["repo"].nunique()
        self.summary.value = wrap(
            f'<p class="ircore-note">{plural(len(frame), "occurrence")} in '
            f"{plural(repos, 'repository', 'repositories')} match the filters "
            f"(of {plural(len(self.occurrences), 'occurrence')}).</p>"
        )
        columns = [*_OCCURRENCE_COLUMNS[:1], "team", *_OCCURRENCE_COLUMNS[1:]]
        if self._teams is None:
            columns.remove("team")
        self.table.value = wrap(
            table_html(
                frame.assign(surface=frame["surface"].map(surface_label)),
                columns=columns,
                max_rows=self._max_rows,
                empty_message="No occurrence matches these filters.",
            )
        )
        previous = self.occurrence.value
        choices = [(_label(row), int(row["occurrence"])) for row in frame.to_dict("records")]
        values = [v for _, v in choices]
        self.occurrence.options = choices
        # Keep the analyst's choice while it still matches; else show the first match.
        self.occurrence.value = previous if previous in values else (values[0] if values else None)
        self._show_paths()

    def _show_paths(self, change: object = None) -> None:
        selected = self.selected
        if selected is None:
            self.paths_view.value = wrap(
                '<p class="ircore-note">Pick an occurrence to see how it got there.</p>'
            )
            return
        steps = self.paths
        elsewhere = other_paths(self._inventory, selected)
        self.paths_view.value = wrap(
            "<h4>How it got there</h4>"
            + table_html(steps, empty_message="The lockfile records no path.")
            + "<h4>Every place this version is installed in the same lockfile</h4>"
            + table_html(elsewhere, empty_message="Nowhere else.")
        )


def triage(investigation: Investigation, *, teams: Mapping[str, str] | None = None) -> TriageView:
    """Build a :class:`TriageView`; display its ``widget`` in a notebook cell."""
    return TriageView(investigation, teams=teams)
