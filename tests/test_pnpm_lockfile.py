"""The pnpm lockfile parser: pnpm's own reading of real lockfiles, the shared cases, and one
regression test per fault kind on small lockfiles written here."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircore._errors import InputError
from ircore._frames import INVENTORY, new_frame, validate
from ircore.inventory._pnpm import parse_pnpm_lockfile
from tests._shared import SHARED, raises_kind
from tests._shared import shared_path as _shared

CASES = SHARED / "cases" / "lockfiles"
ORACLE = Path(__file__).resolve().parent / "oracle" / "pnpm_bun_counts.json"
TOOLING_PREFIXES = ("packageManagerDependencies: ", "configDependencies: ")
INTEGRITY = "sha512-" + "A" * 86 + "=="


def _parse(text: str) -> Any:
    return parse_pnpm_lockfile(text.encode())


def _raises(data: bytes, kind: str) -> InputError:
    return raises_kind(parse_pnpm_lockfile, data, kind)


def _by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["install_path"]: row for row in rows}


def _chain(row: dict[str, Any]) -> list[str]:
    """The install names of a dependency path, without its importer or tooling prefix."""
    path = row["dependency_path"]
    if ": " in path:
        path = path.split(": ", 1)[1]
    return path.split(" > ")


def _digest(values: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()


# --- pnpm's own reading of the corpus (tests/oracle/count_pnpm_bun.mjs) --------------------------


def _oracle() -> dict[str, Any]:
    return json.loads(ORACLE.read_text(encoding="utf-8"))["pnpm"]


def _check_part(rows: list[dict[str, Any]], expected: dict[str, Any], *, tooling: bool) -> None:
    pairs = {f"{r['name']}@{r['version']}" for r in rows}
    assert len(pairs) == expected["distinct_name_version"]
    assert _digest(pairs) == expected["name_version_sha256"]
    lengths = Counter(str(len(_chain(r))) if r["dependency_path"] else "unreached" for r in rows)
    assert dict(lengths) == expected["depth_histogram"]
    first = {f"{r['name']}@{r['version']}" for r in rows if len(_chain(r)) == 1}
    assert _digest(first) == expected["direct_name_version_sha256"]
    if tooling:
        # Tooling belongs to no manifest: neither dev nor prod, nor direct.
        assert all(r["dev"] is None and r["direct"] is None for r in rows)
        return
    prod = {f"{r['name']}@{r['version']}" for r in rows if r["dev"] is False}
    assert len(prod) == expected["distinct_prod_name_version"]
    assert _digest(prod) == expected["prod_name_version_sha256"]
    direct = {f"{r['name']}@{r['version']}" for r in rows if r["direct"]}
    assert len(direct) == expected["distinct_direct_name_version"]
    assert _digest(direct) == expected["direct_name_version_sha256"]


@pytest.mark.parametrize("relative", sorted(_oracle()))
def test_corpus_matches_pnpm(relative: str) -> None:
    expected = _oracle()[relative]
    data = _shared(relative).read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected["sha256"], (
        f"{relative} changed; regenerate tests/oracle/pnpm_bun_counts.json"
    )
    result = parse_pnpm_lockfile(data)
    assert result.format == f"pnpm-v{expected['lockfileVersion']}"
    tooling = [r for r in result.rows if (r["dependency_path"] or "").startswith(TOOLING_PREFIXES)]
    project = [r for r in result.rows if r not in tooling]
    # pnpm keeps one entry per peer variant; ircore one row per package: never more rows.
    assert len(project) <= expected["project"]["depPaths"]
    _check_part(project, expected["project"], tooling=False)
    if "tooling" in expected:
        _check_part(tooling, expected["tooling"], tooling=True)
        fields = ", ".join(expected["tooling"]["fields"])
        assert any(f"own tooling ({fields})" in w for w in result.warnings)
    else:
        assert not tooling


def test_corpus_rows_fit_inventory_schema() -> None:
    data = _shared("corpus/lockfiles/vuejs-core/pnpm-v9-multidoc/pnpm-lock.yaml").read_bytes()
    rows = parse_pnpm_lockfile(data).rows
    assert all(set(row) <= set(INVENTORY) and len(row) == 12 for row in rows)
    frame = validate(new_frame("inventory", rows), "inventory")
    assert len(frame) == len(rows)
    for row in rows:
        chain = _chain(row)
        assert chain[0] == row["introducer"]
        assert chain[-1] == (row["alias"] or row["name"])
        assert row["install_path"] == f"{row['name']}@{row['version']}"


def test_corpus_workspace_paths_name_their_importer() -> None:
    data = _shared("corpus/lockfiles/vuejs-core/pnpm-v9/pnpm-lock.yaml").read_bytes()
    rows = parse_pnpm_lockfile(data).rows
    prefixes = {
        r["dependency_path"].split(": ", 1)[0] for r in rows if ": " in r["dependency_path"]
    }
    assert prefixes and all(p.startswith("packages") for p in prefixes)


# --- the shared cases (README conventions) ------------------------------------------------------


def _distinct(rows: list[dict[str, Any]]) -> set[tuple[str, str, bool | None, bool | None]]:
    """One (name, version, dev, direct) per name@version: prod beats dev, direct beats not."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["origin_kind"] != "file":
            groups.setdefault((row["name"], row["version"]), []).append(row)
    out = set()
    for (name, version), copies in groups.items():
        devs = [r["dev"] for r in copies]
        directs = [r["direct"] for r in copies]
        dev = False if False in devs else (None if None in devs else True)
        direct = True if True in directs else (None if None in directs else False)
        out.add((name, version, dev, direct))
    return out


