"""Every input of ../shared/cases/lockfiles against its expected.json.

A case folder holds one lockfile or SBOM (09 holds several, one per sub-folder; 28 a ``project/``
tree). Each input is routed by its format to a parser registered in ``PARSERS`` (a file's
bytes) or ``TREE_READERS`` (a folder); a format without either is reported as a skip, so a later
parser plugs in by adding one entry.

Comparison follows the cases' README: one row per distinct ``name@version``; local sources
(``origin_kind == "file"``) are not part of any ``expected``; when one ``name@version`` is
installed in several places, it is dev only if every copy is dev and direct if any copy is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from ircore.inventory._bun import parse_bun_lockfile
from ircore.inventory._node_modules import read_node_modules
from ircore.inventory._npm import parse_npm_lockfile
from ircore.inventory._pnpm import parse_pnpm_lockfile
from ircore.inventory._sbom import parse_sbom
from ircore.inventory._yarn import parse_yarn_lockfile

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = SHARED / "cases" / "lockfiles"

# A parser gets the input's bytes and its package.json (when the folder has one) and returns
# inventory rows; only name, version, dev, direct and origin_kind are compared here.
Parser = Callable[[bytes, "bytes | None"], list[dict[str, Any]]]


def _npm(data: bytes, manifest: bytes | None) -> list[dict[str, Any]]:
    return parse_npm_lockfile(data, manifest=manifest).rows


PARSERS: dict[str, Parser] = {
    "npm": _npm,
    "pnpm": lambda data, manifest: parse_pnpm_lockfile(data, manifest=manifest).rows,
    "bun": lambda data, manifest: parse_bun_lockfile(data, manifest=manifest).rows,
    "yarn": lambda data, manifest: parse_yarn_lockfile(data, manifest=manifest).rows,
    "cyclonedx": lambda data, manifest: parse_sbom(data, manifest=manifest).rows,
    "spdx": lambda data, manifest: parse_sbom(data, manifest=manifest).rows,
}
# A folder input (28's project/) is read as a tree from its path.
TREE_READERS: dict[str, Callable[[Path], list[dict[str, Any]]]] = {
    "node_modules": lambda path: read_node_modules(path).rows,
}

# File name -> format; anything not listed is not an input of a case.
FORMAT_BY_NAME = {
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
    "bun.lock": "bun",
    "bun.lockb": "bun",
}


class CaseInput(NamedTuple):
    case: Path
    path: Path
    format: str


def _format_of(path: Path) -> str | None:
    if path.is_dir():
        return "node_modules" if (path / "node_modules").is_dir() else None
    if path.name in FORMAT_BY_NAME:
        return FORMAT_BY_NAME[path.name]
    if path.name.endswith((".cdx.json", ".cdx.xml")):
        return "cyclonedx"
    if path.name.endswith(".spdx.json"):
        return "spdx"
    return None


def _case_inputs(case: Path) -> list[CaseInput]:
    found: list[CaseInput] = []
    for child in sorted(case.iterdir()):
        fmt = _format_of(child)
        if fmt is not None:
            found.append(CaseInput(case, child, fmt))
        elif child.is_dir():
            # 09 keeps one lockfile per sub-folder.
            found.extend(
                CaseInput(case, grandchild, fmt)
                for grandchild in sorted(child.iterdir())
                if (fmt := _format_of(grandchild)) is not None
            )
    return found


def _all_inputs() -> list[Any]:
    if not CASES.is_dir():
        return [pytest.param(None, id="no-shared-cases")]
    params: list[Any] = []
    for case in sorted(p for p in CASES.iterdir() if (p / "expected.json").is_file()):
        inputs = _case_inputs(case)
        assert inputs, f"{case.name} has no input this runner recognises"
        params.extend(
            pytest.param(item, id=item.path.relative_to(CASES).as_posix()) for item in inputs
        )
    return params


def _merge(values: Iterable[bool | None], *, any_true: bool) -> bool | None:
    """Merge one flag over the copies of a name@version; unknown (None) only if nothing decides."""
    seen = list(values)
    decisive = any_true  # direct: any True copy decides; dev: any False (prod) copy decides
    if decisive in seen:
        return decisive
    if None in seen:
        return None
    return not decisive


def distinct_rows(
    rows: Iterable[Mapping[str, Any]],
) -> set[tuple[str, str, bool | None, bool | None]]:
    """(name, version, dev, direct) per distinct name@version, as the cases' README defines."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        if row.get("origin_kind") == "file":
            continue  # local sources are excluded from every expected list
        groups.setdefault((row["name"], row["version"]), []).append(row)
    return {
        (
            name,
            version,
            _merge((r["dev"] for r in copies), any_true=False),
            _merge((r["direct"] for r in copies), any_true=True),
        )
        for (name, version), copies in groups.items()
    }


def _expected(case: Path) -> set[tuple[str, str, bool | None, bool | None]]:
    spec = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    rows = [(r["name"], r["version"], r["dev"], r["direct"]) for r in spec["expected"]]
    pairs = [(name, version) for name, version, _, _ in rows]
    assert len(pairs) == len(set(pairs)), f"{case.name}/expected.json repeats a name@version"
    return set(rows)


@pytest.mark.parametrize("item", _all_inputs())
def test_case(item: CaseInput | None) -> None:
    if item is None:
        pytest.skip(f"{CASES} is not present")
    tree_reader = TREE_READERS.get(item.format)
    parser = PARSERS.get(item.format)
    if tree_reader is not None:
        rows = tree_reader(item.path)
    elif parser is not None:
        manifest_path = item.path.with_name("package.json")
        manifest = manifest_path.read_bytes() if manifest_path.is_file() else None
        rows = parser(item.path.read_bytes(), manifest)
    else:
        pytest.skip(f"format not supported yet: {item.format} ({item.path.name})")

    actual = distinct_rows(rows)
    expected = _expected(item.case)
    missing = sorted(expected - actual, key=str)
    unexpected = sorted(actual - expected, key=str)
    assert not missing and not unexpected, (
        f"{item.path.relative_to(CASES)}:\n  missing {missing}\n  unexpected {unexpected}"
    )


def test_merge_rules() -> None:
    # The README's collapse rules, checked on their own: prod beats dev, direct beats transitive.
    rows: list[dict[str, Any]] = [
        {"name": "a", "version": "1", "dev": True, "direct": False},
        {"name": "a", "version": "1", "dev": False, "direct": False},
        {"name": "b", "version": "1", "dev": True, "direct": True},
        {"name": "b", "version": "1", "dev": True, "direct": None},
        {"name": "c", "version": "1", "dev": None, "direct": None},
        {"name": "c", "version": "1", "dev": True, "direct": False},
        {"name": "d", "version": "1", "dev": False, "direct": False, "origin_kind": "file"},
    ]
    assert distinct_rows(rows) == {
        ("a", "1", False, False),
        ("b", "1", True, True),
        ("c", "1", None, None),
    }
