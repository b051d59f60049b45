"""The inventory loader over folders and real git repositories (branches, PR refs, remotes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ircore import EvidenceLog, load_inventory, validate
from tests._lockfiles import commit_files, git, init_repo, lock_v3


@pytest.fixture
def org(tmp_path: Path) -> Path:
    """Two real repos: one clean on main with chalk 5.6.1 on a branch and in a PR ref."""
    root = tmp_path / "org"
    web = root / "web"
    init_repo(web)
    commit_files(
        web,
        {
            "package-lock.json": lock_v3({"chalk": "5.6.2"}, nested={"debug": "4.4.1"}),
            "README.md": "web\n",
        },
        "init",
    )
    git(web, "checkout", "-q", "-b", "feature/colors")
    commit_files(
        web,
        {"package-lock.json": lock_v3({"chalk": "5.6.1"}, nested={"debug": "4.4.1"})},
        "bump chalk",
    )
    git(web, "update-ref", "refs/pull/7/head", "HEAD")
    git(web, "checkout", "-q", "main")
    api = root / "api"
    init_repo(api)
    commit_files(
        api,
        {
            "services/a/package-lock.json": lock_v3({"express": "4.21.2"}, dev={"debug": "4.4.2"}),
            "node_modules/x/package-lock.json": lock_v3({"left-pad": "1.0.0"}),
        },
        "init",
    )
    return root


def test_git_refs_reads_every_branch_and_pr_without_checkout(org: Path) -> None:
    log = EvidenceLog()
    frame = validate(load_inventory(org, git_refs=True, log=log), "inventory")
    assert log.problems.empty
    chalk = frame[frame["name"] == "chalk"]
    by_ref = dict(zip(chalk["ref"], chalk["version"], strict=True))
    assert by_ref == {"main": "5.6.2", "feature/colors": "5.6.1", "pull/7/head": "5.6.1"}
    surfaces = dict(zip(chalk["ref"], chalk["surface"], strict=True))
    assert surfaces == {
        "main": "default_branch",
        "feature/colors": "branch",
        "pull/7/head": "pull_request",
    }
    # lockfiles shipped inside node_modules are never the project's
    assert "left-pad" not in set(frame["name"])
    api = frame[frame["repo"] == "api"]
    assert set(api["file"]) == {"services/a/package-lock.json"}
    assert api.set_index("name").loc["debug", "dev"]


def test_identical_blobs_are_parsed_once_but_reported_per_ref(org: Path, monkeypatch) -> None:
    import ircore.inventory as inventory

    calls: list[int] = []
    original = inventory.PARSERS["package-lock.json"]
    monkeypatch.setitem(
        inventory.PARSERS, "package-lock.json", lambda d, m: calls.append(1) or original(d, m)
    )
    log = EvidenceLog()
    frame = load_inventory(org / "web", git_refs=True, log=log)
    assert len(log.inputs) == 3  # main, feature/colors, pull/7/head
    assert len(calls) == 2  # feature/colors and pull/7/head share one blob
    assert frame["ref"].nunique() == 3


def test_remote_tracking_branches_of_a_clone(org: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(org / "web"), str(clone))
    frame = load_inventory(clone, git_refs=True)
    assert set(frame["ref"]) == {"main", "feature/colors"}


def test_truncated_lockfile_on_a_branch_is_a_problem_not_clean(org: Path) -> None:
    web = org / "web"
    git(web, "checkout", "-q", "-b", "broken")
    commit_files(web, {"package-lock.json": lock_v3({"chalk": "5.6.1"})[:200]}, "truncate")
    log = EvidenceLog()
    load_inventory(web, git_refs=True, log=log)
    problems = log.problems
    assert list(problems["ref"]) == ["broken"]
    assert problems["evidence"].iloc[0].endswith(":package-lock.json")
    assert not log.complete


def test_unsupported_lockfile_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bun.lockb").write_bytes(b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x00\x01")
    log = EvidenceLog()
    assert load_inventory(tmp_path, log=log).empty
    assert list(log.problems["kind"]) == ["unsupported"]
    assert "--save-text-lockfile" in log.problems["message"].iloc[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text(lock_v3({"chalk": "5.6.1"}))
    lock.chmod(0)
    log = EvidenceLog()
    load_inventory(tmp_path, log=log)
    assert list(log.problems["kind"]) == ["unreadable"]


def test_folder_scan_names_repo_and_file(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "apps" / "web").mkdir(parents=True)
    (project / "apps" / "web" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    frame = load_inventory(tmp_path / "shop")
    assert set(frame["repo"]) == {"shop"}
    assert set(frame["file"]) == {"apps/web/package-lock.json"}
    assert set(frame["surface"]) == {"folder"}


def test_a_repo_config_cannot_make_git_run_code(tmp_path: Path) -> None:
    repo = tmp_path / "evil"
    init_repo(repo)
    commit_files(repo, {"package-lock.json": lock_v3({"chalk": "5.6.1"})}, "init")
    marker = tmp_path / "ran"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    frame = load_inventory(repo, git_refs=True)
    assert set(frame["name"]) == {"chalk"}
    assert not marker.exists()


def test_folder_of_clones_also_reads_plain_projects_beside_them(org: Path) -> None:
    """A user's clones/ folder holding one git repo and one plain project (user report #3)."""
    plain = org / "exported"
    plain.mkdir()
    (plain / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    frame = load_inventory(org, git_refs=True)
    assert set(frame["repo"]) == {"web", "api", "exported"}
    assert set(frame.loc[frame["repo"] == "exported", "surface"]) == {"folder"}


def test_folder_of_projects_gives_one_repo_each(tmp_path: Path) -> None:
    for name in ("alpha", "beta"):
        (tmp_path / name / "lock").mkdir(parents=True)
        (tmp_path / name / "lock" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    frame = load_inventory(tmp_path)
    assert set(zip(frame["repo"], frame["file"], strict=True)) == {
        ("alpha", "lock/package-lock.json"),
        ("beta", "lock/package-lock.json"),
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists folders whatever their mode")
def test_unlistable_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        log = EvidenceLog()
        load_inventory(tmp_path, log=log)
    finally:
        locked.chmod(0o755)
    assert list(log.problems["kind"]) == ["unreadable"]
    assert not log.complete


def test_unlistable_folder_is_reported_even_for_root(tmp_path: Path, monkeypatch) -> None:
    """Root ignores modes, so the listing failure is produced the way the OS reports it."""
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    log = EvidenceLog()
    frame = load_inventory(tmp_path, log=log)
    assert set(frame["name"]) == {"chalk"}
    assert list(log.problems["kind"]) == ["unreadable"]
    assert "locked" in log.problems["evidence"].iloc[0]


def test_manifest_without_lockfile_is_reported(tmp_path: Path) -> None:
    project = tmp_path / "flags"
    (project / "packages" / "a").mkdir(parents=True)
    (project / "package.json").write_text('{"dependencies": {"chalk": "^5.6.0"}}')
    (project / "packages" / "a" / "package.json").write_text("{}")
    log = EvidenceLog()
    load_inventory(project, log=log)
    assert sorted(log.problems["evidence"]) == [
        str(project / "package.json"),
        str(project / "packages" / "a" / "package.json"),
    ]
    assert set(log.problems["kind"]) == {"no-lockfile"}


def test_workspace_manifests_under_a_lockfile_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "packages" / "a").mkdir(parents=True)
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.2"}))
    (tmp_path / "packages" / "a" / "package.json").write_text("{}")
    log = EvidenceLog()
    load_inventory(tmp_path, log=log)
    assert log.problems.empty


def test_a_broken_ref_is_reported_and_does_not_hide_the_others(org: Path) -> None:
    web = org / "web"
    (web / ".git" / "refs" / "heads" / "ghost").write_text("0" * 39 + "1\n")  # missing object
    (web / ".git" / "refs" / "heads" / "garbage").write_text("not a sha\n")
    log = EvidenceLog()
    frame = load_inventory(web, git_refs=True, log=log)
    assert {"main", "feature/colors", "pull/7/head"} <= set(frame["ref"])
    problems = log.problems
    assert "garbage" in " ".join(problems["evidence"])
    assert "ghost" in " ".join(problems["ref"])
    assert not log.complete


def test_a_file_named_on_its_own_is_read_or_reported_never_ignored(tmp_path: Path) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"name": "chalk", "version": "5.6.1", "purl": "pkg:npm/chalk@5.6.1"}],
    }
    (tmp_path / "cyclonedx.json").write_text(json.dumps(bom))  # an SBOM under any JSON name
    (tmp_path / "host.json").write_text('{"format": "ircore-host-scan"}')  # wrong section
    (tmp_path / "bom.xml").write_text("<bom/>")
    log = EvidenceLog()
    frame = load_inventory(
        [tmp_path / n for n in ("cyclonedx.json", "host.json", "bom.xml")], log=log
    )
    assert list(zip(frame["name"], frame["version"], strict=True)) == [("chalk", "5.6.1")]
    kinds = dict(
        zip(log.problems["evidence"].map(lambda e: Path(e).name), log.problems["kind"], strict=True)
    )
    assert kinds == {"host.json": "unsupported", "bom.xml": "unsupported"}
    assert not log.complete
