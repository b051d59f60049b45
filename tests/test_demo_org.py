"""The demo organization: real git repositories whose planted evidence matches ``truth.json``.

Every claim in the truth file is re-derived here from what git really stores (``git cat-file``
on each ref and commit): npm lockfiles with a walker written independently of the generator's,
yarn, pnpm and bun lockfiles with ircore's own parsers. ``test_demo_surfaces.py`` covers the
new formats' planted cases and the developer machines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ircore.demo import DemoOrg, build_demo_org
from ircore.demo._formats import load_lock
from ircore.demo._generate import SCENARIOS
from ircore.demo._lockfile import SEED_DIR, problems, tarball_url
from ircore.inventory._bun import parse_bun_lockfile
from ircore.inventory._pnpm import parse_pnpm_lockfile
from ircore.inventory._yarn import parse_yarn_lockfile

pytestmark = pytest.mark.slow

WINDOW_START = "2025-09-08T13:16:00Z"
SRI = re.compile(r"^sha512-[A-Za-z0-9+/]{86}==$")


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return proc.stdout


def cat_files(repo: Path, specs: list[str]) -> dict[str, str | None]:
    """Read many ``<rev>:<path>`` blobs in one git process; None for a missing path."""
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input=("\n".join(specs) + "\n").encode(),
        capture_output=True,
        check=True,
    ).stdout
    result: dict[str, str | None] = {}
    pos = 0
    for spec in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode()
        pos = end + 1
        if header.endswith("missing"):
            result[spec] = None
            continue
        size = int(header.split()[2])
        result[spec] = out[pos : pos + size].decode()
        pos += size + 1
    return result


def installed(lock: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(real name, version, node_modules path, entry) of every installed package."""
    rows = []
    if lock["lockfileVersion"] >= 2:
        for path, entry in lock["packages"].items():
            if "node_modules/" not in path or entry.get("link"):
                continue
            folder = path.rsplit("node_modules/", 1)[1]
            rows.append((entry.get("name", folder), entry["version"], path, entry))
        return rows

    def walk(deps: dict[str, Any], parent: str) -> None:
        for folder, entry in deps.items():
            path = f"{parent}/node_modules/{folder}" if parent else f"node_modules/{folder}"
            name, version = folder, entry["version"]
            if version.startswith("npm:"):
                name, version = version[4:].rsplit("@", 1)
            rows.append((name, version, path, entry))
            walk(entry.get("dependencies", {}), path)

    walk(lock.get("dependencies", {}), "")
    return rows


#: ircore's parsers for the formats the test does not walk itself.
PARSE = {
    "yarn-classic": parse_yarn_lockfile,
    "yarn-berry": parse_yarn_lockfile,
    "pnpm": parse_pnpm_lockfile,
    "bun": parse_bun_lockfile,
}


def parsed_hits(
    manager: str, text: str, manifest: str | None, bad: set[tuple[str, str]]
) -> set[tuple[str, str, bool | None]]:
    """(name, version, dev) of every malicious release ircore's parser reads in a lockfile."""
    result = PARSE[manager](text.encode(), manifest=manifest.encode() if manifest else None)
    return {
        (r["name"], r["version"], r["dev"]) for r in result.rows if (r["name"], r["version"]) in bad
    }


def manifest_of(lockfile: str) -> str:
    """The package.json beside a lockfile."""
    folder = lockfile.rsplit("/", 1)[0] + "/" if "/" in lockfile else ""
    return folder + "package.json"


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> DemoOrg:
    started = time.perf_counter()
    built = build_demo_org(tmp_path_factory.mktemp("demo") / "org")
    print(f"\nbuild_demo_org: {time.perf_counter() - started:.2f} s")
    return built


@pytest.fixture(scope="module")
def bad(org: DemoOrg) -> set[tuple[str, str]]:
    packages = load_yaml(org.incident_file)["packages"]
    return {(name, version) for name, versions in packages.items() for version in versions}


