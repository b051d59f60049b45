"""`scan_host` and `ircore scan-host` on real directory trees: a developer's home, built on disk."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore._frames import new_frame, validate
from ircore.inventory import scan_host
from ircore.inventory._caches import package_from_tarball_url, redact_url
from ircore.inventory._host import write_host_scan
from tests._fakehome import (
    REGISTRY,
    T0,
    berry_zip,
    bucket_path,
    cache_download,
    index_line,
    package_json,
    pnpm_content,
    pnpm_index,
    yarn_classic_entry,
)
from tests._lockfiles import lock_v3
from tests._shared import shared_path

HOUR = 3600 * 1000


def _scan(home: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("global_dirs", [])
    return scan_host(home=home, hostname="laptop-7", **kwargs)


def _frame(scan: dict[str, Any]) -> pd.DataFrame:
    return validate(new_frame("inventory", scan["inventory"]), "inventory")


def _pairs(frame: pd.DataFrame, fmt: str) -> set[tuple[str, str]]:
    rows = frame[frame["lockfile_format"] == fmt]
    return set(zip(rows["name"], rows["version"], strict=True))


def _problems(scan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for p in scan["problems"] if p["kind"] == kind]


def _input(scan: dict[str, Any], fmt: str) -> dict[str, Any]:
    [found] = [i for i in scan["inputs"] if i["format"] == fmt]
    return found


# --- the npm cache ------------------------------------------------------------------------------


def test_npm_cache_lists_downloads_with_times_even_removed_ones(tmp_path: Path) -> None:
    cacache = tmp_path / ".npm" / "_cacache"
    cache_download(cacache, f"{REGISTRY}/chalk/-/chalk-5.6.1.tgz", times=(T0, T0 + 5 * HOUR))
    cache_download(cacache, f"{REGISTRY}/@ctrl/tinycolor/-/tinycolor-4.1.1.tgz")
    # deleted from the cache afterwards: still proof of the download
    cache_download(
        cacache, f"{REGISTRY}/debug/-/debug-4.4.2.tgz", times=(T0,), removed_at=T0 + 2 * HOUR
    )
    # a private registry (Artifactory writes the scope into the file name, escapes the slash)
    artifactory = "https://art.example.com/artifactory/api/npm/npm-virtual"
    cache_download(cacache, f"{artifactory}/@acme%2fwidget/-/@acme/widget-1.0.0-beta.2.tgz")
    cache_download(cacache, "https://npm.pkg.github.com/download/@acme/tool/2.3.4/0a1b2c3d4e")
    # registry metadata: a look-up, not a download
    cache_download(cacache, f"{REGISTRY}/chalk")
    cache_download(cacache, f"{REGISTRY}/@ctrl%2ftinycolor")
    # `npm install -g ./npm-11.0.0.tgz`: a local tarball, no registry download
    local = "pacote:tarball:file:npm-11.0.0.tgz"
    bucket_path(cacache, local).parent.mkdir(parents=True, exist_ok=True)
    bucket_path(cacache, local).write_text(index_line({"key": local, "integrity": "sha512-x"}))

    scan = _scan(tmp_path)
    frame = _frame(scan)
    assert _pairs(frame, "npm-cache") == {
        ("chalk", "5.6.1"),
        ("@ctrl/tinycolor", "4.1.1"),
        ("debug", "4.4.2"),
        ("@acme/widget", "1.0.0-beta.2"),
        ("@acme/tool", "2.3.4"),
    }
    chalk = frame[frame["name"] == "chalk"].iloc[0]
    assert chalk["first_seen"] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert chalk["last_seen"] == pd.Timestamp(T0 + 5 * HOUR, unit="ms", tz="UTC")
    assert chalk["resolved"] == f"{REGISTRY}/chalk/-/chalk-5.6.1.tgz"
    assert chalk["origin_kind"] == "registry"
    assert chalk["evidence"] == str(
        bucket_path(cacache, "make-fetch-happen:request-cache:" + chalk["resolved"])
    )
    debug = frame[frame["name"] == "debug"].iloc[0]
    # downloaded at T0, removed two hours later
    assert debug["first_seen"] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert debug["last_seen"] == pd.Timestamp(T0 + 2 * HOUR, unit="ms", tz="UTC")
    assert set(frame["surface"]) == {"host"} and set(frame["host"]) == {"laptop-7"}
    assert set(frame["source"]) == {"host-scan"} and set(frame["repo"]) == {"(npm cache)"}
    cache_input = _input(scan, "npm-cacache-index-v5")
    assert cache_input["status"] == "parsed" and cache_input["packages"] == 5
    assert "2 registry metadata (packument) entries skipped" in cache_input["notes"]
    assert "1 downloads since removed from the cache" in cache_input["notes"]
    assert "1 entries that are no registry request skipped" in cache_input["notes"]
    assert "pacote:tarball: 1" in cache_input["notes"]
    assert "debug@4.4.2" in cache_input["notes"]
    assert scan["problems"] == []
    assert scan["summary"]["cache_entries"] == 5


def test_corrupt_index_lines_are_problems_and_the_rest_is_read(tmp_path: Path) -> None:
    cacache = tmp_path / ".npm" / "_cacache"
    good = cache_download(cacache, f"{REGISTRY}/ansi-styles/-/ansi-styles-6.2.2.tgz")
    key = f"make-fetch-happen:request-cache:{REGISTRY}/ansi-regex/-/ansi-regex-6.2.1.tgz"
    line = index_line({"key": key, "integrity": "sha512-x", "time": T0})
    body = '{"key": "' + key + '", "integrity": '  # cut short: npm stopped mid-write
    bad_json = "{not json"
    with good.open("a") as out:
        out.write(line.replace("\t", "\t ", 1))  # JSON changed after hashing
        out.write(f"\n{hashlib.sha1(body.encode()).hexdigest()[:20]}\t{body}")
        out.write(f"\n{hashlib.sha1(bad_json.encode()).hexdigest()}\t{bad_json}")
        out.write("\nno tab on this line")
        out.write(index_line({"integrity": "sha512-y", "time": T0}))  # no key
        out.write(line)  # and a good one after all that

    scan = _scan(tmp_path)
    frame = _frame(scan)
    assert _pairs(frame, "npm-cache") == {("ansi-styles", "6.2.2"), ("ansi-regex", "6.2.1")}
    corrupt = _problems(scan, "corrupt")
    assert [p["evidence"] for p in corrupt] == [f"{good}:3", f"{good}:4", f"{good}:6"]
    assert all("SHA-1" in p["message"] for p in corrupt)
    [not_json] = _problems(scan, "not-json")
    assert not_json["evidence"] == f"{good}:5"
    [no_key] = _problems(scan, "invalid")
    assert no_key["evidence"] == f"{good}:7"
    assert len(scan["problems"]) == 5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{REGISTRY}/chalk/-/chalk-5.6.1.tgz", ("chalk", "5.6.1")),
        (f"{REGISTRY}/@ctrl/tinycolor/-/tinycolor-4.1.1.tgz", ("@ctrl/tinycolor", "4.1.1")),
        (f"{REGISTRY}/@ctrl%2ftinycolor/-/tinycolor-4.1.2.tgz", ("@ctrl/tinycolor", "4.1.2")),
        # a name with dashes and a prerelease with dashes
        (f"{REGISTRY}/is-arrayish/-/is-arrayish-0.3.3-rc-1.tgz", ("is-arrayish", "0.3.3-rc-1")),
        ("https://r.example.com/npm/group/left-pad/-/left-pad-1.3.0.tgz", ("left-pad", "1.3.0")),
        (f"{REGISTRY}/chalk", None),  # packument
        (f"{REGISTRY}/chalk/-/chalk-latest.tgz", None),  # no version in the file name
        (f"{REGISTRY}/chalk/-/other-5.6.1.tgz", None),  # file name of another package
        (f"{REGISTRY}/@scope/-/x-1.0.0.tgz", None),  # scope without a name
        ("https://[broken/chalk/-/chalk-1.0.0.tgz", None),
    ],
)
def test_tarball_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert package_from_tarball_url(url) == expected


def test_credentials_in_registry_urls_never_reach_the_scan(tmp_path: Path) -> None:
    cacache = tmp_path / ".npm" / "_cacache"
    cache_download(cacache, "https://ci:s3cr3t-t0ken@npm.example.com:8443/x/-/x-1.0.0.tgz")
    cache_download(cacache, "https://deploy:hunter2@npm.example.com/y/-/y-latest.tgz")
    prefix = tmp_path / "prefix" / "lib" / "node_modules"
    package_json(
        prefix / "z",
        "z",
        "2.0.0",
        _resolved="https://bot:abc123@npm.example.com/z/-/z-2.0.0.tgz",
    )
    scan = _scan(tmp_path, global_dirs=[tmp_path / "prefix"])
    text = json.dumps(scan)
    for secret in ("s3cr3t-t0ken", "hunter2", "abc123", "ci:", "deploy:", "bot:"):
        assert secret not in text
    frame = _frame(scan)
    assert set(frame["resolved"]) == {
        "https://npm.example.com:8443/x/-/x-1.0.0.tgz",  # the npm cache
        "https://npm.example.com/z/-/z-2.0.0.tgz",  # an old npm's _resolved in package.json
    }
    [problem] = scan["problems"]  # y-latest.tgz names no version
    assert "https://npm.example.com/y/-/y-latest.tgz" in problem["message"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://u:p@h.example/a/-/a-1.0.0.tgz", "https://h.example/a/-/a-1.0.0.tgz"),
        ("https://tok@h.example:8443/x", "https://h.example:8443/x"),
        ("https://u:p@ss@[::1]:4873/x", "https://[::1]:4873/x"),  # an @ in the password
        ("https://h.example/@scope/x/-/x-1.0.0.tgz", "https://h.example/@scope/x/-/x-1.0.0.tgz"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_tarball_url_that_cannot_be_read_is_a_problem(tmp_path: Path) -> None:
    cacache = tmp_path / ".npm" / "_cacache"
    cache_download(cacache, f"{REGISTRY}/chalk/-/chalk-latest.tgz")
    scan = _scan(tmp_path)
    [problem] = _problems(scan, "unsupported")
    assert "chalk-latest.tgz" in problem["message"]
    assert scan["inventory"] == []


# --- yarn caches and the pnpm store -------------------------------------------------------------


def test_yarn_classic_cache_reads_the_cached_package_json(tmp_path: Path) -> None:
    cache = tmp_path / ".cache" / "yarn" / "v6"
    # the folder name `npm-@babel-code-frame-...` cannot say where the scope ends; package.json can
    yarn_classic_entry(
        cache,
        "@babel/code-frame",
        "7.24.7",
        resolved="https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.24.7.tgz#abc",
    )
    yarn_classic_entry(cache, "is-arrayish", "0.3.3")
    empty = cache / "npm-left-pad-1.3.0-0123456789abcdef-integrity"
    (empty / "node_modules").mkdir(parents=True)
    (cache / ".tmp").mkdir()

    scan = _scan(tmp_path)
    frame = _frame(scan)
    assert _pairs(frame, "yarn-cache") == {
        ("@babel/code-frame", "7.24.7"),
        ("is-arrayish", "0.3.3"),
    }
    babel = frame[frame["name"] == "@babel/code-frame"].iloc[0]
    assert babel["origin_kind"] == "registry"
    assert babel["resolved"].startswith("https://registry.yarnpkg.com/@babel/code-frame/")
    assert pd.isna(frame[frame["name"] == "is-arrayish"].iloc[0]["origin_kind"])
    [problem] = scan["problems"]
    assert problem["evidence"] == str(empty) and problem["kind"] == "invalid"


def test_berry_cache_names_are_parsed_and_zips_opened_only_when_needed(tmp_path: Path) -> None:
    cache = tmp_path / ".yarn" / "berry" / "cache"
    # not zips at all: reading them would fail, so a clean result shows they were not opened
    berry_zip(cache, "debug-npm-4.4.2-8a9f1bcd2e-10c0.zip", None)
    berry_zip(cache, "@ctrl-tinycolor-npm-4.1.1-0fe1c2a3b4-10c0.zip", None)
    berry_zip(cache, "is-arrayish-npm-0.3.3-rc-1-0fe1c2a3b5-10c0.zip", None)
    berry_zip(cache, "typescript-patch-3c0f1e2d4a-10c0.zip", None)
    # `@art-ws-common` is @art-ws/common or @art/ws-common: the zip's own folders say
    berry_zip(
        cache,
        "@art-ws-common-npm-2.0.22-4e5f6a7b8c-10c0.zip",
        {
            "node_modules/@art-ws/common/package.json": {
                "name": "@art-ws/common",
                "version": "2.0.22",
            }
        },
    )
    # no version in the name (the reference was no plain semver): the zip's package.json says
    berry_zip(
        cache,
        "left-pad-npm-9d8c7b6a5f-10c0.zip",
        {"node_modules/left-pad/package.json": {"name": "left-pad", "version": "1.3.0"}},
    )
    berry_zip(cache, "@a-b-c-npm-1.0.0-1a2b3c4d5e-10c0.zip", None)  # ambiguous and no zip
    berry_zip(cache, "README.zip", None)

    scan = _scan(tmp_path)
    frame = _frame(scan)
    assert _pairs(frame, "yarn-berry-cache") == {
        ("debug", "4.4.2"),
        ("@ctrl/tinycolor", "4.1.1"),
        ("is-arrayish", "0.3.3-rc-1"),
        ("@art-ws/common", "2.0.22"),
        ("left-pad", "1.3.0"),
    }
    assert "1 patch:" in _input(scan, "yarn-berry-cache")["notes"]
    problems = {Path(p["evidence"]).name: p["kind"] for p in scan["problems"]}
    assert problems == {
        "@a-b-c-npm-1.0.0-1a2b3c4d5e-10c0.zip": "unreadable",
        "README.zip": "unsupported",
    }


def test_pnpm_store_index_files(tmp_path: Path) -> None:
    v3 = tmp_path / ".local" / "share" / "pnpm" / "store" / "v3"
    checked = {"checkedAt": T0, "integrity": "sha512-AAAA", "mode": 420, "size": 10}
    pnpm_index(
        v3 / "files" / "ab" / ("cd" * 62 + "-index.json"),
        {
            "name": "chalk",
            "version": "5.6.1",
            "files": {"index.js": checked, "readme.md": {**checked, "checkedAt": T0 + HOUR}},
        },
    )
    # an older pnpm wrote no name: the package.json it stored by hash says
    manifest = json.dumps({"name": "@ctrl/tinycolor", "version": "4.1.1"}).encode()
    integrity = pnpm_content(v3, manifest)
    pnpm_index(
        v3 / "files" / "ef" / ("01" * 62 + "-index.json"),
        {"files": {"package.json": {"integrity": integrity, "mode": 420, "size": len(manifest)}}},
    )
    lost = pnpm_index(v3 / "files" / "ef" / ("02" * 62 + "-index.json"), {"files": {}})
    v10 = tmp_path / ".local" / "share" / "pnpm" / "store" / "v10"
    pnpm_index(
        v10 / "index" / "12" / ("3" * 62 + "-debug@4.4.2.json"),
        {"name": "debug", "version": "4.4.2", "files": {}},
    )
    pnpm_index(v10 / "index" / "45" / ("6" * 62 + "-@duckdb+node-api@1.3.3.json"), {"files": {}})

    scan = _scan(tmp_path)
    frame = _frame(scan)
    assert _pairs(frame, "pnpm-store-v3") == {("chalk", "5.6.1"), ("@ctrl/tinycolor", "4.1.1")}
    assert _pairs(frame, "pnpm-store-v10") == {("debug", "4.4.2"), ("@duckdb/node-api", "1.3.3")}
    chalk = frame[frame["name"] == "chalk"].iloc[0]
    assert chalk["first_seen"] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert chalk["last_seen"] == pd.Timestamp(T0 + HOUR, unit="ms", tz="UTC")
    assert (
        "1 packages named from the index file name only" in _input(scan, "pnpm-store-v10")["notes"]
    )
    [problem] = scan["problems"]
    assert problem["kind"] == "partial" and problem["evidence"] == str(lost)


# --- global installs ----------------------------------------------------------------------------


def test_global_installs_found_under_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    nvm = home / ".nvm" / "versions" / "node" / "v20.11.0" / "lib" / "node_modules"
    package_json(nvm / "npm", "npm", "10.2.4", dependencies={"chalk": "^5.3.0"})
    package_json(nvm / "npm" / "node_modules" / "chalk", "chalk", "5.6.1")
    package_json(nvm / "@angular" / "cli", "@angular/cli", "17.0.0")
    (nvm / ".bin").mkdir()
    (nvm / "broken").mkdir()  # a half-removed package: no package.json
    # `prefix=` in ~/.npmrc, with ~ as npm writes it
    (home / ".npmrc").write_text("; user config\nprefix=~/.npm-packages\ncolor=false\n")
    prefix = home / ".npm-packages" / "lib" / "node_modules"
    package_json(prefix / "debug", "debug", "4.4.2")
    linked = tmp_path / "work" / "my-tool"
    package_json(linked, "my-tool", "0.0.1")
    (prefix / "my-tool").symlink_to(linked)  # `npm link`
    # yarn classic's global folder is a project with a yarn.lock
    yarn_global = home / ".config" / "yarn" / "global"
    yarn_global.mkdir(parents=True)
    shutil.copy(
        shared_path("cases/lockfiles/10-yarn-v1-multi-specifier-scoped/yarn.lock"), yarn_global
    )

    # default global folders; home as a root too: what is read as global is not read twice
    scan = scan_host(home=home, roots=[home], hostname="laptop-7")
    frame = _frame(scan)
    assert str(yarn_global) in scan["roots"][0]["skipped"]
    assert scan["summary"]["projects"] == 0
    mine = frame[frame["evidence"].str.startswith(str(tmp_path))]
    npm_rows = mine[mine["lockfile_format"] == "global-npm"]
    assert set(zip(npm_rows["name"], npm_rows["version"], strict=True)) == {
        ("npm", "10.2.4"),
        ("chalk", "5.6.1"),
        ("@angular/cli", "17.0.0"),
        ("debug", "4.4.2"),
    }
    assert set(npm_rows["repo"]) == {"(global npm)"}
    nested = npm_rows[npm_rows["name"] == "chalk"].iloc[0]
    assert not nested["direct"] and nested["dependency_path"] == "npm > chalk"
    assert nested["install_path"] == "node_modules/npm/node_modules/chalk"
    assert npm_rows[npm_rows["name"] == "npm"].iloc[0]["direct"]
    # `npm link`: a local folder, not a registry release; named in the input's notes, not a row
    [prefix_input] = [i for i in scan["inputs"] if i["evidence"] == str(prefix)]
    assert str(linked) in prefix_input["notes"]
    yarn_rows = mine[mine["lockfile_format"] == "global-yarn"]
    assert ("debug", "2.6.9") in set(zip(yarn_rows["name"], yarn_rows["version"], strict=True))
    assert set(yarn_rows["repo"]) == {"(global yarn)"} and set(yarn_rows["file"]) == {"yarn.lock"}
    assert (mine["last_seen"] == pd.Timestamp(scan["scanned_at"])).all()
    assert not [p for p in scan["problems"] if p["evidence"].startswith(str(tmp_path))]
    assert scan["summary"]["global_packages"] >= len(npm_rows) + len(yarn_rows)


def test_given_global_dirs_replace_the_defaults(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    package_json(prefix / "lib" / "node_modules" / "nx", "nx", "21.5.0")
    package_json(tmp_path / "home" / ".npm-global" / "lib" / "node_modules" / "x", "x", "1.0.0")
    scan = _scan(tmp_path / "home", global_dirs=[prefix, tmp_path / "absent"])
    assert _pairs(_frame(scan), "global-npm") == {("nx", "21.5.0")}
    [missing] = scan["problems"]
    assert missing["kind"] == "missing" and missing["evidence"] == str(tmp_path / "absent")


# --- projects under the roots -------------------------------------------------------------------


def _projects(home: Path) -> None:
    src = home / "src"
    (src / "web").mkdir(parents=True)
    shutil.copy(shared_path("corpus/lockfiles/jquery/lock-v3/package-lock.json"), src / "web")
    (src / "api").mkdir()
    (src / "api" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    # published packages ship lockfiles: never projects of their own
    shipped = src / "api" / "node_modules" / "chalk"
    shipped.mkdir(parents=True)
    (shipped / "package-lock.json").write_text(lock_v3({"shipped-marker": "4.0.1"}))
    # a Berry project's zip cache
    berry = src / "shop"
    berry.mkdir()
    shutil.copy(shared_path("corpus/lockfiles/redux/yarn-berry/yarn.lock"), berry)
    berry_zip(berry / ".yarn" / "cache", "debug-npm-4.4.2-8a9f1bcd2e-10c0.zip", None)
    # a Python project's virtualenv: JupyterLab ships package.json files, npm installed nothing
    venv = src / "notebooks" / ".venv"
    (venv / "share" / "jupyter" / "lab" / "static").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    package_json(venv / "share" / "jupyter" / "lab" / "static", "@jupyterlab/static", "4.2.0")
    (src / "notebooks" / "pyproject.toml").write_text("[project]\nname = 'nb'\n")
    for skipped in (home / ".cache" / "proj", home / "Library" / "proj", src / ".git" / "x"):
        skipped.mkdir(parents=True)
        (skipped / "package-lock.json").write_text(lock_v3({"skipped-marker": "1.3.0"}))


def test_projects_under_a_home_root(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    _projects(home)
    scan = _scan(home, roots=[home])
    frame = _frame(scan)
    assert scan["summary"]["projects"] == 3
    [root] = scan["roots"]
    assert root["projects"] == 3
    assert {str(home / ".cache"), str(home / "Library")} <= set(root["skipped"])
    assert str(home / "src" / "notebooks" / ".venv") in root["skipped"]
    assert set(frame["repo"]) == {"web", "api", "shop"}
    assert not {"skipped-marker", "shipped-marker"} & set(frame["name"])
    api = frame[frame["repo"] == "api"]
    assert set(zip(api["name"], api["version"], api["lockfile_format"], strict=True)) == {
        ("chalk", "5.6.1", "npm-lock-v3")
    }
    assert ("debug", "4.4.2") in _pairs(frame, "yarn-berry-cache")
    assert len(frame[frame["repo"] == "web"]) > 500  # the real jquery lockfile
    locked = frame[frame["lockfile_format"] != "yarn-berry-cache"]
    assert (locked["last_seen"] == pd.Timestamp(scan["scanned_at"])).all()
    assert locked["first_seen"].isna().all()
    assert set(frame["user"]) == {scan["host"]["user"]}
    assert scan["problems"] == []


def test_installed_trees_of_projects(tmp_path: Path) -> None:
    """Packages ship lockfiles inside node_modules: only the installed package.json files count."""
    case = shared_path("cases/lockfiles/28-node-modules-shipped-lockfiles")
    home = tmp_path / "home"
    shutil.copytree(case / "project", home / "src" / "report-app")
    scan = _scan(home, roots=[home / "src"])
    frame = _frame(scan)
    expected = json.loads((case / "expected.json").read_text())["expected"]
    assert sorted(zip(frame["name"], frame["version"], frame["direct"], strict=True)) == sorted(
        (e["name"], e["version"], e["direct"]) for e in expected
    )
    assert set(frame["repo"]) == {"report-app"} and scan["summary"]["projects"] == 1


def test_stray_package_json_in_home_does_not_swallow_it(tmp_path: Path) -> None:
    """`npm install x` run in ~ leaves ~/package.json: home is still searched folder by folder."""
    home = tmp_path / "bob"
    _projects(home)
    (home / "package.json").write_text(json.dumps({"dependencies": {"debug": "^4"}}))
    (home / "package-lock.json").write_text(lock_v3({"debug": "4.4.2"}))
    package_json(home / "node_modules" / "debug", "debug", "4.4.2")
    scan = _scan(home, roots=[home])
    frame = _frame(scan)
    assert set(frame["repo"]) == {"bob", "web", "api", "shop"}
    assert "skipped-marker" not in set(frame["name"])
    assert scan["summary"]["projects"] == 4
    bob = frame[frame["repo"] == "bob"]
    assert set(zip(bob["name"], bob["file"], strict=True)) == {
        ("debug", "package-lock.json"),
        ("debug", "node_modules"),
    }


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    src = home / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    (src / "loop").symlink_to(src)  # a cycle
    (src / "app" / "up").symlink_to(home)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "package-lock.json").write_text(lock_v3({"left-pad": "1.3.0"}))
    (src / "out").symlink_to(outside)
    scan = _scan(home, roots=[src])
    frame = _frame(scan)
    assert set(zip(frame["repo"], frame["name"], strict=True)) == {("app", "chalk")}
    # inside a project, a link back up is named (issue 3: a symlink loop is a problems row);
    # between projects the walk simply does not enter links
    assert [(p["kind"], p["evidence"]) for p in scan["problems"]] == [
        ("symlink-loop", str(src / "app" / "up"))
    ]


def test_missing_root_is_a_problem(tmp_path: Path) -> None:
    scan = _scan(tmp_path, roots=[tmp_path / "nope"])
    [problem] = scan["problems"]
    assert problem["kind"] == "missing" and problem["evidence"] == str(tmp_path / "nope")


# --- unreadable folders (as another user than root, who reads everything) ----------------------


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A folder another user can enter (pytest's own tmp folders are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="ircore-host-"))
    folder.chmod(0o755)
    yield folder
    for here, dirs, _ in os.walk(folder):
        for name in dirs:
            (Path(here) / name).chmod(0o755)
    shutil.rmtree(folder)


def _scan_as_unprivileged(home: Path, roots: list[Path]) -> dict[str, Any]:
    """Run the scan as a user for whom mode 000 means unreadable; root reads through it."""
    code = (
        "import json, sys; from ircore.inventory._host import scan_host; "
        "print(json.dumps(scan_host(home=sys.argv[1], roots=sys.argv[2:], hostname='h', "
        "global_dirs=[])))"
    )
    command = [sys.executable, "-c", code, str(home), *map(str, roots)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: mode 000 would not stop root")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_unreadable_folders_and_files_are_problems(world_tmp: Path) -> None:
    home = world_tmp / "home"
    (home / "src" / "ok").mkdir(parents=True)
    (home / "src" / "ok" / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    locked = home / "src" / "locked"
    (locked / "app").mkdir(parents=True)
    (locked / "app" / "package-lock.json").write_text(lock_v3({"debug": "4.4.2"}))
    cacache = home / ".npm" / "_cacache"
    cache_download(cacache, f"{REGISTRY}/ansi-styles/-/ansi-styles-6.2.2.tgz")
    secret = cache_download(cacache, f"{REGISTRY}/ansi-regex/-/ansi-regex-6.2.1.tgz")
    store = home / ".local" / "share" / "pnpm" / "store" / "v10"
    pnpm_index(store / "index" / "12" / ("3" * 62 + "-debug@4.4.2.json"), {"files": {}})
    berry = home / ".yarn" / "berry" / "cache"
    berry_zip(berry, "debug-npm-4.4.2-8a9f1bcd2e-10c0.zip", None)
    yarn_classic_entry(home / ".cache" / "yarn" / "v6", "debug", "4.4.2")
    for here, dirs, files in os.walk(world_tmp):
        for name in dirs:
            (Path(here) / name).chmod(0o755)
        for name in files:
            (Path(here) / name).chmod(0o644)
    # .cache closed: not even whether .cache/yarn exists can be known
    for closed in (locked, secret, store / "index", berry, home / ".cache"):
        closed.chmod(0o000)

    scan = _scan_as_unprivileged(home, [home / "src"])
    frame = _frame(scan)
    assert set(zip(frame["name"], frame["version"], strict=True)) == {
        ("chalk", "5.6.1"),
        ("ansi-styles", "6.2.2"),
    }
    problems = {p["evidence"]: p["kind"] for p in scan["problems"]}
    assert problems == {
        str(locked): "unreadable",
        str(secret): "unreadable",
        str(store / "index"): "unreadable",
        str(berry): "unreadable",
        str(home / ".cache" / "yarn"): "unreadable",
    }
    # a cache that could not be listed at all is a failed input, not an empty one
    failed = {i["evidence"]: i["format"] for i in scan["inputs"] if i["status"] == "failed"}
    assert failed == {str(store / "index"): "pnpm-store-v10", str(berry): "yarn-berry-cache"}


# --- the command line ---------------------------------------------------------------------------


def _ircore(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("ircore")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ircore.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)


def test_cli_writes_one_json_file_per_host(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _projects(home)
    cache_download(home / ".npm" / "_cacache", f"{REGISTRY}/chalk/-/chalk-5.6.1.tgz")
    prefix = tmp_path / "prefix"
    package_json(prefix / "lib" / "node_modules" / "nx", "nx", "21.5.0")
    out = tmp_path / "scans"
    done = _ircore(
        "scan-host",
        "--root",
        str(home / "src"),
        "--home",
        str(home),
        "--hostname",
        "lap top/7",
        "--global-dir",
        str(prefix),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    written = out / "lap_top_7.json"
    assert done.stdout.strip() == str(written)
    assert [p.name for p in out.iterdir()] == ["lap_top_7.json"]  # no temporary file left
    scan = json.loads(written.read_text())
    assert scan["format"] == "ircore-host-scan" and scan["format_version"] == 1
    assert scan["host"]["hostname"] == "lap top/7"
    counts = scan["summary"]
    assert counts["projects"] == 3 and counts["global_packages"] == 1
    assert counts["cache_entries"] == 2  # the npm download and the Berry zip
    [summary] = [line for line in done.stderr.splitlines() if line.startswith("ircore: lap top/7:")]
    assert (
        f"{counts['packages']:,} package entries (3 projects, 1 global package, 2 cache entries)"
        in summary
    )
    assert "0 problems" in summary
    assert "token" not in done.stderr.lower()


def test_cli_exit_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "scans"
    done = _ircore(
        "scan-host",
        "--root",
        str(tmp_path / "nope"),
        "--home",
        str(home),
        "--hostname",
        "h",
        "--global-dir",
        str(home),
        "--out",
        str(out),
    )
    assert done.returncode == 3, done.stderr
    assert "[missing]" in done.stderr and str(tmp_path / "nope") in done.stderr
    assert (out / "h.json").is_file()

    a_file = tmp_path / "file"
    a_file.write_text("x")
    done = _ircore("scan-host", "--home", str(home), "--out", str(a_file))
    assert done.returncode == 2 and "is a file" in done.stderr

    done = _ircore("scan-host", "--home", str(home))
    assert done.returncode == 2 and "--out" in done.stderr


def test_write_is_atomic_and_replaces(tmp_path: Path) -> None:
    scan = _scan(tmp_path / "home")
    first = write_host_scan(scan, tmp_path / "out")
    scan["summary"]["packages"] = 42
    second = write_host_scan(scan, tmp_path / "out")
    assert first == second and json.loads(second.read_text())["summary"]["packages"] == 42
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["laptop-7.json"]


def test_another_home_needs_a_hostname_and_never_reads_this_machines_globals(
    tmp_path: Path,
) -> None:
    from ircore import ConfigError
    from ircore.inventory._host import SYSTEM_PREFIXES

    home = tmp_path / "mounted" / "home" / "alice"
    package_json(home / ".npm-global" / "lib" / "node_modules" / "left-pad", "left-pad", "1.3.0")
    with pytest.raises(ConfigError, match="--hostname"):
        scan_host(home=home)
    scan = scan_host(home=home, hostname="alice-laptop")  # default global folders
    frame = _frame(scan)
    assert set(frame["name"]) == {"left-pad"}  # her global install, nothing of this machine's
    assert not any(str(e).startswith(tuple(SYSTEM_PREFIXES)) for e in frame["evidence"])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ircore.cli",
            "scan-host",
            "--home",
            str(home),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--hostname" in done.stderr and "Traceback" not in done.stderr
