"""The whole pipeline on the demo org, checked against the generator's own record of what it planted.

The truth file is written by the generator from the bytes it committed, with a lockfile walker
of its own, so the investigation is checked against an independent reading.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ircore import investigate, validate
from ircore.demo import build_demo_org

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    org = build_demo_org(tmp_path_factory.mktemp("demo") / "org")
    return org, investigate(org.incident_file, org.sources_file)


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/")


def test_exposure_equals_what_was_planted_at_every_ref(demo) -> None:  # type: ignore[no-untyped-def]
    org, inv = demo
    truth = json.loads(Path(org.truth_file).read_text())
    planted = {
        (f["repo"], _short(f["ref"]), f["lockfile"], f["name"], f["version"])
        for f in truth["findings"]
    }
    repos = inv.exposure[inv.exposure["surface"] != "host"]
    found = set(
        zip(
            repos["repo"],
            repos["ref"],
            repos["file"],
            repos["name"],
            repos["version"],
            strict=True,
        )
    )
    assert found == planted
    machines = inv.exposure[inv.exposure["surface"] == "host"]
    on_machines = {
        (host, item["name"], item["version"])
        for host, facts in truth["hosts"].items()
        for part in ("installed", "lockfiles", "npm_cache", "findings")
        for item in facts.get(part, [])
    }
    assert set(zip(machines["host"], machines["name"], machines["version"], strict=True)) == (
        on_machines
    )
    for name in ("advisories", "inventory", "exposure", "problems", "inputs"):
        validate(getattr(inv, name), name)


def test_dev_and_direct_flags_agree_with_the_truth(demo) -> None:  # type: ignore[no-untyped-def]
    org, inv = demo
    truth = json.loads(Path(org.truth_file).read_text())
    for finding in truth["findings"]:
        rows = inv.exposure[
            (inv.exposure["repo"] == finding["repo"])
            & (inv.exposure["ref"] == _short(finding["ref"]))
            & (inv.exposure["name"] == finding["name"])
        ]
        assert not rows.empty
        if finding["direct"]:
            assert rows["direct"].any(), finding
        if not finding["dev"]:
            assert not rows["dev"].all(), finding


def test_the_truncated_lockfile_is_a_problem_and_the_log_is_incomplete(demo) -> None:  # type: ignore[no-untyped-def]
    org, inv = demo
    truth = json.loads(Path(org.truth_file).read_text())
    expected = {(p["repo"], _short(p["ref"]), p["lockfile"]) for p in truth["problems"]}
    # a project with a package.json and no lockfile cannot show what it installed either
    expected |= {
        (name, "main", manifest)
        for name, repo in truth["repos"].items()
        if not repo["lockfiles"]
        for manifest in repo["manifests"]
    }
    failed = inv.inputs[inv.inputs["status"] == "failed"]
    assert set(zip(failed["repo"], failed["ref"], failed["file"], strict=True)) == expected
    assert set(inv.problems["kind"]) == {"truncated", "no-lockfile"}
    assert not inv.complete
