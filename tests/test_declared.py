"""Declared ranges (the ``declared`` frame): manifests and lockfiles in folders and git refs.

Corpus counts were computed independently of ircore, with jq/yq/json5 over the files, as
written beside each number; rows are distinct (declarer, name, spec) triples of a file.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircore import EvidenceLog, InputError, validate
from ircore.inventory import _git, load_declared, load_inventory
from ircore.inventory._declared import classify_spec, declared_in_lockfile, declared_in_manifest
from tests._lockfiles import commit_files, git, init_repo, lock_v3
from tests._shared import raises_kind
from tests._shared import shared_path as _shared


def _write(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value, indent=2))
    return path


def _rows(frame: Any, **where: Any) -> list[dict[str, Any]]:
    picked = frame
    for column, value in where.items():
        picked = picked[picked[column] == value]
    return picked.to_dict("records")


# --- spec kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "real"),
    [
        ("^4.1.0", "range", None),
        ("~1.2", "range", None),
        ("1.x || >=2.5.0", "range", None),
        ("", "range", None),  # npm reads an empty spec as *
        ("*", "range", None),
        ("latest", "tag", None),
        ("next-11", "tag", None),
        ("npm:string-width@^4.2.0", "alias", "string-width"),
        ("npm:@mgol/promises-aplus-tests@2.1.2-mgol.2", "alias", "@mgol/promises-aplus-tests"),
        ("npm:chalk", "alias", "chalk"),
        ("npm:^1.2.0", "range", None),  # Yarn Berry's default protocol, not an alias
        ("workspace:*", "workspace", None),
        ("workspace:^", "workspace", None),
        ("link:../lib", "link", None),
        ("portal:./pkgs/a", "link", None),
        ("file:../vendor/x-1.0.0.tgz", "file", None),
        ("./local-folder", "file", None),
        ("~/src/x", "file", None),
        ("git+https://github.com/user/repo.git#v1.0.0", "git", None),
        ("git@github.com:user/repo.git", "git", None),
        ("github:user/repo#semver:^1.0.0", "git", None),
        ("user/repo#main", "git", None),
        ("https://github.com/user/repo", "git", None),
        ("https://example.com/pkgs/x-1.0.0.tgz", "tarball", None),
        ("catalog:", "catalog", None),
        ("patch:resolve@npm%3A^1.22.8#./patches/resolve.patch", "range", None),
        ("not a valid spec!", "invalid", None),
    ],
)
def test_spec_kinds_follow_npm_package_arg(spec: str, kind: str, real: str | None) -> None:
    assert classify_spec(spec) == (kind, real)


# --- package.json -------------------------------------------------------------------------------


MANIFEST = {
    "name": "shop",
    "version": "1.0.0",
    "dependencies": {
        "chalk": "^5.3.0",
        "string-width-cjs": "npm:string-width@^4.2.0",
        "local": "file:../local",
    },
    "devDependencies": {"debug": "~4.3.4", "ui": "workspace:*"},
    "optionalDependencies": {"fsevents": "^2.3.2"},
    "peerDependencies": {"react": ">=17"},
    "overrides": {
        "ms": "2.1.3",
        "debug@^4": {"ms": "2.1.2", ".": "4.3.5"},
        "chalk": "$chalk",
        "@scope/deep": {"inner": {"leaf": "1.0.0"}},
    },
    "resolutions": {"**/ansi-regex": "^5.0.1", "a/@s/b": "2.0.0"},
    "pnpm": {"overrides": {"foo@<2>bar": "^3.0.0", "baz": "-", "qux": "1.0.0"}},
}


def _by_field(result: Any) -> dict[str, set[tuple[str, str, str]]]:
    grouped: dict[str, set[tuple[str, str, str]]] = {}
    for row in result.rows:
        grouped.setdefault(row["field"], set()).add((row["name"], row["spec"], row["spec_kind"]))
    return grouped


def test_manifest_declares_every_field_overrides_and_resolutions() -> None:
    result = declared_in_manifest(json.dumps(MANIFEST).encode(), path="package.json")
    assert result.format == "package.json"
    fields = _by_field(result)
    assert fields["dependencies"] == {
        ("chalk", "^5.3.0", "range"),
        ("string-width", "npm:string-width@^4.2.0", "alias"),
        ("local", "file:../local", "file"),
    }
    assert fields["devDependencies"] == {
        ("debug", "~4.3.4", "range"),
        ("ui", "workspace:*", "workspace"),
    }
    assert fields["optionalDependencies"] == {("fsevents", "^2.3.2", "range")}
    assert fields["peerDependencies"] == {("react", ">=17", "range")}
    # nested overrides, "." for the parent itself, and "$chalk" as npm resolves it
    assert fields["overrides"] == {
        ("ms", "2.1.3", "range"),
        ("ms", "2.1.2", "range"),
        ("debug", "4.3.5", "range"),
        ("chalk", "^5.3.0", "range"),
        ("leaf", "1.0.0", "range"),
    }
    assert fields["resolutions"] == {("ansi-regex", "^5.0.1", "range"), ("@s/b", "2.0.0", "range")}
    # "baz": "-" removes a dependency: it declares nothing
    assert fields["pnpm.overrides"] == {("bar", "^3.0.0", "range"), ("qux", "1.0.0", "range")}
    assert {row["declared_by"] for row in result.rows} == {"shop"}
    assert {row["direct"] for row in result.rows} == {True}


def test_manifest_without_name_is_declared_by_its_path_and_odd_values_are_noted() -> None:
    data = json.dumps(
        {"dependencies": {"a": "^1.0.0", "b": 7}, "devDependencies": ["not", "an", "object"]}
    ).encode()
    result = declared_in_manifest(data, path="packages/x/package.json")
    assert [(r["name"], r["declared_by"]) for r in result.rows] == [
        ("a", "packages/x/package.json")
    ]
    assert any("dependencies.b" in w for w in result.warnings)
    assert any("devDependencies" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "truncated"),
        (b'{"dependencies": {"a": "^1"', "truncated"),
        (b'{"dependencies": {"a": ^1}}', "not-json"),
        (b"\xff\xfe{\x00}\x00", "not-json"),
        (b'["a"]', "invalid"),
    ],
)
def test_unreadable_manifests_raise(data: bytes, kind: str) -> None:
    raises_kind(declared_in_manifest, data, kind, path="package.json")


# --- lockfiles in the corpus --------------------------------------------------------------------


def test_npm_v3_corpus_ranges() -> None:
    data = _shared("corpus/lockfiles/jquery/lock-v3/package-lock.json").read_bytes()
    result = declared_in_lockfile("package-lock.json", data)
    assert result.format == "npm-lock-v3"
    # jq -r '.name as $root | [.packages | to_entries[] | select(.value.link != true)
    #   | .key as $k | .value as $v
    #   | if ($k | split("/") | index("node_modules")) == null
    #     then {by: ($v.name // (if $k == "" then $root else $k end)),
    #           f: ["dependencies","devDependencies","optionalDependencies","peerDependencies"]}
    #     else {by: (($v.name // ($k | sub(".*node_modules/"; ""))) + "@" + ($v.version // "")),
    #           f: ["dependencies","optionalDependencies","peerDependencies"]} end
    #   | . as $d | $d.f[] as $f | ($v[$f] // {}) | to_entries[] | [$d.by, .key, .value]]
    #   | unique | length'  -> 1421
    assert len(result.rows) == 1421
    # jq '[.packages[""] | ((.dependencies // {}) + (.devDependencies // {})) | to_entries[]]
    #   | length' -> 33, all declared by the root ("jquery")
    root = [r for r in result.rows if r["direct"]]
    assert len(root) == 33 and {r["declared_by"] for r in root} == {"jquery"}
    alias = next(r for r in root if r["spec"].startswith("npm:"))
    assert (alias["name"], alias["spec_kind"]) == ("@mgol/promises-aplus-tests", "alias")
    assert {r["field"] for r in result.rows} == {"lockfile"}
    # an installed package's own range, as the lockfile records it
    assert {
        "name": "ansi-styles",
        "spec": "^4.1.0",
        "spec_kind": "range",
        "declared_by": "chalk@4.1.2",
        "field": "lockfile",
        "direct": False,
    } in result.rows


def test_npm_v1_corpus_requires() -> None:
    data = _shared("corpus/lockfiles/jquery/lock-v1/package-lock.json").read_bytes()
    result = declared_in_lockfile("package-lock.json", data)
    assert result.format == "npm-lock-v1"
    # jq -r '[paths(type == "object") as $p
    #   | select(($p | length) >= 2 and $p[-2] == "dependencies") | getpath($p) as $v
    #   | select(($v.requires | type) == "object") | ($p[-1] + "@" + $v.version) as $by
    #   | $v.requires | to_entries[] | [$by, .key, .value]] | unique | length'  -> 765
    assert len(result.rows) == 765
    assert {r["direct"] for r in result.rows} == {False}  # v1 does not record the root's


def test_yarn_berry_corpus_ranges() -> None:
    data = _shared("corpus/lockfiles/redux/yarn-berry/yarn.lock").read_bytes()
    result = declared_in_lockfile("yarn.lock", data)
    assert result.format == "yarn-berry-v8"
    # yq -r '[to_entries[] | select(.key != "__metadata") | .value as $v
    #   | ($v.resolution | capture("^(?<n>@?[^@]+)@(?<r>.*)$")) as $loc
    #   | (if ($loc.r | startswith("workspace:")) then $loc.n else ($loc.n + "@" + $v.version) end)
    #     as $by | (($v.dependencies // {}) + ($v.peerDependencies // {})) | to_entries[]
    #   | [$by, .key, .value]] | unique | length'  -> 1760
    # plus header specifiers no entry's dependencies account for (yq: keys split on ", ", minus
    # workspace: keys, minus every "dep@range" of a dependency block)  -> 10
    assert len(result.rows) == 1760 + 10
    unknown = [r for r in result.rows if r["declared_by"] is None]
    assert len(unknown) == 10 and {r["direct"] for r in unknown} == {None}
    workspace = [r for r in result.rows if r["direct"]]
    assert {r["declared_by"] for r in workspace} == {"redux"}
    # Berry's default protocol is not part of the range
    assert not any(r["spec"].startswith("npm:") for r in result.rows if r["spec_kind"] == "range")
    assert Counter(r["spec_kind"] for r in result.rows)["alias"] == 4


def test_pnpm_corpus_importers_and_catalogs() -> None:
    v9 = _shared("corpus/lockfiles/vuejs-core/pnpm-v9/pnpm-lock.yaml").read_bytes()
    result = declared_in_lockfile("pnpm-lock.yaml", v9)
    assert result.format == "pnpm-v9.0"
    # yq -r '[.importers | to_entries[] | .key as $i | .value | (.dependencies // {})
    #   + (.devDependencies // {}) + (.optionalDependencies // {}) | to_entries[]
    #   | [$i, .key, .value.specifier]] | unique | length'  -> 121
    # yq -r '[.catalogs // {} | to_entries[] | .key as $c | .value | to_entries[]] | length' -> 8
    assert len(result.rows) == 121 + 8
    catalog = [r for r in result.rows if r["declared_by"] == "catalog:default"]
    assert len(catalog) == 8 and {r["spec_kind"] for r in catalog} == {"range"}
    assert {"name": "vite", "spec": "^8.2.0"}.items() <= next(
        r for r in catalog if r["name"] == "vite"
    ).items()
    kinds = Counter(r["spec_kind"] for r in result.rows)
    assert kinds["catalog"] == 22 and kinds["workspace"] == 33

    v5 = _shared("corpus/lockfiles/vuejs-core/pnpm-v5.4/pnpm-lock.yaml").read_bytes()
    # yq -r '[.importers | to_entries[] | .key as $i | .value.specifiers // {} | to_entries[]
    #   | [$i, .key, .value]] | unique | length'  -> 111
    rows = declared_in_lockfile("pnpm-lock.yaml", v5).rows
    assert len(rows) == 111
    assert {r["direct"] for r in rows} == {True}
    assert {"name": "chalk", "spec": "^4.1.0", "declared_by": "."}.items() <= next(
        r for r in rows if r["name"] == "chalk" and r["declared_by"] == "."
    ).items()


def test_pnpm_multi_document_tooling_is_not_direct() -> None:
    data = _shared("corpus/lockfiles/vuejs-core/pnpm-v9-multidoc/pnpm-lock.yaml").read_bytes()
    rows = declared_in_lockfile("pnpm-lock.yaml", data).rows
    tooling = [r for r in rows if r["declared_by"] == "packageManagerDependencies"]
    assert tooling and {r["direct"] for r in tooling} == {None}
    # yq -r -s '[.[] | .importers // {} | to_entries[] | .key as $i | .value
    #   | (.dependencies // {}) + (.devDependencies // {}) + (.optionalDependencies // {})
    #   | to_entries[] | [$i, .key, .value.specifier]] | unique | length'  -> 119
    # yq -r -s '[.[] | .catalogs // {} | to_entries[] | .value | to_entries[]] | length'  -> 8
    assert len(rows) - len(tooling) == 119 + 8


def test_bun_corpus_workspaces_and_packages() -> None:
    data = _shared("corpus/lockfiles/hono/bun-lock/bun.lock").read_bytes()
    result = declared_in_lockfile("bun.lock", data)
    assert result.format == "bun-lock-v1"
    # python: json5.load(bun.lock); workspaces' four dependency maps as (name or folder, dep,
    # spec) -> 24; packages' dependencies/optionalDependencies/peerDependencies as (packages[k][0],
    # dep, spec), workspace entries left out -> 1446
    assert len(result.rows) == 24 + 1446
    assert {r["declared_by"] for r in result.rows if r["direct"]} == {"hono"}
    assert {
        "name": "@babel/highlight",
        "spec": "^7.24.7",
        "spec_kind": "range",
        "declared_by": "@babel/code-frame@7.24.7",
        "field": "lockfile",
        "direct": False,
    } in result.rows


def test_yarn_classic_entries_and_project_specifiers() -> None:
    data = _shared("cases/lockfiles/10-yarn-v1-multi-specifier-scoped/yarn.lock").read_bytes()
    result = declared_in_lockfile("yarn.lock", data)
    assert result.format == "yarn-v1"
    declared = {(r["declared_by"], r["name"], r["spec"]) for r in result.rows}
    # every "dependencies" line of the file, by the entry that holds it
    assert {
        ("@types/node@20.11.5", "undici-types", "~5.26.4"),
        ("debug@2.6.9", "ms", "2.0.0"),
        ("debug@4.3.4", "ms", "2.1.2"),
    } <= declared
    # header specifiers no entry declares come from the project (or resolutions)
    unknown = {(r["name"], r["spec"]) for r in result.rows if r["declared_by"] is None}
    assert unknown == {
        ("@babel/helper-plugin-utils", "^7.0.0"),
        ("@babel/helper-plugin-utils", "^7.10.4"),
        ("@babel/helper-plugin-utils", "^7.8.0"),
        ("@babel/helper-plugin-utils", "^7.24.0"),
        ("@babel/helper-plugin-utils", "^7.24.7"),
        ("@types/node", "*"),
        ("@types/node", ">=12"),
        ("debug", "2.6.9"),
        ("debug", "^4.1.0"),
        ("debug", "^4.3.4"),
        ("ms", "^2.1.1"),
    }
    assert len(result.rows) == 3 + len(unknown)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("package-lock.json", b'{"lockfileVersion": 3, "packages": {"": ', "truncated"),
        ("package-lock.json", b'{"lockfileVersion": 9}', "unsupported"),
        ("yarn.lock", b'{"lockfileVersion": 3}\n', "invalid"),
        ("yarn.lock", b"a@^1:\n  version 1.0.0\n    deep: x\n", "invalid"),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\nimporters: [1, 2]\n", "invalid"),
        ("bun.lock", b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x00", "unsupported"),
    ],
)
def test_unreadable_lockfiles_raise_like_their_parsers(name: str, data: bytes, kind: str) -> None:
    raises_kind(lambda d: declared_in_lockfile(name, d), data, kind)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=6),
    st.sampled_from(["^1.0.0", "npm:x@^1", "$a", "workspace:*", "node_modules/a", "a@1>b"]),
)
_KEYS = st.sampled_from(
    [
        "dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
        "overrides", "resolutions", "pnpm", "name", "version", "packages", "requires", "link",
        "", "node_modules/a", "a", ".", "workspaces",
    ]
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=6), st.sampled_from([None, 1, 2, 3]))
def test_random_manifests_and_npm_locks_raise_only_input_error(
    body: dict[str, Any], version: int | None
) -> None:
    data = json.dumps(body if version is None else {**body, "lockfileVersion": version}).encode()
    try:
        if version is None:
            declared_in_manifest(data, path="package.json")
        else:
            declared_in_lockfile("package-lock.json", data)
    except InputError as exc:
        assert exc.message


# --- load_declared over folders and git ---------------------------------------------------------


def test_folder_manifests_workspaces_and_lockfile(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    _write(project / "package.json", {**MANIFEST, "workspaces": ["packages/*"]})
    _write(
        project / "packages" / "ui" / "package.json", {"name": "ui", "dependencies": {"x": "^1"}}
    )
    _write(project / "package-lock.json", lock_v3({"chalk": "5.3.0"}, dev={"debug": "4.3.4"}))
    # what packages ship is not the project's: never read
    _write(project / "node_modules" / "chalk" / "package.json", {"dependencies": {"evil": "*"}})
    _write(project / "node_modules" / "chalk" / "package-lock.json", lock_v3({"evil": "1.0.0"}))
    log = EvidenceLog()
    frame = validate(load_declared(project, log=log), "declared")
    assert log.complete, log.problems
    assert "evil" not in set(frame["name"])
    assert set(frame["file"]) == {"package.json", "packages/ui/package.json", "package-lock.json"}
    ui = _rows(frame, file="packages/ui/package.json")
    assert [(r["name"], r["declared_by"], r["direct"]) for r in ui] == [("x", "ui", True)]
    lock = _rows(frame, file="package-lock.json")
    assert {(r["name"], r["spec"], r["declared_by"]) for r in lock} == {
        ("chalk", "^5.3.0", "app"),
        ("debug", "^4.3.4", "app"),
    }
    assert set(frame["repo"]) == {"shop"} and set(frame["surface"]) == {"folder"}
    assert set(frame["source"]) == {"folder"}
    assert set(frame["evidence"]) == {
        str(project / "package.json"),
        str(project / "packages" / "ui" / "package.json"),
        str(project / "package-lock.json"),
    }
    inputs = log.inputs
    assert len(inputs) == 3 and set(inputs["status"]) == {"parsed"}


def test_a_broken_manifest_is_a_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "package.json", '{"dependencies": {"chalk": "^5"')
    _write(tmp_path / "package-lock.json", lock_v3({"chalk": "5.3.0"}))
    log = EvidenceLog()
    frame = load_declared(tmp_path, log=log)
    assert set(frame["file"]) == {"package-lock.json"}
    problems = log.problems
    assert list(problems["kind"]) == ["truncated"]
    assert problems["evidence"].iloc[0] == str(tmp_path / "package.json")
    assert not log.complete


def test_declared_at_every_ref_each_blob_read_once(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "web"
    init_repo(repo)
    manifest = json.dumps({"name": "web", "dependencies": {"chalk": "^5.6.0"}})
    commit_files(
        repo, {"package.json": manifest, "package-lock.json": lock_v3({"chalk": "5.6.0"})}, "init"
    )
    for branch in ("a", "b"):
        git(repo, "checkout", "-q", "-b", branch, "main")
        commit_files(repo, {f"{branch}.txt": branch}, f"touch {branch}")
    git(repo, "checkout", "-q", "-b", "bump", "main")
    commit_files(repo, {"package.json": manifest.replace("^5.6.0", "^5.6.1")}, "bump")
    git(repo, "update-ref", "refs/pull/3/head", "HEAD")
    git(repo, "checkout", "-q", "main")

    requested: list[str] = []
    real_read = _git.read_blobs

    def read_blobs(path: Path, blobs: list[str]) -> dict[str, bytes]:
        requested.extend(blobs)
        return real_read(path, blobs)

    monkeypatch.setattr(_git, "read_blobs", read_blobs)
    log = EvidenceLog()
    frame = validate(load_declared(repo, git_refs=True, log=log), "declared")
    assert log.complete
    # main, a, b share both blobs; bump and its PR ref share the new package.json
    assert len(requested) == len(set(requested)) == 3
    chalk = frame[(frame["name"] == "chalk") & (frame["field"] == "dependencies")]
    assert dict(zip(chalk["ref"], chalk["spec"], strict=True)) == {
        "main": "^5.6.0",
        "a": "^5.6.0",
        "b": "^5.6.0",
        "bump": "^5.6.1",
        "pull/3/head": "^5.6.1",
    }
    assert set(frame["source"]) == {"git"}
    assert frame["evidence"].str.contains(r"@[0-9a-f]{12}:package\.json$").any()
    assert len(log.inputs) == 10  # two files at each of five refs


def test_inventory_still_reads_a_blob_once_per_parse(tmp_path: Path, monkeypatch) -> None:
    """load_inventory skips reading blobs whose parse it already has, as load_declared does."""
    repo = tmp_path / "api"
    init_repo(repo)
    commit_files(repo, {"package-lock.json": lock_v3({"express": "4.21.2"})}, "init")
    for branch in ("x", "y", "z"):
        git(repo, "branch", branch)
    requested: list[str] = []
    real_read = _git.read_blobs
    monkeypatch.setattr(
        _git, "read_blobs", lambda p, blobs: requested.extend(blobs) or real_read(p, blobs)
    )
    frame = load_inventory(repo, git_refs=True)
    assert set(frame["ref"]) == {"main", "x", "y", "z"}
    assert len(requested) == 1
