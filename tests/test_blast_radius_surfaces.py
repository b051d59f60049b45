"""Surfaces, introducers, latent exposure and the priority list, on real parsed evidence.

Two sets of evidence: a small org written here (git repositories with a branch and a PR ref, a
truncated lockfile, a developer machine), read by the real loaders, whose every answer is known
by construction; and the demo org, checked against the generator's own record (truth.json).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from ircore import analysis, report, validate
from ircore._frames import new_frame
from ircore._investigation import Investigation
from ircore.analysis import (
    LATENT,
    PRIORITY,
    compromised_versions,
    declared_range,
    latent_exposure,
    latent_repos,
    prioritize_repos,
    repo_surfaces,
    surface_counts,
    top_introducers,
)
from ircore.demo import DemoOrg
from ircore.semver import satisfies
from tests._blast_org import SmallOrg, build_small_org, demo_investigation, short_ref

EVIL = "<img src=x onerror=alert(1)>"
Demo = tuple[DemoOrg, Investigation]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SmallOrg:
    return build_small_org(tmp_path_factory.mktemp("small"))


def _latent(small: SmallOrg) -> pd.DataFrame:
    inv = small.investigation
    return latent_exposure(inv.declared, inv.advisories, exposure=inv.exposure)


def _by(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(r[key]): {str(k): v for k, v in r.items()} for r in frame.to_dict("records")}


# -- surfaces -------------------------------------------------------------------------------------


def test_surface_counts_keep_branches_prs_and_machines_apart(small: SmallOrg) -> None:
    inv = small.investigation
    counts = surface_counts(inv.exposure, inventory=inv.inventory)
    validate(counts, analysis._surfaces.SURFACE_COUNTS)
    rows = _by(counts, "surface")
    # Only surfaces that were scanned, in reading order; nothing was read from a plain folder.
    assert list(counts["surface"]) == ["default_branch", "branch", "pull_request", "host"]
    assert rows["default_branch"] == {
        "surface": "default_branch",
        "label": "default branch",
        "repos": 2,  # api, lint
        "only_here": 2,
        "refs": 2,
        "hosts": 0,
        "occurrences": 3,  # api chalk, api debug (two advisories, one occurrence), lint chalk
        "packages": 2,
    }
    # web holds chalk on its feature branch and on the PR: on neither surface alone.
    assert (rows["branch"]["repos"], rows["branch"]["only_here"]) == (1, 0)
    assert (rows["pull_request"]["repos"], rows["pull_request"]["only_here"]) == (1, 0)
    assert (rows["host"]["repos"], rows["host"]["hosts"], rows["host"]["only_here"]) == (1, 1, 1)


def test_a_scanned_surface_without_findings_is_zero_and_an_unscanned_one_absent(
    small: SmallOrg,
) -> None:
    inv = small.investigation
    only_api = inv.exposure.loc[inv.exposure["repo"] == "api"]
    counts = _by(surface_counts(only_api, inventory=inv.inventory), "surface")
    assert counts["pull_request"]["repos"] == 0 and counts["pull_request"]["occurrences"] == 0
    assert "folder" not in counts and "workflow_run" not in counts
    # Without the inventory, only surfaces that hold something are listed.
    assert list(surface_counts(only_api)["surface"]) == ["default_branch"]
    empty = surface_counts(new_frame("exposure"), inventory=inv.inventory)
    assert set(empty["surface"]) == {"default_branch", "branch", "pull_request", "host"}
    assert int(empty["repos"].sum()) == 0


def test_repo_exposed_only_on_a_branch_and_pr_is_shown_as_such(small: SmallOrg) -> None:
    rows = _by(repo_surfaces(small.investigation.exposure), "repo")
    assert rows["web"]["default_branch"] is False
    assert rows["web"]["exposure"] == "only on other branches and pull requests"
    assert rows["web"]["refs"] == "feature/colors, pull/7/head"
    assert rows["web"]["surfaces"] == "other branch, pull request"
    assert rows["api"]["exposure"] == "on the default branch"
    # a developer machine is filed under its name: one thing to clean up
    assert rows["host laptop-1"]["exposure"] == "only on developer machines"
    # Default-branch repositories come first.
    order = list(repo_surfaces(small.investigation.exposure)["repo"])
    assert order.index("api") < order.index("web") and order.index("lint") < order.index("web")


def test_advisory_surface_counts_count_each_advisory_claim(small: SmallOrg) -> None:
    counts = analysis.advisory_surface_counts(small.investigation.exposure)
    validate(counts, analysis._surfaces.ADVISORY_SURFACES)
    got = {
        (r["advisory_id"], r["surface"]): (r["repos"], r["occurrences"])
        for r in counts.to_dict("records")
    }
    assert got == {
        ("list:compromised", "default_branch"): (2, 3),
        ("list:compromised", "branch"): (1, 1),
        ("list:compromised", "pull_request"): (1, 1),
        ("list:compromised", "host"): (1, 1),
        ("MAL-2025-0001", "default_branch"): (1, 1),
    }
    # The advisory reaching most repositories first.
    assert counts["advisory_id"].iloc[0] == "list:compromised"


# -- introducers ----------------------------------------------------------------------------------


def test_top_introducers_name_the_dependency_and_what_it_brings(small: SmallOrg) -> None:
    top = top_introducers(small.investigation.exposure)
    validate(top, analysis._surfaces.TOP_INTRODUCERS)
    rows = _by(top, "introducer")
    assert set(rows) == {"chalk", "express", "lint-staged", "eslint-formatter"}
    assert rows["chalk"] == {
        "introducer": "chalk",
        "repos": 2,  # api (dev) and the laptop project (prod)
        "refs": 2,
        "occurrences": 2,
        "packages": "chalk@5.6.1",
        "itself_compromised": True,
        "dev_only": False,
        "example_path": "chalk",
        "repo_list": "api, host laptop-1",
    }
    assert rows["express"]["packages"] == "debug@4.4.2"
    assert rows["express"]["itself_compromised"] is False
    assert rows["express"]["example_path"] == "express > debug"
    assert (rows["lint-staged"]["repos"], rows["lint-staged"]["refs"]) == (1, 2)
    assert rows["lint-staged"]["dev_only"] is True
    assert top["introducer"].iloc[0] == "chalk"  # most repositories first


def test_introducer_falls_back_to_the_path_and_never_vanishes(small: SmallOrg) -> None:
    exposure = small.investigation.exposure.copy()
    web = exposure["repo"] == "web"
    exposure.loc[web, "introducer"] = pd.NA  # a lockfile that records no introducer
    lint = exposure["repo"] == "lint"
    exposure.loc[lint, ["introducer", "dependency_path"]] = pd.NA
    rows = _by(top_introducers(exposure), "introducer")
    assert rows["lint-staged"]["refs"] == 2  # from "lint-staged > chalk"
    assert rows["(not recorded)"]["repo_list"] == "lint"
    assert sum(int(r["occurrences"]) for r in rows.values()) == len(analysis.occurrences(exposure))


def test_dev_only_is_unknown_when_a_lockfile_does_not_say(small: SmallOrg) -> None:
    exposure = small.investigation.exposure.copy()
    exposure.loc[exposure["repo"] == "web", "dev"] = pd.NA
    rows = _by(top_introducers(exposure), "introducer")
    assert pd.isna(rows["lint-staged"]["dev_only"])


# -- latent exposure ------------------------------------------------------------------------------


def test_latent_exposure_finds_ranges_that_admit_a_compromised_version(small: SmallOrg) -> None:
    latent = _latent(small)
    validate(latent, LATENT)
    got = {
        (r["repo"], r["ref"], r["file"], r["name"], r["spec"]): (
            r["status"],
            r["admits"],
            r["resolves_now"],
        )
        for r in latent.to_dict("records")
    }
    lock, manifest = "package-lock.json", "package.json"
    assert got == {
        # api resolves both today; its ranges would also take them on a fresh install
        ("api", "main", lock, "chalk", "^5.3.0"): ("admits", "5.6.1", True),
        ("api", "main", manifest, "chalk", "^5.3.0"): ("admits", "5.6.1", True),
        ("api", "main", lock, "debug", "^4.3.4"): ("admits", "4.4.2", True),  # express's range
        ("lint", "main", lock, "chalk", "5.6.1"): ("admits", "5.6.1", True),
        # web's main pins chalk 5.6.0, but lint-staged's ~5.6.0 takes 5.6.1 on the next install
        ("web", "main", lock, "chalk", "~5.6.0"): ("admits", "5.6.1", False),
        ("web", "feature/colors", lock, "chalk", "~5.6.0"): ("admits", "5.6.1", True),
        ("web", "pull/7/head", lock, "chalk", "~5.6.0"): ("admits", "5.6.1", True),
        ("tools", "main", lock, "debug", "^4.3.1"): ("admits", "4.4.2", False),
        ("tools", "main", manifest, "debug", "^4.3.1"): ("admits", "4.4.2", False),
        ("tools", "main", lock, "chalk", "npm:chalk@^5.0.0"): ("admits", "5.6.1", False),
        ("tools", "main", manifest, "chalk", "npm:chalk@^5.0.0"): ("admits", "5.6.1", False),
        ("side-project", "", lock, "chalk", "5.6.1"): ("admits", "5.6.1", True),
        ("side-project", "", manifest, "chalk", "5.6.1"): ("admits", "5.6.1", True),
        ("odd", "main", lock, "chalk", "=>5.0.0"): ("unparseable", "", False),
        ("odd", "main", manifest, "chalk", "=>5.0.0"): ("unparseable", "", False),
    }
    # ~4.3.1 (docs) admits no bad version; ^4.3.1 does not admit the prerelease 4.5.0-beta.1,
    # by npm's rule, though it is claimed.
    tools_debug = latent.loc[(latent["repo"] == "tools") & (latent["name"] == "debug")].iloc[0]
    assert tools_debug["advisory_ids"] == "MAL-2025-0001, list:compromised"
    web_main = latent.loc[(latent["repo"] == "web") & (latent["ref"] == "main")].iloc[0]
    assert bool(web_main["repo_resolves"]) and web_main["declared_by"] == "lint-staged@15.2.10"
    odd = latent.loc[latent["repo"] == "odd"].iloc[0]
    assert "not a spec npm accepts" in odd["message"]


def test_a_range_that_cannot_be_read_is_unparseable_not_clear(small: SmallOrg) -> None:
    inv = small.investigation
    declared = inv.declared.copy()
    declared.loc[declared["repo"] == "odd", "spec_kind"] = "range"  # as a loader might say
    latent = latent_exposure(declared, inv.advisories, exposure=inv.exposure)
    odd = latent.loc[latent["repo"] == "odd"]
    assert set(odd["status"]) == {"unparseable"}
    assert all("no comparator npm can read" in m for m in odd["message"])


def test_a_prerelease_is_admitted_only_by_a_range_that_opts_in(small: SmallOrg) -> None:
    inv = small.investigation
    declared = inv.declared.copy()
    declared["spec"] = declared["spec"].replace({"^4.3.1": ">=4.5.0-beta.0 <5"})
    latent = latent_exposure(declared, inv.advisories, exposure=inv.exposure)
    rows = latent.loc[(latent["repo"] == "tools") & (latent["name"] == "debug")]
    assert set(rows["admits"]) == {"4.5.0-beta.1"}
    assert set(rows["advisory_ids"]) == {"list:compromised"}


def test_latent_only_repos_resolve_nothing_today(small: SmallOrg) -> None:
    inv = small.investigation
    repos = latent_repos(_latent(small), inv.exposure)
    rows = _by(repos, "repo")
    assert rows["tools"]["latent_only"] is True
    assert rows["tools"]["admits"] == "chalk@5.6.1, debug@4.4.2"
    assert rows["tools"]["specs"] == 4
    assert rows["api"]["latent_only"] is False
    assert rows["web"]["latent_only"] is False  # it resolves chalk on a branch and a PR
    assert rows["odd"]["latent_only"] is False and rows["odd"]["unparseable"] == 2
    assert repos["repo"].iloc[0] == "tools"  # latent-only first
    summary = analysis.latent_summary(_latent(small), inv.exposure)
    assert summary["latent_only"] == ["tools"]
    assert (summary["specs"], summary["repos"], summary["unparseable"]) == (13, 5, 2)


def test_unreadable_ranges_become_problems_when_a_log_is_given(small: SmallOrg) -> None:
    from ircore import EvidenceLog

    inv = small.investigation
    log = EvidenceLog()
    latent_exposure(inv.declared, inv.advisories, exposure=inv.exposure, log=log)
    problems = log.problems
    assert list(problems["kind"]) == ["invalid-range", "invalid-range"]
    assert set(problems["repo"]) == {"odd"}
    assert all("=>5.0.0" in m for m in problems["message"])


def test_latent_exposure_accepts_no_or_empty_declared_frames(small: SmallOrg) -> None:
    inv = small.investigation
    for declared in (None, new_frame("declared")):
        latent = latent_exposure(declared, inv.advisories, exposure=inv.exposure)
        validate(latent, LATENT)
        assert latent.empty
        assert latent_repos(latent).empty


def test_compromised_versions_take_exact_claims_and_found_versions(small: SmallOrg) -> None:
    from ircore import EvidenceLog

    inv = small.investigation
    bad_claim = new_frame(
        "advisories",
        [
            {
                "advisory_id": "list:typo",
                "package": "chalk",
                "spec_kind": "exact",
                "spec": "5.6.1.0",
                "role": "affected",
            },
            {  # an origin row is a feed's claim, shown only: never matched
                "advisory_id": "GHSA-x",
                "package": "chalk",
                "spec_kind": "exact",
                "spec": "5.6.2",
                "role": "origin",
            },
        ],
    )
    log = EvidenceLog()
    versions = compromised_versions(
        pd.concat([inv.advisories, bad_claim], ignore_index=True), log=log
    )
    assert list(zip(versions["name"], versions["version"], strict=True)) == [
        ("chalk", "5.6.1"),
        ("debug", "4.4.2"),
        ("debug", "4.5.0-beta.1"),
    ]
    assert log.problems["kind"].tolist() == ["invalid-claim"]
    # A version found and matched by a range claim counts even without an exact claim.
    ranged = new_frame(
        "advisories",
        [
            {
                "advisory_id": "GHSA-range",
                "package": "debug",
                "spec_kind": "npm_range",
                "spec": ">=4.4.2 <4.4.3",
                "role": "affected",
                "origin": "ghsa",
            }
        ],
    )
    exposure = analysis.match_exposure(inv.inventory, ranged)
    found = compromised_versions(ranged, exposure=exposure)
    assert list(found["version"]) == ["4.4.2"] and found["advisory_ids"].iloc[0] == "GHSA-range"


@pytest.mark.parametrize(
    ("spec", "kind", "expected"),
    [
        ("^4.3.0", "range", "^4.3.0"),
        ("", "range", ""),
        ("npm:chalk@^5.0.0", "alias", "^5.0.0"),
        ("npm:@scope/pkg@~1.2.0", "alias", "~1.2.0"),
        ("npm:chalk@1.x", "alias", "1.x"),
        ("npm:chalk@latest", "alias", None),
        ("npm:chalk", "alias", None),
        ("npm:@scope/pkg", "alias", None),
    ],
)
def test_declared_range_reads_aliases_as_npm_does(
    spec: str, kind: str, expected: str | None
) -> None:
    assert declared_range(spec, kind) == expected


# -- priority -------------------------------------------------------------------------------------


def test_priority_orders_by_what_to_do_first(small: SmallOrg) -> None:
    inv = small.investigation
    ranked = prioritize_repos(
        inv.exposure, latent=_latent(small), problems=inv.problems, inputs=inv.inputs
    )
    validate(ranked, PRIORITY)
    assert list(zip(ranked["repo"], ranked["tier"], strict=True)) == [
        ("api", 1),  # debug in production on main
        ("lint", 2),  # chalk dev-only on main
        ("web", 3),  # only on a branch and a PR
        ("host laptop-1", 4),  # a developer machine
        ("tools", 5),  # latent only
        ("docs", 6),  # truncated lockfile: inconclusive
        ("odd", 6),  # a range that cannot be read: inconclusive
    ]
    assert list(ranked["rank"]) == list(range(1, 8))
    rows = _by(ranked, "repo")
    assert "clean" not in rows  # every input read, nothing found: not listed by default
    assert rows["api"]["top_evidence"] == (
        "debug@4.4.2 via express > debug (main: package-lock.json, default branch)"
    )
    assert (rows["api"]["default_branch_prod"], rows["api"]["default_branch_dev"]) == (1, 1)
    assert "inconclusive, not clean" in str(rows["docs"]["reason"])
    assert rows["docs"]["unread"] == 1
    assert rows["odd"]["unreadable_ranges"] == 2
    assert "only on other branches and pull requests" in str(rows["web"]["reason"])
    assert rows["tools"]["latent"] == 4
    assert "laptop-1" in str(rows["host laptop-1"]["reason"])


def test_priority_lists_clean_repos_last_only_when_asked(small: SmallOrg) -> None:
    inv = small.investigation
    ranked = prioritize_repos(
        inv.exposure,
        problems=inv.problems,
        inputs=inv.inputs,
        inventory=inv.inventory,
        include_clear=True,
    )
    assert list(ranked["tier"]) == sorted(ranked["tier"])
    # Without latent ranges, tools and odd hold nothing known: clean, since all was read.
    assert set(ranked.loc[ranked["tier"] == 7, "repo"]) == {"clean", "odd", "tools"}
    assert set(ranked.loc[ranked["tier"] == 7, "reason"]) == {
        "Every input was read and no compromised version was found."
    }
    counts = analysis.priority_counts(ranked)
    assert list(counts["tier"]) == [1, 2, 3, 4, 6, 7]
    assert int(counts["repos"].sum()) == len(ranked)


def test_a_failed_input_without_a_problem_row_still_makes_a_repo_inconclusive(
    small: SmallOrg,
) -> None:
    inv = small.investigation
    # The docs lockfile is marked failed, but its problem row is gone.
    ranked = prioritize_repos(inv.exposure, problems=new_frame("problems"), inputs=inv.inputs)
    assert _by(ranked, "repo")["docs"]["tier"] == 6


def test_priority_of_nothing_is_an_empty_frame() -> None:
    ranked = prioritize_repos(new_frame("exposure"))
    validate(ranked, PRIORITY)
    assert ranked.empty


# -- figures and tables ---------------------------------------------------------------------------


def _hostile(small: SmallOrg) -> pd.DataFrame:
    exposure = small.investigation.exposure.copy()
    web = exposure["repo"] == "web"
    exposure.loc[web, "repo"] = EVIL
    exposure.loc[web, "introducer"] = EVIL
    exposure.loc[web, "advisory_id"] = EVIL
    return exposure


def test_figures_escape_every_label(small: SmallOrg) -> None:
    exposure = _hostile(small)
    ranked = prioritize_repos(exposure)
    for fig in (
        report.surface_figure(exposure, inventory=small.investigation.inventory),
        report.advisory_surface_figure(exposure),
        report.introducers_figure(exposure),
        report.priority_figure(ranked),
    ):
        text = json.dumps(fig.to_plotly_json(), default=str)
        assert "<img" not in text
    labels = report.introducers_figure(exposure).to_plotly_json()["data"]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in d["y"] for d in labels)


def test_figures_say_so_when_there_is_nothing() -> None:
    empty = new_frame("exposure")
    for fig in (
        report.surface_figure(empty),
        report.advisory_surface_figure(empty),
        report.introducers_figure(empty),
        report.priority_figure(prioritize_repos(empty)),
    ):
        notes = [a["text"] for a in fig.to_plotly_json()["layout"]["annotations"]]
        assert notes and all(n for n in notes)


def test_surface_figure_splits_repos_found_only_on_one_surface(small: SmallOrg) -> None:
    inv = small.investigation
    fig = report.surface_figure(inv.exposure, inventory=inv.inventory)
    only, also = (dict(zip(t.y, t.x, strict=True)) for t in fig.data)
    assert only == {
        "developer machine": 1,
        "pull request": 0,
        "other branch": 0,
        "default branch": 2,
    }
    assert also == {
        "developer machine": 0,
        "pull request": 1,
        "other branch": 1,
        "default branch": 0,
    }


def test_tables_escape_and_say_what_they_show(small: SmallOrg) -> None:
    exposure = _hostile(small)
    inv = small.investigation
    ranked = prioritize_repos(exposure, problems=inv.problems, inputs=inv.inputs)
    markup = report.table_html(report.priority_display(ranked))
    assert EVIL not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup
    table = report.advisory_surface_display(analysis.advisory_surface_counts(exposure))
    assert str(table["occurrences"].dtype) == "Int64"
    assert list(table.columns)[2:] == [
        "repos: default branch",
        "repos: other branch",
        "repos: pull request",
        "repos: developer machine",
        "occurrences",
    ]
    html = report.table_html(table)
    assert ">2<" in html and "2.0" not in html
    elsewhere = report.elsewhere_display(repo_surfaces(exposure))
    assert set(elsewhere["repository"]) == {EVIL, "host laptop-1"}


def test_latent_section_says_what_could_be_concluded(small: SmallOrg) -> None:
    inv = small.investigation
    latent = _latent(small)
    not_assessed = report.latent_html(latent.iloc[0:0], declared=None)
    assert "not assessed" in not_assessed
    nothing_read = report.latent_html(latent.iloc[0:0], declared=new_frame("declared"))
    assert "No declared ranges are in this evidence" in nothing_read
    clear = report.latent_html(latent.iloc[0:0], declared=inv.declared)
    ranges = int(inv.declared["spec_kind"].isin(["range", "alias"]).sum())
    assert ranges > 20
    assert (
        f"No declared range admits a compromised version ({ranges} declared ranges read)" in clear
    )
    found = report.latent_html(latent, declared=inv.declared, exposure=inv.exposure)
    assert "<code>tools</code>" in found and "could on the next install" in found
    assert "2 ranges could not be read" in found
    hostile = latent.assign(repo=latent["repo"].replace({"tools": EVIL}))
    markup = report.latent_html(hostile, declared=inv.declared, exposure=inv.exposure)
    assert EVIL not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup


# -- the demo org, against the generator's truth --------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return demo_investigation(tmp_path_factory)


def _truth_surface(ref: str) -> str:
    if ref == "refs/heads/main":
        return "default_branch"
    return "pull_request" if ref.startswith("refs/pull/") else "branch"


@pytest.mark.slow
def test_demo_surfaces_match_what_was_planted(demo: Demo) -> None:
    org, inv = demo
    planted: dict[str, set[str]] = {}
    for f in org.truth["findings"]:
        planted.setdefault(f["repo"], set()).add(_truth_surface(f["ref"]))
    machines = {f"host {h}" for h in org.truth["summary"].get("hosts_exposed", [])}
    rows = _by(repo_surfaces(inv.exposure), "repo")
    assert set(rows) == set(planted) | machines
    for repo, surfaces in planted.items():
        assert rows[repo]["default_branch"] is ("default_branch" in surfaces), repo
        if "default_branch" not in surfaces:
            assert str(rows[repo]["exposure"]).startswith("only on"), repo
    for machine in machines:
        assert rows[machine]["exposure"] == "only on developer machines"
    counts = _by(surface_counts(inv.exposure, inventory=inv.inventory), "surface")
    for surface in {"default_branch", "branch", "pull_request"}:
        holders = {r for r, s in planted.items() if surface in s}
        alone = {r for r, s in planted.items() if s == {surface}}
        assert counts[surface]["repos"] == len(holders), surface
        assert counts[surface]["only_here"] == len(alone), surface
    if machines:
        assert counts["host"]["hosts"] == counts["host"]["only_here"] == len(machines)


@pytest.mark.slow
def test_demo_direct_findings_are_their_own_introducers(demo: Demo) -> None:
    org, inv = demo
    rows = _by(top_introducers(inv.exposure), "introducer")
    direct = [f for f in org.truth["findings"] if f["direct"]]
    assert direct
    for f in direct:
        # an aliased direct dependency is introduced under its install name
        introducers = {
            r["introducer"]
            for r in inv.exposure.loc[
                (inv.exposure["repo"] == f["repo"]) & (inv.exposure["name"] == f["name"])
            ].to_dict("records")
        }
        assert any(f["repo"] in str(rows[i]["repo_list"]) for i in introducers), f
    occ = analysis.occurrences(inv.exposure)
    assert sum(int(r["occurrences"]) for r in rows.values()) == len(occ)


def _expected_latent(org: DemoOrg, inv: Investigation) -> dict[str, set[tuple[str, str]]]:
    """Per repo (or machine), the (name, spec) declarations that admit a planted version."""
    compromised = org.truth["compromised"]
    out: dict[str, set[tuple[str, str]]] = {}
    for row in inv.declared.to_dict("records"):
        if row["spec_kind"] not in ("range", "alias") or row["name"] not in compromised:
            continue
        spec = declared_range(row["spec"], row["spec_kind"])
        if spec is None:
            continue
        try:
            hit = any(satisfies(v, spec, loose=True) for v in compromised[row["name"]])
        except ValueError:
            continue
        if hit:
            who = f"host {row['host']}" if row["surface"] == "host" else row["repo"]
            out.setdefault(who, set()).add((row["name"], row["spec"]))
    return out


@pytest.mark.slow
def test_demo_latent_only_repos(demo: Demo) -> None:
    org, inv = demo
    latent = latent_exposure(inv.declared, inv.advisories, exposure=inv.exposure)
    expected = _expected_latent(org, inv)
    got: dict[str, set[tuple[str, str]]] = {}
    admitting = latent.loc[latent["status"] == "admits"]
    for who, row in zip(analysis.subjects(admitting), admitting.to_dict("records"), strict=True):
        got.setdefault(str(who), set()).add((row["name"], row["spec"]))
    assert got == expected
    exposed = {f["repo"] for f in org.truth["findings"]} | {
        f"host {h}" for h in org.truth["summary"].get("hosts_exposed", [])
    }
    only = set(latent_repos(latent, inv.exposure).query("latent_only")["repo"])
    assert only == set(expected) - exposed
    # cli-scaffold moved chalk off 5.6.1, but its package.json still says ^5.3.0.
    assert "cli-scaffold" in only


@pytest.mark.slow
def test_demo_priority_tiers_follow_the_truth(demo: Demo) -> None:
    org, inv = demo
    truth = org.truth
    latent = latent_exposure(inv.declared, inv.advisories, exposure=inv.exposure)
    ranked = prioritize_repos(
        inv.exposure,
        latent=latent,
        problems=inv.problems,
        inputs=inv.inputs,
        inventory=inv.inventory,
        include_clear=True,
    )
    tiers = dict(zip(ranked["repo"], ranked["tier"], strict=True))
    latent_repos_ = set(_expected_latent(org, inv))
    unread = {p["repo"] for p in truth["problems"]} | {
        name for name, repo in truth["repos"].items() if not repo["lockfiles"]
    }
    # a declaration npm would refuse, of a compromised package, is unreadable evidence too
    declared = inv.declared
    unread |= set(
        declared.loc[
            (declared["spec_kind"] == "invalid") & declared["name"].isin(truth["compromised"]),
            "repo",
        ]
    )
    for name in truth["repos"]:
        mine = [f for f in truth["findings"] if f["repo"] == name]
        on_main = [f for f in mine if short_ref(f["ref"]) == "main"]
        if on_main:
            expected = 2 if all(f["dev"] for f in on_main) else 1
        elif mine:
            expected = 3
        elif name in latent_repos_:
            expected = 5
        elif name in unread:
            expected = 6
        else:
            expected = 7
        assert tiers[name] == expected, name
    machines = {f"host {h}" for h in truth["summary"].get("hosts_exposed", [])}
    assert {m: tiers.get(m) for m in machines} == dict.fromkeys(machines, 4)
    assert list(ranked["tier"]) == sorted(ranked["tier"])
    # Inputs name a machine's global folder by its path, with no host column to file it
    # under: listed, read completely, as nothing found.
    others = set(tiers) - set(truth["repos"]) - machines
    assert {tiers[o] for o in others} <= {7}


@pytest.mark.slow
def test_demo_advisory_counts_add_up(demo: Demo) -> None:
    _, inv = demo
    counts = analysis.advisory_surface_counts(inv.exposure)
    keys = ["repo", "ref", "host", "surface", "file", "name", "version", "dependency_path"]
    distinct = inv.exposure.astype({k: "object" for k in keys})
    distinct[keys] = distinct[keys].fillna("")
    distinct = distinct.drop_duplicates([*keys, "advisory_id"])
    per_advisory = distinct.groupby("advisory_id").size().to_dict()
    assert counts.groupby("advisory_id")["occurrences"].sum().to_dict() == per_advisory


def test_dependency_paths_name_the_machine_before_its_project(small: SmallOrg) -> None:
    paths = analysis.dependency_paths(small.investigation.exposure)
    on_machine = small.investigation.exposure["surface"] == "host"
    projects = set(small.investigation.exposure.loc[on_machine, "repo"])
    assert projects  # the laptop holds a compromised version
    assert {f"host laptop-1: {p}" for p in projects} <= set(paths["repo"])
    # a repository's own rows keep its plain name
    assert "api" in set(paths["repo"])


def test_machines_are_counted_apart_from_repositories_and_refs(small: SmallOrg) -> None:
    inv = small.investigation
    summary = analysis.blast_radius_summary(
        inv.exposure, inv.inventory, inv.inputs, problems=inv.problems
    )
    in_repos = inv.exposure[inv.exposure["surface"] != "host"]
    assert summary["refs_affected"] == len(set(zip(in_repos["repo"], in_repos["ref"], strict=True)))
    assert (summary["hosts_affected"], summary["hosts_scanned"]) == (1, 1)
    assert "and 1 of 1 developer machine (" in summary["verdict"]
    per_version = analysis.affected_repos(inv.exposure).set_index("package_version")
    on_laptop = inv.exposure[inv.exposure["surface"] == "host"]
    for name, version in set(zip(on_laptop["name"], on_laptop["version"], strict=True)):
        rows = inv.exposure[(inv.exposure["name"] == name) & (inv.exposure["version"] == version)]
        places = {
            f"host {h}" if s == "host" else r
            for r, h, s in zip(rows["repo"], rows["host"], rows["surface"], strict=True)
        }
        assert per_version.loc[f"{name}@{version}", "repos"] == len(places)
    only_machines = inv.exposure[inv.exposure["surface"] == "host"]
    alone = analysis.blast_radius_summary(
        only_machines, inv.inventory.iloc[0:0], inv.inputs.iloc[0:0]
    )
    assert alone["verdict"].startswith(
        "Affected: compromised versions were found in 1 of 1 developer machine ("
    )
