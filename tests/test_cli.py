"""The command line, run as a user runs it: exit codes, JSON rows, problems on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._lockfiles import lock_v3


def _ircore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ircore.cli", *args], capture_output=True, text=True, timeout=120
    )


def _advisories(tmp_path: Path) -> Path:
    path = tmp_path / "list.csv"
    path.write_text("# source: test\nname,version\nchalk,5.6.1\n")
    return path


def test_scan_exit_codes(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    advisories = _advisories(tmp_path)
    done = _ircore("scan", str(clean), "--advisories", str(advisories))
    assert done.returncode == 0, done.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    done = _ircore("scan", str(bad), "--advisories", str(advisories), "--json")
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["name"], r["version"], r["repo"]) for r in rows] == [("chalk", "5.6.1", "bad")]

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"})[:150])
    done = _ircore("scan", str(broken), str(clean), "--advisories", str(advisories))
    assert done.returncode == 3
    assert "NOT READ" in done.stderr and str(broken / "package-lock.json") in done.stderr


def test_inventory_json_rows(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}, dev={"debug": "4.4.1"}))
    done = _ircore("inventory", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert rows["debug"]["dev"] is True and rows["chalk"]["dev"] is False


def test_scan_corpus_lockfiles_reads_everything_npm(shared: Path) -> None:
    lockfiles = sorted((shared / "corpus" / "lockfiles").rglob("package-lock.json"))
    done = _ircore(
        "scan",
        *map(str, lockfiles),
        "--advisories",
        str(shared / "corpus" / "advisories"),
        str(shared / "corpus" / "incidents"),
    )
    assert done.returncode in (0, 1), done.stderr
    assert "NOT READ" not in done.stderr


def test_config_errors_exit_2(tmp_path: Path) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_text("name: x\npackages: {chalk: 5.6.1}\ngithub_token: ghp_nope\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"repos: [{tmp_path}]\n")
    done = _ircore(
        "report",
        "--incident",
        str(incident),
        "--sources",
        str(sources),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2
    assert "environment" in done.stderr and "ghp_nope" not in done.stderr
