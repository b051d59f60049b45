"""The demo org's yarn, pnpm and bun repositories and its developer machines, read by ircore.

``truth.json`` is written by the generator from the bytes it wrote (its own lockfile readers, its
own walk of the machines' files); here ircore's loaders read the same files, ``load_inventory``
the repositories at every ref and ``load_hosts`` the host scans and the Dev Machine Guard export,
and must find exactly what the truth says was planted. The machines' files are also checked
against what they claim to be: real ``package.json`` files, a cache index cacache could read,
working copies equal to the commits they were checked out at.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore._config import load_sources
from ircore._log import EvidenceLog
from ircore.demo import DemoOrg, build_demo_org
from ircore.demo._facts import BAD
from ircore.demo._lockfile import SEED_DIR
from ircore.inventory import load_hosts, load_inventory

pytestmark = pytest.mark.slow

#: What ircore calls each package manager's lockfile format.
FORMATS = {
    "yarn-classic": "yarn-v1",
    "yarn-berry": "yarn-berry-v",
    "pnpm": "pnpm-v9.0",
    "bun": "bun-lock-v",
}
#: Host rows that are not read from a lockfile.
NOT_LOCKFILES = ("node_modules", "global-npm", "npm-cache")


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> DemoOrg:
    return build_demo_org(tmp_path_factory.mktemp("surfaces") / "org")


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/")


def _flag(value: Any) -> bool | None:
    return None if pd.isna(value) else bool(value)


def _is_bad(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [BAD.get(n) == v for n, v in zip(frame["name"], frame["version"], strict=True)],
        index=frame.index,
        dtype=bool,
    )


def _git(repo: Path, *args: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=True, env=env
    ).stdout


def _other_repos(org: DemoOrg) -> dict[str, str]:
    """Repositories whose lockfile is not npm's, and their package manager."""
    out = {}
    for name, info in org.truth["repos"].items():
        managers = {
            lf["manager"] for ref in info["refs"].values() for lf in ref["lockfiles"].values()
        }
        if managers and managers != {"npm"}:
            (out[name],) = managers
    return out


# -- repositories ---------------------------------------------------------------------------------


def test_yarn_pnpm_bun_repos_parse_and_match_truth_at_every_ref(org: DemoOrg) -> None:
    others = _other_repos(org)
    assert set(others.values()) == set(FORMATS)
    log = EvidenceLog()
    inventory = load_inventory(org.repos_dir, git_refs=True, log=log)
    rows = inventory[inventory["repo"].isin(others)]
    found = {
        (r.repo, r.ref, r.file, r.name, r.version, _flag(r.dev), _flag(r.direct))
        for r in rows[_is_bad(rows)].itertuples()
    }
    planted = {
        (repo, _short(ref), lockfile, h["name"], h["version"], h["dev"], h["direct"])
        for repo in others
        for ref, ref_info in org.truth["repos"][repo]["refs"].items()
        for lockfile, lf in ref_info["lockfiles"].items()
        for h in lf["compromised"]
    }
    assert found == planted
    per_manager = {others[repo] for repo, *_ in planted}
    assert per_manager == set(FORMATS)  # every format carries a planted release somewhere
    for repo, manager in others.items():
        formats = set(rows.loc[rows["repo"] == repo, "lockfile_format"])
        assert formats and all(f.startswith(FORMATS[manager]) for f in formats), (repo, formats)
    inputs = log.inputs[log.inputs["repo"].isin(others)]
    assert set(inputs["status"]) == {"parsed"}
    assert log.problems[log.problems["repo"].isin(others)].empty
    # every ref of every such repository was read
    expected_refs = {(r, _short(ref)) for r in others for ref in org.truth["repos"][r]["refs"]}
    assert set(zip(inputs["repo"], inputs["ref"], strict=True)) == expected_refs


