"""The report's pure functions (blast-radius numbers, tables, figures, HTML) on hand-built frames."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from ircore._frames import new_frame
from ircore._investigation import Incident
from ircore.analysis import (
    AFFECTED_REPOS,
    DEPENDENCY_PATHS,
    affected_repos,
    blast_radius_summary,
    dependency_paths,
    headline_figures,
)
from ircore.report import (
    affected_repos_figure,
    blast_radius_tree_figure,
    check_parameters,
    figure_bundle,
    headline_html,
    incident_html,
    problems_html,
    table_html,
)

EVIL = "<img src=x onerror=alert(1)>"


def occ(repo: str, ref: str, name: str, version: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "repo": repo,
        "ref": ref,
        "surface": "default_branch" if ref == "main" else "pull_request",
        "file": "package-lock.json",
        "name": name,
        "version": version,
        "dev": False,
        "direct": False,
        "introducer": "express",
        "dependency_path": f"express > {name}",
        "origin_kind": "registry",
        "advisory_id": "MAL-2025-1",
        "classification": "malware",
        "evidence": f"/clones/{repo}/package-lock.json",
    }
    row.update(kw)
    return row


@pytest.fixture
def exposure() -> pd.DataFrame:
    return new_frame(
        "exposure",
        [
            occ("acme/web", "main", "chalk", "5.6.1", dev=True),
            # the same occurrence matched by a second advisory: counted once
            occ("acme/web", "main", "chalk", "5.6.1", dev=True, advisory_id="GHSA-x"),
            occ("acme/web", "refs/pull/7/head", "chalk", "5.6.1", dev=True),
            occ(
                "acme/api",
                "main",
                "chalk",
                "5.6.1",
                direct=True,
                introducer="chalk",
                dependency_path="chalk",
            ),
            occ("acme/api", "main", "debug", "4.4.2", dev=pd.NA, direct=pd.NA),
            occ("acme/cli", "feature/x", EVIL, "1.0.0", surface="branch"),
        ],
    )


@pytest.fixture
def inventory() -> pd.DataFrame:
    return new_frame(
        "inventory",
        [
            {"repo": "acme/web", "ref": "main", "name": "left-pad", "version": "1.3.0"},
            {"repo": "acme/docs", "ref": "main", "name": "react", "version": "18.2.0"},
        ],
    )


def inputs_frame(statuses: dict[str, str]) -> pd.DataFrame:
    return new_frame(
        "inputs",
        [
            {
                "source": "clone",
                "evidence": f"/clones/{repo}/package-lock.json",
                "repo": repo,
                "ref": "main",
                "file": "package-lock.json",
                "status": status,
            }
            for repo, status in statuses.items()
        ],
    )


def test_summary_counts_occurrences_once_and_keeps_unknowns_apart(
    exposure: pd.DataFrame, inventory: pd.DataFrame
) -> None:
    inputs = inputs_frame(
        {"acme/web": "parsed", "acme/api": "parsed", "acme/cli": "parsed", "acme/docs": "empty"}
    )
    s = blast_radius_summary(exposure, inventory, inputs, problems=new_frame("problems"))
    assert s["occurrences"] == 5
    assert s["repos_affected"] == 3
    assert s["repos_scanned"] == 4
    assert s["refs_affected"] == 4  # web main, web PR 7, api main, cli feature/x
    assert s["default_branch_repos_affected"] == 2
    assert (s["direct"], s["transitive"], s["direct_unknown"]) == (1, 3, 1)
    assert (s["dev_only"], s["prod"], s["dev_unknown"]) == (2, 2, 1)
    assert s["packages_affected"] == [f"{EVIL}@1.0.0", "chalk@5.6.1", "debug@4.4.2"]
    assert s["complete"] is True
    assert s["verdict_level"] == "affected"
    assert "3 of 4 repositories" in s["verdict"]


def test_headline_figures_show_not_stated_only_when_there_are_some(
    exposure: pd.DataFrame, inventory: pd.DataFrame
) -> None:
    inputs = inputs_frame({"acme/web": "parsed"})
    figures = headline_figures(blast_radius_summary(exposure, inventory, inputs))
    assert figures["Repositories affected"] == "3 of 4"
    assert figures["Direct or transitive: not stated"] == 1
    assert figures["Dev or production: not stated"] == 1
    known = exposure.loc[exposure["name"] != "debug"]
    figures = headline_figures(blast_radius_summary(known, inventory, inputs))
    assert not any("not stated" in label for label in figures)
    assert list(figures)[:3] == [
        "Repositories affected",
        "Branches, PRs and commits affected",
        "Occurrences",
    ]


def test_summary_never_says_clear_when_an_input_was_not_read(inventory: pd.DataFrame) -> None:
    empty = new_frame("exposure")
    failed = inputs_frame({"acme/web": "parsed", "acme/docs": "failed"})
    s = blast_radius_summary(empty, inventory, failed)
    assert s["complete"] is False
    assert s["unread"] == 1
    assert s["verdict_level"] == "inconclusive"
    assert '1 input could not be read, so "not affected" cannot be concluded' in s["verdict"]

    problem = new_frame(
        "problems", [{"source": "api", "evidence": "https://x", "kind": "http", "message": "503"}]
    )
    ok_inputs = inputs_frame({"acme/web": "parsed"})
    s = blast_radius_summary(empty, inventory, ok_inputs, problems=problem)
    assert (s["complete"], s["verdict_level"], s["unread"]) == (False, "inconclusive", 1)

    s = blast_radius_summary(empty, inventory, ok_inputs, problems=new_frame("problems"))
    assert (s["complete"], s["verdict_level"]) == (True, "clear")
    assert "every input was read" in s["verdict"]

    s = blast_radius_summary(empty, new_frame("inventory"), new_frame("inputs"))
    assert s["verdict_level"] == "inconclusive"
    assert s["repos_scanned"] == 0


def test_summary_failed_input_with_its_problem_row_counts_once(inventory: pd.DataFrame) -> None:
    inputs = inputs_frame({"acme/docs": "failed"})
    problem = new_frame(
        "problems",
        [
            {
                "source": "clone",
                "kind": "truncated",
                "message": "eof",
                "evidence": "/clones/acme/docs/package-lock.json",
            }
        ],
    )
    s = blast_radius_summary(new_frame("exposure"), inventory, inputs, problems=problem)
    assert s["unread"] == 1


def test_affected_repos(exposure: pd.DataFrame) -> None:
    table = affected_repos(exposure)
    assert list(table.columns) == list(AFFECTED_REPOS)
    assert {c: str(t) for c, t in table.dtypes.items()} == AFFECTED_REPOS
    rows = table.set_index("package_version")
    assert table["package_version"].iloc[0] == "chalk@5.6.1"  # most repositories first
    counts = rows[["repos", "refs", "occurrences"]].astype(int)
    assert list(counts.loc["chalk@5.6.1"]) == [2, 3, 3]
    assert list(counts.loc["debug@4.4.2"]) == [1, 1, 1]
    assert rows.loc[f"{EVIL}@1.0.0", "package"] == EVIL


def test_affected_repos_and_paths_of_empty_exposure_keep_their_schema() -> None:
    empty = new_frame("exposure")
    assert {c: str(t) for c, t in affected_repos(empty).dtypes.items()} == AFFECTED_REPOS
    paths = dependency_paths(empty)
    assert paths.empty
    assert {c: str(t) for c, t in paths.dtypes.items()} == DEPENDENCY_PATHS


def test_dependency_paths(exposure: pd.DataFrame) -> None:
    paths = dependency_paths(exposure)
    assert list(paths.columns) == list(DEPENDENCY_PATHS)
    assert {c: str(t) for c, t in paths.dtypes.items()} == DEPENDENCY_PATHS
    assert len(paths) == 5  # the advisory duplicate is gone
    assert paths["repo"].tolist() == ["acme/api", "acme/api", "acme/cli", "acme/web", "acme/web"]
    direct = paths.loc[paths["package_version"] == "chalk@5.6.1"].iloc[0]
    assert (direct["introducer"], direct["path"], direct["dev"]) == ("chalk", "chalk", False)
    debug = paths.loc[paths["package_version"] == "debug@4.4.2"].iloc[0]
    assert debug["dev"] is pd.NA


def test_figures_escape_labels_and_handle_empty(exposure: pd.DataFrame) -> None:
    bar = affected_repos_figure(exposure)
    assert isinstance(bar, go.Figure)
    labels = list(bar.data[0].y)
    assert "&lt;img src=x onerror=alert(1)&gt;@1.0.0" in labels
    assert not any("<img" in label for label in labels)
    assert labels[-1] == "chalk@5.6.1"  # on top

    capped = affected_repos_figure(exposure, max_bars=2)
    assert len(capped.data[0].y) == 2 and "2 most widespread of 3" in capped.layout.title.text

    tree = blast_radius_tree_figure(exposure, org_name="acme <corp>")
    trace = tree.data[0]
    assert trace.type == "treemap"
    assert trace.labels[0] == "acme &lt;corp&gt;"
    # branchvalues="total": a parent's value is the sum of its children's
    values = dict(zip(trace.ids, trace.values, strict=True))
    parents = dict(zip(trace.ids, trace.parents, strict=True))
    for node, value in values.items():
        children = [values[c] for c, p in parents.items() if p == node]
        if children:
            assert value == sum(children)
    assert values["root"] == 5
    assert blast_radius_tree_figure(exposure, kind="sunburst").data[0].type == "sunburst"
    # many repositories: open at repository level, versions one click away
    assert trace.maxdepth == -1
    assert blast_radius_tree_figure(exposure, max_repos_expanded=2).data[0].maxdepth == 2

    for fig in (
        affected_repos_figure(new_frame("exposure")),
        blast_radius_tree_figure(new_frame("exposure")),
    ):
        assert not fig.data
        assert "No compromised version" in fig.layout.annotations[0].text


def test_figure_bundle_has_no_script_source_and_no_plotlyjs(exposure: pd.DataFrame) -> None:
    bundle = figure_bundle(affected_repos_figure(exposure))
    assert set(bundle) == {"text/html", "text/plain", "application/vnd.plotly.v1+json"}
    markup = bundle["text/html"]
    assert "Plotly.newPlot" in markup
    assert "<script src" not in markup.lower() and "mathjax" not in markup.lower()
    assert "plotly.js v" not in markup  # the library comes once, from setup_notebook
    assert "<img" not in markup  # JSON in a script escapes "<"
    assert '"showSendToCloud": false' in markup  # no upload-to-Plotly-Cloud button


def test_table_html_escapes_and_truncates_visibly() -> None:
    frame = pd.DataFrame(
        {"name": [EVIL, "ok", "x"], "dev": pd.array([True, None, False], dtype="boolean")}
    )
    markup = table_html(frame, max_rows=2)
    assert EVIL not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "<td>yes</td>" in markup and "<td>—</td>" in markup
    assert "first 2 of 3 rows" in markup
    assert "No rows" in table_html(frame.iloc[0:0], empty_message="No rows.")
    assert "<th>name</th>" in table_html(frame, columns=["name"])
    assert "<th>dev</th>" not in table_html(frame, columns=["name"])


def test_problems_html_lists_every_problem_and_refuses_not_affected() -> None:
    problems = new_frame(
        "problems",
        [
            {
                "source": "clone",
                "evidence": f"/repo/<script>{i}</script>",
                "kind": "truncated",
                "message": "eof <b>",
                "repo": "acme/x",
                "ref": "main",
            }
            for i in range(60)
        ],
    )
    inputs = inputs_frame({"acme/x": "failed", "acme/y": "failed", "acme/z": "parsed"})
    markup = problems_html(problems, inputs)
    assert "<script>" not in markup
    assert markup.count("&lt;script&gt;") == 60  # never truncated
    assert '"Not affected" cannot be concluded' in markup
    # failed inputs with no problem row are listed as well
    assert "/clones/acme/y/package-lock.json" in markup
    assert "62 input problems" in markup

    ok = problems_html(new_frame("problems"), inputs_frame({"a": "parsed", "b": "empty"}))
    assert "Every input was read (2 inputs)" in ok
    none = problems_html(new_frame("problems"), new_frame("inputs"))
    assert "No inputs were recorded" in none


def test_headline_and_incident_escape() -> None:
    markup = headline_html(
        {"Repos <b>": EVIL, "Occurrences": 1234},
        verdict="<i>v</i>",
        level="bad",
        highlight=["Occurrences"],
    )
    assert "<img" not in markup and "<b>" not in markup and "<i>" not in markup
    assert "1,234" in markup and "ircore-bad" in markup and "hot" in markup
    incident = Incident(
        name="<script>x</script>", packages={EVIL: ["1.0.0"], "debug": []}, advisories=["MAL-<1>"]
    )
    card = incident_html(incident)
    assert "<script>" not in card and "<img" not in card and "MAL-&lt;1&gt;" in card
    assert "all versions" in card


@pytest.mark.parametrize(
    "params",
    [
        {"github_token": "x"},
        {"API_KEY": "x"},
        {"client_secret": "x"},
        {"password": "x"},
        {"org_name": "ghp_" + "a" * 36},
        {"evidence": "/tmp"},
        {"org_name": object()},
    ],
)
def test_check_parameters_refuses_secrets_and_reserved_names(params: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        check_parameters(params)


def test_check_parameters_accepts_plain_values() -> None:
    assert check_parameters({"org_name": "acme", "limit": 3}) == {"org_name": "acme", "limit": 3}
