"""What report notebooks call to put things on the page.

Each ``show_*`` function displays HTML built by a matching ``*_html`` function, so the same
markup serves the notebook, the nbconvert report and ``index.html``. Every untrusted string
(package names, paths, messages, repo names) goes through :func:`html.escape`.

Plotly: none of plotly's own renderers survive nbconvert offline. The default mimetype
renderer is dropped by nbconvert (plotly/plotly.py#1983), the ``*_connected`` ones load
plotly.js from a CDN and the ``notebook`` renderer adds a MathJax CDN ``<script>`` to every
figure (plotly/plotly.py#5158). :func:`setup_notebook` therefore inlines plotly.js once and
registers an ``ircore`` renderer whose figures are a ``<div>`` plus a ``Plotly.newPlot`` call
(``text/html``, which nbconvert keeps) alongside the plotly JSON mimetype (which JupyterLab
prefers when the notebook is opened interactively).
"""

from __future__ import annotations

import html
import math
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import display
from plotly.io.base_renderers import MimetypeRenderer, PlotlyRenderer
from plotly.offline import get_plotlyjs

from ircore._investigation import Incident
from ircore.analysis._blast_radius import ADVISORY_SOURCES, plural, unread_inputs

RENDERER = "ircore"
# plotly.js 3+ puts a "Share chart..." button in every modebar that uploads the figure's data
# to Plotly Cloud: one click away from publishing incident evidence. Off, with no server.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
}

# Every fragment is wrapped in <div class="ircore">; the "div.ircore" prefix outranks the
# JupyterLab stylesheet nbconvert inlines (right-aligned cells, medium-weight headings, dt/dd
# floated at 20%/80% widths).
# A table fits its box when it can; when it cannot (a phone), it scrolls inside its own box
# (.ircore-scroll) instead of pushing the page sideways, and a column of sentences (th.w)
# keeps a readable width instead of shrinking to its longest word. Figures ("12 of 27") and
# advisory ids (code.id) never break inside.
CSS = """
div.ircore{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px;
  line-height:1.45;color:#101828}
div.ircore .ircore-box{border-radius:8px;padding:14px 18px;margin:10px 0;border:1px solid}
div.ircore .ircore-box h3{margin:0 0 6px 0;font-size:17px;font-weight:700;line-height:1.35}
div.ircore .ircore-box h3:last-child{margin-bottom:0}
div.ircore .ircore-box p{margin:4px 0}
div.ircore .ircore-ok{background:#ecfdf3;border-color:#75e0a7;color:#054f31}
div.ircore .ircore-warn{background:#fffaeb;border-color:#fec84b;color:#7a2e0e}
div.ircore .ircore-bad{background:#fef3f2;border-color:#fda29b;color:#7a271a}
div.ircore .ircore-info{background:#f5f8ff;border-color:#b2ccff;color:#101828}
div.ircore .ircore-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));
  gap:12px;margin:10px 0}
div.ircore .ircore-card{border:1px solid #d0d5dd;border-radius:8px;padding:12px 14px;
  background:#fff}
div.ircore .ircore-card .v{font-size:28px;font-weight:700;color:#101828;line-height:1.15;
  white-space:nowrap}
div.ircore .ircore-card .l{font-size:13px;color:#475467;margin-top:4px}
div.ircore .ircore-card.hot{border-color:#fda29b}
div.ircore .ircore-card.hot .v{color:#b42318}
div.ircore .ircore-scroll{overflow-x:auto;margin:8px 0;max-width:100%}
div.ircore table.ircore-table{border-collapse:collapse;margin:0;font-size:13px;width:100%;
  table-layout:auto}
div.ircore table.ircore-table th{background:#f2f4f7;text-align:left;padding:6px 8px;
  border-bottom:2px solid #d0d5dd;white-space:nowrap;font-weight:600;color:#344054}
div.ircore table.ircore-table td{padding:5px 8px;border-bottom:1px solid #eaecf0;text-align:left;
  vertical-align:top;overflow-wrap:break-word;max-width:420px}
div.ircore table.ircore-table th.w{min-width:18em}
div.ircore table.ircore-table td.n{white-space:nowrap}
div.ircore table.ircore-table tbody tr:nth-child(odd){background:transparent}
div.ircore table.ircore-table tbody tr:nth-child(even){background:#f9fafb}
div.ircore .ircore-box table.ircore-table tbody tr{background:transparent}
div.ircore .ircore-note{color:#475467;font-size:13px;margin:4px 0 12px 0}
div.ircore .ircore-incident dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;
  margin:0}
div.ircore .ircore-incident dt,div.ircore .ircore-incident dd{float:none;width:auto;padding:0}
div.ircore .ircore-incident dt{font-weight:600;color:#344054}
div.ircore .ircore-incident dd{margin:0;overflow-wrap:anywhere}
div.ircore .ircore-incident ul{margin:0;padding-left:18px}
div.ircore .ircore-incident ul.many{columns:16em auto;column-gap:24px;max-height:24em;
  overflow-y:auto}
/* On a phone: labels above values, and the whole list (no scroll inside a scroll). */
@media (max-width:600px){div.ircore .ircore-incident dl{grid-template-columns:1fr;gap:0}
  div.ircore .ircore-incident dd{margin-bottom:8px}
  div.ircore .ircore-incident ul.many{max-height:none}}
div.ircore code.id{white-space:nowrap}
div.ircore .ircore-scope{color:#344054;font-size:14px;margin:8px 0 12px 0;max-width:860px}
div.ircore code{background:#eef2f6;border-radius:4px;padding:0 4px;font-size:12.5px;
  color:#101828}
"""