PNPM_CASES = [
    "18-pnpm-v5-underscore-peer-suffix",
    "20-pnpm-v9-snapshots-peer-variants",
    "21-pnpm-v9-dev-prod-across-importers",
    "23-pnpm-multi-document",
    "09-empty-lockfiles/pnpm-no-packages",
]


@pytest.mark.parametrize("case", PNPM_CASES)
def test_shared_case(case: str) -> None:
    lockfile = _shared(f"cases/lockfiles/{case}/pnpm-lock.yaml")
    spec = json.loads((CASES / case.split("/")[0] / "expected.json").read_text(encoding="utf-8"))
    expected = {(e["name"], e["version"], e["dev"], e["direct"]) for e in spec["expected"]}
    assert _distinct(parse_pnpm_lockfile(lockfile.read_bytes()).rows) == expected


def test_case_18_versions_lose_every_kind_of_peer_suffix() -> None:
    rows = parse_pnpm_lockfile(
        _shared("cases/lockfiles/18-pnpm-v5-underscore-peer-suffix/pnpm-lock.yaml").read_bytes()
    ).rows
    ids = _by_id(rows)
    assert ids["/acorn-jsx/5.3.2"]["version"] == "5.3.2"
    assert ids["/@babel/plugin-syntax-jsx/7.18.6"]["name"] == "@babel/plugin-syntax-jsx"
    assert ids["/ts-node/10.9.1"]["dependency_path"] == "ts-node"
    assert all("_" not in r["version"] for r in rows)


def test_case_20_peer_variants_are_one_row_reached_from_the_root_first() -> None:
    rows = parse_pnpm_lockfile(
        _shared("cases/lockfiles/20-pnpm-v9-snapshots-peer-variants/pnpm-lock.yaml").read_bytes()
    ).rows
    variants = [r for r in rows if r["name"] == "use-sync-external-store"]
    assert len(variants) == 1
    assert variants[0]["dependency_path"] == "use-sync-external-store"
    assert _by_id(rows)["react@17.0.2"]["dependency_path"] == "packages/legacy: react"
    assert "legacy" not in {r["name"] for r in rows}


# --- versions and keys --------------------------------------------------------------------------


def test_yaml_1_2_keeps_yes_no_on_off_as_names() -> None:
    # A YAML 1.1 loader reads these keys as True/False, and `yes`/`on` collide into one.
    names = ["yes", "no", "on", "off", "y", "n"]
    importer = "".join(
        f"      {n}:\n        specifier: 1.0.0\n        version: 1.0.0\n" for n in names
    )
    packages = "".join(f"  {n}@1.0.0:\n    resolution: {{integrity: {INTEGRITY}}}\n" for n in names)
    snapshots = "".join(f"  {n}@1.0.0: {{}}\n" for n in names)
    result = _parse(
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n"
        f"{importer}\npackages:\n\n{packages}\nsnapshots:\n\n{snapshots}"
    )
    assert sorted(r["name"] for r in result.rows) == sorted(names)
    assert all(r["direct"] is True and r["dev"] is False for r in result.rows)


