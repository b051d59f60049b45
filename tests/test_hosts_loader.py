"""`load_hosts`: ircore host scans and Dev Machine Guard exports into the inventory frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore._frames import new_frame, validate
from ircore._log import EvidenceLog
from ircore.inventory import load_hosts, scan_host
from ircore.inventory._host import write_host_scan
from tests._fakehome import REGISTRY, T0, cache_download, index_line, package_json
from tests._lockfiles import lock_v3
from tests._shared import shared_path

SCAN_TIME = 1757412000  # 2025-09-09T10:00:00Z


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "alice"
    (home / "src" / "web").mkdir(parents=True)
    shutil.copy(
        shared_path("corpus/lockfiles/jquery/lock-v1/package-lock.json"), home / "src" / "web"
    )
    (home / "src" / "api").mkdir()
    (home / "src" / "api" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    cacache = home / ".npm" / "_cacache"
    bucket = cache_download(
        cacache, f"{REGISTRY}/debug/-/debug-4.4.2.tgz", times=(T0,), removed_at=T0 + 1000
    )
    with bucket.open("a") as out:
        out.write(index_line({"key": "k", "time": T0}).replace("\t", "\t ", 1))  # corrupt
    package_json(home / ".npm-global" / "lib" / "node_modules" / "nx", "nx", "21.5.0")
    return home


def _dmg(**overrides: Any) -> dict[str, Any]:
    """A Dev Machine Guard `--json` export, community mode with `--enable-npm-scan`."""
    document: dict[str, Any] = {
        "agent_version": "1.9.0",
        "agent_url": "https://github.com/step-security/dev-machine-guard",
        "scan_timestamp": SCAN_TIME,
        "scan_timestamp_iso": "2025-09-09T10:00:00Z",
        "device": {
            "hostname": "bobs-mbp",
            "serial_number": "C02XYZ",
            "os_version": "15.6",
            "platform": "darwin",
            "user_identity": "bob@example.com",
            "resources": {"cpu_model": "Apple M3 Pro", "logical_cores": 12},
        },
        "ai_agents_and_tools": [],
        "ide_installations": [],
        "ide_extensions": [],
        "mcp_configs": [],
        "node_package_managers": [
            {"name": "npm", "version": "10.8.2", "path": "/opt/homebrew/bin/npm"}
        ],
        "node_packages": [],
        "node_projects": [
            {
                "path": "/Users/bob/src/shop",
                "package_manager": "npm",
                "packages": [
                    {"name": "chalk", "version": "5.6.1"},
                    {"name": "debug", "version": "4.4.2"},
                ],
            },
            {
                "path": "/Users/bob/src/blog",
                "package_manager": "pnpm",
                "packages": [
                    {"name": "@ctrl/tinycolor", "version": "4.1.1"},
                    {"name": "", "version": "1"},
                ],
            },
        ],
        "python_packages": [],
        "python_projects": [],
        "summary": {"node_projects_count": 2},
    }
    document.update(overrides)
    return document


def _write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return path


def test_host_scan_round_trip(tmp_path: Path) -> None:
    home = _home(tmp_path)
    scan = scan_host(roots=[home / "src"], home=home, hostname="laptop-7")
    written = write_host_scan(scan, tmp_path / "scans")
    log = EvidenceLog()
    frame = validate(load_hosts(tmp_path / "scans", log=log), "inventory")
    expected = new_frame("inventory", scan["inventory"])
    pd.testing.assert_frame_equal(frame, expected)
    mine = frame[frame["evidence"].str.startswith(str(tmp_path))]
    assert {"web", "api", "(npm cache)", "(global npm)"} <= set(mine["repo"])
    debug = mine[mine["name"] == "debug"].iloc[0]
    assert debug["first_seen"] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert set(frame["source"]) == {"host-scan"} and set(frame["surface"]) == {"host"}
    assert set(frame["host"]) == {"laptop-7"} and set(frame["user"]) == {scan["host"]["user"]}
    # the machine's own problems and inputs come along, marked with the machine's name
    problems = log.problems
    [corrupt] = problems[problems["kind"] == "corrupt"].to_dict("records")
    assert corrupt["evidence"].startswith(f"laptop-7:{home}/.npm/_cacache/index-v5/")
    inputs = log.inputs
    scan_input = inputs[inputs["evidence"] == str(written)].iloc[0]
    assert scan_input["status"] == "parsed" and scan_input["packages"] == len(frame)
    assert scan_input["format"] == "ircore-host-scan"
    assert f"laptop-7:{home / 'src' / 'api' / 'package-lock.json'}" in set(inputs["evidence"])
    assert not log.complete


def test_dev_machine_guard_community_export(tmp_path: Path) -> None:
    path = _write(tmp_path / "bob.json", _dmg())
    log = EvidenceLog()
    frame = validate(load_hosts(path, log=log), "inventory")
    assert list(zip(frame["repo"], frame["name"], frame["version"], strict=True)) == [
        ("/Users/bob/src/shop", "chalk", "5.6.1"),
        ("/Users/bob/src/shop", "debug", "4.4.2"),
        ("/Users/bob/src/blog", "@ctrl/tinycolor", "4.1.1"),
    ]
    assert set(frame["host"]) == {"bobs-mbp"} and set(frame["user"]) == {"bob@example.com"}
    assert set(frame["source"]) == {"dev-machine-guard"} and set(frame["surface"]) == {"host"}
    assert (frame["last_seen"] == pd.Timestamp("2025-09-09T10:00:00Z")).all()
    assert frame["first_seen"].isna().all()
    assert frame["direct"].isna().all()  # the community form does not say
    assert list(frame["lockfile_format"]) == ["dmg-npm", "dmg-npm", "dmg-pnpm"]
    assert frame["evidence"].iloc[2] == f"{path}#/node_projects/1"
    [problem] = log.problems.to_dict("records")
    assert problem["kind"] == "invalid" and problem["evidence"] == f"{path}#/node_projects/1"
    [read] = log.inputs.to_dict("records")
    assert read["status"] == "parsed" and read["packages"] == 3
    assert read["format"] == "dev-machine-guard-json"


def test_dev_machine_guard_enterprise_form(tmp_path: Path) -> None:
    projects = [
        {
            "project_path": "/home/carol/app",
            "package_manager": "yarn",
            "package_manager_version": "1.22.22",
            "working_directory": "/home/carol/app",
            "packages": [
                {"name": "chalk", "version": "5.6.1", "is_direct": True},
                {"name": "ansi-styles", "version": "6.2.2"},  # omitempty: not direct
            ],
            "packages_count": 2,
            "error": "",
            "exit_code": 0,
            "scan_duration_ms": 120,
        },
        {
            "project_path": "/home/carol/broken",
            "package_manager": "pnpm",
            "packages_count": 0,
            "error": "ERR_PNPM_NO_LOCKFILE",
            "exit_code": 1,
        },
        {
            "project_path": "/home/carol/legacy",
            "package_manager": "npm",
            "raw_stdout_base64": "eyJkZXBlbmRlbmNpZXMiOnt9fQ==",
            "error": "",
            "exit_code": 0,
        },
    ]
    globals_ = [
        {
            "project_path": "/usr/local/lib",
            "package_manager": "npm",
            "packages": [{"name": "nx", "version": "21.5.0", "is_direct": True}],
            "error": "",
            "exit_code": 0,
        }
    ]
    path = _write(tmp_path / "carol.json", _dmg(node_projects=projects, node_packages=globals_))
    log = EvidenceLog()
    frame = validate(load_hosts(path, log=log), "inventory")
    assert list(zip(frame["name"], frame["direct"], frame["repo"], strict=True)) == [
        ("chalk", True, "/home/carol/app"),
        ("ansi-styles", False, "/home/carol/app"),
        ("nx", True, "(global npm)"),
    ]
    assert list(frame["lockfile_format"]) == ["dmg-yarn", "dmg-yarn", "dmg-global-npm"]
    problems = {p["evidence"]: p for p in log.problems.to_dict("records")}
    assert problems[f"{path}#/node_projects/1"]["kind"] == "scan-error"
    assert "ERR_PNPM_NO_LOCKFILE" in problems[f"{path}#/node_projects/1"]["message"]
    assert problems[f"{path}#/node_projects/2"]["kind"] == "unsupported"
    assert len(problems) == 2


def test_projects_listed_without_packages(tmp_path: Path) -> None:
    projects = [
        {"path": "/Users/erin/a", "package_manager": "npm"},
        {"path": "/Users/erin/b", "package_manager": "yarn", "packages": []},
        {
            "path": "/Users/erin/c",
            "package_manager": "npm",
            "packages": [{"name": "x", "version": "1.0.0"}],
        },
    ]
    path = _write(tmp_path / "erin.json", _dmg(node_projects=projects))
    log = EvidenceLog()
    frame = load_hosts(path, log=log)
    assert list(frame["repo"]) == ["/Users/erin/c"]
    [problem] = log.problems.to_dict("records")
    assert problem["kind"] == "partial" and problem["evidence"] == str(path)
    assert problem["message"].startswith("2 projects are listed without their packages")
    assert "/Users/erin/a, /Users/erin/b" in problem["message"]


@pytest.mark.parametrize("empty", [[], None])
def test_empty_dev_machine_guard_export_is_not_proof_of_absence(tmp_path: Path, empty: Any) -> None:
    path = _write(tmp_path / "dave.json", _dmg(node_projects=empty, node_packages=empty))
    log = EvidenceLog()
    frame = load_hosts(path, log=log)
    assert frame.empty
    [problem] = log.problems.to_dict("records")
    assert problem["kind"] == "partial" and "--enable-npm-scan" in problem["message"]
    [read] = log.inputs.to_dict("records")
    assert read["status"] == "empty" and "not proof" in read["notes"]
    assert not log.complete


def test_files_that_are_not_scans(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    unknown = _write(folder / "a-unknown.json", {"hostname": "x", "packages": []})
    listed = _write(folder / "b-list.json", [1, 2])
    newer = _write(folder / "c-newer.json", {"format": "ircore-host-scan", "format_version": 2})
    (folder / "d-broken.json").write_text('{"format": "ircore-host-scan", "inventory": [')
    (folder / "e-text.json").write_text("hostname: x\n")
    (folder / "f-utf16.json").write_bytes('{"device": {}}'.encode("utf-16"))
    _write(folder / "g-good.json", _dmg())
    (folder / "report.html").write_text("<html></html>")
    log = EvidenceLog()
    frame = load_hosts([folder, tmp_path / "absent"], log=log)
    assert len(frame) == 3
    kinds = {
        Path(p["evidence"].split("#")[0]).name: p["kind"] for p in log.problems.to_dict("records")
    }
    assert kinds == {
        unknown.name: "unsupported",
        listed.name: "unsupported",
        newer.name: "unsupported",
        "d-broken.json": "truncated",
        "e-text.json": "not-json",
        "f-utf16.json": "not-text",
        "g-good.json": "invalid",  # the nameless package of the blog project
        "absent": "missing",
    }
    failed = log.inputs[log.inputs["status"] == "failed"]
    assert len(failed) == 6
    message = log.problems[log.problems["evidence"] == str(unknown)].iloc[0]["message"]
    assert "neither an ircore host scan" in message and "Dev Machine Guard" in message


def test_folder_without_json_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "scans").mkdir()
    log = EvidenceLog()
    assert load_hosts(tmp_path / "scans", log=log).empty
    [problem] = log.problems.to_dict("records")
    assert problem["kind"] == "missing" and problem["evidence"] == str(tmp_path / "scans")


def test_host_scan_rows_checked_and_unknown_columns_noted(tmp_path: Path) -> None:
    scan = scan_host(home=tmp_path / "nohome", hostname="h1", global_dirs=[])
    scan["inventory"] = [
        {"name": "chalk", "version": "5.6.1", "future_column": 1},
        {"name": "debug", "version": "4.4.2", "dev": "yes", "first_seen": "last tuesday"},
        {"name": "debug"},
        "not a row",
    ]
    path = _write(tmp_path / "h1.json", scan)
    log = EvidenceLog()
    frame = validate(load_hosts(path, log=log), "inventory")
    assert list(zip(frame["name"], frame["host"], frame["source"], strict=True)) == [
        ("chalk", "h1", "host-scan"),
        ("debug", "h1", "host-scan"),
    ]
    assert frame["dev"].isna().all() and frame["first_seen"].isna().all()
    problems = log.problems.to_dict("records")
    assert sorted(p["kind"] for p in problems) == ["invalid", "invalid", "missing"]  # no home
    messages = [p["message"] for p in problems if p["kind"] == "invalid"]
    assert any(m.startswith("2 inventory rows") for m in messages)
    assert any("wrong type in columns dev, first_seen" in m for m in messages)
    read = log.inputs[log.inputs["evidence"] == str(path)].iloc[0]
    assert "future_column" in read["notes"]


def test_mixed_folder_of_hosts(tmp_path: Path) -> None:
    home = _home(tmp_path)
    write_host_scan(scan_host(home=home, hostname="laptop-7", global_dirs=[]), tmp_path / "scans")
    _write(tmp_path / "scans" / "dmg" / "bob.json", _dmg())
    frame = load_hosts(tmp_path / "scans")
    assert set(frame["host"]) == {"laptop-7", "bobs-mbp"}
    assert set(frame["source"]) == {"host-scan", "dev-machine-guard"}
