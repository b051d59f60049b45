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
    breakdown_figures,
    dependency_paths,
    headline_figures,
    headline_highlight,
    unread_inputs,
)
from ircore.report import (
    affected_repos_figure,
    blast_radius_tree_figure,
    check_parameters,
    evidence_root,
    figure_bundle,
    headline_html,
    incident_html,
    inputs_display,
    problems_html,
    scope_html,
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


def test_headline_figures_lead_every_page_and_agree_in_number(
    exposure: pd.DataFrame, inventory: pd.DataFrame
) -> None:
    inputs = inputs_frame({"acme/web": "parsed", "acme/docs": "failed"})
    summary = blast_radius_summary(exposure, inventory, inputs)
    # index.html and the section show these four, in this order
    assert headline_figures(summary) == {
        "Repositories affected": "3 of 4",
        "Occurrences": 5,
        "Branches and PRs affected": 4,
        "Input problem": 1,
    }
    assert headline_highlight(summary) == ["Repositories affected", "Input problem"]

    one = exposure.loc[(exposure["repo"] == "acme/cli")]
    summary = blast_radius_summary(one, inventory, inputs_frame({"acme/cli": "parsed"}))
    assert list(headline_figures(summary)) == [
        "Repository affected",
        "Occurrence",
        "Branch or PR affected",
        "Input problems",
    ]
    assert headline_highlight(summary) == ["Repository affected"]


def test_breakdown_figures_show_not_stated_only_when_there_are_some(
    exposure: pd.DataFrame, inventory: pd.DataFrame
) -> None:
    inputs = inputs_frame({"acme/web": "parsed"})
    figures = breakdown_figures(blast_radius_summary(exposure, inventory, inputs))
    assert figures["Direct dependency"] == 1
    assert figures["Transitive dependencies"] == 3
    assert figures["Direct or transitive: not stated"] == 1
    assert figures["Dev or production: not stated"] == 1
    known = exposure.loc[exposure["name"] != "debug"]
    figures = breakdown_figures(blast_radius_summary(known, inventory, inputs))
    assert not any("not stated" in label for label in figures)


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


def advisories_frame(n: int) -> pd.DataFrame:
    return new_frame(
        "advisories",
        [
            {"advisory_id": f"MAL-{i}", "package": "chalk", "spec": "5.6.1", "role": "affected"}
            for i in range(n)
        ]
        + [{"advisory_id": "MAL-0", "package": "chalk", "spec": "5.6.1", "role": "origin"}],
    )


def advisory_inputs(n: int) -> pd.DataFrame:
    return new_frame(
        "inputs",
        [
            {"source": "osv-dir", "evidence": f"/x/osv/MAL-{i}.json", "status": "parsed"}
            for i in range(n)
        ],
    )


def test_summary_never_says_clear_without_lockfiles_or_advisories(
    inventory: pd.DataFrame,
) -> None:
    empty = new_frame("exposure")
    # Every input read, but every one was an advisory: no lockfile was found at all.
    s = blast_radius_summary(
        empty,
        new_frame("inventory"),
        advisory_inputs(2),
        problems=new_frame("problems"),
        advisories=advisories_frame(2),
    )
    assert (s["complete"], s["verdict_level"]) == (True, "inconclusive")
    assert s["verdict"].startswith("Inconclusive: no lockfiles were found in the sources")
    assert (s["lockfile_inputs"], s["lockfiles_read"], s["advisory_claims"]) == (0, 0, 2)

    # Every lockfile read, nothing to match them against.
    lockfiles = inputs_frame({"acme/web": "parsed"})
    s = blast_radius_summary(
        empty, inventory, lockfiles, problems=new_frame("problems"), advisories=advisories_frame(0)
    )
    assert s["verdict_level"] == "inconclusive"
    assert "no advisories were loaded" in s["verdict"]
    assert "Not affected" not in s["verdict"]

    # Both present and read: now, and only now, "not affected".
    both = pd.concat([lockfiles, advisory_inputs(1)], ignore_index=True)
    s = blast_radius_summary(
        empty, inventory, both, problems=new_frame("problems"), advisories=advisories_frame(1)
    )
    assert s["verdict_level"] == "clear"
    assert s["verdict"] == (
        "Not affected: no compromised version was found, and every input was read "
        "(2 inputs, 2 repositories)."
    )
    # ... and "1 input", "1 repository" when there is one of each
    s = blast_radius_summary(
        empty,
        new_frame("inventory"),
        lockfiles,
        problems=new_frame("problems"),
        advisories=advisories_frame(1),
    )
    assert s["verdict"].endswith("every input was read (1 input, 1 repository).")

    # Lockfiles found, none readable
    s = blast_radius_summary(empty, inventory, inputs_frame({"acme/web": "failed"}))
    assert s["verdict"] == (
        "Inconclusive: the only lockfile found could not be read, so nothing can be concluded."
    )
    s = blast_radius_summary(empty, inventory, inputs_frame({"a": "failed", "b": "failed"}))
    assert s["verdict"].startswith("Inconclusive: none of the 2 lockfiles found could be read")


def test_verdict_grammar_for_one(exposure: pd.DataFrame, inventory: pd.DataFrame) -> None:
    one = exposure.loc[exposure["repo"] == "acme/cli"]
    s = blast_radius_summary(
        one,
        new_frame("inventory"),
        inputs_frame({"acme/cli": "parsed"}),
        problems=new_frame("problems"),
        advisories=advisories_frame(1),
    )
    assert s["verdict"] == (
        "Affected: compromised versions were found in 1 of 1 repository (1 occurrence)."
    )


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
    assert '<td class="n">yes</td>' in markup and '<td class="n">—</td>' in markup
    assert "first 2 of 3 rows" in markup
    # a column of long text keeps a readable width on a phone
    long = pd.DataFrame({"kind": ["x"], "message": ["a sentence that is long " * 3]})
    markup = table_html(long)
    assert '<th class="w">message</th>' in markup and "<th>kind</th>" in markup
    assert '<td class="n">x</td><td>a sentence' in markup  # names never break at a hyphen
    assert "No rows" in table_html(frame.iloc[0:0], empty_message="No rows.")
    assert "<th>name</th>" in table_html(frame, columns=["name"])
    assert "<th>dev</th>" not in table_html(frame, columns=["name"])


def test_unread_inputs_lists_problems_and_failed_inputs_without_one() -> None:
    problems = new_frame(
        "problems",
        [
            {
                "source": "clone",
                "evidence": "/clones/acme/x/package-lock.json",
                "kind": "truncated",
            },
            {"source": "inventory", "evidence": "/nowhere", "kind": "missing"},
        ],
    )
    inputs = inputs_frame({"acme/x": "failed", "acme/y": "failed", "acme/z": "parsed"})
    unread = unread_inputs(problems, inputs)
    assert unread["kind"].tolist() == ["truncated", "missing", "failed"]
    assert unread["evidence"].iloc[2] == "/clones/acme/y/package-lock.json"
    s = blast_radius_summary(
        new_frame("exposure"), new_frame("inventory"), inputs, problems=problems
    )
    assert s["unread"] == len(unread) == 3


def test_paths_are_shown_relative_to_the_scanned_root() -> None:
    inputs = new_frame(
        "inputs",
        [
            {
                "source": "git",
                "evidence": "/home/alice/ir/repos/web@0123456789ab:client/package-lock.json",
                "repo": "web",
                "ref": "main",
                "file": "client/package-lock.json",
                "format": "npm-lock-v3",
                "status": "parsed",
            },
            {
                "source": "osv-dir",
                "evidence": "/home/alice/ir/advisories/osv/MAL-2025-1.json",
                "status": "parsed",
            },
            {
                "source": "list",
                "evidence": "/home/alice/ir/advisories/lists/qix.csv",
                "file": "qix.csv",
                "format": "published list",
                "status": "parsed",
            },
            {
                "source": "osv-zip",
                "evidence": "/home/alice/ir/advisories/all.zip!osv/MAL-2.json",
                "status": "parsed",
            },
        ],
    )
    assert evidence_root(inputs) == "/home/alice/ir"
    shown = inputs_display(inputs)
    assert shown["input"].tolist() == [
        "client/package-lock.json",
        "advisories/osv/MAL-2025-1.json",
        "advisories/lists/qix.csv",
        "advisories/all.zip!osv/MAL-2.json",
    ]
    assert shown["format"].tolist() == [
        "npm-lock-v3",
        "OSV record",
        "published list",
        "OSV record",
    ]
    problems = new_frame(
        "problems",
        [
            {
                "source": "git",
                "evidence": "/home/alice/ir/repos/api@0123456789ab:package-lock.json",
                "kind": "truncated",
                "message": "/home/alice/ir/repos/api: <b>eof</b>",
                "repo": "api",
                "ref": "main",
            }
        ],
    )
    markup = problems_html(problems, inputs)
    assert "/home/alice" not in markup
    assert "repos/api@0123456789ab:package-lock.json" in markup
    assert "repos/api: &lt;b&gt;eof&lt;/b&gt;" in markup
    # nothing in common but "/": nothing to shorten, nothing mangled
    apart = new_frame(
        "inputs", [{"evidence": "/a/x/package-lock.json"}, {"evidence": "/b/y/yarn.lock"}]
    )
    assert evidence_root(apart) == ""
    assert evidence_root(new_frame("inputs", [{"evidence": "https://x"}])) == ""


def test_scope_says_what_was_scanned_and_that_history_is_not() -> None:
    git = new_frame(
        "inputs",
        [
            {"source": "git", "evidence": f"/r/{r}@0123456789ab:package-lock.json", "repo": r}
            for r in ("a", "a", "<b>")
        ]
        + [{"source": "osv-dir", "evidence": "/r/osv/x.json"}],
    )
    text = scope_html(git)
    assert "the tips of every branch and pull-request ref of 2 git repositories" in text
    assert "history (what was present earlier and has since been removed) is not covered" in text
    folder = new_frame("inputs", [{"source": "folder", "evidence": "/p/package-lock.json"}])
    assert "1 lockfile in folders" in scope_html(folder, covers="this report")
    assert "covered by this report" in scope_html(folder, covers="this report")
    mixed = new_frame(
        "inputs",
        [
            {"source": "git", "evidence": "/r/a@0123456789ab:package-lock.json", "repo": "a"},
            {"source": "folder", "evidence": "/p/package-lock.json"},
            {"source": "folder", "evidence": "/p/package.json", "format": "package.json"},
            {"source": "github", "evidence": "https://api.github.com/repos/o/r/git/blobs/1"},
            {"source": "host-scan", "evidence": "/s/mbp.json", "host": "mbp"},
            {"source": "folder", "evidence": "mbp:/Users/x/p/package-lock.json", "host": "mbp"},
            {"source": "folder", "evidence": "ws:/home/y/q/yarn.lock", "host": "ws"},
        ],
    )
    assert (
        "1 git repository, 1 lockfile in folders, as they are on disk, 1 answer of GitHub or "
        "StepSecurity APIs and the scans of 2 developer machines"
    ) in scope_html(mixed)


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
    # failed inputs with no problem row are listed as well, relative to the scanned root
    assert ">y/package-lock.json</td>" in markup and "/clones/acme" not in markup
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
    assert '<code class="id">MAL-&lt;1&gt;</code>' in card  # never broken inside
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


def test_inputs_read_on_a_machine_are_named_by_the_machine() -> None:
    inputs = new_frame(
        "inputs",
        [
            {
                "source": "git",
                "evidence": "/r/ledger-cli@0123456789ab:package-lock.json",
                "repo": "ledger-cli",
                "status": "parsed",
            },
            {
                "source": "folder",
                "evidence": "mbp:/Users/p/ledger-cli/package-lock.json",
                "repo": "ledger-cli",
                "host": "mbp",
                "status": "parsed",
            },
        ],
    )
    assert list(inputs_display(inputs)["repo"]) == ["ledger-cli", "host mbp: ledger-cli"]


def test_advisory_and_registry_answers_are_not_lockfiles_read() -> None:
    inputs = new_frame(
        "inputs",
        [
            {"source": s, "evidence": f"https://example.test/{s}", "status": "parsed"}
            for s in ("osv-api", "ghsa", "threat-center", "registry", "registry-cache")
        ],
    )
    advisories = new_frame(
        "advisories",
        [
            {
                "advisory_id": "MAL-1",
                "package": "chalk",
                "spec_kind": "exact",
                "spec": "5.6.1",
                "role": "affected",
            }
        ],
    )
    empty = new_frame("exposure")
    summary = blast_radius_summary(
        empty, new_frame("inventory"), inputs, problems=new_frame("problems"), advisories=advisories
    )
    # nothing installed was looked at: never "not affected"
    assert summary["verdict_level"] == "inconclusive"
    assert "no lockfiles were found" in summary["verdict"]