V5_SINGLE = f"""lockfileVersion: 5.4

specifiers:
  '@scope/plugin': ^1.0.0
  cjs-width: npm:string-width@^4.2.3
  left-pad: ^1.3.0

dependencies:
  '@scope/plugin': 1.0.0_@scope+core@2.0.0
  cjs-width: /string-width/4.2.3
  left-pad: 1.3.0

packages:

  /@scope/core/2.0.0:
    resolution: {{integrity: {INTEGRITY}}}
    dev: false

  /@scope/plugin/1.0.0_@scope+core@2.0.0:
    resolution: {{integrity: {INTEGRITY}}}
    peerDependencies:
      '@scope/core': ^2.0.0
    dependencies:
      '@scope/core': 2.0.0
    dev: false

  /left-pad/1.3.0:
    resolution: {{integrity: {INTEGRITY}}}
    dev: false

  /string-width/4.2.3:
    resolution: {{integrity: {INTEGRITY}}}
    dev: false

  /orphan/0.1.0_5xvbkn6yhs6kpyxzw7rl2f3zia:
    resolution: {{integrity: {INTEGRITY}}}
    dev: true
"""


def test_v5_single_project_scoped_peer_suffix_alias_and_orphan() -> None:
    result = _parse(V5_SINGLE)
    assert result.format == "pnpm-v5.4"
    ids = _by_id(result.rows)
    plugin = ids["/@scope/plugin/1.0.0"]
    assert (plugin["name"], plugin["version"], plugin["direct"]) == ("@scope/plugin", "1.0.0", True)
    core = ids["/@scope/core/2.0.0"]
    assert core["dependency_path"] == "@scope/plugin > @scope/core" and core["direct"] is False
    alias = ids["/string-width/4.2.3"]
    assert (alias["name"], alias["alias"], alias["introducer"]) == (
        "string-width",
        "cjs-width",
        "cjs-width",
    )
    # Nothing reaches the orphan: its dev flag is the one pnpm wrote, and the analyst is told.
    orphan = ids["/orphan/0.1.0"]
    assert (orphan["version"], orphan["dev"], orphan["dependency_path"]) == ("0.1.0", True, None)
    assert any("not reached from any importer" in w for w in result.warnings)


V6 = f"""lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      is-negative:
        specifier: github:kevva/is-negative#1d7e288222b53a0cab90a331f1865220ec29560c
        version: github.com/kevva/is-negative/1d7e288222b53a0cab90a331f1865220ec29560c
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
      sw:
        specifier: npm:string-width@4.2.3
        version: /string-width@4.2.3
    devDependencies:
      react:
        specifier: ^18.2.0
        version: 18.2.0

packages:

  /react-dom@18.2.0(react@18.2.0):
    resolution: {{integrity: {INTEGRITY}}}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      react: 18.2.0
    dev: false

  /react@18.2.0:
    resolution: {{integrity: {INTEGRITY}}}
    dev: false

  /string-width@4.2.3:
    resolution: {{integrity: {INTEGRITY}}}
    dev: false

  github.com/kevva/is-negative/1d7e288222b53a0cab90a331f1865220ec29560c:
    resolution: {{tarball: https://codeload.github.com/kevva/is-negative/tar.gz/1d7e288222b53a0cab90a331f1865220ec29560c}}
    name: is-negative
    version: 2.1.0
    dev: false
"""


def test_v6_keys_peers_aliases_and_git_entries() -> None:
    result = _parse(V6)
    assert result.format == "pnpm-v6.0"
    ids = _by_id(result.rows)
    assert set(ids) == {
        "/react-dom@18.2.0",
        "/react@18.2.0",
        "/string-width@4.2.3",
        "github.com/kevva/is-negative/1d7e288222b53a0cab90a331f1865220ec29560c",
    }
    # react is a devDependency of the root but react-dom (prod) needs it: prod wins.
    react = ids["/react@18.2.0"]
    assert (react["dev"], react["direct"], react["dependency_path"]) == (False, True, "react")
    git = ids["github.com/kevva/is-negative/1d7e288222b53a0cab90a331f1865220ec29560c"]
    assert (git["name"], git["version"], git["origin_kind"]) == ("is-negative", "2.1.0", "git")
    assert git["resolved"].startswith("https://codeload.github.com/kevva/is-negative/")
    assert ids["/string-width@4.2.3"]["alias"] == "sw"


