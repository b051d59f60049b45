"""The triage filters, the widget view driven from Python, and both notebooks run headless.

Widgets are built and their values changed in Python, as a front end would; the assertions are
on the frames and the HTML they produce. Notebooks run with papermill in a real kernel.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from ircore import validate
from ircore._frames import new_frame
from ircore.analysis import (
    filter_occurrences,
    occurrence_paths,
    other_paths,
    triage_occurrences,
    triage_options,
)
from ircore.analysis._triage import NO_TEAM, PATH_STEPS, TRIAGE_OCCURRENCES
from ircore.report import (
    TriageView,
    build_report,
    interactive_notebooks,
    is_interactive,
    package_notebooks,
)
from ircore.report._render import _execute
from tests._blast_org import SmallOrg, build_small_org, demo_investigation

EVIL = "<img src=x onerror=alert(1)>"
TEAMS = {"api": "payments", "web": "storefront", "lint": "platform"}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SmallOrg:
    return build_small_org(tmp_path_factory.mktemp("triage-small"))


def _where(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(frame["repo"], frame["ref"], frame["package_version"], strict=True))


# -- pure filters ---------------------------------------------------------------------------------


def test_occurrences_merge_the_advisories_that_claim_them(small: SmallOrg) -> None:
    occ = triage_occurrences(small.investigation.exposure, teams=TEAMS)
    validate(occ, TRIAGE_OCCURRENCES)
    assert list(occ["occurrence"]) == list(range(len(occ)))
    debug = occ.loc[occ["package_version"] == "debug@4.4.2"].iloc[0]
    assert debug["advisories"] == "MAL-2025-0001, list:compromised"
    assert debug["team"] == "payments"
    # a repository the mapping does not list is not dropped, it has no team
    assert set(occ.loc[occ["repo"] == "side-project", "team"]) == {NO_TEAM}
    assert list(occ["surface"]).index("host") > list(occ["surface"]).index("default_branch")
    assert triage_occurrences(small.investigation.exposure)["team"].isna().all()


def test_options_list_what_each_filter_can_be(small: SmallOrg) -> None:
    options = triage_options(small.investigation.exposure, teams=TEAMS)
    assert options["advisories"] == ["list:compromised", "MAL-2025-0001"]
    assert options["packages"] == ["chalk", "debug", "chalk@5.6.1", "debug@4.4.2"]
    assert options["surfaces"] == ["default_branch", "branch", "pull_request", "host"]
    assert options["repos"] == ["api", "lint", "side-project", "web"]
    assert options["teams"] == [NO_TEAM, "payments", "platform", "storefront"]
    assert triage_options(small.investigation.exposure)["teams"] == []


def test_filters_combine_and_an_unset_filter_keeps_everything(small: SmallOrg) -> None:
    occ = triage_occurrences(small.investigation.exposure, teams=TEAMS)
    assert len(filter_occurrences(occ)) == len(occ) == 6
    by_advisory = filter_occurrences(occ, advisory="MAL-2025-0001")
    assert _where(by_advisory) == {("api", "main", "debug@4.4.2")}
    by_package = filter_occurrences(occ, package="chalk")
    assert len(by_package) == 5
    assert _where(filter_occurrences(occ, package="chalk@5.6.1")) == _where(by_package)
    off_main = filter_occurrences(occ, package="chalk", surfaces=["branch", "pull_request"])
    assert _where(off_main) == {
        ("web", "feature/colors", "chalk@5.6.1"),
        ("web", "pull/7/head", "chalk@5.6.1"),
    }
    assert set(filter_occurrences(occ, repos=["lint", "api"])["repo"]) == {"lint", "api"}
    assert set(filter_occurrences(occ, teams=["storefront"])["repo"]) == {"web"}
    nothing = filter_occurrences(occ, advisory="MAL-2025-0001", surfaces=["host"])
    assert nothing.empty and list(nothing.columns) == list(occ.columns)


def test_an_alias_selects_the_occurrences_of_its_advisory(small: SmallOrg) -> None:
    exposure = small.investigation.exposure.copy()
    mal = exposure["advisory_id"] == "MAL-2025-0001"
    exposure.loc[mal, "aliases"] = "GHSA-8mgj-vmr8-frr6"
    occ = triage_occurrences(exposure)
    hits = filter_occurrences(occ, advisory="GHSA-8mgj-vmr8-frr6")
    assert _where(hits) == {("api", "main", "debug@4.4.2")}


def test_path_steps_walk_the_lockfile(small: SmallOrg) -> None:
    inv = small.investigation
    occ = triage_occurrences(inv.exposure)
    debug = occ.loc[occ["package_version"] == "debug@4.4.2"].iloc[0].to_dict()
    steps = occurrence_paths(inv.inventory, debug, exposure=inv.exposure)
    validate(steps, PATH_STEPS)
    assert steps[["depth", "package", "versions", "compromised", "direct"]].to_dict("records") == [
        {
            "depth": 0,
            "package": "express",
            "versions": "4.21.2",
            "compromised": False,
            "direct": True,
        },
        {"depth": 1, "package": "debug", "versions": "4.4.2", "compromised": True, "direct": False},
    ]
    where = other_paths(inv.inventory, debug)
    assert list(where["dependency_path"]) == ["express > debug"]
    # a machine's project: found under its folder name on the host
    laptop = occ.loc[occ["surface"] == "host"].iloc[0].to_dict()
    steps = occurrence_paths(inv.inventory, laptop, exposure=inv.exposure)
    assert steps[["package", "versions", "compromised"]].to_dict("records") == [
        {"package": "chalk", "versions": "5.6.1", "compromised": True}
    ]


# -- the widget view ------------------------------------------------------------------------------


def test_widgets_filter_as_the_functions_do(small: SmallOrg) -> None:
    view = TriageView(small.investigation)
    assert view.team is None  # no mapping, no team filter
    occ = view.occurrences
    assert len(view.frame) == len(occ)
    assert "6 occurrences in 4 repositories" in view.summary.value

    view.package.value = "chalk"
    view.surfaces.value = ("branch", "pull_request")
    expected = filter_occurrences(occ, package="chalk", surfaces=["branch", "pull_request"])
    pd.testing.assert_frame_equal(view.frame, expected)
    assert "2 occurrences in 1 repository" in view.summary.value
    assert "feature/colors" in view.table.value and "pull/7/head" in view.table.value
    assert "api" not in view.table.value
    # the occurrence picker follows the filters
    assert [v for _, v in view.occurrence.options] == list(expected["occurrence"])
    assert view.occurrence.value == int(expected["occurrence"].iloc[0])
    assert "lint-staged" in view.paths_view.value

    view.advisory.value = "MAL-2025-0001"  # nothing claims chalk on a branch
    assert view.frame.empty
    assert "No occurrence matches these filters." in view.table.value
    assert view.occurrence.value is None and view.paths.empty
    assert "Pick an occurrence" in view.paths_view.value


def test_picking_an_occurrence_shows_its_path(small: SmallOrg) -> None:
    view = TriageView(small.investigation)
    view.repo.value = "api"
    debug = view.frame.loc[view.frame["package_version"] == "debug@4.4.2", "occurrence"].iloc[0]
    view.occurrence.value = int(debug)
    assert view.selected is not None and view.selected["dependency_path"] == "express > debug"
    assert list(view.paths["package"]) == ["express", "debug"]
    assert "express" in view.paths_view.value
    # changing another filter keeps the choice while it still matches
    view.package.value = "debug"
    assert view.occurrence.value == int(debug)


def test_team_filter_appears_with_a_mapping(small: SmallOrg) -> None:
    view = TriageView(small.investigation, teams=TEAMS)
    assert view.team is not None
    view.team.value = "payments"
    assert set(view.frame["repo"]) == {"api"}
    assert "payments" in view.table.value


def test_widget_tables_escape_hostile_names(small: SmallOrg) -> None:
    inv = small.investigation
    exposure = inv.exposure.copy()
    exposure.loc[exposure["repo"] == "web", "repo"] = EVIL
    hostile = type(inv)(
        incident=inv.incident,
        advisories=inv.advisories,
        inventory=inv.inventory,
        exposure=exposure,
        problems=inv.problems,
        inputs=inv.inputs,
    )
    view = TriageView(hostile)
    view.repo.value = EVIL  # dropdown labels are text; the front end never parses them
    assert len(view.frame) == 2
    assert EVIL not in view.table.value and "&lt;img src=x onerror=alert(1)&gt;" in view.table.value


def test_the_view_of_nothing_found() -> None:
    from ircore._investigation import Incident, Investigation

    empty = Investigation(
        incident=Incident(name="nothing"),
        advisories=new_frame("advisories"),
        inventory=new_frame("inventory"),
        exposure=new_frame("exposure"),
        problems=new_frame("problems"),
        inputs=new_frame("inputs"),
    )
    view = TriageView(empty)
    assert view.frame.empty and view.occurrence.value is None
    assert "0 occurrences in 0 repositories" in view.summary.value


# -- reports leave the triage notebook out --------------------------------------------------------


def test_the_triage_notebook_is_interactive_and_never_a_report_section(tmp_path: Path) -> None:
    assert "triage" in interactive_notebooks()
    assert "triage" not in package_notebooks()
    assert "blast_radius" in package_notebooks()
    triage = interactive_notebooks()["triage"]
    assert is_interactive(triage) and not is_interactive(package_notebooks()["blast_radius"])
    from tests.test_report_bundle import hostile_investigation

    for name in ("triage", str(triage)):
        with pytest.raises(ValueError, match="interactive"):
            build_report(hostile_investigation(), out=tmp_path / "out", notebooks=(name,))
    assert not (tmp_path / "out").exists()


def test_notebooks_are_committed_without_outputs() -> None:
    for path in [*package_notebooks().values(), *interactive_notebooks().values()]:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path
        assert any("parameters" in c.metadata.get("tags", []) for c in code), path
        # cells call the library; logic longer than this belongs in a tested function
        assert max(len(c.source.splitlines()) for c in code) <= 15, path


# -- notebooks run headless -----------------------------------------------------------------------


def _outputs(path: Path) -> tuple[list[dict], str]:
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    return errors, html


@pytest.fixture(scope="module")
def demo_evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, inv = demo_investigation(tmp_path_factory)
    folder = tmp_path_factory.mktemp("demo-evidence") / "evidence"
    inv.save(folder)
    return folder


@pytest.mark.slow
def test_triage_notebook_runs_headless_on_the_demo(demo_evidence: Path, tmp_path: Path) -> None:
    target = tmp_path / "triage.ipynb"
    _execute(
        interactive_notebooks()["triage"],
        target,
        cwd=tmp_path,
        timeout=300,
        parameters={"evidence": str(demo_evidence), "teams": {"orders-api": "payments"}},
    )
    errors, _ = _outputs(target)
    assert errors == []
    nb = nbformat.read(target, as_version=4)
    views = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert views, "the triage widgets were not built"
    frame = [
        o["data"]["text/plain"]
        for c in nb.cells
        if c.source.strip() == "view.frame"
        for o in c.outputs
        if "text/plain" in o.get("data", {})
    ]
    # the team mapping was applied: repositories it does not list say so
    assert frame and "(no team)" in frame[0]
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    labels = [
        label
        for model in state.get("state", {}).values()
        for label in model.get("state", {}).get("_options_labels", [])
    ]
    # the widget state papermill saved: the team filter offers the mapped team
    assert "payments" in labels and "orders-api" in labels


@pytest.mark.slow
def test_blast_radius_notebook_shows_the_new_sections(demo_evidence: Path, tmp_path: Path) -> None:
    target = tmp_path / "blast.ipynb"
    _execute(
        package_notebooks()["blast_radius"],
        target,
        cwd=tmp_path,
        timeout=300,
        parameters={"evidence": str(demo_evidence)},
    )
    errors, html = _outputs(target)
    assert errors == []
    for heading in ("Which repositories to look at first", "On which surfaces", "By advisory"):
        assert any(heading in c.source for c in nbformat.read(target, as_version=4).cells)
    assert "default branch, production" in html
    assert "only on pull requests" in html  # tooling-monorepo
    assert "Latent-only repositories" in html and "cli-scaffold" in html
    assert "inconclusive, not clean" in html  # edge-proxy's truncated lockfile
    assert "were read completely and hold no compromised version" in html


@pytest.mark.slow
def test_blast_radius_notebook_without_declared_ranges(demo_evidence: Path, tmp_path: Path) -> None:
    older = tmp_path / "evidence"
    shutil.copytree(demo_evidence, older)
    (older / "declared.parquet").unlink(missing_ok=True)  # saved before ranges were collected
    target = tmp_path / "blast.ipynb"
    _execute(
        package_notebooks()["blast_radius"],
        target,
        cwd=tmp_path,
        timeout=300,
        parameters={"evidence": str(older)},
    )
    errors, html = _outputs(target)
    assert errors == []
    assert "Latent-only repositories" not in html
    assert "No declared ranges are in this evidence" in html or "not assessed" in html