def test_repositories_are_real_git_repos_with_history(org: DemoOrg) -> None:
    repos = sorted(p for p in org.repos_dir.iterdir() if p.is_dir())
    assert len(repos) >= 25
    assert {p.name for p in repos} == set(org.truth["repos"])
    counts = []
    for repo in repos:
        assert git(repo, "rev-parse", "--is-inside-work-tree").strip() == "true"
        head = git(repo, "rev-parse", "HEAD").strip()
        assert head == org.truth["repos"][repo.name]["refs"]["refs/heads/main"]["commit"]
        count = int(git(repo, "rev-list", "--count", "HEAD"))
        counts.append(count)
        assert count >= 3, repo.name
        assert git(repo, "status", "--porcelain") == ""
        assert (repo / "README.md").is_file()
        assert (repo / ".github" / "workflows" / "ci.yml").is_file()
    print(f"\n{len(repos)} repos, {sum(counts)} commits on main, max {max(counts)}")


def test_refs_in_git_are_the_refs_in_truth(org: DemoOrg) -> None:
    for name, info in org.truth["repos"].items():
        listed = git(org.repos_dir / name, "for-each-ref", "--format=%(refname) %(objectname)")
        actual = dict(line.split() for line in listed.splitlines())
        assert actual == {ref: r["commit"] for ref, r in info["refs"].items()}, name
        all_commits = set(git(org.repos_dir / name, "rev-list", "--all").split())
        assert all_commits == {c["commit"] for c in info["commits"]}, name


def test_truth_at_ref_tips_matches_committed_lockfiles(
    org: DemoOrg, bad: set[tuple[str, str]]
) -> None:
    checked = 0
    for name, info in org.truth["repos"].items():
        repo = org.repos_dir / name
        for ref, ref_info in info["refs"].items():
            assert set(ref_info["lockfiles"]) == set(info["lockfiles"])
            specs = [f"{ref}:{p}" for lf in info["lockfiles"] for p in (lf, manifest_of(lf))]
            blobs = cat_files(repo, specs)
            for lockfile, expected in ref_info["lockfiles"].items():
                text = blobs[f"{ref}:{lockfile}"]
                assert text is not None
                if expected["status"] == "unparseable":
                    with pytest.raises(json.JSONDecodeError):
                        json.loads(text)
                    continue
                if expected["manager"] != "npm":
                    found_other = parsed_hits(
                        expected["manager"], text, blobs[f"{ref}:{manifest_of(lockfile)}"], bad
                    )
                    claimed_other = {
                        (h["name"], h["version"], h["dev"]) for h in expected["compromised"]
                    }
                    assert found_other == claimed_other, (name, ref, lockfile)
                    checked += 1
                    continue
                lock = json.loads(text)
                assert lock["lockfileVersion"] == expected["lockfile_version"]
                found = {
                    (n, v, p, bool(e.get("dev"))) for n, v, p, e in installed(lock) if (n, v) in bad
                }
                claimed = {
                    (h["name"], h["version"], h["path"], h["dev"]) for h in expected["compromised"]
                }
                assert found == claimed, (name, ref, lockfile)
                checked += 1
    assert checked >= 40