def _v9(importers: str, packages: str, snapshots: str, version: str = "9.0") -> str:
    return (
        f"lockfileVersion: '{version}'\n\nsettings:\n  autoInstallPeers: true\n\n"
        f"importers:\n\n{importers}\npackages:\n\n{packages}\nsnapshots:\n\n{snapshots}"
    )


def test_v9_origins_locals_aliases_and_patches() -> None:
    result = _parse(
        _v9(
            """  .:
    dependencies:
      cjs:
        specifier: npm:string-width@^4.2.0
        version: string-width@4.2.3
      from-git:
        specifier: github:user/from-git#abc
        version: https://codeload.github.com/user/from-git/tar.gz/abc
      local-dir:
        specifier: file:vendor/local-dir
        version: file:vendor/local-dir
      shared:
        specifier: workspace:*
        version: link:packages/shared
      vendored:
        specifier: file:vendor/vendored-1.0.0.tgz
        version: file:vendor/vendored-1.0.0.tgz
      via-ssh:
        specifier: git+ssh://git@example.com/org/via-ssh.git#def
        version: git+ssh://git@example.com/org/via-ssh.git#def
      web-tgz:
        specifier: https://example.com/files/web-tgz-2.0.0.tgz
        version: https://example.com/files/web-tgz-2.0.0.tgz
    devDependencies:
      patched:
        specifier: 1.0.0
        version: 1.0.0(patch_hash=3ufd2hfosdsgzsdghr3hf7j5sm)(react@18.2.0)

  packages/shared:
    dependencies:
      left-pad:
        specifier: ^1.3.0
        version: 1.3.0
""",
            f"""  from-git@https://codeload.github.com/user/from-git/tar.gz/abc:
    resolution: {{tarball: https://codeload.github.com/user/from-git/tar.gz/abc}}
    version: 0.3.0

  left-pad@1.3.0:
    resolution: {{integrity: {INTEGRITY}}}

  local-dir@file:vendor/local-dir:
    resolution: {{directory: vendor/local-dir, type: directory}}
    version: 0.0.1

  ms@2.1.3:
    resolution: {{integrity: {INTEGRITY}}}

  patched@1.0.0:
    resolution: {{integrity: {INTEGRITY}}}

  react@18.2.0:
    resolution: {{integrity: {INTEGRITY}}}

  string-width@4.2.3:
    resolution: {{integrity: {INTEGRITY}}}

  vendored@file:vendor/vendored-1.0.0.tgz:
    resolution: {{integrity: {INTEGRITY}, tarball: file:vendor/vendored-1.0.0.tgz}}
    version: 1.0.0

  via-ssh@git+ssh://git@example.com/org/via-ssh.git#def:
    resolution: {{commit: def, repo: 'git@example.com:org/via-ssh.git', type: git}}
    version: 4.0.0

  web-tgz@https://example.com/files/web-tgz-2.0.0.tgz:
    resolution: {{tarball: https://example.com/files/web-tgz-2.0.0.tgz}}
    version: 2.0.0
""",
            """  from-git@https://codeload.github.com/user/from-git/tar.gz/abc: {}

  left-pad@1.3.0: {}

  local-dir@file:vendor/local-dir:
    dependencies:
      ms: 2.1.3

  ms@2.1.3: {}

  patched@1.0.0(patch_hash=3ufd2hfosdsgzsdghr3hf7j5sm)(react@18.2.0):
    dependencies:
      react: 18.2.0

  react@18.2.0: {}

  string-width@4.2.3: {}

  vendored@file:vendor/vendored-1.0.0.tgz: {}

  via-ssh@git+ssh://git@example.com/org/via-ssh.git#def: {}

  web-tgz@https://example.com/files/web-tgz-2.0.0.tgz: {}
""",
        )
    )
    rows = result.rows
    by_name = {r["name"]: r for r in rows}
    # Local sources are not packages: the link and the directory give no row...
    assert "local-dir" not in by_name and "shared" not in by_name
    # ...but what the directory depends on is installed and found through it.
    assert by_name["ms"]["dependency_path"] == "local-dir > ms"
    assert by_name["left-pad"]["dependency_path"] == "packages/shared: left-pad"
    assert by_name["left-pad"]["direct"] is True and by_name["left-pad"]["dev"] is False
    assert {name: r["origin_kind"] for name, r in by_name.items()} == {
        "from-git": "git",
        "left-pad": "registry",
        "ms": "registry",
        "patched": "registry",
        "react": "registry",
        "string-width": "registry",
        "vendored": "file",
        "via-ssh": "git",
        "web-tgz": "tarball",
    }
    assert by_name["via-ssh"]["resolved"] == "git@example.com:org/via-ssh.git#def"
    assert (by_name["from-git"]["version"], by_name["web-tgz"]["version"]) == ("0.3.0", "2.0.0")
    assert (by_name["string-width"]["alias"], by_name["string-width"]["direct"]) == ("cjs", True)
    patched = by_name["patched"]
    assert (patched["version"], patched["install_path"], patched["dev"]) == (
        "1.0.0",
        "patched@1.0.0",
        True,
    )
    assert by_name["react"]["dependency_path"] == "patched > react"
    assert not result.warnings


