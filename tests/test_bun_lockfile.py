"""The bun.lock parser: bun's own reading of a real lockfile, the shared case, and one regression
test per fault kind on small lockfiles written here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircore._errors import InputError
from ircore._frames import new_frame, validate
from ircore.inventory._bun import parse_bun_lockfile
from tests._shared import raises_kind
from tests._shared import shared_path as _shared

ORACLE = Path(__file__).resolve().parent / "oracle" / "pnpm_bun_counts.json"
HASH = "sha512-" + "B" * 86 + "=="


def _raises(data: bytes, kind: str) -> InputError:
    return raises_kind(parse_bun_lockfile, data, kind)


def _by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["install_path"]: row for row in rows}


def _digest(values: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()


# --- bun's own reading of the corpus (tests/oracle/count_pnpm_bun.mjs) --------------------------


def _oracle() -> dict[str, Any]:
    return json.loads(ORACLE.read_text(encoding="utf-8"))["bun_lock"]


@pytest.mark.parametrize("relative", sorted(_oracle()))
def test_corpus_matches_bun(relative: str) -> None:
    expected = _oracle()[relative]
    data = _shared(relative).read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected["sha256"], (
        f"{relative} changed; regenerate tests/oracle/pnpm_bun_counts.json"
    )
    result = parse_bun_lockfile(data)
    rows = result.rows
    assert result.format == "bun-lock-v1"
    # `bun pm ls` prints a registry package's version and any other package's resolution.
    printed = [
        f"{r['install_path']}@{r['version'] if r['origin_kind'] == 'registry' else r['resolved']}"
        for r in rows
    ]
    assert len(rows) == expected["entries"]
    assert _digest(printed) == expected["path_version_sha256"]
    prod = [p for p, r in zip(printed, rows, strict=True) if r["dev"] is False]
    assert len(prod) == expected["entries_prod"]
    assert _digest(prod) == expected["prod_path_version_sha256"]
    root_direct = sorted(
        r["install_path"] for r in rows if r["direct"] and ": " not in r["dependency_path"]
    )
    assert root_direct == expected["root_direct"]
    assert not result.warnings


def test_corpus_rows_fit_inventory_schema_and_paths_hold_together() -> None:
    data = _shared("corpus/lockfiles/hono/bun-lock/bun.lock").read_bytes()
    rows = parse_bun_lockfile(data).rows
    frame = validate(new_frame("inventory", rows), "inventory")
    assert len(frame) == len(rows)
    by_path = _by_path(rows)
    for row in rows:
        chain = row["dependency_path"].split(" > ")
        assert chain[0] == row["introducer"]
        parts = row["install_path"].split("/")
        install_name = (
            "/".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1] == "@" else parts[-1]
        )
        assert chain[-1] == install_name == (row["alias"] or row["name"])
        # A nested entry is installed for its parent path, which is reached too.
        parent = row["install_path"][: -len(install_name)].rstrip("/")
        if parent:
            assert by_path[parent]["dependency_path"] is not None


# --- the shared case ----------------------------------------------------------------------------


def test_case_24_nested_paths_and_alias() -> None:
    case = _shared("cases/lockfiles/24-bun-lock-nested-path-keys")
    spec = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    rows = parse_bun_lockfile((case / "bun.lock").read_bytes()).rows
    # Each name@version is installed once here, so rows compare one to one.
    assert sorted((r["name"], r["version"], r["dev"], r["direct"]) for r in rows) == sorted(
        (e["name"], e["version"], e["dev"], e["direct"]) for e in spec["expected"]
    )
    by_path = _by_path(rows)
    assert (by_path["sucrase/glob"]["name"], by_path["sucrase/glob"]["version"]) == (
        "glob",
        "10.4.5",
    )
    # glob@10 asks for minimatch ^9: found at sucrase/minimatch, not the top-level 10.1.1.
    assert by_path["sucrase/minimatch"]["dependency_path"] == "sucrase > glob > minimatch"
    alias = by_path["string-width-cjs"]
    assert (alias["name"], alias["alias"], alias["dependency_path"]) == (
        "string-width",
        "string-width-cjs",
        "string-width-cjs",
    )


# --- every kind of entry ------------------------------------------------------------------------

WORKSPACE_LOCK = f"""{{
  // written by hand in bun's layout
  "lockfileVersion": 2,
  "configVersion": 1,
  "workspaces": {{
    "": {{
      "name": "root",
      "dependencies": {{
        "from-github": "github:user/from-github#abc123",
        "from-git": "git+https://example.com/org/from-git.git#def456",
        "local-folder": "file:./local-folder",
        "local-link": "link:local-link",
        "ms": "2.1.3",
        "ms-old": "npm:ms@2.0.0",
        "vendored": "./vendor/vendored-1.2.3.tgz",
        "web-tgz": "https://example.com/dl/web-tgz-2.0.0.tgz",
      }},
      "devDependencies": {{
        "debug": "2.6.9",
      }},
      "optionalDependencies": {{
        "fsevents": "2.3.3",
      }},
    }},
    "packages/app": {{
      "name": "@acme/app",
      "version": "1.0.0",
      "dependencies": {{
        "lib": "workspace:*",
        "ms": "2.0.0",
        "react-thing": "1.0.0",
      }},
      "devDependencies": {{
        "has-flag": "3.0.0",
      }},
    }},
    "packages/lib": {{
      "name": "lib",
      "version": "0.1.0",
      "dependencies": {{
        "supports-color": "7.2.0",
      }},
    }},
  }},
  "packages": {{
    "@acme/app": ["@acme/app@workspace:packages/app"],

    "debug": ["debug@2.6.9", "", {{ "dependencies": {{ "ms": "2.0.0" }} }}, "{HASH}"],

    "from-git": ["from-git@git+https://example.com/org/from-git.git#def456", {{}}, "def456"],

    "from-github": ["from-github@github:user/from-github#abc123", {{ "dependencies": {{ "ms": "^2.1.0" }} }}, "user-from-github-abc123"],

    "fsevents": ["fsevents@2.3.3", "", {{ "os": "darwin" }}, "{HASH}"],

    "has-flag": ["has-flag@3.0.0", "", {{}}, "{HASH}"],

    "lib": ["lib@workspace:packages/lib"],

    "local-folder": ["local-folder@file:local-folder", {{ "dependencies": {{ "tiny": "1.0.0" }} }}],

    "local-link": ["local-link@link:local-link", {{}}],

    "ms": ["ms@2.1.3", "https://registry.example.com/ms/-/ms-2.1.3.tgz", {{}}, "{HASH}"],

    "ms-old": ["ms@2.0.0", "", {{}}, "{HASH}"],

    "react-thing": ["react-thing@1.0.0", "", {{ "peerDependencies": {{ "react": "*", "react-dom": "*" }}, "optionalPeers": ["react-dom"] }}, "{HASH}"],

    "supports-color": ["supports-color@7.2.0", "", {{ "dependencies": {{ "has-flag": "^4.0.0" }} }}, "{HASH}"],

    "tiny": ["tiny@1.0.0", "", {{ "dependencies": {{ "bundled-dep": "1.0.0" }} }}, "{HASH}"],

    "tiny/bundled-dep": ["bundled-dep@1.0.0", "", {{ "bundled": true }}, "{HASH}"],

    "vendored": ["vendored@./vendor/vendored-1.2.3.tgz", {{}}, "{HASH}"],

    "web-tgz": ["web-tgz@https://example.com/dl/web-tgz-2.0.0.tgz", {{}}, "{HASH}"],

    "@acme/app/ms": ["ms@2.0.0", "", {{}}, "{HASH}"],

    "debug/ms": ["ms@2.0.0", "", {{}}, "{HASH}"],

    "supports-color/has-flag": ["has-flag@4.0.0", "", {{}}, "{HASH}"],
  }}
}}
"""


def test_every_resolution_kind_workspaces_and_flags() -> None:
    result = parse_bun_lockfile(WORKSPACE_LOCK.encode())
    assert result.format == "bun-lock-v2"
    rows = _by_path(result.rows)
    # Workspaces, file: folders and links are the project's own source.
    assert not {"@acme/app", "lib", "local-folder", "local-link"} & set(rows)
    kinds = {path: (r["name"], r["version"], r["origin_kind"]) for path, r in rows.items()}
    assert kinds["from-github"] == ("from-github", "", "git")
    assert kinds["from-git"] == ("from-git", "", "git")
    assert kinds["vendored"] == ("vendored", "1.2.3", "file")
    assert kinds["web-tgz"] == ("web-tgz", "2.0.0", "tarball")
    assert kinds["ms-old"] == ("ms", "2.0.0", "registry")
    assert rows["ms"]["resolved"] == "https://registry.example.com/ms/-/ms-2.1.3.tgz"
    assert rows["ms-old"]["resolved"] is None and rows["ms-old"]["alias"] == "ms-old"
    assert rows["from-github"]["resolved"] == "github:user/from-github#abc123"
    # A workspace's own copy lives under its package key and is reached from that workspace.
    app_ms = rows["@acme/app/ms"]
    assert (app_ms["direct"], app_ms["dev"], app_ms["dependency_path"]) == (
        True,
        False,
        "packages/app: ms",
    )
    assert rows["supports-color/has-flag"]["dependency_path"] == (
        "packages/lib: supports-color > has-flag"
    )
    # dev: only devDependencies reach it, from the root or from a workspace.
    assert {p for p, r in rows.items() if r["dev"]} == {"debug", "debug/ms", "has-flag"}
    # optional: only optional edges reach it.
    assert rows["fsevents"]["optional"] is True and rows["ms"]["optional"] is False
    # what a file: folder depends on is installed, found through the folder.
    assert rows["tiny"]["dependency_path"] == "local-folder > tiny"
    assert rows["tiny/bundled-dep"]["bundled"] is True
    assert rows["ms"]["dependency_path"] == "ms"
    # react is a required peer nobody installed: said, not hidden; react-dom is an optional peer.
    assert len(result.warnings) == 1
    assert "react-thing > react'" in result.warnings[0]


def test_unreached_entries_have_unknown_flags() -> None:
    lock = {
        "lockfileVersion": 1,
        "workspaces": {"": {"name": "x", "dependencies": {"a": "1.0.0"}}},
        "packages": {
            "a": ["a@1.0.0", "", {}, HASH],
            "stray": ["stray@9.9.9", "", {}, HASH],
        },
    }
    result = parse_bun_lockfile(json.dumps(lock).encode())
    stray = _by_path(result.rows)["stray"]
    assert (stray["dev"], stray["optional"], stray["direct"], stray["dependency_path"]) == (
        None,
        None,
        False,
        None,
    )
    assert any("1 packages are not reached" in w for w in result.warnings)


def test_scoped_nested_paths_resolve_through_scopes() -> None:
    lock = {
        "lockfileVersion": 1,
        "workspaces": {"": {"dependencies": {"@s/top": "1.0.0"}}},
        "packages": {
            "@s/top": ["@s/top@1.0.0", "", {"dependencies": {"@s/mid": "1.0.0"}}, HASH],
            "@s/top/@s/mid": ["@s/mid@1.0.0", "", {"dependencies": {"leaf": "1.0.0"}}, HASH],
            "@s/top/leaf": ["leaf@1.0.0", "", {}, HASH],
            "leaf": ["leaf@2.0.0", "", {}, HASH],
        },
    }
    rows = _by_path(parse_bun_lockfile(json.dumps(lock).encode()).rows)
    # @s/top/@s/mid asks for leaf: @s/top/@s/mid/leaf is absent, so @s/top/leaf (not ./leaf).
    assert rows["@s/top/leaf"]["dependency_path"] == "@s/top > @s/mid > leaf"
    assert rows["leaf"]["dependency_path"] is None
    assert rows["@s/top/@s/mid"]["name"] == "@s/mid"


# --- JSONC --------------------------------------------------------------------------------------


def test_comments_and_trailing_commas_but_not_inside_strings() -> None:
    text = """{
  /* block
     comment */ "lockfileVersion": 1, // line comment
  "workspaces": { "": { "dependencies": { "a": "1.0.0", }, }, },
  "packages": {
    "a": ["a@1.0.0", "https://r.example.com/a//-/a-1.0.0.tgz?x=,}", {}, "sha512-/*x*/",],
  },
}
"""
    rows = parse_bun_lockfile(text.encode()).rows
    assert [(r["name"], r["resolved"]) for r in rows] == [
        ("a", "https://r.example.com/a//-/a-1.0.0.tgz?x=,}")
    ]


def test_crlf_and_byte_order_mark_are_accepted() -> None:
    data = _shared("cases/lockfiles/24-bun-lock-nested-path-keys/bun.lock").read_bytes()
    windows = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    assert parse_bun_lockfile(windows).rows == parse_bun_lockfile(data).rows


# --- faults ------------------------------------------------------------------------------------


def test_bun_lockb_is_refused_with_a_way_forward() -> None:
    lockb = b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x02\x00\x00\x00\x00\x00\x00\x00\xff"
    error = _raises(lockb, "unsupported")
    assert "bun.lockb" in error.message and "--save-text-lockfile" in error.message


def test_not_text() -> None:
    _raises(b'{"lockfileVersion": 1, "x": "\xff"}', "not-text")
    _raises('{"lockfileVersion": 1}'.encode("utf-16"), "not-text")
    _raises(b'{"lockfileVersion": 1,\n"\x00"}', "not-text")


@pytest.mark.parametrize("data", [b"", b"  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_truncated(data: bytes) -> None:
    _raises(data, "truncated")


def test_every_truncation_is_reported_as_truncated() -> None:
    data = _shared("cases/lockfiles/24-bun-lock-nested-path-keys/bun.lock").read_bytes()
    end = len(data.rstrip())
    for cut in range(1, end, 11):
        with pytest.raises(InputError) as info:
            parse_bun_lockfile(data[:cut])
        assert info.value.kind == "truncated", (cut, info.value.message)


def test_unterminated_block_comment_is_truncated() -> None:
    error = _raises(b'{"lockfileVersion": 1,\n/* never closed', "truncated")
    assert "line 2" in error.message


def test_syntax_error_names_line_and_column() -> None:
    error = _raises(b'{\n  "lockfileVersion": 1\n  "packages": {}\n}\n', "not-json")
    assert "line 3" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '"bun"',
        '{"packages": {}}',
        '{"lockfileVersion": 3, "packages": {}}',
        '{"lockfileVersion": "1"}',
        '{"lockfileVersion": true}',
        "[" * 2000 + "]" * 2000,
    ],
)
def test_not_a_supported_bun_lockfile(text: str) -> None:
    _raises(text.encode(), "unsupported")


@pytest.mark.parametrize(
    ("packages", "needle"),
    [
        ({"a": "a@1.0.0"}, "packages['a'] is not an array"),
        ({"a": []}, "packages['a'] is not an array"),
        ({"a": ["nameless"]}, "names no package"),
        ({"a": ["a@1.0.0", "", "info?", HASH]}, "packages['a'][2] is a JSON string"),
        ({"a": ["a@1.0.0", 7, {}, HASH]}, "packages['a'][1] is a JSON number"),
        ({"a": ["a@1.0.0", "", {"dependencies": []}, HASH]}, "dependencies is a JSON array"),
    ],
)
def test_structures_bun_does_not_write_are_invalid(packages: dict[str, Any], needle: str) -> None:
    lock = {"lockfileVersion": 1, "workspaces": {"": {}}, "packages": packages}
    error = _raises(json.dumps(lock).encode(), "invalid")
    assert needle in error.message


def test_workspaces_must_be_an_object() -> None:
    error = _raises(b'{"lockfileVersion": 1, "workspaces": [], "packages": {}}', "invalid")
    assert "workspaces" in error.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_input_error(data: bytes) -> None:
    try:
        parse_bun_lockfile(data)
    except InputError as exc:
        assert exc.kind in {"truncated", "not-text", "not-json", "invalid", "unsupported"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list('{}[]",:/*@ \n\\ab01')), max_size=200))
def test_random_jsonc_like_text_raises_only_input_error(text: str) -> None:
    try:
        parse_bun_lockfile(('{"lockfileVersion": 1, ' + text).encode())
    except InputError as exc:
        assert exc.kind in {"truncated", "not-text", "not-json", "invalid", "unsupported"}


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(["", "1.0.0", "x"]))
_SPECS = st.sampled_from(
    [
        "a@1.0.0",
        "@s/b@2.0.0",
        "c@github:u/r#1",
        "d@workspace:p",
        "e@file:f",
        "f@./f-1.0.0.tgz",
        "g@https://x.test/g.tgz",
        "@",
        "h@root:",
    ]
)
_INFOS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "dependencies": st.dictionaries(st.sampled_from(["a", "@s/b", "c"]), _SCALARS),
            "optionalDependencies": st.dictionaries(st.sampled_from(["a", "g"]), _SCALARS),
            "peerDependencies": st.dictionaries(st.sampled_from(["a", "x"]), _SCALARS),
            "optionalPeers": st.one_of(st.lists(st.sampled_from(["x", "a"])), _SCALARS),
            "bundled": st.booleans(),
        },
    ),
    _SCALARS,
)
_ENTRIES = st.one_of(
    st.tuples(_SPECS, st.sampled_from(["", "https://r.test/"]), _INFOS, st.just(HASH)).map(list),
    st.tuples(_SPECS, _INFOS).map(list),
    st.tuples(_SPECS).map(list),
    _SCALARS,
)
_BUN_LOCKFILES = st.fixed_dictionaries(
    {"lockfileVersion": st.sampled_from([0, 1, 2])},
    optional={
        "workspaces": st.dictionaries(
            st.sampled_from(["", "p", "q"]),
            st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "name": st.sampled_from(["d", "root", "@s/b"]),
                        "dependencies": st.dictionaries(st.sampled_from(["a", "d", "g"]), _SCALARS),
                        "devDependencies": st.dictionaries(st.sampled_from(["c", "f"]), _SCALARS),
                    },
                ),
                _SCALARS,
            ),
        ),
        "packages": st.dictionaries(
            st.sampled_from(["a", "@s/b", "c", "d", "a/c", "@s/b/a", "g", "f", "a/@s/b"]),
            _ENTRIES,
        ),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_BUN_LOCKFILES)
def test_plausible_lockfiles_give_rows_or_input_error(lock: dict[str, Any]) -> None:
    try:
        result = parse_bun_lockfile(json.dumps(lock).encode())
    except InputError as exc:
        assert exc.kind in {"invalid", "unsupported"}
        return
    for row in result.rows:
        assert isinstance(row["name"], str) and isinstance(row["version"], str)
        assert row["origin_kind"] in {"registry", "git", "tarball", "file"}
        assert row["dev"] in (True, False, None)
