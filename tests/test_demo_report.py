"""`ircore demo` and `ircore report` as a user runs them, and the HTML they write, in Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.test_report_browser import (
    ARGS,
    CHROMIUM,
    COUNT_CHARTS,
    assert_quiet,
    open_page,
    require_chromium,
)
from tests.test_report_bundle import figures_in

pytestmark = [pytest.mark.slow]


def _ircore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ircore.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    done = _ircore("demo", "--out", "reports/demo", cwd=work)
    assert done.returncode == 0, done.stderr
    index = (work / done.stdout.strip()).resolve()
    assert index == (work / "reports" / "demo" / "index.html").resolve()
    assert "Affected: compromised versions were found in 12 of 27 repositories" in done.stderr
    return index.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_demo_bundle_files_and_manifest(demo_bundle: Path) -> None:
    manifest = json.loads((demo_bundle / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    for name in ("advisories", "inventory", "exposure", "problems", "inputs"):
        assert (demo_bundle / "evidence" / f"{name}.parquet").is_file()
    assert (demo_bundle / "blast_radius.html").is_file()
    text = json.dumps(manifest)
    assert "incident.yaml" in text and "sources.yaml" in text


@pytest.mark.browser
def test_demo_report_renders_offline(browser: Any, demo_bundle: Path) -> None:
    page, watch = open_page(browser, (demo_bundle / "blast_radius.html").as_uri())
    expected = figures_in(demo_bundle / "notebooks" / "blast_radius.ipynb")
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(500)
    assert page.evaluate(COUNT_CHARTS) == expected == 2
    text = page.evaluate("() => document.body.innerText")
    assert "edge-proxy" in text and "truncated" in text  # the unreadable lockfile is visible
    assert "chalk@5.6.1" in text
    assert_quiet(watch)
    page.close()


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