def test_v9_optional_flags_and_unreached_packages() -> None:
    result = _parse(
        _v9(
            """  .:
    dependencies:
      esbuild:
        specifier: ^0.25.0
        version: 0.25.0
""",
            f"""  '@esbuild/linux-x64@0.25.0':
    resolution: {{integrity: {INTEGRITY}}}
    cpu: [x64]
    os: [linux]

  esbuild@0.25.0:
    resolution: {{integrity: {INTEGRITY}}}

  leftover@1.0.0:
    resolution: {{integrity: {INTEGRITY}}}
""",
            """  '@esbuild/linux-x64@0.25.0':
    optional: true

  esbuild@0.25.0:
    optionalDependencies:
      '@esbuild/linux-x64': 0.25.0

  leftover@1.0.0: {}
""",
        )
    )
    ids = _by_id(result.rows)
    assert ids["@esbuild/linux-x64@0.25.0"]["optional"] is True
    assert ids["@esbuild/linux-x64@0.25.0"]["dev"] is False
    assert ids["esbuild@0.25.0"]["optional"] is False
    # v9 records no dev flag: a package nothing reaches is neither dev nor prod as far as we know.
    leftover = ids["leftover@1.0.0"]
    assert (leftover["dev"], leftover["direct"], leftover["dependency_path"]) == (None, False, None)
    assert any("1 packages are not reached" in w for w in result.warnings)


def test_missing_entries_are_reported_not_dropped_silently() -> None:
    result = _parse(
        _v9(
            """  .:
    dependencies:
      a:
        specifier: 1.0.0
        version: 1.0.0
      gone:
        specifier: 1.0.0
        version: 1.0.0
""",
            f"  a@1.0.0:\n    resolution: {{integrity: {INTEGRITY}}}\n",
            "  a@1.0.0:\n    dependencies:\n      b: 2.0.0\n",
        )
    )
    assert [r["name"] for r in result.rows] == ["a"]
    assert any("2 dependency references point to entries missing" in w for w in result.warnings)


