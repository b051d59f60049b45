"""The npm lockfile parser: npm's own reading of real lockfiles, faults, and one regression test
per fault kind of ../shared/cases/lockfiles, on small lockfiles written here."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ircore._errors import InputError
from ircore._frames import INVENTORY, new_frame, validate
from ircore.inventory._npm import parse_npm_lockfile
from tests._shared import raises_kind
from tests._shared import shared_path as _shared

ORACLE = Path(__file__).resolve().parent / "oracle" / "npm_lock_counts.json"
REG = "https://registry.npmjs.org"


def _bytes(lock: dict[str, Any]) -> bytes:
    return json.dumps(lock, indent=2).encode()


def _reg(name: str, version: str, **extra: Any) -> dict[str, Any]:
    """A registry entry as npm writes it."""
    tarball = f"{REG}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
    return {"version": version, "resolved": tarball, "integrity": "sha512-AAAA", **extra}


def _v3(packages: dict[str, Any], version: int = 3) -> bytes:
    return _bytes(
        {
            "name": "app",
            "version": "1.0.0",
            "lockfileVersion": version,
            "requires": True,
            "packages": packages,
        }
    )


def _v1(dependencies: dict[str, Any]) -> bytes:
    return _bytes(
        {
            "name": "app",
            "version": "1.0.0",
            "lockfileVersion": 1,
            "requires": True,
            "dependencies": dependencies,
        }
    )


def _by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["install_path"]: row for row in rows}


def _raises(data: bytes, kind: str) -> InputError:
    return raises_kind(parse_npm_lockfile, data, kind)


# --- npm's own reading of the corpus (tests/oracle/count_npm_lock.mjs) ---------------------------


def _oracle() -> dict[str, Any]:
    return json.loads(ORACLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("relative", sorted(_oracle()["files"]))
def test_corpus_matches_npm(relative: str) -> None:
    expected = _oracle()["files"][relative]
    data = _shared(relative).read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected["sha256"], (
        f"{relative} changed; regenerate tests/oracle/npm_lock_counts.json"
    )
    result = parse_npm_lockfile(data)
    rows = result.rows
    assert result.format == f"npm-lock-v{expected['lockfileVersion']}"
    pairs = sorted({f"{r['name']}@{r['version']}" for r in rows})
    assert len(rows) == expected["entries"]
    assert len(pairs) == expected["distinct_name_version"]
    assert hashlib.sha256("\n".join(pairs).encode()).hexdigest() == expected["name_version_sha256"]
    assert sum(r["alias"] is not None for r in rows) == expected["entries_aliased"]
    assert sum(bool(r["bundled"]) for r in rows) == expected["entries_bundled"]
    if expected["entries_dev"] is not None:
        assert sum(bool(r["dev"]) for r in rows) == expected["entries_dev"]
        prod = {(r["name"], r["version"]) for r in rows if not r["dev"]}
        assert len(prod) == expected["distinct_prod_name_version"]
    if expected["path_lengths"] is not None:
        # Shortest chains computed by arborist from its own resolved edges.
        lengths = Counter(
            str(len(r["dependency_path"].split(" > "))) if r["dependency_path"] else "unreached"
            for r in rows
        )
        assert dict(lengths) == expected["path_lengths"]
        assert sum(bool(r["direct"]) for r in rows) == expected["path_lengths"].get("1", 0)
    else:
        # v1 without package.json: the root's dependencies are not in the file.
        assert all(r["direct"] is None and r["dependency_path"] is None for r in rows)
        assert any("package.json" in w for w in result.warnings)


def test_corpus_rows_fit_inventory_schema() -> None:
    rows = parse_npm_lockfile(
        _shared("corpus/lockfiles/jquery/lock-v3/package-lock.json").read_bytes()
    ).rows
    assert all(set(row) <= set(INVENTORY) for row in rows)
    frame = validate(new_frame("inventory", rows), "inventory")
    assert len(frame) == len(rows)
    assert frame["name"].notna().all() and frame["version"].notna().all()
    # Every path ends at the row's own install name and starts at its introducer.
    for row in rows:
        path = row["dependency_path"].split(" > ")
        assert path[0] == row["introducer"]
        assert path[-1] == (row["alias"] or row["name"])


def test_jquery_v3_alias_is_reported_under_its_real_name() -> None:
    rows = parse_npm_lockfile(
        _shared("corpus/lockfiles/jquery/lock-v3/package-lock.json").read_bytes()
    ).rows
    lock = json.loads(_shared("corpus/lockfiles/jquery/lock-v3/package-lock.json").read_bytes())
    spec = lock["packages"][""]["devDependencies"]["promises-aplus-tests"]
    real, _, version = spec.removeprefix("npm:").rpartition("@")
    row = _by_path(rows)["node_modules/promises-aplus-tests"]
    assert (row["name"], row["version"], row["alias"]) == (real, version, "promises-aplus-tests")
    assert row["direct"] is True and row["introducer"] == "promises-aplus-tests"


# --- faults ------------------------------------------------------------------------------------


def test_every_truncation_of_a_lockfile_is_reported_as_truncated() -> None:
    data = _shared("cases/lockfiles/01-npm-alias-lock-v3/package-lock.json").read_bytes()
    end = len(data.rstrip())
    for cut in range(0, end, 37):
        error = _raises(data[:cut], "truncated")
        assert "truncated" in error.message or "empty" in error.message


def test_truncated_message_says_where() -> None:
    error = _raises(
        b'{\n  "lockfileVersion": 3,\n  "packages": {"node_modules/a": {"ver', "truncated"
    )
    assert "truncated" in error.message and "line 3" in error.message


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "truncated"),
        (b" \r\n\t ", "truncated"),
        (b"lockfileVersion: 3\npackages: {}\n", "not-json"),
        (b"{'lockfileVersion': 3}", "not-json"),
        (b'{"lockfileVersion": 3,}', "not-json"),
        (b'{"lockfileVersion": 3} trailing', "not-json"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff\xe0", "not-json"),
        (bytes(range(256)) * 4, "not-json"),
        (b"\x00" * 64, "not-json"),
        ('{"lockfileVersion": 3}'.encode("utf-16"), "not-json"),
        (b"[]", "unsupported"),
        (b'[{"lockfileVersion": 3}]', "unsupported"),
        (b'"package-lock"', "unsupported"),
        (b"null", "unsupported"),
        (b'{"lockfileVersion": 99, "packages": {}}', "unsupported"),
        (b'{"lockfileVersion": 0}', "unsupported"),
        (b'{"lockfileVersion": "3", "packages": {}}', "unsupported"),
        (b'{"lockfileVersion": true}', "unsupported"),
        (b'{"name": "app", "version": "1.0.0", "scripts": {}, "dependencies": {}}', "unsupported"),
        (b'{"lockfileVersion": 3, "packages": []}', "invalid"),
        (b'{"lockfileVersion": 3, "packages": {"node_modules/a": "1.0.0"}}', "invalid"),
        (b'{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1}}}', "invalid"),
        (
            b'{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0",'
            b' "dependencies": ["b"]}}}',
            "invalid",
        ),
        (
            b'{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0",'
            b' "dependencies": "b"}}}',
            "invalid",
        ),
        (
            b'{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0",'
            b' "requires": ["b"]}}}',
            "invalid",
        ),
        (b'{"lockfileVersion": 1, "dependencies": []}', "invalid"),
    ],
)
def test_bad_input_raises_with_kind(data: bytes, kind: str) -> None:
    _raises(data, kind)


def test_lockfile_version_99_names_the_version() -> None:
    assert "99" in _raises(b'{"lockfileVersion": 99}', "unsupported").message


def test_package_json_passed_as_lockfile_is_named() -> None:
    error = _raises(b'{"name": "app", "scripts": {"test": "x"}}', "unsupported")
    assert "package.json" in error.message


def test_invalid_names_the_entry() -> None:
    error = _raises(b'{"lockfileVersion": 3, "packages": {"node_modules/evil": 7}}', "invalid")
    assert "node_modules/evil" in error.message


def test_json_nested_beyond_the_decoder_limit_is_unsupported_not_garbage() -> None:
    deep = b'{"lockfileVersion": 3, "x": ' + b"[" * 1100 + b"]" * 1100 + b"}"
    assert "1024" in _raises(deep, "unsupported").message


def test_bom_and_crlf_case() -> None:
    data = _shared("cases/lockfiles/08-npm-lock-v2-bom-crlf/package-lock.json").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # the case is what it claims
    result = parse_npm_lockfile(data)
    assert result.format == "npm-lock-v2"
    assert sorted((r["name"], r["dev"]) for r in result.rows) == [
        ("lodash", False),
        ("typescript", True),
    ]


def test_bom_crlf_on_a_v1_file_with_manifest_bom_too() -> None:
    lock = _v1({"a": _reg("a", "1.0.0")}).replace(b"\n", b"\r\n")
    manifest = b"\xef\xbb\xbf" + b'{\r\n"dependencies": {"a": "^1.0.0"}\r\n}\r\n'
    rows = parse_npm_lockfile(b"\xef\xbb\xbf" + lock, manifest=manifest).rows
    assert [(r["name"], r["direct"]) for r in rows] == [("a", True)]


# --- regression tests, one per fault kind of the cases -----------------------------------------


def test_v1_nested_alias_with_scoped_target() -> None:
    # Case 02's kind: the alias lives in a nested block; its target may be scoped.
    lock = _v1(
        {
            "host": {
                **_reg("host", "2.0.0"),
                "requires": {"legacy": "npm:@scope/real@^1.2.0", "plain": "npm:plain-real@^3"},
                "dependencies": {
                    "legacy": {
                        **_reg("@scope/real", "1.2.3"),
                        "version": "npm:@scope/real@1.2.3",
                        "requires": {"leaf": "^1"},
                    },
                    "plain": {
                        **_reg("plain-real", "3.0.1-rc.1"),
                        "version": "npm:plain-real@3.0.1-rc.1",
                    },
                },
            },
            "leaf": _reg("leaf", "1.0.0"),
        }
    )
    rows = _by_path(parse_npm_lockfile(lock, manifest=b'{"dependencies": {"host": "^2"}}').rows)
    legacy = rows["node_modules/host/node_modules/legacy"]
    assert (legacy["name"], legacy["version"], legacy["alias"]) == (
        "@scope/real",
        "1.2.3",
        "legacy",
    )
    plain = rows["node_modules/host/node_modules/plain"]
    assert (plain["name"], plain["version"]) == ("plain-real", "3.0.1-rc.1")
    assert rows["node_modules/leaf"]["dependency_path"] == "host > legacy > leaf"
    assert not any(r["version"].startswith("npm:") for r in rows.values())
    assert {r["name"] for r in rows.values()} == {"host", "@scope/real", "plain-real", "leaf"}


def test_v3_alias_uses_the_entry_name() -> None:
    # Case 01's kind: the folder name is not the package.
    lock = _v3(
        {
            "": {"name": "app", "dependencies": {"x-cjs": "npm:@s/x@^4", "@s/x": "^5"}},
            "node_modules/@s/x": _reg("@s/x", "5.0.0"),
            "node_modules/x-cjs": {**_reg("@s/x", "4.0.0"), "name": "@s/x"},
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    assert rows["node_modules/x-cjs"]["name"] == "@s/x"
    assert rows["node_modules/x-cjs"]["alias"] == "x-cjs"
    assert rows["node_modules/@s/x"]["alias"] is None
    assert all(r["direct"] for r in rows.values())


def test_v1_nested_versions_several_levels_deep() -> None:
    # Case 04's kind: conflicting versions nested three levels down; resolution picks the nearest.
    lock = _v1(
        {
            "a": {
                **_reg("a", "1.0.0"),
                "requires": {"b": "1"},
                "dependencies": {
                    "b": {
                        **_reg("b", "1.0.0"),
                        "requires": {"c": "1"},
                        "dependencies": {
                            "c": {
                                **_reg("c", "1.0.0"),
                                "requires": {"d": "1"},
                                "dependencies": {
                                    "d": _reg("d", "1.0.0"),
                                },
                            },
                        },
                    },
                },
            },
            "d": _reg("d", "2.0.0"),
        }
    )
    rows = parse_npm_lockfile(lock, manifest=b'{"dependencies": {"a": "1", "d": "2"}}').rows
    by_path = _by_path(rows)
    deep = by_path["node_modules/a/node_modules/b/node_modules/c/node_modules/d"]
    assert (deep["version"], deep["dependency_path"], deep["direct"]) == (
        "1.0.0",
        "a > b > c > d",
        False,
    )
    assert (by_path["node_modules/d"]["version"], by_path["node_modules/d"]["direct"]) == (
        "2.0.0",
        True,
    )
    assert len(rows) == 5


def test_v1_with_manifest_dev_and_optional_declarations_are_direct() -> None:
    lock = _v1(
        {
            "t": _reg("t", "1.0.0", dev=True),
            "o": _reg("o", "1.0.0", optional=True),
            "x": _reg("x", "1.0.0"),
        }
    )
    manifest = b'{"devDependencies": {"t": "1"}, "optionalDependencies": {"o": "1"}}'
    rows = _by_path(parse_npm_lockfile(lock, manifest=manifest).rows)
    assert [
        (rows[p]["direct"], rows[p]["dev"], rows[p]["optional"])
        for p in ("node_modules/t", "node_modules/o", "node_modules/x")
    ] == [
        (True, True, False),
        (True, False, True),
        (False, False, False),
    ]
    assert rows["node_modules/x"]["dependency_path"] is None  # extraneous: nothing requires it


def test_v1_unreadable_manifest_keeps_rows_and_says_so() -> None:
    result = parse_npm_lockfile(_v1({"a": _reg("a", "1.0.0")}), manifest=b"{not json")
    assert [r["name"] for r in result.rows] == ["a"]
    assert result.rows[0]["direct"] is None
    assert any("package.json" in w for w in result.warnings)


def test_v3_manifest_is_not_needed() -> None:
    lock = _v3({"": {"dependencies": {"a": "1"}}, "node_modules/a": _reg("a", "1.0.0")})
    assert parse_npm_lockfile(lock).rows[0]["direct"] is True
    assert parse_npm_lockfile(lock).warnings == []


def test_workspaces_links_and_nested_node_modules() -> None:
    # Case 05's kind: workspace folders and their link entries are local; what is installed
    # under a workspace folder is not; direct means declared by the root or any workspace.
    lock = _v3(
        {
            "": {"name": "mono", "workspaces": ["packages/*"], "devDependencies": {"lint": "1"}},
            "packages/a": {
                "name": "@mono/a",
                "version": "1.0.0",
                "dependencies": {"@mono/b": "1.0.0", "ms": "^2.1.3"},
            },
            "packages/a/node_modules/ms": _reg("ms", "2.1.3"),
            "packages/b": {
                "name": "@mono/b",
                "version": "1.0.0",
                "dependencies": {"debug": "^4"},
                "devDependencies": {"tap": "1"},
            },
            "node_modules/@mono/a": {"resolved": "packages/a", "link": True},
            "node_modules/@mono/b": {"resolved": "packages/b", "link": True},
            "node_modules/debug": _reg("debug", "4.3.4", dependencies={"ms": "2.1.2"}),
            "node_modules/ms": _reg("ms", "2.1.2"),
            "node_modules/lint": _reg("lint", "1.0.0", dev=True),
            "node_modules/tap": _reg("tap", "1.0.0", dev=True),
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    assert sorted(rows) == [
        "node_modules/debug",
        "node_modules/lint",
        "node_modules/ms",
        "node_modules/tap",
        "packages/a/node_modules/ms",
    ]
    assert rows["packages/a/node_modules/ms"]["direct"] is True
    assert rows["node_modules/ms"]["direct"] is False
    assert rows["node_modules/ms"]["dependency_path"] == "debug > ms"
    assert rows["node_modules/debug"]["direct"] is True  # declared by workspace b only
    assert rows["node_modules/tap"]["direct"] is True  # a workspace's devDependency


def test_v1_file_directory_dependency_is_local_and_its_deps_live_under_it() -> None:
    lock = _v1(
        {
            "lib": {
                "version": "file:../lib",
                "requires": {"left": "1"},
                "dependencies": {"left": _reg("left", "1.0.0")},
            },
            "vendored": {"version": "file:vendor/vendored-2.0.0.tgz", "integrity": "sha512-AAAA"},
        }
    )
    rows = _by_path(
        parse_npm_lockfile(
            lock,
            manifest=b'{"dependencies": {"lib": "file:../lib",'
            b' "vendored": "file:vendor/vendored-2.0.0.tgz"}}',
        ).rows
    )
    assert sorted(rows) == ["../lib/node_modules/left", "node_modules/vendored"]
    left = rows["../lib/node_modules/left"]
    assert (left["direct"], left["origin_kind"]) == (True, "registry")
    vendored = rows["node_modules/vendored"]
    assert (vendored["version"], vendored["origin_kind"]) == ("2.0.0", "file")


def test_in_bundle_entries_are_kept_and_marked() -> None:
    # Case 07's kind: no resolved, no integrity, transitive bundled entries too.
    lock = _v3(
        {
            "": {"dependencies": {"host": "^1"}},
            "node_modules/host": _reg(
                "host", "1.0.0", dependencies={"util": "^1"}, bundleDependencies=["util"]
            ),
            "node_modules/host/node_modules/util": {
                "version": "1.0.3",
                "inBundle": True,
                "dependencies": {"helper": "^0.4"},
            },
            "node_modules/host/node_modules/helper": {"version": "0.4.1", "inBundle": True},
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    helper = rows["node_modules/host/node_modules/helper"]
    assert (helper["bundled"], helper["resolved"], helper["origin_kind"]) == (
        True,
        None,
        "registry",
    )
    assert helper["dependency_path"] == "host > util > helper"
    assert rows["node_modules/host"]["bundled"] is False


def test_v1_bundled_flag() -> None:
    lock = _v1(
        {
            "host": {
                **_reg("host", "1.0.0"),
                "requires": {"util": "1"},
                "dependencies": {"util": {"version": "1.0.3", "bundled": True}},
            }
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    assert rows["node_modules/host/node_modules/util"]["bundled"] is True


def test_v2_reads_packages_once_and_ignores_legacy_block() -> None:
    # Case 08's kind: v2 repeats everything under legacy `dependencies`.
    legacy_only = {"ghost": _reg("ghost", "9.9.9")}
    lock = _bytes(
        {
            "lockfileVersion": 2,
            "packages": {"": {"dependencies": {"a": "1"}}, "node_modules/a": _reg("a", "1.0.0")},
            "dependencies": {"a": _reg("a", "1.0.0"), **legacy_only},
        }
    )
    result = parse_npm_lockfile(lock)
    assert (result.format, [r["name"] for r in result.rows]) == ("npm-lock-v2", ["a"])


def test_v2_without_packages_falls_back_to_legacy_block_like_npm() -> None:
    lock = _bytes({"lockfileVersion": 2, "dependencies": {"a": _reg("a", "1.0.0")}})
    result = parse_npm_lockfile(lock)
    assert (result.format, [r["name"] for r in result.rows]) == ("npm-lock-v2", ["a"])


@pytest.mark.parametrize(
    "lock",
    [
        b'{"lockfileVersion": 1}',
        b'{"lockfileVersion": 1, "dependencies": {}}',
        b'{"lockfileVersion": 2, "packages": {}, "dependencies": {}}',
        b'{"lockfileVersion": 3, "packages": {"": {"name": "fresh", "version": "1.0.0"}}}',
        b'{"lockfileVersion": 3, "packages": {"": {"workspaces": ["p/*"]}, "p/a": {"name": "a"},'
        b' "node_modules/a": {"resolved": "p/a", "link": true}}}',
    ],
)
def test_empty_lockfiles_give_no_rows(lock: bytes) -> None:
    # Case 09's kind: no placeholder rows, no root row.
    assert parse_npm_lockfile(lock).rows == []


def test_prerelease_version_is_verbatim() -> None:
    # Case 27's kind (the parser's part): versions are never normalised.
    lock = _v3({"": {"dependencies": {"m": "^1"}}, "node_modules/m": _reg("m", "1.4.5-lts.1+b.7")})
    assert parse_npm_lockfile(lock).rows[0]["version"] == "1.4.5-lts.1+b.7"


# --- flags, resolution and origins -------------------------------------------------------------


def test_dev_optional_and_dev_optional_flags() -> None:
    lock = _v3(
        {
            "": {"dependencies": {"p": "1"}, "devDependencies": {"d": "1"}},
            "node_modules/p": _reg("p", "1.0.0", optionalDependencies={"fs": "1"}),
            "node_modules/d": _reg("d", "1.0.0", dev=True, dependencies={"fs": "1"}),
            "node_modules/fs": _reg("fs", "1.0.0", devOptional=True),
            "node_modules/do": _reg("do", "1.0.0", dev=True, optional=True),
        }
    )
    flags = {
        p: (r["dev"], r["optional"]) for p, r in _by_path(parse_npm_lockfile(lock).rows).items()
    }
    assert flags == {
        "node_modules/p": (False, False),
        "node_modules/d": (True, False),
        # the overlap of dev and optional trees: a production install still installs it
        "node_modules/fs": (False, True),
        "node_modules/do": (True, True),
    }


def test_resolution_prefers_the_nearest_node_modules() -> None:
    lock = _v3(
        {
            "": {"dependencies": {"a": "1", "z": "1"}},
            "node_modules/a": _reg("a", "1.0.0", dependencies={"b": "1"}),
            "node_modules/a/node_modules/b": _reg("b", "1.0.0", dependencies={"x": "1", "y": "1"}),
            "node_modules/a/node_modules/x": _reg("x", "1.0.0"),
            "node_modules/x": _reg("x", "2.0.0"),
            "node_modules/y": _reg("y", "1.0.0"),
            "node_modules/z": _reg("z", "1.0.0", dependencies={"x": "2"}),
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    assert rows["node_modules/a/node_modules/x"]["dependency_path"] == "a > b > x"
    assert rows["node_modules/x"]["dependency_path"] == "z > x"
    assert rows["node_modules/y"]["dependency_path"] == "a > b > y"
    assert rows["node_modules/y"]["introducer"] == "a"


def test_shortest_path_wins_and_ties_are_stable() -> None:
    packages = {
        "": {"dependencies": {"b": "1", "a": "1"}},
        "node_modules/b": _reg("b", "1.0.0", dependencies={"c": "1"}),
        "node_modules/a": _reg("a", "1.0.0", dependencies={"c": "1", "d": "1"}),
        "node_modules/d": _reg("d", "1.0.0", dependencies={"e": "1"}),
        "node_modules/c": _reg("c", "1.0.0", dependencies={"e": "1"}),
        "node_modules/e": _reg("e", "1.0.0"),
    }
    rows = _by_path(parse_npm_lockfile(_v3(packages)).rows)
    assert rows["node_modules/c"]["dependency_path"] == "a > c"
    assert rows["node_modules/e"]["dependency_path"] == "a > c > e"
    reordered = dict(reversed(list(packages.items())))
    again = _by_path(parse_npm_lockfile(_v3(reordered)).rows)
    assert {p: r["dependency_path"] for p, r in again.items()} == {
        p: r["dependency_path"] for p, r in rows.items()
    }


def test_cycles_terminate() -> None:
    lock = _v3(
        {
            "": {"dependencies": {"a": "1"}},
            "node_modules/a": _reg("a", "1.0.0", dependencies={"b": "1"}),
            "node_modules/b": _reg(
                "b", "1.0.0", dependencies={"a": "1"}, peerDependencies={"b": "1"}
            ),
        }
    )
    rows = _by_path(parse_npm_lockfile(lock).rows)
    assert rows["node_modules/b"]["dependency_path"] == "a > b"


@pytest.mark.parametrize(
    ("resolved", "kind"),
    [
        (f"{REG}/@babel/core/-/core-7.17.0.tgz", "registry"),
        ("https://registry.yarnpkg.com/ms/-/ms-2.1.3.tgz", "registry"),
        ("https://acme.jfrog.io/artifactory/api/npm/npm/ms/-/ms-2.1.3.tgz", "registry"),
        ("https://npm.pkg.github.com/download/@acme/ms/2.1.3/0123abcd", "registry"),
        ("git+ssh://git@github.com/acme/ms.git#0123456789abcdef0123456789abcdef01234567", "git"),
        ("git+https://github.com/acme/ms.git#v2", "git"),
        ("github:acme/ms#v2", "git"),
        ("https://codeload.github.com/acme/ms/tar.gz/0123456", "tarball"),
        ("https://example.com/downloads/ms-2.1.3.tgz", "tarball"),
        ("file:vendor/ms-2.1.3.tgz", "file"),
        ("vendor/ms-2.1.3.tgz", "file"),
    ],
)
def test_origin_kind(resolved: str, kind: str) -> None:
    lock = _v3(
        {
            "": {"dependencies": {"ms": "2"}},
            "node_modules/ms": {"version": "2.1.3", "resolved": resolved},
        }
    )
    row = parse_npm_lockfile(lock).rows[0]
    assert (row["origin_kind"], row["resolved"]) == (kind, resolved)


@pytest.mark.parametrize(
    ("spec", "resolved", "kind"),
    [
        (
            "git+https://github.com/acme/ms.git#0123456",
            "git+https://github.com/acme/ms.git#0123456",
            "git",
        ),
        ("github:acme/ms#0123456", "github:acme/ms#0123456", "git"),
        ("acme/ms#0123456", "github:acme/ms#0123456", "git"),
        ("https://example.com/ms.tgz", "https://example.com/ms.tgz", "tarball"),
    ],
)
def test_v1_specs_in_version_are_not_versions(spec: str, resolved: str, kind: str) -> None:
    row = parse_npm_lockfile(_v1({"ms": {"version": spec}})).rows[0]
    assert (row["name"], row["version"], row["resolved"], row["origin_kind"]) == (
        "ms",
        "",
        resolved,
        kind,
    )


def test_v1_remote_tarball_version_from_file_name() -> None:
    row = parse_npm_lockfile(_v1({"ms": {"version": "https://example.com/ms-2.1.3.tgz"}})).rows[0]
    assert (row["version"], row["origin_kind"]) == ("2.1.3", "tarball")


def test_deep_v1_nesting_does_not_recurse() -> None:
    # 400 levels (800 JSON levels, under the decoder's limit) of nested blocks.
    depth = 400
    text = '{"lockfileVersion": 1, "dependencies": '
    for level in range(depth):
        text += f'{{"p{level}": {{"version": "1.0.{level}", "requires": {{"p{level + 1}": "*"}},'
        text += ' "dependencies": '
    text += "{}" + "}}" * depth + "}"
    rows = parse_npm_lockfile(text.encode(), manifest=b'{"dependencies": {"p0": "*"}}').rows
    assert len(rows) == depth
    assert rows[-1]["dependency_path"].count(" > ") == depth - 1


def test_v3_without_root_entry_knows_only_workspace_declarations() -> None:
    result = parse_npm_lockfile(
        _v3(
            {
                "packages/a": {"name": "a", "dependencies": {"x": "1"}},
                "node_modules/x": _reg("x", "1.0.0"),
                "node_modules/y": _reg("y", "1.0.0"),
            }
        )
    )
    rows = _by_path(result.rows)
    assert (rows["node_modules/x"]["direct"], rows["node_modules/y"]["direct"]) == (True, None)
    assert any("root entry" in w for w in result.warnings)


def test_key_inside_a_package_that_is_no_package_folder_is_reported() -> None:
    result = parse_npm_lockfile(
        _v3(
            {
                "": {"dependencies": {"x": "1"}},
                "node_modules/x": _reg("x", "1.0.0"),
                "node_modules/x/lib/sub": {"version": "1.0.0", "dependencies": {"y": "1"}},
            }
        )
    )
    assert [r["install_path"] for r in result.rows] == ["node_modules/x"]
    assert any("node_modules/x/lib/sub" in w for w in result.warnings)


def test_malformed_resolved_url_is_kept_as_a_non_registry_row() -> None:
    """Fuzzing found urlsplit's ValueError escaping on a bracketed host."""
    data = (
        b'{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},'
        b'"node_modules/a":{"version":"1.0.0","resolved":"http://[x/a.tgz"}}}'
    )
    rows = parse_npm_lockfile(data).rows
    assert [(r["name"], r["version"], r["origin_kind"]) for r in rows] == [
        ("a", "1.0.0", "tarball")
    ]