def test_truth_of_every_commit_matches_git(org: DemoOrg, bad: set[tuple[str, str]]) -> None:
    exposed_commits = 0
    for name, info in org.truth["repos"].items():
        repo = org.repos_dir / name
        specs = [
            f"{c['commit']}:{p}"
            for c in info["commits"]
            for lf in info["lockfiles"]
            for p in (lf, manifest_of(lf))
        ]
        blobs = cat_files(repo, specs)
        for commit in info["commits"]:
            for lockfile, expected in commit["lockfiles"].items():
                text = blobs[f"{commit['commit']}:{lockfile}"]
                assert text is not None
                if expected["status"] == "unparseable":
                    continue
                if expected["manager"] == "npm":
                    releases = {(n, v) for n, v, _, _ in installed(json.loads(text))}
                else:
                    manifest = blobs[f"{commit['commit']}:{manifest_of(lockfile)}"]
                    releases = {
                        (n, v) for n, v, _ in parsed_hits(expected["manager"], text, manifest, bad)
                    }
                found = sorted({f"{n}@{v}" for n, v in releases if (n, v) in bad})
                assert found == expected["compromised"], (name, commit["subject"])
                if found:
                    exposed_commits += 1
                    # Nothing malicious could be resolved before the releases existed.
                    assert commit["date"] >= WINDOW_START, (name, commit["subject"])
    assert exposed_commits >= 25


def test_planted_cases_cover_the_analyst_situations(
    org: DemoOrg, bad: set[tuple[str, str]]
) -> None:
    repos = org.truth["repos"]
    by_scenario = {info["scenario"]: (name, info) for name, info in repos.items()}

    def tip(name: str, ref: str = "refs/heads/main") -> list[dict[str, Any]]:
        (lockfile,) = repos[name]["refs"][ref]["lockfiles"].values()
        return list(lockfile["compromised"])

    name, _ = by_scenario["direct-unfixed"]
    assert any(h["name"] == "chalk" and h["direct"] for h in tip(name))

    name, info = by_scenario["direct-fixed"]
    assert tip(name) == [] and info["exposed_in_history"]

    name, info = by_scenario["pr-ref-only"]
    pulls = [r for r in info["refs"] if r.startswith("refs/pull/")]
    assert set(info["refs"]) == {"refs/heads/main", *pulls} and len(pulls) == 1
    assert tip(name) == [] and tip(name, pulls[0])

    name, info = by_scenario["feature-branch-and-pr"]
    branches = [r for r in info["refs"] if r.startswith("refs/heads/feature/")]
    assert tip(name) == [] and tip(name, branches[0])
    assert any(r.startswith("refs/pull/") for r in info["refs"])

    name, info = by_scenario["branch-fixed-then-merged"]
    main = info["refs"]["refs/heads/main"]["commit"]
    merge = next(c for c in info["commits"] if c["commit"] == main)
    assert len(merge["parents"]) == 2 and tip(name) == [] and info["exposed_in_history"]

    name, _ = by_scenario["workspace"]
    root = json.loads((org.repos_dir / name / "package.json").read_text())
    assert root["workspaces"] and any(h["direct"] for h in tip(name))

    name, _ = by_scenario["lockfile-v1"]
    lock = json.loads((org.repos_dir / name / "package-lock.json").read_text())
    assert lock["lockfileVersion"] == 1
    assert "node_modules/simple-swizzle/node_modules/is-arrayish" in {h["path"] for h in tip(name)}

    name, _ = by_scenario["alias"]
    aliased = [h for h in tip(name) if h["path"].rsplit("/", 1)[-1] != h["name"]]
    assert aliased and aliased[0]["name"] == "chalk"

    name, _ = by_scenario["dev-only-unfixed"]
    assert tip(name) and all(h["dev"] for h in tip(name))

    name, info = by_scenario["late-commit-branch"]
    late = [c for c in info["commits"] if c["lockfiles"]["package-lock.json"]["compromised"]]
    assert late and all(c["date"] > "2025-09-08T15:15:00Z" for c in late)

    name, info = by_scenario["multi-lockfile"]
    assert set(info["lockfiles"]) == {"server/package-lock.json", "client/package-lock.json"}

    name, info = by_scenario["no-lockfile"]
    assert info["lockfiles"] == [] and not (org.repos_dir / name / "package-lock.json").exists()

    assert any(not i["exposed_in_history"] and i["lockfiles"] for i in repos.values())
    assert {p["repo"] for p in org.truth["problems"]} == {by_scenario["truncated-lockfile"][0]}