def test_multi_document_tooling_and_config_dependencies() -> None:
    env = f"""---
lockfileVersion: '9.0'

importers:

  .:
    configDependencies:
      '@acme/pnpm-config':
        specifier: 1.0.0
        version: 1.0.0
    packageManagerDependencies:
      '@pnpm/exe':
        specifier: 11.0.3
        version: 11.0.3

packages:

  '@acme/pnpm-config@1.0.0':
    resolution: {{integrity: {INTEGRITY}}}

  '@pnpm/exe@11.0.3':
    resolution: {{integrity: {INTEGRITY}}}

  '@pnpm/linux-x64@11.0.3':
    resolution: {{integrity: {INTEGRITY}}}

snapshots:

  '@acme/pnpm-config@1.0.0': {{}}

  '@pnpm/exe@11.0.3':
    optionalDependencies:
      '@pnpm/linux-x64': 11.0.3

  '@pnpm/linux-x64@11.0.3':
    optional: true

"""
    project = _v9(
        "  .:\n    devDependencies:\n      chalk:\n        specifier: 5.0.0\n        version: 5.0.0\n",
        f"  chalk@5.0.0:\n    resolution: {{integrity: {INTEGRITY}}}\n",
        "  chalk@5.0.0: {}\n",
    )
    result = _parse(env + "---\n" + project)
    assert result.format == "pnpm-v9.0"
    ids = _by_id(result.rows)
    assert ids["chalk@5.0.0"]["dev"] is True and ids["chalk@5.0.0"]["direct"] is True
    tooling = {k: v for k, v in ids.items() if k != "chalk@5.0.0"}
    assert set(tooling) == {"@acme/pnpm-config@1.0.0", "@pnpm/exe@11.0.3", "@pnpm/linux-x64@11.0.3"}
    assert all(r["dev"] is None and r["direct"] is None for r in tooling.values())
    assert tooling["@pnpm/linux-x64@11.0.3"]["dependency_path"] == (
        "packageManagerDependencies: @pnpm/exe > @pnpm/linux-x64"
    )
    assert tooling["@acme/pnpm-config@1.0.0"]["dependency_path"] == (
        "configDependencies: @acme/pnpm-config"
    )
    assert tooling["@pnpm/linux-x64@11.0.3"]["optional"] is True
    warning = next(w for w in result.warnings if "own tooling" in w)
    assert warning.startswith("YAML document 1 ") and " 3 packages " in warning
    # A loader that reads only one document sees either half: both must be there.
    assert len(_parse(project).rows) == 1


def test_runtime_entries_are_not_npm_packages() -> None:
    result = _parse(
        _v9(
            "  .:\n    devDependencies:\n      node:\n        specifier: runtime:22.0.0\n"
            "        version: runtime:22.0.0\n",
            "  node@runtime:22.0.0:\n    hasBin: true\n    resolution:\n      type: variations\n"
            "      variants: []\n    version: 22.0.0\n",
            "  node@runtime:22.0.0: {}\n",
        )
    )
    assert result.rows == []
    assert any("runtime" in w and "node" in w for w in result.warnings)


def test_crlf_and_byte_order_mark_are_accepted() -> None:
    data = _shared("cases/lockfiles/21-pnpm-v9-dev-prod-across-importers/pnpm-lock.yaml")
    text = data.read_bytes()
    plain = parse_pnpm_lockfile(text).rows
    windows = parse_pnpm_lockfile(b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")).rows
    assert windows == plain


def test_manifest_is_ignored() -> None:
    data = _shared("cases/lockfiles/21-pnpm-v9-dev-prod-across-importers/pnpm-lock.yaml")
    text = data.read_bytes()
    manifest = b'{"dependencies": {"chalk": "^4"}}'
    assert parse_pnpm_lockfile(text, manifest=manifest).rows == parse_pnpm_lockfile(text).rows


# --- faults ------------------------------------------------------------------------------------


def test_not_text() -> None:
    _raises(b"lockfileVersion: '9.0'\n\xff\xfe\x00", "not-text")
    _raises("lockfileVersion: '9.0'\n".encode("utf-16"), "not-text")
    error = _raises(b"lockfileVersion: '9.0'\nimporters:\x00\n", "not-text")
    assert "line 2" in error.message


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_truncated(data: bytes) -> None:
    _raises(data, "truncated")


def test_every_mid_line_cut_is_truncated_or_flagged() -> None:
    data = _shared("cases/lockfiles/20-pnpm-v9-snapshots-peer-variants/pnpm-lock.yaml").read_bytes()
    cuts = [c for c in range(1, len(data) - 1, 13) if data[c - 1 : c] != b"\n"]
    outcomes: Counter[str] = Counter()
    for cut in cuts:
        try:
            result = parse_pnpm_lockfile(data[:cut])
        except InputError as exc:
            assert exc.kind == "truncated", (cut, exc.kind, exc.message)
            outcomes["raised"] += 1
        else:
            # A cut that still parses is never presented as a complete, clean file.
            assert any("may be truncated" in w for w in result.warnings), cut
            outcomes["flagged"] += 1
    assert outcomes["raised"] > 0 and outcomes["flagged"] > 0


def test_yaml_syntax_error_names_the_line() -> None:
    error = _raises(
        b"lockfileVersion: '9.0'\nimporters:\n  .: {\n  broken: [\nsnapshots: {}\n", "invalid"
    )
    assert "line" in error.message


def test_duplicate_keys_are_invalid() -> None:
    error = _raises(b"lockfileVersion: '9.0'\nimporters:\n  .: {}\n  .: {}\n", "invalid")
    assert "line 4" in error.message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("lockfileVersion: '9.0'\npackages: [a, b]\n", "packages is a list"),
        ("lockfileVersion: '9.0'\nimporters:\n  .: 3\n", "importers['.'] is a number"),
        (
            "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a: {version: 1}\n",
            ".version is a number",
        ),
        ("lockfileVersion: '9.0'\nsnapshots:\n  1: {}\n", "number key"),
    ],
)
def test_structures_pnpm_does_not_write_are_invalid(text: str, needle: str) -> None:
    error = _raises(text.encode(), "invalid")
    assert needle in error.message