# The setup output draws nothing; collapse its cell so it leaves no gap in the report.
# Scripts in a hidden element still run.
_SETUP_CSS = ".jp-Cell:has(.ircore-setup){display:none}"


#: Cell text longer than this makes its column "wide" (``th.w``): it wraps, never to a sliver;
#: shorter columns do not wrap at all (``td.n``).
_WIDE_TEXT = 48


def _e(value: object) -> str:
    return html.escape(_cell(value))


def _cell(value: object) -> str:
    # NA must not print as "<NA>" or "nan": the reader should see that the input said nothing.
    if value is None or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating) and math.isnan(value):
        return "—"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)


def wrap(markup: str) -> str:
    """Put ``markup`` in the ``div.ircore`` container the stylesheet applies to."""
    return f'<div class="ircore">{markup}</div>'


def _publish(markup: str, plain: str) -> None:
    # A text/plain fallback keeps consoles and `jupyter nbconvert --to markdown` readable.
    display({"text/html": wrap(markup), "text/plain": plain}, raw=True)


class _OfflineRenderer(MimetypeRenderer):
    """Figure as ``<div>`` + ``Plotly.newPlot`` (for nbconvert) and plotly JSON (for JupyterLab)."""

    def to_mimebundle(self, fig_dict: Any) -> dict[str, Any]:
        markup = pio.to_html(
            fig_dict,
            config=PLOTLY_CONFIG,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=fig_dict.get("layout", {}).get("height") or 450,
            validate=False,
        )
        bundle: dict[str, Any] = PlotlyRenderer(config=PLOTLY_CONFIG).to_mimebundle(fig_dict)
        bundle["text/html"] = markup
        title = ((fig_dict.get("layout") or {}).get("title") or {}).get("text") or "chart"
        bundle["text/plain"] = f"[plotly chart: {html.unescape(str(title))}]"
        return bundle