def test_truncated_lockfile_is_on_main(org: DemoOrg) -> None:
    (problem,) = org.truth["problems"]
    repo = org.repos_dir / problem["repo"]
    text = git(repo, "show", f"{problem['ref']}:{problem['lockfile']}")
    assert problem["ref"] == "refs/heads/main" and len(text) > 1000
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    parent = git(repo, "show", f"{problem['ref']}~1:{problem['lockfile']}")
    assert json.loads(parent)["lockfileVersion"] == 3


def test_every_other_lockfile_is_one_npm_could_have_written(org: DemoOrg) -> None:
    truncated = {(p["repo"], p["commit"], p["lockfile"]) for p in org.truth["problems"]}
    seen = 0
    for name, info in org.truth["repos"].items():
        repo = org.repos_dir / name
        pairs = [
            (f"{c['commit']}:{lf}", f"{c['commit']}:{manifest_of(lf)}")
            for c in info["commits"]
            for lf in info["lockfiles"]
        ]
        blobs = cat_files(repo, [spec for pair in pairs for spec in pair])
        for commit in info["commits"]:
            for lockfile in info["lockfiles"]:
                if (name, commit["commit"], lockfile) in truncated:
                    continue
                if commit["lockfiles"][lockfile]["manager"] != "npm":
                    continue  # test_every_lockfile_is_one_its_manager_could_have_written
                text = blobs[f"{commit['commit']}:{lockfile}"]
                manifest_text = blobs[f"{commit['commit']}:{manifest_of(lockfile)}"]
                assert text is not None and manifest_text is not None
                lock = json.loads(text)
                manifest = json.loads(manifest_text)
                assert lock["name"] == manifest["name"]
                assert problems(lock, manifest) == [], (name, commit["subject"])
                for pkg, version, _, entry in installed(lock):
                    if version.startswith(("file:", "git")):
                        continue
                    assert entry["resolved"] == tarball_url(pkg, version)
                    assert SRI.match(entry["integrity"]), (pkg, version)
                seen += 1
    print(f"\n{seen} lockfile versions checked")


#: What a digest line looks like in each format (yarn 1 also carries a SHA-1 in the URL).
DIGESTS = {
    "yarn-classic": re.compile(
        r'^  resolved "https://registry\.yarnpkg\.com/(@[^/]+/)?[^/]+/-/[^/]+\.tgz#[0-9a-f]{40}"$'
        r"|^  integrity sha512-[A-Za-z0-9+/]{86}==$"
    ),
    "yarn-berry": re.compile(r"^  checksum: 10c0/[0-9a-f]{128}$"),
    "pnpm": re.compile(r"^    resolution: \{integrity: sha512-[A-Za-z0-9+/]{86}==\}$"),
    "bun": re.compile(r'^    "[^"]+": \["[^"]+@[^"]+", "", .*"sha512-[A-Za-z0-9+/]{86}=="\],$'),
}
DIGEST_FIELDS = {
    "yarn-classic": ("  resolved ", "  integrity "),
    "yarn-berry": ("  checksum: ",),
    "pnpm": ("    resolution: ",),
    "bun": ('    "',),
}


