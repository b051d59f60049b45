"""The confirm section: advisory cards, versions in time, indicators, and which sources agree.

Frames from :mod:`ircore.analysis._confirm` in, escaped HTML and plotly figures out, under the
same rules as the other report modules: every untrusted string (advisory summaries, package
names, origins, indicator contexts) goes through :func:`html.escape` or
:func:`~ircore.report._figures.plot_text`, and a figure with nothing to draw is an
:func:`~ircore.report._figures.empty_figure` with a sentence.

Indicators are shown *defanged* (``evil[.]example``, ``hxxps[://]``): a report is mailed and
pasted into chats and tickets, where a live-looking host becomes a link someone clicks. The
values as they are stay in the ``iocs`` evidence frame, for searching logs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ircore.analysis._blast_radius import _text, plural
from ircore.analysis._confirm import (
    CLAIMED,
    COMPROMISED,
    DISPUTED,
    NOT_CLAIMED,
    NOT_COVERED,
    UNCLAIMED,
    advisory_agreement,
    agreement_matrix,
    order_sources,
)
from ircore.report._display import _cell, _publish, table_html
from ircore.report._figures import ALERT, _layout, empty_figure, plot_text

#: One colour per cell state of the agreement matrix.
STATE_COLOURS: dict[str, str] = {
    CLAIMED: ALERT,
    NOT_CLAIMED: "#fdb022",
    NOT_COVERED: "#eaecf0",
}
#: One colour per version status on the time axis.
STATUS_COLOURS: dict[str, str] = {
    COMPROMISED: ALERT,
    DISPUTED: "#f79009",
    UNCLAIMED: "#98a2b3",
}
WINDOW_COLOUR = "rgba(180, 35, 24, 0.08)"
#: How much time either side of the incident window the time axis opens on.
WINDOW_CONTEXT = pd.Timedelta(days=60)

#: Indicator types that name something reachable, and so are defanged.
NETWORK_TYPES: frozenset[str] = frozenset({"url", "domain", "ip", "email", "reference"})

DEFANG_NOTE = (
    "Domains, IP addresses, URLs and e-mail addresses are shown defanged ([.] for a dot, hxxp "
    "for http, [://] and [@]) so that nobody opens one by clicking or pasting it. Search logs "
    "and network events with the values as they are: the evidence folder of this report holds "
    "them in iocs.parquet."
)

_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.IGNORECASE)
_CARD_CSS = """
div.ircore .ircore-advisory{border:1px solid #d0d5dd;border-left:6px solid #98a2b3;
  border-radius:8px;padding:12px 16px;margin:12px 0;background:#fff}
div.ircore .ircore-advisory.malware{border-left-color:#b42318}
div.ircore .ircore-advisory header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
div.ircore .ircore-advisory header code.id{font-size:15px;font-weight:700;white-space:normal;
  overflow-wrap:anywhere}
div.ircore .ircore-advisory .badge{font-size:12px;font-weight:600;border-radius:10px;
  padding:1px 8px;background:#f2f4f7;color:#344054;white-space:nowrap}
div.ircore .ircore-advisory .badge.malware{background:#fef3f2;color:#b42318}
div.ircore .ircore-advisory .badge.warn{background:#fffaeb;color:#b54708}
div.ircore .ircore-advisory .summary{margin:6px 0 8px 0;overflow-wrap:anywhere}
div.ircore .ircore-advisory dl{display:grid;grid-template-columns:max-content 1fr;
  gap:2px 14px;margin:0 0 8px 0}
div.ircore .ircore-advisory dt{font-weight:600;color:#344054;float:none;width:auto;padding:0}
div.ircore .ircore-advisory dd{margin:0;overflow-wrap:anywhere;float:none;width:auto;padding:0}
div.ircore .ircore-advisory a{color:#175cd3}
@media (max-width:600px){div.ircore .ircore-advisory dl{grid-template-columns:1fr;gap:0}
  div.ircore .ircore-advisory dd{margin-bottom:6px}}
"""


# --- defanging -----------------------------------------------------------------------------------


def defang(value: str, ioc_type: str = "url") -> str:
    """Return ``value`` in a form no client turns into a link: ``hxxps[://]evil[.]example/x``.

    Parameters
    ----------
    value : str
        An indicator as the ``iocs`` frame holds it (re-fanged).
    ioc_type : str, optional
        Its type: URLs and references get the scheme and host defanged (the path is left as
        it is), domains their dots, IPv4 addresses their dots and IPv6 addresses their colons,
        e-mail addresses the ``@`` and the dots of their domain. Other types (hashes, file
        names, wallets) are not reachable and are returned unchanged.
    """
    text = str(value)
    if ioc_type in ("url", "reference"):
        scheme, sep, rest = text.partition("://")
        if not sep:
            return _host_dots(text)
        host, slash, path = rest.partition("/")
        return f"{_SCHEME.sub(_hxxp, scheme + '://')}{_host_dots(host)}{slash}{path}".replace(
            "://", "[://]", 1
        )
    if ioc_type == "domain":
        return _host_dots(text)
    if ioc_type == "ip":
        return text.replace(":", "[:]") if ":" in text else _host_dots(text)
    if ioc_type == "email":
        user, at, domain = text.rpartition("@")
        return f"{user}[@]{_host_dots(domain)}" if at else text
    return text


def _hxxp(match: re.Match[str]) -> str:
    return ("H" if match.group(1).isupper() else "h") + "xx" + match.group(3) + match.group(4)


# A dot not already inside brackets: defanging twice changes nothing.
_BARE_DOT = re.compile(r"(?<!\[)\.(?!\])")
# A URL in prose, live or half-defanged: scheme, separator, host (up to a path or delimiter).
_URL_IN_TEXT = re.compile(
    r"\b(h(?:tt|xx|XX)ps?)(?:://|\[://\]|\[:\]//)([^\s/?#<>\"'`\])|]+)", re.IGNORECASE
)


_BARE_SEPARATOR = re.compile(r"(?<!\[)://")


def _host_dots(host: str) -> str:
    return _BARE_DOT.sub("[.]", host)


def defang_text(text: str, indicators: Iterable[tuple[str, str]] = ()) -> str:
    """Return ``text`` with URL schemes and the given (type, value) indicators defanged.

    Used on the context an indicator was found in, which quotes it (and often its
    neighbours) as the advisory wrote it.
    """
    out = _URL_IN_TEXT.sub(_url_host, str(text))
    out = _BARE_SEPARATOR.sub("[://]", _SCHEME.sub(_hxxp, out))
    values = {
        (str(v), str(t))
        for t, v in indicators
        if t in NETWORK_TYPES and v and v is not pd.NA and t not in ("url", "reference")
    }
    for value, kind in sorted(values, key=lambda item: -len(item[0])):
        out = re.sub(re.escape(value), defang(value, kind), out, flags=re.IGNORECASE)
    return out


def _url_host(match: re.Match[str]) -> str:
    scheme = match.group(1)
    fanged = "H" if scheme[0].isupper() else "h"
    return f"{fanged}xx{scheme[3:]}[://]{_host_dots(match.group(2))}"


def _flag(value: object) -> bool | None:
    return None if value is None or value is pd.NA else bool(value)


# --- advisory cards ------------------------------------------------------------------------------


def _age(days: object) -> str:
    if days is None or days is pd.NA or (isinstance(days, float) and days != days):
        return ""
    n = int(days)  # type: ignore[call-overload]
    if n < 0:
        return "after this report's time"
    if n == 0:
        return "the day of this report"
    return f"{plural(n, 'day')} before this report"


def _missing(value: object) -> bool:
    """NA of any kind (None, pd.NA, NaT, NaN): what a frame cell holds when a source said nothing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def _when(value: object) -> str:
    return "—" if _missing(value) else _cell(value)


def _link(url: object, *, derived: bool) -> str:
    text = "" if url is None or url is pd.NA else str(url)
    if not re.match(r"^https?://", text, re.IGNORECASE):
        return html.escape(text) or "—"
    # A link the reader is meant to follow (an advisory page), never one that loads by itself.
    anchor = (
        f'<a href="{html.escape(text, quote=True)}" rel="noopener noreferrer nofollow" '
        f'referrerpolicy="no-referrer" target="_blank">{html.escape(text)}</a>'
    )
    return anchor + (" (osv.dev's page for this id; no source gave a link)" if derived else "")


# An OSV origin is "<feed>:<id>@<import time>" (how ircore.threats labels them): one feed
# re-imported daily would otherwise fill a card with identical rows.
_IMPORTED = re.compile(r"^(?P<feed>.+)@(?P<time>\d{4}-\d{2}-\d{2}T[\d:.]+Z?)$")


def _short_time(value: object) -> str | None:
    if _missing(value):
        return None
    stamp = pd.Timestamp(str(value)) if not isinstance(value, pd.Timestamp) else value
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def card_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """Return an advisory's claims as its card lists them: who claims which versions, as of when.

    Parameters
    ----------
    claims : pandas.DataFrame
        The rows of :func:`ircore.analysis.source_claims` for one advisory.

    Returns
    -------
    pandas.DataFrame
        Columns ``who claims`` (the origin), ``what`` (claims, a feed's claim, withdrawn),
        ``versions`` (per package when the advisory names several), ``read from`` (sources)
        and ``as of`` (the source's publish and last-change time; a feed's import times). A
        feed imported several times with the same claim is one row. Own claims first.
    """
    columns = ["who claims", "what", "versions", "read from", "as of"]
    if claims.empty:
        return pd.DataFrame(columns=columns)
    several = _text(claims["package"]).nunique() > 1
    entries: list[dict[str, Any]] = []
    keys = [_text(claims["origin"]), _text(claims["role"])]
    for (origin, role), part in claims.groupby(keys, sort=False):
        withdrawn = part["withdrawn"].max()
        per_package: dict[str, list[str]] = {}
        for package, claim in zip(_text(part["package"]), _text(part["claim"]), strict=True):
            if claim not in per_package.setdefault(package, []):
                per_package[package].append(claim)
        versions = "; ".join(
            (f"{p}: " if several else "") + ", ".join(c) for p, c in per_package.items()
        )
        imported = _IMPORTED.match(str(origin)) if role != "affected" else None
        if not pd.isna(withdrawn):
            what = f"withdrawn {_short_time(withdrawn)}"
        elif role == "affected":
            what = "claims (matched)"
        else:
            what = "a feed's claim (shown, not matched)"
        entries.append(
            {
                "who": imported.group("feed") if imported else (origin or "origin not stated"),
                "what": what,
                "versions": versions,
                "read from": ", ".join(order_sources(_text(part["source"]))),
                "times": [imported.group("time")] if imported else [],
                "published": part["published"].min(),
                "modified": part["modified"].max(),
            }
        )
    rows: list[dict[str, Any]] = []
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for entry in entries:
        key = (entry["who"], entry["what"], entry["versions"], entry["read from"])
        if entry["times"] and key in merged:
            merged[key]["times"] += entry["times"]
            continue
        merged[key] = entry
        rows.append(entry)
    table = []
    for entry in rows:
        if entry["times"]:
            times = sorted(_short_time(t) or t for t in entry["times"])
            when = (
                f"imported {times[0]}"
                if len(times) == 1
                else f"imported {len(times)} times, {times[0]} to {times[-1]}"
            )
        else:
            published, modified = _short_time(entry["published"]), _short_time(entry["modified"])
            when = "; ".join(
                x
                for x in (
                    f"published {published}" if published else "",
                    f"changed {modified}" if modified and modified != published else "",
                )
                if x
            )
        table.append(
            {
                "who claims": entry["who"],
                "what": entry["what"],
                "versions": entry["versions"],
                "read from": entry["read from"],
                "as of": when or None,
            }
        )
    return pd.DataFrame(table, columns=columns)


def _pairs(indicators: pd.DataFrame | None) -> list[tuple[str, str]] | None:
    if indicators is None:
        return None
    return list(zip(_text(indicators["ioc_type"]), _text(indicators["value"]), strict=True))


def advisory_card_html(
    card: pd.Series | dict[str, Any],
    claims: pd.DataFrame,
    *,
    indicators: pd.DataFrame | None = None,
) -> str:
    """Render one advisory card (a row of :func:`ircore.analysis.advisory_cards`).

    With ``indicators`` (:func:`ircore.analysis.indicator_table`), the hosts, addresses and
    URLs they name are defanged in the advisory's own text too (summary, who claims what).
    """
    get = card.get
    pairs = _pairs(indicators)
    malware = get("classification") == "malware"
    badges = [
        f'<span class="badge{" malware" if malware else ""}">{html.escape(str(get("label")))}</span>'
    ]
    if malware:
        badges.append('<span class="badge malware">always blocking</span>')
    if not pd.isna(get("withdrawn")):
        badges.append(
            f'<span class="badge warn">withdrawn {html.escape(_cell(get("withdrawn")))}</span>'
        )
    if _flag(get("standing")) is False:
        badges.append('<span class="badge warn">no source still claims it</span>')
    if _flag(get("claims_differ")) is True:
        badges.append('<span class="badge warn">sources claim different versions</span>')
    items: list[tuple[str, str]] = []
    if get("aliases") and not pd.isna(get("aliases")):
        aliases = [a.strip() for a in str(get("aliases")).split(",") if a.strip()]
        items.append(
            (
                "Also known as",
                ", ".join(f'<code class="id">{html.escape(a)}</code>' for a in aliases),
            )
        )
    packages = "" if pd.isna(get("packages")) else str(get("packages"))
    others = get("other_packages")
    shown = ", ".join(
        f"<code>{html.escape(p.strip())}</code>" for p in packages.split(",") if p.strip()
    )
    if others and not pd.isna(others) and int(others):
        shown += f" and {plural(int(others), 'other package')} outside this incident"
    items.append(("Packages", shown or "—"))
    published, modified = get("published"), get("modified")
    items.append(
        ("Published", "not stated by any source" if pd.isna(published) else _when(published))
    )
    age = _age(get("age_days"))
    changed = "not stated by any source" if pd.isna(modified) else _when(modified)
    items.append(("Last changed", changed + (f" — {html.escape(age)}" if age else "")))
    items.append(("Sources", html.escape(str(get("sources") or "—"))))
    items.append(("Read it", _link(get("url"), derived=_flag(get("url_derived")) is True)))
    summary = "" if pd.isna(get("summary")) else str(get("summary"))
    said = card_claims(claims)
    if pairs is not None:
        summary = defang_text(summary, pairs)
        said["who claims"] = [defang_text(str(w), pairs) for w in said["who claims"]]
    rows = table_html(said, max_rows=len(said) + 1, empty_message="No claims.")
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
    return (
        f'<article class="ircore-advisory{" malware" if malware else ""}">'
        f'<header><code class="id">{html.escape(str(get("advisory_id")))}</code>'
        f"{''.join(badges)}</header>"
        + (f'<p class="summary">{html.escape(summary)}</p>' if summary else "")
        + f"<dl>{body}</dl>{rows}</article>"
    )


def advisory_cards_html(
    cards: pd.DataFrame,
    claims: pd.DataFrame,
    *,
    indicators: pd.DataFrame | None = None,
    max_cards: int = 40,
) -> str:
    """Render :func:`ircore.analysis.advisory_cards` with their :func:`~ircore.analysis.source_claims`.

    Parameters
    ----------
    cards : pandas.DataFrame
        One row per advisory.
    claims : pandas.DataFrame
        Every claim, matched to cards by ``advisory_id``.
    indicators : pandas.DataFrame, optional
        :func:`ircore.analysis.indicator_table`: what it names is defanged in the cards' text,
        as in the indicator table.
    max_cards : int, optional
        Show this many cards and say how many more there are.

    Returns
    -------
    str
        HTML: a stylesheet and one ``<article>`` per advisory; every string escaped, links only
        for ``http(s)`` URLs.
    """
    if cards.empty:
        return '<p class="ircore-note">No advisory names a package of this incident.</p>'
    ids = _text(claims["advisory_id"]) if not claims.empty else pd.Series(dtype="string")
    markup = [f"<style>{_CARD_CSS}</style>"]
    for _, card in cards.head(max_cards).iterrows():
        mine = claims[ids == card["advisory_id"]] if not claims.empty else claims
        markup.append(advisory_card_html(card, mine, indicators=indicators))
    if len(cards) > max_cards:
        markup.append(
            f'<p class="ircore-note">Showing {max_cards} of {len(cards):,} advisories; the '
            "evidence folder of this report holds them all (advisories.parquet).</p>"
        )
    return "".join(markup)


def show_advisory_cards(
    cards: pd.DataFrame,
    claims: pd.DataFrame,
    *,
    indicators: pd.DataFrame | None = None,
    max_cards: int = 40,
) -> None:
    """Display :func:`advisory_cards_html`."""
    plain = "\n".join(
        f"{a}: {lbl}" for a, lbl in zip(cards["advisory_id"], cards["label"], strict=True)
    )
    markup = advisory_cards_html(cards, claims, indicators=indicators, max_cards=max_cards)
    _publish(markup, plain or "No advisories.")


# --- versions in time ----------------------------------------------------------------------------


def _utc_text(series: pd.Series) -> list[str]:
    # Plotly reads naive ISO text as it is; the axis says it is UTC.
    return [t.strftime("%Y-%m-%d %H:%M:%S") for t in pd.to_datetime(series, utc=True)]


def _axis_time(value: Any) -> str:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def version_timeline_figure(
    timeline: pd.DataFrame,
    *,
    window_start: Any = None,
    window_end: Any = None,
    title: str = "Every version's publish time, compromised ones highlighted",
    max_packages: int = 20,
    context: pd.Timedelta = WINDOW_CONTEXT,
) -> go.Figure:
    """Scatter on a time axis: one row per package, one marker per version, by publish time.

    Compromised versions (every source that covers the package claims them) are red, disputed
    ones (claimed by some sources only) amber, others grey; a cross marks a version the
    registry no longer lists. Claimed versions without a publish time (the registry dropped it
    with the version) are drawn at the start of the incident window when there is one, one
    marker per package, and named under the chart.

    Parameters
    ----------
    timeline : pandas.DataFrame
        :func:`ircore.analysis.version_timeline`.
    window_start, window_end : optional
        The incident window, shaded; an open end runs a day past the start. With a window the
        axis opens on the window and ``context`` either side (years of releases would squeeze
        it to a line); double-clicking the chart shows every version.
    title : str, optional
        Chart title.
    max_packages : int, optional
        Show the packages with the most claimed versions only, and say so in the title.
    context : pandas.Timedelta, optional
        How much time either side of the window the axis shows at first.

    Returns
    -------
    plotly.graph_objects.Figure
        An :func:`empty_figure` when no version of a package in scope has a publish time and
        none is claimed.
    """
    nothing = (
        "The registry was not asked about the packages in scope, and no source claims a "
        "version of them."
    )
    if timeline.empty:
        return empty_figure(nothing, title=title)
    if timeline["published"].isna().all():
        return empty_figure(
            "No publish time is known for any version of these packages: the registry was not "
            "configured ('registry:' in the sources), could not be read (see the problems "
            "above), or kept no times.",
            title=title,
        )
    frame = timeline.assign(status=_text(timeline["status"]).replace("", UNCLAIMED))
    names = list(dict.fromkeys(_text(frame["name"])))
    if len(names) > max_packages:
        claimed = frame[frame["status"] != UNCLAIMED]
        counts = claimed.groupby(_text(claimed["name"])).size()
        names = sorted(names, key=lambda n: (-int(counts.get(n, 0)), n))[:max_packages]
        title = f"{title} (the {max_packages} packages with the most claimed versions)"
        frame = frame[_text(frame["name"]).isin(names)]
    start = None if window_start is None or pd.isna(window_start) else pd.Timestamp(window_start)
    end = None if window_end is None or pd.isna(window_end) else pd.Timestamp(window_end)
    timed = frame["published"].notna()
    untimed = frame[~timed & (frame["status"] != UNCLAIMED)]
    labels = {n: plot_text(n) for n in names}
    traces: list[go.Scatter] = []
    for kind in (UNCLAIMED, DISPUTED, COMPROMISED):
        part = frame[timed & (frame["status"] == kind)]
        if not part.empty:
            traces.append(_version_trace(part, kind, labels))
    if start is not None and not untimed.empty:
        traces.append(_untimed_trace(untimed, labels, at=_axis_time(start)))
    if not traces:
        return empty_figure(nothing, title=title)
    fig = go.Figure(traces)
    if start is not None:
        right = end if end is not None and end > start else start + pd.Timedelta(days=1)
        fig.add_vrect(
            x0=_axis_time(start),
            x1=_axis_time(right),
            fillcolor=WINDOW_COLOUR,
            line_width=0,
            layer="below",
        )
        fig.add_annotation(
            text="incident window",
            x=_axis_time(start),
            y=1,
            xref="x",
            yref="paper",
            yanchor="bottom",
            xanchor="left",
            showarrow=False,
            font=dict(size=11, color="#7a271a"),
        )
        times = frame.loc[timed, "published"]
        first, last = start - context, right + context
        if not times.empty and (times.min() < first or times.max() > last):
            fig.update_xaxes(range=[_axis_time(first), _axis_time(last)])
            title += "; double-click the chart to see every version"
    height = 250 + 60 * len(names)
    top, bottom = 100, 120
    plot = max(height - top - bottom, 1)
    unknown = [
        f"{n}@{v}" for n, v in zip(_text(untimed["name"]), _text(untimed["version"]), strict=True)
    ]
    if unknown:
        where = "drawn at the window's start" if start is not None else "not drawn"
        fig.add_annotation(
            text=_lines(f"No publish time known ({where}): {_some(unknown)}"),
            x=0,
            y=-86 / plot,
            xref="paper",
            yref="paper",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            align="left",
            font=dict(size=12, color="#475467"),
        )
    fig.update_xaxes(title_text="publish time (UTC)", type="date")
    fig.update_yaxes(
        type="category",
        automargin=True,
        categoryorder="array",
        categoryarray=[labels[n] for n in reversed(names)],
    )
    fig.update_layout(
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"),
        hovermode="closest",
    )
    fig = _layout(fig, title=title, height=height)
    fig.update_layout(margin=dict(t=top, b=bottom))
    return fig


def _lines(text: str, width: int = 110) -> str:
    """``text`` escaped for plotly and broken into lines of about ``width`` characters."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + len(word) < width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(plot_text(line) for line in lines)


def _registry_says(listed: object) -> str:
    if listed is None or listed is pd.NA:
        return "the registry was not asked about it"
    return "in the registry" if listed else "no longer in the registry"


def _version_trace(part: pd.DataFrame, kind: str, labels: dict[str, str]) -> go.Scatter:
    listed = [None if v is pd.NA else bool(v) for v in part["in_registry"].astype("boolean")]
    colour = STATUS_COLOURS[kind]
    claimed = kind != UNCLAIMED
    custom = list(
        zip(
            [plot_text(v) for v in _text(part["version"])],
            [plot_text(c or "no source") for c in _text(part["claimed_by"])],
            [_registry_says(v) for v in listed],
            strict=True,
        )
    )
    return go.Scatter(
        name=kind,
        x=_utc_text(part["published"]),
        y=[labels[str(n)] for n in _text(part["name"])],
        mode="markers+text" if kind == COMPROMISED else "markers",
        text=[plot_text(v) for v in _text(part["version"])] if kind == COMPROMISED else None,
        textposition="top center",
        textfont=dict(size=11, color=colour),
        marker=dict(
            color=colour,
            size=13 if kind == COMPROMISED else (10 if claimed else 7),
            symbol=["x" if v is False else "circle" for v in listed],
            opacity=1 if claimed else 0.6,
        ),
        customdata=custom,
        hovertemplate=(
            "%{y} %{customdata[0]}<br>published %{x}<br>claimed by: %{customdata[1]}"
            "<br>%{customdata[2]}<extra>%{fullData.name}</extra>"
        ),
    )


def _untimed_trace(untimed: pd.DataFrame, labels: dict[str, str], *, at: str) -> go.Scatter:
    """One marker per package for its claimed versions that have no publish time."""
    names, texts, colours, custom = [], [], [], []
    for name, part in untimed.groupby(_text(untimed["name"]), sort=False):
        versions = list(_text(part["version"]))
        worst = COMPROMISED if (part["status"] == COMPROMISED).any() else DISPUTED
        listed = [None if v is pd.NA else bool(v) for v in part["in_registry"].astype("boolean")]
        gone = sum(v is False for v in listed)
        names.append(labels[str(name)])
        texts.append(plot_text(_some(versions, 4)))
        colours.append(STATUS_COLOURS[worst])
        custom.append(
            (
                plot_text(_some(versions, 12)),
                plot_text(_some(sorted({c for c in _text(part["claimed_by"]) if c}), 6)),
                f"{gone} of {len(versions)} no longer in the registry",
            )
        )
    return go.Scatter(
        name="publish time unknown",
        x=[at] * len(names),
        y=names,
        mode="markers+text",
        text=texts,
        textposition="top center",
        textfont=dict(size=11, color=STATUS_COLOURS[COMPROMISED]),
        # an open symbol is drawn in the marker's colour
        marker=dict(color=colours, size=15, symbol="x-open", line=dict(width=1.5)),
        customdata=custom,
        hovertemplate=(
            "%{y} %{customdata[0]}<br>publish time unknown (drawn at the incident window's "
            "start)<br>claimed by: %{customdata[1]}<br>%{customdata[2]}<extra></extra>"
        ),
    )


def _some(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def release_windows_display(windows: pd.DataFrame) -> pd.DataFrame:
    """Columns a reader needs from :func:`ircore.analysis.release_windows`, in reading order."""

    def release(version: object, when: object) -> str | None:
        if _missing(version):
            return None
        published = _short_time(when)
        return f"{version} (published {published})" if published else str(version)

    return pd.DataFrame(
        {
            "package": windows["name"],
            "compromised": windows["compromised"],
            "no longer in the registry": windows["not_in_registry"],
            "roll back to": [
                release(v, t)
                for v, t in zip(
                    windows["last_good_before"], windows["last_good_before_published"], strict=True
                )
            ],
            "roll forward to": [
                release(v, t)
                for v, t in zip(
                    windows["first_clean_after"],
                    windows["first_clean_after_published"],
                    strict=True,
                )
            ],
            "disputed versions": windows["disputed"],
        }
    ).reset_index(drop=True)


def show_release_windows(windows: pd.DataFrame) -> None:
    """Display :func:`release_windows_display` as a table."""
    markup = table_html(
        release_windows_display(windows),
        max_rows=200,
        empty_message="No version is claimed compromised by every source that covers it.",
    )
    _publish(markup, f"[table: {len(windows)} packages]")


# --- indicators ----------------------------------------------------------------------------------


def indicators_display(indicators: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`ircore.analysis.indicator_table` as the report shows it, defanged."""
    pairs = list(zip(_text(indicators["ioc_type"]), _text(indicators["value"]), strict=True))
    return pd.DataFrame(
        {
            "type": indicators["ioc_type"],
            "indicator": [defang(v, t) for t, v in pairs],
            "port": indicators["port"],
            "confidence": indicators["confidence"],
            "advisory": indicators["advisory_ids"],
            "found in": [
                None if pd.isna(c) else defang_text(str(c), pairs) for c in indicators["context"]
            ],
            "source": indicators["sources"],
        }
    ).reset_index(drop=True)


def indicators_html(
    indicators: pd.DataFrame, *, references: bool = False, max_rows: int = 200
) -> str:
    """Render the indicator table, defanged, with the note that says so under it."""
    empty = (
        "The advisories cite no write-up."
        if references
        else "No indicator of compromise is known for the advisories of this incident."
    )
    shown = indicators_display(indicators)
    if references:
        # a reference's context is its own field path: nothing to add
        shown = shown.drop(columns=["type", "port", "confidence", "found in"]).rename(
            columns={"indicator": "write-up"}
        )
    markup = table_html(shown, max_rows=max_rows, empty_message=empty)
    if not indicators.empty:
        markup += f'<p class="ircore-note">{html.escape(DEFANG_NOTE)}</p>'
    return markup


def show_indicators(
    indicators: pd.DataFrame, *, references: bool = False, max_rows: int = 200
) -> None:
    """Display :func:`indicators_html`."""
    markup = indicators_html(indicators, references=references, max_rows=max_rows)
    _publish(markup, f"[table: {len(indicators)} indicators, defanged]")


# --- which sources agree -------------------------------------------------------------------------


_STATE_CODES = {NOT_COVERED: 0, NOT_CLAIMED: 1, CLAIMED: 2}


def _pick_rows(table: pd.DataFrame, max_rows: int) -> list[int]:
    """Row positions to draw: disputed ones first (they need a decision), then the others."""
    order = sorted(range(len(table)), key=lambda i: (table["status"].iloc[i] != DISPUTED, i))
    return sorted(order[:max_rows])


def agreement_figure(
    states: pd.DataFrame,
    *,
    title: str = "Which sources claim which versions",
    max_rows: int = 60,
) -> go.Figure:
    """Heatmap: one row per claimed version (or versions all sources treat alike), one column
    per source.

    A cell is red where the source claims the version, amber where it speaks of the package but
    does not claim this version, and light grey where it says nothing of the package.

    Parameters
    ----------
    states : pandas.DataFrame
        :func:`ircore.analysis.claim_states`.
    title : str, optional
        Chart title.
    max_rows : int, optional
        Draw this many rows of :func:`ircore.analysis.agreement_matrix`, disputed ones first,
        and say so in the title.

    Returns
    -------
    plotly.graph_objects.Figure
        An :func:`empty_figure` when no source claims a version.
    """
    if states.empty:
        return empty_figure("No source claims a version of the packages in scope.", title=title)
    table = agreement_matrix(states)
    if len(table) > max_rows:
        title = f"{title} ({max_rows} of {len(table)} rows, disputed ones first)"
        table = table.iloc[_pick_rows(table, max_rows)].reset_index(drop=True)
    sources = [
        c for c in table.columns if c not in ("row", "package", "versions", "count", "status")
    ]
    rows = [plot_text(r) for r in table["row"]]
    z = [[_STATE_CODES[str(table[s].iloc[i])] for s in sources] for i in range(len(table))]
    hover = [
        [
            f"{plot_text(table['package'].iloc[i])} "
            f"{plot_text(_some(str(table['versions'].iloc[i]).split(', ')))}"
            f"<br>{plot_text(s)}: {plot_text(table[s].iloc[i])}"
            f"<br>{plot_text(table['status'].iloc[i])}"
            for s in sources
        ]
        for i in range(len(table))
    ]
    colours = [STATE_COLOURS[NOT_COVERED], STATE_COLOURS[NOT_CLAIMED], STATE_COLOURS[CLAIMED]]
    scale = [
        [0.0, colours[0]],
        [1 / 3, colours[0]],
        [1 / 3, colours[1]],
        [2 / 3, colours[1]],
        [2 / 3, colours[2]],
        [1.0, colours[2]],
    ]
    height = 190 + 30 * len(rows)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plot_text(s) for s in sources],
            y=rows,
            zmin=-0.5,
            zmax=2.5,
            colorscale=scale,
            xgap=2,
            ygap=2,
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            colorbar=dict(
                tickvals=[0, 1, 2],
                ticktext=[NOT_COVERED, NOT_CLAIMED, CLAIMED],
                thickness=14,
                lenmode="pixels",
                len=150,
                y=1,
                yanchor="top",
            ),
        )
    )
    fig.update_xaxes(side="top", type="category")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig = _layout(fig, title=title, height=height)
    fig.update_layout(margin=dict(t=110))
    return fig


def agreement_display(states: pd.DataFrame, *, max_versions: int = 12) -> pd.DataFrame:
    """Return :func:`ircore.analysis.agreement_matrix` as the report shows it.

    ``versions`` lists up to ``max_versions`` versions of a row and counts the rest.
    """
    table = agreement_matrix(states)
    if table.empty:
        return table
    versions = [_some(str(v).split(", "), max_versions) for v in table["versions"]]
    shown = table.drop(columns=["row", "count"]).assign(versions=versions)
    return shown.reset_index(drop=True)


def show_agreement(states: pd.DataFrame, *, max_rows: int = 200) -> None:
    """Display :func:`agreement_display` as a table."""
    markup = table_html(
        agreement_display(states),
        max_rows=max_rows,
        empty_message="No source claims a version of the packages in scope.",
    )
    _publish(markup, f"[table: {len(states)} source claims]")


def advisory_agreement_display(states: pd.DataFrame) -> pd.DataFrame:
    """One row per advisory, one column per source: ``k of n`` of its versions claimed too."""
    long = advisory_agreement(states)
    if long.empty:
        return pd.DataFrame(columns=["advisory"])
    cells = [
        "—" if s == NOT_COVERED else f"{int(c)} of {int(n)}"
        for s, c, n in zip(long["state"], long["claimed"], long["of"], strict=True)
    ]
    wide = long.assign(cell=cells).pivot(index="advisory_id", columns="source", values="cell")
    ids = list(dict.fromkeys(long["advisory_id"]))
    sources = order_sources(long["source"])
    table = wide.reindex(index=ids, columns=sources).reset_index(drop=True)
    table.insert(0, "advisory", ids)
    return table


def show_advisory_agreement(states: pd.DataFrame) -> None:
    """Display :func:`advisory_agreement_display` as a table."""
    markup = table_html(
        advisory_agreement_display(states),
        max_rows=200,
        empty_message="No advisory claims a version of the packages in scope.",
    )
    markup += (
        '<p class="ircore-note">Each cell: how many of the versions the advisory claims this '
        "source claims too, under any id; — where the source says nothing of its packages.</p>"
    )
    _publish(markup, "[table: advisories by source]")