def setup_notebook() -> None:
    """Prepare a report notebook: inline plotly.js once and make ``ircore`` the renderer.

    Call it once, in the first code cell. It displays one output holding the report
    stylesheet and the whole plotly.js bundle, so the rendered HTML needs no network; every
    later chart (from :func:`show` or ``fig.show()``) only references ``window.Plotly``.
    """
    pio.renderers[RENDERER] = _OfflineRenderer()
    pio.renderers.default = RENDERER
    # window.PlotlyConfig before plotly.js, as plotly's own offline template does.
    markup = (
        f'<style>{CSS}{_SETUP_CSS}</style><div class="ircore-setup"></div>'
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f"<script>{get_plotlyjs()}</script>"
    )
    # Not wrapped in div.ircore: this output only carries code and style, nothing to read.
    display({"text/html": markup, "text/plain": ""}, raw=True)


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """Return the display bundle :func:`show` publishes for ``fig``."""
    return _OfflineRenderer().to_mimebundle(fig.to_dict())


def show(fig: go.Figure) -> None:
    """Display a plotly figure so that it survives nbconvert and works offline.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure; :func:`setup_notebook` must have run earlier in the notebook.
    """
    display(figure_bundle(fig), raw=True)


def table_html(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    max_rows: int = 50,
    empty_message: str = "No rows.",
) -> str:
    """Render ``frame`` as an escaped HTML table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to show.
    columns : sequence of str, optional
        Columns to show, in order; all columns by default.
    max_rows : int, optional
        Show at most this many rows and say how many were left out.
    empty_message : str, optional
        Shown instead of an empty table.

    Returns
    -------
    str
        HTML; every header and cell is escaped, NA shows as an em dash.
    """
    cols = list(frame.columns if columns is None else columns)
    if frame.empty:
        return f'<p class="ircore-note">{html.escape(empty_message)}</p>'
    shown = frame.loc[:, cols].head(max_rows)
    # A column of long text (messages, dependency paths) wraps, but keeps a minimum width;
    # the others hold names (repos, refs, package@version) that read badly broken at a hyphen.
    wide = [bool(shown[c].map(lambda v: len(_cell(v))).max() > _WIDE_TEXT) for c in cols]
    head = "".join(
        ('<th class="w">' if w else "<th>") + f"{html.escape(str(c))}</th>"
        for c, w in zip(cols, wide, strict=True)
    )
    td = ["<td>" if w else '<td class="n">' for w in wide]
    body = "".join(
        "<tr>" + "".join(f"{t}{_e(v)}</td>" for t, v in zip(td, row, strict=True)) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    markup = (
        f'<div class="ircore-scroll"><table class="ircore-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
    if len(frame) > max_rows:
        markup += (
            f'<p class="ircore-note">Showing the first {max_rows:,} of {len(frame):,} rows. '
            "The complete data is in the evidence folder of this report.</p>"
        )
    return markup


def show_table(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    max_rows: int = 50,
    empty_message: str = "No rows.",
) -> None:
    """Display ``frame`` as an escaped HTML table; see :func:`table_html` for the options."""
    markup = table_html(frame, columns=columns, max_rows=max_rows, empty_message=empty_message)
    _publish(markup, f"[table: {len(frame)} rows]")


def headline_html(
    figures: Mapping[str, object],
    *,
    verdict: str = "",
    level: str = "info",
    highlight: Sequence[str] = (),
) -> str:
    """Render a few big numbers, and optionally a one-sentence verdict above them.

    Parameters
    ----------
    figures : mapping of str to object
        Label → value, in display order; values are shown as text (ints with separators).
    verdict : str, optional
        A plain sentence, e.g. the ``verdict`` of :func:`blast_radius_summary`.
    level : str, optional
        Tone of the verdict box: ``"ok"``, ``"warn"``, ``"bad"`` or ``"info"``.
    highlight : sequence of str, optional
        Labels whose value is drawn in red.

    Returns
    -------
    str
        HTML.
    """
    tone = level if level in {"ok", "warn", "bad", "info"} else "info"
    cards = "".join(
        f'<div class="ircore-card{" hot" if label in highlight else ""}">'
        f'<div class="v">{_e(value)}</div><div class="l">{html.escape(label)}</div></div>'
        for label, value in figures.items()
    )
    box = (
        f'<div class="ircore-box ircore-{tone}"><h3>{html.escape(verdict)}</h3></div>'
        if verdict
        else ""
    )
    return f'{box}<div class="ircore-cards">{cards}</div>'


def headline(
    figures: Mapping[str, object],
    *,
    verdict: str = "",
    level: str = "info",
    highlight: Sequence[str] = (),
) -> None:
    """Display big numbers and a verdict; see :func:`headline_html` for the options."""
    markup = headline_html(figures, verdict=verdict, level=level, highlight=highlight)
    plain = "\n".join([verdict, *(f"{k}: {_cell(v)}" for k, v in figures.items())]).strip()
    _publish(markup, plain)


#: How the verdict levels of :func:`blast_radius_summary` map to box tones.
VERDICT_TONES: dict[str, str] = {"affected": "bad", "clear": "ok", "inconclusive": "warn"}


# Git evidence reads "<repository folder>@<commit>:<file in the repository>".
_GIT_EVIDENCE = re.compile(r"^(?P<repo>/.+?)@[0-9a-f]{7,40}:")
# Display fallbacks for advisory inputs recorded before their loader filled ``format``.
_ADVISORY_FORMATS = {"osv-dir": "OSV record", "osv-zip": "OSV record", "list": "published list"}


def _local_path(evidence: str) -> str | None:
    # Only absolute local paths are shortened; URLs and advisory ids are shown as they are.
    if not evidence.startswith("/"):
        return None
    git = _GIT_EVIDENCE.match(evidence)
    if git:
        return git.group("repo")
    return evidence.split("!", 1)[0]  # archive.zip!member: the archive is the local file


def evidence_root(inputs: pd.DataFrame) -> str:
    """Return the deepest local folder that holds every file and repository the inputs came from.

    Reports are shared, and an absolute path says who ran the scan where
    (``/home/alice/incident-42/...``); it also drowns the part that matters. Paths are shown
    relative to this folder, the scanned root as far as the frames can tell; the evidence
    Parquet keeps them whole.

    Parameters
    ----------
    inputs : pandas.DataFrame
        ``inputs`` frame.

    Returns
    -------
    str
        The folder (no trailing slash), or ``""`` when there is nothing to shorten (no local
        paths, or none in common but ``/``).
    """
    parents = {
        posixpath.dirname(path)
        for value in inputs["evidence"].dropna()
        if (path := _local_path(str(value)))
    }
    if not parents:
        return ""
    root = posixpath.commonpath(sorted(parents))
    return "" if root == "/" else root


def shorten_paths(text: object, root: str) -> object:
    """Return ``text`` with every ``root/`` removed (``root`` from :func:`evidence_root`)."""
    if not root or not isinstance(text, str):
        return text
    return text.replace(root + "/", "")


def _shortened(frame: pd.DataFrame, columns: Sequence[str], root: str) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(lambda v: shorten_paths(v, root), na_action="ignore")
    return out


def inputs_display(inputs: pd.DataFrame) -> pd.DataFrame:
    """Return the ``inputs`` frame as the report lists it: one row, one identifiable input.

    Parameters
    ----------
    inputs : pandas.DataFrame
        ``inputs`` frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``input`` (the lockfile's path inside its repository, or the advisory file's
        path relative to :func:`evidence_root`), ``repo``, ``ref``, ``format``, ``status``,
        ``packages`` and ``source``.
    """
    root = evidence_root(inputs)
    source = inputs["source"].astype("string").fillna("")
    evidence = inputs["evidence"].astype("string").fillna("").map(lambda v: shorten_paths(v, root))
    file = inputs["file"].astype("string").fillna("")
    advisory = source.isin(ADVISORY_SOURCES)
    # An advisory's file name alone may be ambiguous (two feeds, one id): show its whole
    # relative path. A lockfile's is its path in the repository, beside repo and ref.
    name = evidence.where(advisory | (file == ""), file)
    fmt = inputs["format"].astype("string").fillna("")
    fmt = fmt.where(fmt != "", source.map(_ADVISORY_FORMATS).astype("string").fillna(""))
    return pd.DataFrame(
        {
            "input": name,
            # a laptop's checkout is named by the machine: "ledger-cli" alone reads as the repo
            "repo": _machine_named(inputs),
            "ref": inputs["ref"],
            "format": fmt.mask(fmt == ""),
            "status": inputs["status"],
            "packages": inputs["packages"],
            "source": inputs["source"],
        }
    ).reset_index(drop=True)


def _machine_named(frame: pd.DataFrame) -> pd.Series:
    repo = frame["repo"].astype("string").fillna("")
    if "host" not in frame.columns:
        return repo
    host = frame["host"].astype("string").fillna("")
    return repo.where(host == "", "host " + host + ": " + repo)


def show_inputs(inputs: pd.DataFrame, *, max_rows: int = 500) -> None:
    """Display :func:`inputs_display` as a table."""
    show_table(inputs_display(inputs), max_rows=max_rows, empty_message="No inputs were recorded.")


# Inputs read on (or about) developer machines, and inputs that are API answers.
MACHINE_SOURCES = frozenset({"host-scan", "dev-machine-guard"})
API_SOURCES = frozenset({"github", "github-sbom", "stepsecurity", "stepsecurity-mdm"})


def scope_html(inputs: pd.DataFrame, *, covers: str = "this section") -> str:
    """Say in one sentence what was scanned, and that history is not part of it.

    Parameters
    ----------
    inputs : pandas.DataFrame
        ``inputs`` frame; git inputs are refs read from git objects, folder inputs are files
        as they are on disk.
    covers : str, optional
        What the sentence is about, as in "history ... is not covered by *this section*".

    Returns
    -------
    str
        HTML of one paragraph.
    """
    source = inputs["source"].astype("string").fillna("")
    host = (
        inputs["host"].astype("string").fillna("")
        if "host" in inputs.columns
        else pd.Series("", index=inputs.index, dtype="string")
    )
    advisory = source.isin(ADVISORY_SOURCES)
    machine = (host != "") | source.isin(MACHINE_SOURCES)
    api = source.isin(API_SOURCES)
    git = inputs.loc[source == "git", "repo"].dropna().nunique()
    manifest = inputs["format"].astype("string").fillna("") == "package.json"
    folder = int((~advisory & ~machine & ~api & ~manifest & (source != "git")).sum())
    hosts = host[host != ""].nunique() + int((source == "dev-machine-guard").sum())
    parts = []
    if git:
        parts.append(
            "the tips of every branch and pull-request ref of "
            f"{plural(git, 'git repository', 'git repositories')}"
        )
    if folder:
        parts.append(f"{plural(folder, 'lockfile')} in folders, as they are on disk")
    if api.any():
        parts.append(f"{plural(int(api.sum()), 'answer')} of GitHub or StepSecurity APIs")
    if machine.any():
        parts.append(f"the scans of {plural(hosts, 'developer machine')}")
    scanned = (
        ", ".join(parts[:-1]) + f" and {parts[-1]}"
        if len(parts) > 1
        else (parts[0] if parts else "no lockfile at all")
    )
    return (
        f'<p class="ircore-scope"><strong>What was scanned:</strong> {html.escape(scanned)}; '
        "history (what was present earlier and has since been removed) is not covered by "
        f"{html.escape(covers)}.</p>"
    )


def show_scope(inputs: pd.DataFrame) -> None:
    """Display the one-sentence scope of :func:`scope_html`."""
    markup = scope_html(inputs)
    _publish(markup, re.sub(r"<[^>]+>", "", markup))


def problems_html(problems: pd.DataFrame, inputs: pd.DataFrame) -> str:
    """Render the completeness box: every input read, or a warning listing what was not.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``problems`` frame.
    inputs : pandas.DataFrame
        ``inputs`` frame; failed inputs without a problem row are listed too.

    Returns
    -------
    str
        HTML of a green box when every input was read, an amber one when no input was
        recorded, and a red one listing every problem otherwise (never truncated).
    """
    unread = unread_inputs(problems, inputs)
    total = len(inputs)
    if unread.empty and total:
        return (
            '<div class="ircore-box ircore-ok" role="status"><h3>Every input was read '
            f"({plural(total, 'input')}).</h3><p>No file or response was skipped, so the findings "
            "below cover all the evidence collected.</p></div>"
        )
    if unread.empty:
        return (
            '<div class="ircore-box ircore-warn" role="alert"><h3>No inputs were recorded.</h3>'
            "<p>Nothing was read, so nothing can be concluded: neither affected nor "
            "not affected.</p></div>"
        )
    # Paths relative to the scanned root, in the evidence and in messages that quote it.
    shown = _shortened(unread, ["evidence", "message"], evidence_root(inputs))
    rows = table_html(
        shown,
        columns=["evidence", "kind", "message", "repo", "ref", "source"],
        max_rows=len(shown),
    )
    return (
        '<div class="ircore-box ircore-bad" role="alert">'
        f"<h3>⚠ {plural(len(unread), 'input problem')}: some evidence could not be read.</h3>"
        '<p><strong>"Not affected" cannot be concluded for these inputs.</strong> A compromised '
        "version could be in any of them. Fix or collect them again, then rebuild this report. "
        f"{plural(total, 'input')} recorded in total.</p>"
        f"{rows}</div>"
    )


def show_problems(problems: pd.DataFrame, inputs: pd.DataFrame) -> None:
    """Display the completeness box of :func:`problems_html`."""
    unread = unread_inputs(problems, inputs)
    if unread.empty:
        plain = f"Every input was read ({plural(len(inputs), 'input')})."
    else:
        plain = f'{plural(len(unread), "input problem")}: "not affected" cannot be concluded.'
    _publish(problems_html(problems, inputs), plain)


def incident_html(incident: Incident) -> str:
    """Render the incident: name, summary, packages and versions claimed, advisories, window."""
    claimed = "".join(
        f"<li><code>{html.escape(name)}</code>: "
        + (", ".join(f"<code>{html.escape(v)}</code>" for v in versions) or "all versions")
        + "</li>"
        for name, versions in sorted(incident.packages.items())
    )
    items = [("Incident", html.escape(incident.name))]
    if incident.summary:
        items.append(("Summary", html.escape(incident.summary)))
    # A worm-style incident lists hundreds of packages: flow them in columns.
    many = ' class="many"' if len(incident.packages) > 8 else ""
    items.append(("Compromised", f"<ul{many}>{claimed}</ul>" if claimed else "—"))
    if incident.advisories:
        items.append(
            (
                "Advisories",
                ", ".join(f'<code class="id">{html.escape(a)}</code>' for a in incident.advisories),
            )
        )
    start, end = incident.window_start, incident.window_end
    if start is not None or end is not None:
        window = (
            f"{_e(start)} → {_e(end)}"
            if start is not None and end is not None
            else (f"from {_e(start)}" if start is not None else f"until {_e(end)}")
        )
        items.append(("Window", window))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    return f'<div class="ircore-box ircore-info ircore-incident"><dl>{body}</dl></div>'


def show_incident(incident: Incident) -> None:
    """Display the incident card of :func:`incident_html`."""
    plain = incident.name + "".join(f"\n{k}: {', '.join(v)}" for k, v in incident.packages.items())
    _publish(incident_html(incident), plain)