def test_every_lockfile_is_one_its_manager_could_have_written(org: DemoOrg) -> None:
    """yarn, pnpm and bun lockfiles: consistent, sorted as written, every digest well formed."""
    seen = 0
    managers = set()
    for name, info in org.truth["repos"].items():
        repo = org.repos_dir / name
        specs = [f"{c['commit']}:{lf}" for c in info["commits"] for lf in info["lockfiles"]]
        manifests_at: dict[str, dict[str, Any]] = {}
        blobs = cat_files(repo, specs)
        for commit in info["commits"]:
            for lockfile, expected in commit["lockfiles"].items():
                manager = expected["manager"]
                if manager == "npm":
                    continue
                if commit["commit"] not in manifests_at:
                    files = git(repo, "ls-tree", "-r", "--name-only", commit["commit"]).split()
                    wanted = [f for f in files if f.endswith("package.json")]
                    texts = cat_files(repo, [f"{commit['commit']}:{f}" for f in wanted])
                    manifests_at[commit["commit"]] = {
                        f: json.loads(texts[f"{commit['commit']}:{f}"] or "") for f in wanted
                    }
                text = blobs[f"{commit['commit']}:{lockfile}"]
                assert text is not None
                view = load_lock(manager, text, manifests_at[commit["commit"]])
                assert view.problems() == [], (name, commit["subject"])
                # Written as the manager writes it: reading and writing back changes nothing.
                assert view.dump() == text, (name, commit["subject"])
                for line in text.splitlines():
                    # bun: only package lines end with "],"; workspace lines hold ranges
                    if line.startswith(DIGEST_FIELDS[manager]) and (
                        manager != "bun" or line.endswith("],")
                    ):
                        assert DIGESTS[manager].match(line), (name, line)
                managers.add(manager)
                seen += 1
    assert managers == {"yarn-classic", "yarn-berry", "pnpm", "bun"}
    print(f"\n{seen} yarn/pnpm/bun lockfile versions checked")


def test_same_seed_same_bytes_and_commit_ids(org: DemoOrg, tmp_path: Path) -> None:
    started = time.perf_counter()
    again = build_demo_org(tmp_path / "again")
    print(f"\nsecond build: {time.perf_counter() - started:.2f} s")

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts
        }

    written = files(org.root)
    assert written == files(again.root)
    # the new surfaces are part of what is compared
    assert any(p.startswith("hosts/") for p in written)
    assert any(p.startswith("hosts-src/") and "/node_modules/" in p for p in written)
    assert any(p.startswith("hosts-src/") and "/_cacache/index-v5/" in p for p in written)
    assert {p.rsplit("/", 1)[-1] for p in written} >= {"yarn.lock", "pnpm-lock.yaml", "bun.lock"}
    for name in org.truth["repos"]:
        refs = "for-each-ref", "--format=%(refname) %(objectname)"
        assert git(org.repos_dir / name, *refs) == git(again.repos_dir / name, *refs)
    assert again.truth == org.truth


def test_other_seed_changes_the_org(tmp_path: Path) -> None:
    small = build_demo_org(tmp_path / "a", repos=6)
    other = build_demo_org(tmp_path / "b", seed=7, repos=6)
    assert len(small.truth["repos"]) == len(other.truth["repos"]) == 6
    mains = {i["refs"]["refs/heads/main"]["commit"] for i in small.truth["repos"].values()}
    assert mains.isdisjoint(
        i["refs"]["refs/heads/main"]["commit"] for i in other.truth["repos"].values()
    )


def test_more_repos_than_scenarios_adds_clean_ones(tmp_path: Path) -> None:
    big = build_demo_org(tmp_path / "big", repos=len(SCENARIOS) + 3)
    assert len(list(big.repos_dir.iterdir())) == len(SCENARIOS) + 3
    extra = [i for i in big.truth["repos"].values()][len(SCENARIOS) :]
    assert len(extra) == 3 and all(not i["exposed_in_history"] for i in extra)


