"""`ircore demo` and `ircore report` as a user runs them, and the HTML they write, in Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.test_report_browser import (
    ARGS,
    CHROMIUM,
    COUNT_CHARTS,
    assert_phone_layout,
    assert_quiet,
    open_page,
    require_chromium,
    screenshot,
)
from tests.test_report_bundle import figures_in

pytestmark = [pytest.mark.slow]

CLI = [sys.executable, "-m", "ircore.cli"]


def _ircore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("demo")
    done = _ircore("demo", "--out", "reports/demo", cwd=work)
    assert done.returncode == 0, done.stderr
    index = (work / done.stdout.strip()).resolve()
    assert index == (work / "reports" / "demo" / "index.html").resolve()
    return index.parent, done.stderr


@pytest.fixture(scope="module")
def demo_bundle(demo_run: tuple[Path, str]) -> Path:
    return demo_run[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_demo_prints_its_verdict_and_nothing_else(demo_run: tuple[Path, str]) -> None:
    bundle, stderr = demo_run
    org = bundle.parent / "demo-org"  # README: the demo's org goes beside the bundle
    truth = json.loads((org / "truth.json").read_text())
    exposed = len(truth["summary"]["exposed_at_a_tip"])
    repos = truth["summary"]["repos"]
    machines = len(truth["summary"]["hosts_exposed"])
    hosts = truth["summary"]["hosts"]
    assert re.search(
        rf"^ircore: Affected: compromised versions were found in {exposed} of {repos} repositories "
        rf"and {machines} of {hosts} developer machines \(\d+ occurrences\)\.",
        stderr,
        re.MULTILINE,
    ), stderr
    # every line is ircore's own: no kernel warning ("running over TCP without encryption")
    assert [line for line in stderr.splitlines() if not line.startswith("ircore: ")] == []


def test_demo_bundle_files_and_manifest(demo_bundle: Path) -> None:
    manifest = json.loads((demo_bundle / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    for name in ("advisories", "inventory", "exposure", "problems", "inputs"):
        assert (demo_bundle / "evidence" / f"{name}.parquet").is_file()
    assert (demo_bundle / "blast_radius.html").is_file()
    text = json.dumps(manifest)
    assert "incident.yaml" in text and "sources.yaml" in text
    assert manifest["parameters"]["org_name"] == "larkspur"
    assert _leftovers(demo_bundle) == []


def test_shared_pages_hold_no_local_path(demo_bundle: Path) -> None:
    org = str((demo_bundle.parent / "demo-org").resolve())
    for page in ("index.html", "blast_radius.html"):
        assert org not in (demo_bundle / page).read_text(), page
    # the evidence keeps them whole, for whoever re-runs the analysis
    inputs = pd.read_parquet(demo_bundle / "evidence" / "inputs.parquet")
    read_here = inputs["host"].fillna("") == ""
    assert inputs.loc[read_here, "evidence"].str.startswith(org).all()
    # what a machine's scan read is named by the machine and its own path there
    on_machines = inputs.loc[~read_here]
    assert not on_machines.empty
    assert (on_machines["evidence"].str.split(":").str[0] == on_machines["host"]).all()


@pytest.mark.browser
def test_demo_report_renders_offline(browser: Any, demo_bundle: Path, tmp_path: Path) -> None:
    page, watch = open_page(browser, (demo_bundle / "blast_radius.html").as_uri())
    expected = figures_in(demo_bundle / "notebooks" / "blast_radius.ipynb")
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(500)
    assert page.evaluate(COUNT_CHARTS) == expected == 6
    text = page.evaluate("() => document.body.innerText")
    assert "edge-proxy" in text and "truncated" in text  # the unreadable lockfile is visible
    assert "chalk@5.6.1" in text
    assert "history (what was present earlier and has since been removed) is not covered" in text
    assert "commits" not in text.lower()  # only ref tips are scanned
    # every input is identifiable, advisory files included
    inputs = page.evaluate(
        """() => { const t = Array.from(document.querySelectorAll('table'))
              .find(t => t.querySelector('th').textContent === 'input');
            return Array.from(t.querySelectorAll('tbody tr td:first-child'))
              .map(td => td.textContent); }"""
    )
    assert "" not in inputs and "—" not in inputs
    assert "advisories/qix-2025-09-08.csv" in inputs
    # the treemap is rooted at the organization's name
    labels = page.evaluate(
        "() => Array.from(document.querySelectorAll('.treemap .slicetext')).map(t => t.textContent)"
    )
    assert any(label.startswith("larkspur") for label in labels), labels
    section_tiles = page.evaluate(
        "() => Array.from(document.querySelectorAll('.ircore-cards')[0]"
        ".querySelectorAll('.l')).map(l => l.textContent)"
    )
    screenshot(page, "demo-blast_radius.png", tmp_path)
    assert_quiet(watch)
    page.close()

    page, watch = open_page(browser, (demo_bundle / "index.html").as_uri())
    index_tiles = page.evaluate(
        "() => Array.from(document.querySelectorAll('.ircore-cards .l')).map(l => l.textContent)"
    )
    screenshot(page, "demo-index.png", tmp_path)
    assert_quiet(watch)
    page.close()
    assert (
        section_tiles
        == index_tiles
        == [
            "Repositories affected",
            "Occurrences",
            "Branches and PRs affected",
            "Input problems",
        ]
    )
    for name in ("index", "blast_radius"):
        layout = assert_phone_layout(
            browser, (demo_bundle / f"{name}.html").as_uri(), tmp_path, f"demo-{name}-phone.png"
        )
        assert layout["tableScrolls"] is True  # the problems table scrolls inside its box
        assert layout["verdict"].startswith("Affected")


def _copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "reports" / "chalk"
    shutil.copytree(bundle, copy)
    return copy


def _report_args(bundle: Path, out: Path) -> list[str]:
    org = bundle.parent / "demo-org"
    return [
        "report",
        "--incident",
        str(org / "incident.yaml"),
        "--sources",
        str(org / "sources.yaml"),
        "--out",
        str(out),
    ]


def test_report_refuses_to_replace_without_overwrite_or_with_notes(
    demo_bundle: Path, tmp_path: Path
) -> None:
    out = _copy(demo_bundle, tmp_path)
    before = _digests(out)
    done = _ircore(*_report_args(demo_bundle, out), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"ircore: {out} already holds a report bundle; pass --overwrite to replace it\n"
    )

    (out / "notes.md").write_text("called the vendor at 15:10")
    done = _ircore(*_report_args(demo_bundle, out), "--overwrite", cwd=tmp_path)
    assert done.returncode == 2 and "notes.md" in done.stderr and "Traceback" not in done.stderr
    assert _digests(out) == {**before, "notes.md": _digests(out)["notes.md"]}
    assert _leftovers(out) == []


def test_report_overwrite_replaces_a_bundle(demo_bundle: Path, tmp_path: Path) -> None:
    out = _copy(demo_bundle, tmp_path)
    created = json.loads((out / "manifest.json").read_text())["created"]
    time.sleep(1)  # "created" has a resolution of one second
    done = _ircore(*_report_args(demo_bundle, out), "--overwrite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str((out / "index.html").resolve())
    assert json.loads((out / "manifest.json").read_text())["created"] != created
    # report's exit code is 0 (built); the verdict is on stderr
    assert "ircore: Affected: " in done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("ircore: ")] == []
    assert _leftovers(out) == []


def test_ctrl_c_exits_130_with_one_line_and_keeps_the_bundle(
    demo_bundle: Path, tmp_path: Path
) -> None:
    out = _copy(demo_bundle, tmp_path)
    before = _digests(out)
    # A terminal's Ctrl-C signals the foreground process group: a group of its own here.
    proc = subprocess.Popen(
        [*CLI, *_report_args(demo_bundle, out), "--overwrite"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    # wait until the kernel runs the notebook: the worst moment to be interrupted
    while not any((p / "notebooks").is_dir() for p in out.parent.glob(".chalk.building-*")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stdout == ""
    assert stderr == "ircore: interrupted (nothing in --out was replaced)\n"
    assert _digests(out) == before
    assert _leftovers(out) == []


def test_report_on_the_real_corpus(shared: Path, tmp_path: Path) -> None:
    corpus = shared / "corpus"
    (tmp_path / "incident.yaml").write_text(
        "name: qix chalk/debug 2025-09-08\n"
        "packages: {chalk: ['5.6.1'], debug: ['4.4.2'], ansi-styles: ['6.2.2']}\n"
        "advisories: [MAL-2025-46969]\n"
    )
    (tmp_path / "sources.yaml").write_text(
        f"advisories: ['{corpus / 'advisories'}', '{corpus / 'incidents'}']\n"
        f"repos: ['{corpus / 'lockfiles'}']\ngit_refs: false\n"
    )
    done = _ircore(
        "report",
        "--incident",
        "incident.yaml",
        "--sources",
        "sources.yaml",
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    # every real lockfile format is read, so the verdict may be given, and each input is listed
    assert "Not affected" in done.stderr, done.stderr
    inputs = pd.read_parquet(tmp_path / "out" / "evidence" / "inputs.parquet")
    lockfiles = [
        p for p in (corpus / "lockfiles").rglob("*") if p.is_file() and p.name != "SOURCE.txt"
    ]
    assert sorted(inputs.loc[inputs["source"] == "folder", "evidence"]) == sorted(
        map(str, lockfiles)
    )
    assert set(inputs["status"]) == {"parsed"}
    html = (tmp_path / "out" / "blast_radius.html").read_text()
    for lockfile in ("bun.lock", "yarn.lock", "pnpm-lock.yaml", "package-lock.json"):
        assert lockfile in html
    assert str(corpus) not in html  # paths are shown relative to what was scanned