@pytest.mark.parametrize(
    "text",
    [
        "- a\n- b\n",
        "just a string\n",
        "name: app\nversion: 1.0.0\n",
        "lockfileVersion: '4.0'\n",
        "lockfileVersion: '7.0'\n",
        "lockfileVersion: true\n",
        "lockfileVersion: banana\n",
        "# only a comment\n",
    ],
)
def test_not_a_supported_pnpm_lockfile(text: str) -> None:
    _raises(text.encode(), "unsupported")


def test_nameless_entry_is_kept_under_its_key() -> None:
    result = _parse(
        "lockfileVersion: 5.4\ndependencies:\n  r: github.com/u/r/abc\npackages:\n"
        "  github.com/u/r/abc:\n    resolution: {tarball: https://codeload.github.com/u/r/tar.gz/abc}\n"
    )
    [row] = result.rows
    assert (row["name"], row["version"], row["origin_kind"]) == ("github.com/u/r/abc", "", "git")
    assert row["direct"] is True and row["alias"] == "r"
    assert any("no name field" in w for w in result.warnings)


def test_scalar_aliases_are_read() -> None:
    result = _parse(
        _v9(
            "  .:\n    dependencies:\n      a:\n        specifier: &v 1.0.0\n        version: *v\n",
            f"  a@1.0.0:\n    resolution: {{integrity: {INTEGRITY}}}\n",
            "  a@1.0.0: {}\n",
        )
    )
    assert [(r["name"], r["version"]) for r in result.rows] == [("a", "1.0.0")]


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 12):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        levels.append(f"a{n}: &a{n} [{refs}]")
    bomb = "lockfileVersion: '9.0'\n" + "\n".join(levels) + "\npackages: *a11\n"
    started = time.monotonic()
    error = _raises(bomb.encode(), "unsupported")
    # A generous sanity bound: expanding 9**11 items would take hours and gigabytes.
    assert time.monotonic() - started < 10
    assert "alias" in error.message and "line 3" in error.message


def test_deep_nesting_is_invalid_not_a_crash() -> None:
    _raises(b"lockfileVersion: '9.0'\npackages: " + b"[" * 5000 + b"\n", "invalid")
    _raises(b"lockfileVersion: '9.0'\nx: " + b"{a: " * 3000 + b"\n", "invalid")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_input_error(data: bytes) -> None:
    try:
        result = parse_pnpm_lockfile(data)
    except InputError as exc:
        assert exc.kind in {"truncated", "not-text", "invalid", "unsupported"}
    else:
        assert isinstance(result.rows, list)