def test_the_new_formats_show_their_own_cases(org: DemoOrg) -> None:
    repos = org.truth["repos"]
    by_scenario = {info["scenario"]: name for name, info in repos.items()}

    def tip(scenario: str, ref: str = "refs/heads/main") -> list[dict[str, Any]]:
        (lockfile,) = repos[by_scenario[scenario]]["refs"][ref]["lockfiles"].values()
        return list(lockfile["compromised"])

    # yarn 1 writes one entry for the ranges that resolved to one release
    chalk = next(h for h in tip("yarn-classic-unfixed") if h["name"] == "chalk")
    assert ", " in chalk["path"] and chalk["direct"]
    assert any(h["name"] == "has-ansi" and h["dev"] for h in tip("yarn-classic-unfixed"))

    # Berry: main clean, the branch and its pull request carry debug through other packages
    info = repos[by_scenario["berry-branch-and-pr"]]
    pulls = [r for r in info["refs"] if r.startswith("refs/pull/")]
    branches = [r for r in info["refs"] if r.startswith("refs/heads/feature/")]
    assert tip("berry-branch-and-pr") == [] and pulls and branches
    for ref in (*pulls, *branches):
        debug = next(h for h in tip("berry-branch-and-pr", ref) if h["name"] == "debug")
        assert not debug["direct"]

    # pnpm workspace: importers in packages/*, the peer suffix follows supports-color
    name = by_scenario["pnpm-workspace-unfixed"]
    repo = org.repos_dir / name
    assert (repo / "pnpm-workspace.yaml").is_file()
    assert len(list((repo / "packages").glob("*/package.json"))) == 4
    lock = (repo / "pnpm-lock.yaml").read_text()
    assert "(supports-color@10.2.1)" in lock and "(supports-color@10.2.0)" not in lock
    inventory = load_inventory(repo)
    assert inventory["dependency_path"].str.startswith("packages/").any()
    assert {h["name"] for h in tip("pnpm-workspace-unfixed")} >= {"chalk", "supports-color"}

    info = repos[by_scenario["pnpm-pr-only"]]
    (pull,) = [r for r in info["refs"] if r.startswith("refs/pull/")]
    assert set(info["refs"]) == {"refs/heads/main", pull} and tip("pnpm-pr-only") == []
    assert any(h["name"] == "has-ansi" and h["dev"] for h in tip("pnpm-pr-only", pull))

    assert all(h["dev"] for h in tip("bun-dev-unfixed") if h["name"] == "ansi-styles")

    # fixed ones: exposed in history only, and the fix is a clean release pnpm/yarn/bun wrote
    for scenario in ("yarn-classic-fixed", "berry-fixed", "bun-fixed"):
        info = repos[by_scenario[scenario]]
        assert info["exposed_in_history"] and not info["exposed_at_a_tip"], scenario
    berry = (org.repos_dir / by_scenario["berry-fixed"] / "yarn.lock").read_text()
    assert 'resolution: "debug@npm:4.4.3"' in berry


# -- developer machines ---------------------------------------------------------------------------


def _scan_hosts(org: DemoOrg) -> dict[str, dict[str, Any]]:
    return {h: i for h, i in org.truth["hosts"].items() if i["kind"] == "host-scan"}


def test_host_files_load_and_match_truth(org: DemoOrg) -> None:
    log = EvidenceLog()
    hosts = load_hosts(org.hosts_dir, log=log)
    assert log.problems.empty, log.problems.to_dict("records")
    assert set(log.inputs["status"]) == {"parsed"}
    truth = org.truth["hosts"]
    assert set(hosts["host"]) == set(truth) and len(truth) == 3
    assert set(hosts["source"]) == {"host-scan", "dev-machine-guard"}
    bad = hosts[_is_bad(hosts)]
    for hostname, info in truth.items():
        rows = bad[bad["host"] == hostname]
        assert set(hosts.loc[hosts["host"] == hostname, "user"]) == {info["user"]}
        if info["kind"] == "dev-machine-guard":
            assert set(rows["source"]) == {"dev-machine-guard"}
            found = set(zip(rows["repo"], rows["name"], rows["version"], strict=True))
            assert found == {(f["path"], f["name"], f["version"]) for f in info["findings"]}
            continue
        installed = rows[rows["lockfile_format"].isin(["node_modules", "global-npm"])]
        assert {
            (r.name, r.version, r.evidence, r.lockfile_format == "global-npm")
            for r in installed.itertuples()
        } == {
            (i["name"], i["version"], i["path"] + "/package.json", i["kind"] == "global")
            for i in info["installed"]
        }, hostname
        locked = rows[~rows["lockfile_format"].isin(NOT_LOCKFILES)]
        assert set(zip(locked["evidence"], locked["name"], locked["version"], strict=True)) == {
            (lf["file"], lf["name"], lf["version"]) for lf in info["lockfiles"]
        }, hostname
        cached = rows[rows["lockfile_format"] == "npm-cache"]
        assert {
            (r.evidence, r.name, r.version, r.first_seen.floor("s").isoformat())
            for r in cached.itertuples()
        } == {
            (c["path"], c["name"], c["version"], c["first_seen"].replace("Z", "+00:00"))
            for c in info["npm_cache"]
        }, hostname
        removed = [f"{c['name']}@{c['version']}" for c in info["npm_cache"] if c["removed"]]
        notes = " ".join(log.inputs.loc[log.inputs["format"] == "npm-cacache-index-v5", "notes"])
        assert all(r in notes for r in removed)


