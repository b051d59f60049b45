"""The command line, run as a user runs it: exit codes, JSON rows, problems on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._lockfiles import lock_v3


def _ircore(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ircore.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def _advisories(tmp_path: Path, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text("# source: test\nname,version\nchalk,5.6.1\n")
    return path


def _count_line(stderr: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith("ircore: read ")]
    return line


def test_scan_exit_codes(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    advisories = _advisories(tmp_path)
    done = _ircore("scan", str(clean), "--advisories", str(advisories))
    assert done.returncode == 0, done.stderr
    assert "Not affected" in done.stderr

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


def test_advisories_takes_one_path_and_repeats(tmp_path: Path) -> None:
    """`--advisories X repos/` once swallowed repos/ as a second advisory source."""
    repo = tmp_path / "repos" / "web"
    repo.mkdir(parents=True)
    (repo / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    first = _advisories(tmp_path, "first.csv")
    second = _advisories(tmp_path, "second.csv")
    done = _ircore("scan", "--advisories", str(first), str(tmp_path / "repos"), "--json")
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["name"], r["version"], r["file"]) for r in rows] == [
        ("chalk", "5.6.1", "web/package-lock.json")
    ]

    done = _ircore(
        "scan", "--advisories", str(first), "--advisories", str(second), str(tmp_path / "repos")
    )
    assert done.returncode == 1, done.stderr
    assert _count_line(done.stderr) == "ircore: read 3 of 3 inputs; no problems"
    assert "checked against 2 advisories" in done.stderr


def test_scan_rows_are_per_occurrence_and_advisory_with_install_path(tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    nested = json.loads(lock_v3({"chalk": "5.6.1", "x": "1.0.0"}))
    nested["packages"]["node_modules/x"]["dependencies"] = {"chalk": "5.6.1"}
    nested["packages"]["node_modules/x/node_modules/chalk"] = dict(
        nested["packages"]["node_modules/chalk"]
    )
    (project / "package-lock.json").write_text(json.dumps(nested))
    first = _advisories(tmp_path, "first.csv")
    second = _advisories(tmp_path, "second.csv")
    args = ("scan", str(project), "--advisories", str(first), "--advisories", str(second))

    done = _ircore(*args, "--json")
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    # two places chalk@5.6.1 is installed, two advisories claiming it: four rows
    assert sorted((r["install_path"], r["advisory_id"]) for r in rows) == sorted(
        (path, advisory)
        for path in ("node_modules/chalk", "node_modules/x/node_modules/chalk")
        for advisory in {r["advisory_id"] for r in rows}
    )
    assert len({r["advisory_id"] for r in rows}) == 2

    table = _ircore(*args)
    header = table.stdout.splitlines()[0].split()
    assert header[:4] == ["repo", "ref", "file", "install_path"] and header[-1] == "advisory_id"
    assert len(table.stdout.splitlines()) == 1 + 4
    assert "1 repository (2 occurrences)" in table.stderr


def test_count_line_agrees_with_the_problem_lines(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"})[:150])
    missing = tmp_path / "not-there"
    done = _ircore(
        "scan", str(clean), str(broken), str(missing), "--advisories", str(_advisories(tmp_path))
    )
    assert done.returncode == 3
    # the list, clean and broken lockfiles are inputs; the missing path is a problem of its own
    assert _count_line(done.stderr) == "ircore: read 2 of 3 inputs; 2 problems"
    lines = [line for line in done.stderr.splitlines() if line.startswith("ircore: NOT READ")]
    others = [line for line in done.stderr.splitlines() if line.startswith("ircore: PROBLEM")]
    assert len(lines) == 1 and str(broken) in lines[0]
    assert len(others) == 1 and str(missing) in others[0]

    done = _ircore("inventory", str(missing))
    assert done.returncode == 3
    assert _count_line(done.stderr) == "ircore: read 0 of 0 inputs; 1 problem"


def test_inventory_json_rows(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}, dev={"debug": "4.4.1"}))
    done = _ircore("inventory", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert rows["debug"]["dev"] is True and rows["chalk"]["dev"] is False
    assert _count_line(done.stderr) == "ircore: read 1 of 1 input; no problems"


def test_scan_corpus_lockfiles_reads_everything_npm(shared: Path) -> None:
    lockfiles = sorted((shared / "corpus" / "lockfiles").rglob("package-lock.json"))
    done = _ircore(
        "scan",
        *map(str, lockfiles),
        "--advisories",
        str(shared / "corpus" / "advisories"),
        "--advisories",
        str(shared / "corpus" / "incidents"),
    )
    assert done.returncode in (0, 1), done.stderr
    assert "NOT READ" not in done.stderr


def test_version_and_help() -> None:
    from ircore.report import kit_version

    done = _ircore("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"ircore {kit_version()}"
    demo = _ircore("demo", "--help")
    assert "--seed" in demo.stdout and "same seed builds the same org" in demo.stdout
    scan = _ircore("scan", "--help")
    assert "one row per (occurrence, advisory)" in scan.stdout.replace("\n", " ").lower()


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


def _spec_files(tmp_path: Path) -> tuple[Path, Path]:
    incident = tmp_path / "incident.yaml"
    incident.write_text("name: x\npackages: {chalk: [5.6.1]}\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"repos: [{tmp_path}]\n")
    return incident, sources


def test_report_refuses_an_out_it_must_not_touch(tmp_path: Path) -> None:
    incident, sources = _spec_files(tmp_path)
    spec = ("report", "--incident", str(incident), "--sources", str(sources))

    a_file = tmp_path / "report.html"
    a_file.write_text("mine")
    done = _ircore(*spec, "--out", str(a_file), "--overwrite")
    assert done.returncode == 2
    assert done.stderr == f"ircore: {a_file} is a file; a report bundle is written to a folder\n"
    assert a_file.read_text() == "mine"

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.md").write_text("mine")
    done = _ircore(*spec, "--out", str(folder), "--overwrite")
    assert done.returncode == 2 and "holds no report bundle" in done.stderr
    assert "Traceback" not in done.stderr
    assert [p.name for p in folder.iterdir()] == ["todo.md"]


def test_demo_refuses_before_building_anything(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "demo"
    out.mkdir(parents=True)
    (out / "notes.md").write_text("mine")
    done = _ircore("demo", "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "holds no report bundle" in done.stderr and "Traceback" not in done.stderr
    assert "building the demo organization" not in done.stderr
    assert not (tmp_path / "reports" / "demo-org").exists()

    # a --workdir that is not a generated demo org is never deleted
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    done = _ircore("demo", "--out", str(tmp_path / "fresh"), "--workdir", str(src))
    assert done.returncode == 2 and "not a demo organization" in done.stderr
    assert (src / "app").is_dir() and not (tmp_path / "fresh").exists()


def test_progress_counts_files_and_is_off_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    quiet = _ircore("inventory", str(tmp_path))
    assert "reading" not in quiet.stderr  # captured stderr is no terminal: no bar by default
    shown = _ircore("inventory", str(tmp_path), "--progress")
    assert shown.returncode == 0, shown.stderr
    # tqdm redraws with carriage returns; the last drawing counts every lockfile read
    drawings = [d for d in shown.stderr.replace("\r", "\n").splitlines() if "reading" in d]
    assert drawings and "3 files" in drawings[-1] and "MB" in drawings[-1]


def test_installed_trees_are_read_on_request(tmp_path: Path) -> None:
    project = tmp_path / "app"
    (project / "node_modules" / "chalk").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "app", "dependencies": {"chalk": "^5"}}')
    (project / "node_modules" / "chalk" / "package.json").write_text(
        '{"name": "chalk", "version": "5.6.1"}'
    )
    advisories = _advisories(tmp_path)
    without = _ircore("scan", str(project), "--advisories", str(advisories))
    assert without.returncode == 3 and "no-lockfile" in without.stderr
    found = _ircore("scan", str(project), "--installed", "--advisories", str(advisories), "--json")
    assert found.returncode == 1, found.stderr
    [row] = map(json.loads, found.stdout.splitlines())
    assert (row["name"], row["version"], row["file"]) == ("chalk", "5.6.1", "node_modules")


def test_scan_exits_3_whenever_the_verdict_is_inconclusive(tmp_path: Path) -> None:
    advisories = _advisories(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _ircore("scan", str(empty), "--advisories", str(advisories))
    assert "Inconclusive: no lockfiles were found" in done.stderr
    assert done.returncode == 3
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    clean = _ircore("scan", str(tmp_path / "app"), "--advisories", str(advisories))
    assert clean.returncode == 0 and "Not affected" in clean.stderr


def test_an_api_retrying_speaks_as_ircore_on_stderr(tmp_path: Path) -> None:
    from tests._http_server import Reply, Server

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    (tmp_path / "incident.yaml").write_text('name: t\npackages: {chalk: ["5.6.1"]}\n')
    with Server() as server:
        server.route("GET", "/chalk", Reply(500), Reply(body={"name": "chalk", "versions": {}}))
        (tmp_path / "sources.yaml").write_text(
            f"repos: [app/]\nregistry: {{url: '{server.url}'}}\n"
        )
        done = _ircore(
            "report",
            "--incident",
            str(tmp_path / "incident.yaml"),
            "--sources",
            str(tmp_path / "sources.yaml"),
            "--out",
            str(tmp_path / "r"),
        )
    assert done.returncode == 0, done.stderr
    retries = [line for line in done.stderr.splitlines() if "retry 1 of" in line]
    assert retries and all(line.startswith("ircore: registry: ") for line in retries)
    assert [line for line in done.stderr.splitlines() if not line.startswith("ircore: ")] == []