_YAMLISH = st.text(
    alphabet=st.sampled_from(list("abc@/:._-()0123456789 \n'\"{}[],#&*!|>?%")), max_size=200
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_random_yamlish_text_after_a_valid_header_raises_only_input_error(tail: str) -> None:
    try:
        parse_pnpm_lockfile(f"lockfileVersion: '9.0'\n{tail}".encode())
    except InputError as exc:
        assert exc.kind in {"truncated", "not-text", "invalid", "unsupported"}


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["1.0.0", "a@1.0.0", "link:x", "file:y"]),
)
_KEYS = st.sampled_from(
    [
        "a",
        "a@1.0.0",
        "/a/1.0.0",
        "/a@1.0.0",
        "@s/a@1.0.0(b@1)",
        "dependencies",
        "version",
        "resolution",
        "optionalDependencies",
        "specifier",
        "tarball",
        "type",
        "name",
        "optional",
        "dev",
        ".",
    ]
)
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([5.4, "6.0", "9.0"]),
    st.dictionaries(
        st.sampled_from(["importers", "packages", "snapshots", "dependencies", "devDependencies"]),
        _TREES,
    ),
)
def test_random_lockfile_shapes_raise_only_input_error(
    version: float | str, body: dict[str, Any]
) -> None:
    # JSON is YAML 1.2: the shapes reach the structural checks without YAML syntax noise.
    text = json.dumps({"lockfileVersion": version, **body}) + "\n"
    try:
        result = parse_pnpm_lockfile(text.encode())
    except InputError as exc:
        assert exc.kind in {"invalid", "unsupported"}
    else:
        for row in result.rows:
            assert isinstance(row["name"], str) and isinstance(row["version"], str)


# Nearly valid v9 lockfiles, so that the graph and row code runs on odd but plausible input.
_NAMES = st.sampled_from(["a", "b", "@s/c", "yes"])
_REFS = st.one_of(
    st.sampled_from(
        ["1.0.0", "2.0.0", "link:x", "file:y", "a@1.0.0", "1.0.0(b@2.0.0)", "@s/c@1.0.0"]
    ),
    _SCALARS,
)
_DEP_MAPS = st.dictionaries(_NAMES, _REFS, max_size=3)
_IMPORTER_DEPS = st.dictionaries(
    _NAMES,
    st.one_of(_REFS, st.fixed_dictionaries({"specifier": st.just("^1.0.0"), "version": _REFS})),
    max_size=3,
)
_V9_KEYS = st.sampled_from(
    ["a@1.0.0", "a@2.0.0", "b@2.0.0", "@s/c@1.0.0", "a@1.0.0(b@2.0.0)", "a@file:y", "yes@1.0.0"]
)
_RESOLUTIONS = st.one_of(
    st.fixed_dictionaries({"integrity": st.just(INTEGRITY)}),
    st.fixed_dictionaries(
        {
            "tarball": st.sampled_from(
                [
                    "https://x.test/a-1.0.0.tgz",
                    "file:a.tgz",
                    "https://codeload.github.com/u/r/tar.gz/c",
                ]
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["git", "directory", "variations"]),
            "repo": st.just("r"),
            "commit": st.just("c"),
        }
    ),
    _SCALARS,
)
_V9_LOCKFILES = st.fixed_dictionaries(
    {"lockfileVersion": st.just("9.0")},
    optional={
        "importers": st.dictionaries(
            st.sampled_from([".", "packages/x"]),
            st.dictionaries(
                st.sampled_from(
                    [
                        "dependencies",
                        "devDependencies",
                        "optionalDependencies",
                        "configDependencies",
                    ]
                ),
                _IMPORTER_DEPS,
                max_size=3,
            ),
            max_size=2,
        ),
        "packages": st.dictionaries(
            _V9_KEYS,
            st.one_of(
                st.fixed_dictionaries({"resolution": _RESOLUTIONS}, optional={"version": _REFS}),
                _SCALARS,
            ),
            max_size=5,
        ),
        "snapshots": st.dictionaries(
            _V9_KEYS,
            st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "dependencies": _DEP_MAPS,
                        "optionalDependencies": _DEP_MAPS,
                        "optional": st.booleans(),
                    },
                ),
                _SCALARS,
            ),
            max_size=5,
        ),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_V9_LOCKFILES)
def test_plausible_v9_lockfiles_give_rows_or_input_error(lock: dict[str, Any]) -> None:
    try:
        result = parse_pnpm_lockfile((json.dumps(lock) + "\n").encode())
    except InputError as exc:
        assert exc.kind in {"invalid", "unsupported"}
        return
    for row in result.rows:
        assert isinstance(row["name"], str) and isinstance(row["version"], str)
        assert row["origin_kind"] in {"registry", "git", "tarball", "file"}
        if row["dependency_path"] is not None:
            assert _chain(row)[0] == row["introducer"]