def test_the_machines_tell_their_stories(org: DemoOrg) -> None:
    hosts = org.truth["hosts"]
    priya, jonas, sam = hosts["mbp-priya"], hosts["ws-jonas"], hosts["mbp-sam"]
    assert {i["kind"] for i in priya["installed"]} == {"project", "global"}
    assert any(lf["file"].endswith("pnpm-lock.yaml") for lf in priya["lockfiles"])
    # jonas downloaded chalk 5.6.1, reinstalled after the fix and deleted it from the cache
    (chalk,) = [c for c in jonas["npm_cache"] if c["name"] == "chalk"]
    assert chalk["removed"] and chalk["first_seen"].startswith("2025-09-08T1")
    assert not any(i["name"] == "chalk" for i in jonas["installed"])
    assert not any(lf["name"] == "chalk" for lf in jonas["lockfiles"])
    # sam's export lists a pull request's checkout: a PR-only compromise on a laptop
    assert sam["kind"] == "dev-machine-guard" and sam["findings"]
    pr_repo = next(n for n, i in org.truth["repos"].items() if i["scenario"] == "pnpm-pr-only")
    assert any(f["path"].endswith("/" + pr_repo) for f in sam["findings"])
    assert org.truth["summary"]["hosts_exposed"] == sorted(hosts)


def test_machines_are_made_of_real_files(org: DemoOrg) -> None:
    published = json.loads((SEED_DIR / "installed.json").read_text())
    for hostname, info in _scan_hosts(org).items():
        root = org.root / info["source"]
        manifests = 0
        for dirpath, _, filenames in os.walk(root):
            here = Path(dirpath)
            owner = here.parent.parent if here.parent.name.startswith("@") else here.parent
            if "package.json" not in filenames or owner.name != "node_modules":
                continue
            text = (here / "package.json").read_text()
            data = json.loads(text)
            key = f"{data['name']}@{data['version']}"
            if data["name"] in org.truth["repos"]:
                # a CLI of the org's own, installed globally: its package.json is the repo's
                assert text == (org.repos_dir / data["name"] / "package.json").read_text()
            elif BAD.get(data["name"]) == data["version"]:
                # the clean release below, with only its version changed
                assert any(
                    t.replace(f'"version": "{json.loads(t)["version"]}"', "")
                    == text.replace(f'"version": "{data["version"]}"', "")
                    for k, t in published.items()
                    if k.startswith(data["name"] + "@")
                ), key
            else:
                assert published[key] == text, key
            manifests += 1
        assert manifests > 20, hostname
        # cacache's index: each line's SHA-1 matches, each bucket is named by its key's SHA-256
        index = root / info["home"].lstrip("/") / ".npm" / "_cacache" / "index-v5"
        buckets = [p for p in index.rglob("*") if p.is_file()]
        assert buckets
        for bucket in buckets:
            lines = bucket.read_text().split("\n")
            assert lines[0] == ""
            for line in lines[1:]:
                digest, body = line.split("\t", 1)
                assert hashlib.sha1(body.encode()).hexdigest() == digest
                key = json.loads(body)["key"]
            hashed = hashlib.sha256(key.encode()).hexdigest()
            assert (
                bucket.relative_to(index).as_posix() == f"{hashed[:2]}/{hashed[2:4]}/{hashed[4:]}"
            )
        # the working copies are the commits they name
        for checkout in info["checkouts"]:
            folder = root / checkout["path"].lstrip("/")
            repo = org.repos_dir / checkout["repo"]
            tracked = _git(repo, "ls-tree", "-r", "--name-only", checkout["commit"]).split()
            on_disk = sorted(
                p.relative_to(folder).as_posix()
                for p in folder.rglob("*")
                if p.is_file() and "node_modules" not in p.relative_to(folder).parts
            )
            assert on_disk == sorted(t.decode() for t in tracked), checkout["repo"]
            for rel in on_disk:
                blob = _git(repo, "show", f"{checkout['commit']}:{rel}")
                assert (folder / rel).read_bytes() == blob, (checkout["repo"], rel)
            if checkout["installed"]:
                hidden = json.loads((folder / "node_modules" / ".package-lock.json").read_text())
                lock = json.loads((folder / "package-lock.json").read_text())
                assert hidden["packages"] == {k: v for k, v in lock["packages"].items() if k}


def test_scans_read_as_on_the_machine(org: DemoOrg) -> None:
    for path in sorted(org.hosts_dir.glob("*.json")):
        text = path.read_text()
        assert str(org.root) not in text, path.name
        scan = json.loads(text)
        hostname = path.stem
        info = org.truth["hosts"][hostname]
        if info["kind"] != "host-scan":
            assert scan["device"]["hostname"] == hostname
            continue
        assert scan["format"] == "ircore-host-scan"
        assert scan["host"] == {
            "hostname": hostname,
            "user": info["user"],
            "platform": info["platform"],
        }
        assert scan["home"] == info["home"]
        assert pd.Timestamp(scan["scanned_at"]) == pd.Timestamp(info["scanned_at"])
        assert all(r["evidence"].startswith(info["home"]) for r in scan["inventory"])


def test_sources_config_names_the_hosts(org: DemoOrg) -> None:
    sources = load_sources(org.sources_file)
    assert sources.hosts == [org.hosts_dir.resolve()]
    assert sources.repos == [org.repos_dir.resolve()]