def test_arguments_are_checked(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(FileExistsError):
        build_demo_org(tmp_path / "busy")
    with pytest.raises(ValueError):
        build_demo_org(tmp_path / "none", repos=0)


def test_advisories_and_specs(org: DemoOrg, bad: set[tuple[str, str]]) -> None:
    incident = load_yaml(org.incident_file)
    assert list(incident) == ["name", "summary", "packages", "advisories", "window"]
    assert incident["window"] == {"start": WINDOW_START, "end": "2025-09-08T15:15:00Z"}
    assert len(bad) == 19 and ("chalk", "5.6.1") in bad and ("debug", "4.4.2") in bad

    sources = load_yaml(org.sources_file)
    assert list(sources) == ["advisories", "repos", "git_refs", "hosts"]
    assert sources["git_refs"] is True
    for rel in [*sources["advisories"], *sources["repos"], *sources["hosts"]]:
        assert (org.sources_file.parent / rel).exists(), rel
    assert (org.sources_file.parent / sources["repos"][0]).resolve() == org.repos_dir.resolve()
    assert (org.sources_file.parent / sources["hosts"][0]).resolve() == org.hosts_dir.resolve()

    records = {}
    for path in sorted(org.advisories_dir.glob("*.json")):
        record = json.loads(path.read_text())
        assert path.stem == record["id"]
        assert {"id", "modified", "published", "summary", "details", "affected"} <= set(record)
        assert record["database_specific"]["malicious-packages-origins"]
        records[record["id"]] = record
    assert sorted(records) == sorted(incident["advisories"])
    assert records["MAL-2025-46969"]["aliases"] == ["GHSA-2v46-p5h4-248w"]
    assert records["MAL-2025-46969"]["published"] == "2025-09-08T17:11:19Z"
    covered = set()
    for record in records.values():
        for affected in record["affected"]:
            name = affected["package"]["name"]
            assert affected["package"]["ecosystem"] == "npm"
            versions = set(affected.get("versions", []))
            for r in affected.get("ranges", []):
                versions |= {e["introduced"] for e in r["events"] if "introduced" in e}
            covered |= {(name, v) for v in versions}
    assert covered == bad

    lines = (org.advisories_dir / "qix-2025-09-08.csv").read_text().splitlines()
    assert lines[0].startswith("# source:") and lines[1] == "name,version"
    assert {tuple(line.split(",")) for line in lines[2:]} == bad


def test_seed_data_is_small_and_npm_made() -> None:
    files = [p for p in SEED_DIR.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    print(f"\nseed data: {total} bytes in {len(files)} files")
    assert total < 3_000_000
    assert (SEED_DIR / "README.md").is_file()
    locks = sorted(SEED_DIR.glob("*/package-lock.json"))
    assert len(locks) >= 8
    versions = {json.loads(p.read_text())["lockfileVersion"] for p in locks}
    assert versions == {1, 3}
    # the other managers' seeds: the lockfile each project's packageManager writes, and the
    # family releases as each of them locks them
    expected = {"yarn@1": "yarn.lock", "yarn@4": "yarn.lock", "pnpm@": "pnpm-lock.yaml"}
    expected["bun@"] = "bun.lock"
    others = {}
    for manifest in sorted(SEED_DIR.glob("*/package.json")):
        field = json.loads(manifest.read_text()).get("packageManager", "")
        if field:
            lockfile = next(v for k, v in expected.items() if field.startswith(k))
            assert (manifest.parent / lockfile).is_file(), manifest.parent.name
            others[field.split(".")[0]] = manifest.parent.name
    assert set(others) == {"yarn@1", "yarn@4", "pnpm@9", "bun@1"}
    for manager, lockfile in (
        ("yarn-classic", "yarn.lock"),
        ("yarn-berry", "yarn.lock"),
        ("pnpm", "pnpm-lock.yaml"),
        ("bun", "bun.lock"),
    ):
        assert (SEED_DIR / "family" / manager / lockfile).is_file()
    installed_files = json.loads((SEED_DIR / "installed.json").read_text())
    assert {"chalk@5.6.0", "debug@4.4.1", "ora@8.2.0"} <= set(installed_files)


def test_relative_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` passes a relative folder; git runs elsewhere (-C), so it must not matter."""
    monkeypatch.chdir(tmp_path)
    org = build_demo_org(Path("reports") / "demo-org", repos=3)
    assert org.root == tmp_path / "reports" / "demo-org"
    assert all((org.repos_dir / name / ".git").is_dir() for name in org.truth["repos"])
