"""Edit npm lockfiles (v1 and v2/v3) the way npm itself would have resolved them on a given day.

The generator never invents a dependency tree: it starts from the seed lockfiles npm wrote and only
moves chalk/debug-family entries between versions. A move is made only when every package that
depends on the entry accepts the new version under npm's range rules, so a lockfile never claims a
resolution npm could not have produced (``~4.3.4`` never becomes 4.4.2, ``debug`` 2.6.9 under
express stays put).

:func:`pin_family`, :func:`plant` and :func:`fix` work on any *view* with the interface of
:class:`LockView` (``entries``, ``version``, ``accepts``, ``set_version``); the yarn, pnpm and bun
views live in ``_yarnlock``, ``_pnpmlock`` and ``_bunlock``. The helpers they share (placeholder
digests, the dev/direct reachability, known dependency ranges) are here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cmp_to_key
from pathlib import Path
from typing import Any, Protocol

from ircore import semver
from ircore._errors import InvalidRange, InvalidVersion
from ircore.demo._facts import BAD

SEED_DIR = Path(__file__).resolve().parent / "seed"
REGISTRY = "https://registry.npmjs.org"

#: Range kinds that are not registry semver ranges; their targets are never moved.
_NON_SEMVER_PREFIXES = ("file:", "link:", "workspace:", "git", "http:", "https:", "github:")


@dataclass(frozen=True)
class FamilyVersion:
    """A clean release of a family package as npm resolved it (entry) and when it appeared."""

    version: str
    published: datetime
    entry: dict[str, Any]


@cache
def family() -> dict[str, dict[str, FamilyVersion]]:
    """Return the clean family releases recorded in ``seed/family.json``.

    Returns
    -------
    dict
        ``{name: {version: FamilyVersion}}``; callers must not mutate the entries.
    """
    raw = json.loads((SEED_DIR / "family.json").read_text(encoding="utf-8"))
    return {
        name: {
            version: FamilyVersion(
                version, datetime.fromisoformat(info["published"]), info["entry"]
            )
            for version, info in versions.items()
        }
        for name, versions in raw.items()
    }


def tarball_url(name: str, version: str) -> str:
    """Return the registry tarball URL npm records in ``resolved`` for ``name@version``.

    Parameters
    ----------
    name : str
        Package name, scoped (``@scope/pkg``) or not.
    version : str
        Exact version.

    Returns
    -------
    str
        ``https://registry.npmjs.org/<name>/-/<basename>-<version>.tgz``.
    """
    basename = name.rsplit("/", 1)[-1]
    return f"{REGISTRY}/{name}/-/{basename}-{version}.tgz"


def placeholder_integrity(name: str, version: str) -> str:
    """Return a well-formed, deterministic sha512 SRI string for a tarball we cannot fetch.

    The malicious tarballs were removed from the registry, so their real digests are not
    available; this placeholder is derived from ``name@version`` and is stable across builds.

    Parameters
    ----------
    name : str
        Package name.
    version : str
        Exact version.

    Returns
    -------
    str
        ``sha512-`` followed by 88 base64 characters.
    """
    digest = hashlib.sha512(f"ircore-demo:{name}@{version}".encode()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def placeholder_hex(name: str, version: str, *, algorithm: str = "sha512") -> str:
    """Return a deterministic hex digest standing in for a removed tarball's (yarn, Berry).

    Parameters
    ----------
    name : str
        Package name.
    version : str
        Exact version.
    algorithm : str, default "sha512"
        ``sha1`` for yarn 1's ``#<sha1>`` URL fragment, ``sha512`` for a Berry checksum.

    Returns
    -------
    str
        Lower-case hex digest of ``ircore-demo:name@version``.
    """
    return hashlib.new(algorithm, f"ircore-demo:{name}@{version}".encode()).hexdigest()


def flags(
    roots: list[tuple[str, str]], edges: dict[str, list[str]]
) -> dict[str, tuple[bool, bool]]:
    """Return ``{node: (dev, direct)}`` from a dependency graph, the way npm flags ``dev``.

    Parameters
    ----------
    roots : list of (node, group)
        What the project's manifests declare; ``group`` is ``dev`` for devDependencies.
    edges : dict
        Node to the nodes its dependencies resolve to.

    Returns
    -------
    dict
        ``dev`` is True when only devDependencies reach the node; ``direct`` when a manifest
        declares it.
    """

    def reach(starts: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(starts)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        return seen

    prod = reach([node for node, group in roots if group != "dev"])
    every = reach([node for node, _ in roots])
    direct = {node for node, _ in roots}
    return {node: (node not in prod, node in direct) for node in every}


@cache
def known_ranges() -> dict[tuple[str, str], dict[str, str]]:
    """Return the dependency ranges each ``(name, version)`` declares, as npm recorded them.

    pnpm's lockfile keeps only resolved versions below the importers; the ranges behind them are
    facts of the published packages, read here from the npm seed lockfiles and ``family.json``. A
    malicious release gets the ranges of the clean release below it, as :func:`plant` keeps them.

    Returns
    -------
    dict
        ``{(name, version): {dependency: range}}`` (dependencies, optional and peer ones).
    """
    out: dict[tuple[str, str], dict[str, str]] = {}
    for name, releases in family().items():
        for version, release in releases.items():
            out[(name, version)] = _declared(release.entry, with_dev=False)
        # A malicious release is planted with the metadata of the clean one before it.
        bad = BAD.get(name)
        below = [v for v in releases if bad and semver.compare_versions(v, bad) < 0]
        if bad and below:
            out[(name, bad)] = out[(name, max(below, key=_semver_key))]
    for path in sorted(SEED_DIR.glob("*/package-lock.json")):
        lock = json.loads(path.read_text(encoding="utf-8"))
        for key, data in lock.get("packages", {}).items():
            if "node_modules/" not in key or "version" not in data:
                continue
            name = data.get("name", key.rsplit("node_modules/", 1)[-1])
            out.setdefault((name, data["version"]), _declared(data, with_dev=False))
    return out


def split_spec(name: str, spec: str) -> tuple[str, str] | None:
    """Split a dependency spec into (real package name, semver range).

    Parameters
    ----------
    name : str
        The key under which the dependency is declared (the install folder name).
    spec : str
        The declared spec: a range, ``npm:real@range`` alias, or a non-registry spec.

    Returns
    -------
    tuple of str or None
        ``None`` for specs that do not resolve from the registry by a range (files, git, links).
    """
    if spec.startswith("npm:"):
        target = spec[4:]
        at = target.rfind("@")
        if at <= 0:
            return target, "*"
        return target[:at], target[at + 1 :]
    if spec.startswith(_NON_SEMVER_PREFIXES):
        return None
    return name, spec or "*"


@cache
def satisfies(version: str, spec_range: str) -> bool:
    """Tell whether an exact version satisfies an npm range (npm semantics, not loose).

    Parameters
    ----------
    version : str
        Exact version.
    spec_range : str
        npm range such as ``^5.3.0``.

    Returns
    -------
    bool
        False for ranges npm cannot evaluate; the caller then leaves the entry alone.
    """
    try:
        return semver.satisfies(version, spec_range)
    except (InvalidRange, InvalidVersion):
        return False


_semver_key = cmp_to_key(semver.compare_versions)


@dataclass
class Entry:
    """One installed package in a lockfile, addressed by its ``node_modules`` path."""

    path: str
    data: dict[str, Any]
    name: str
    dev: bool


class EditableLock(Protocol):
    """What :func:`pin_family`, :func:`plant` and :func:`fix` need of a lockfile view."""

    entries: dict[str, Entry]

    def version(self, entry: Entry) -> str:
        """Return the entry's exact version."""
        ...

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent of the entry at ``path`` accepts ``version``."""
        ...

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the entry to ``version``; ``template`` is None for a release gone from npm."""
        ...


class LockView:
    """A uniform, path-keyed view over a v1 (nested) or v2/v3 (flat) npm lockfile.

    Parameters
    ----------
    lock : dict
        The parsed lockfile; entries are edited in place.
    manifest : dict
        The root ``package.json`` (v1 lockfiles carry no root entry with its ranges).
    """

    def __init__(self, lock: dict[str, Any], manifest: dict[str, Any]) -> None:
        self.lock = lock
        self.version_format = int(lock.get("lockfileVersion", 1))
        self.entries: dict[str, Entry] = {}
        self._ranges: dict[str, dict[str, str]] = {}
        self._reverse: dict[str, list[tuple[str, str]]] | None = None
        if self.version_format >= 2:
            self._load_flat(lock["packages"])
        else:
            self._ranges[""] = _declared(manifest, with_dev=True)
            self._load_nested(lock.get("dependencies", {}), "")

    def _load_flat(self, packages: dict[str, Any]) -> None:
        for path, data in packages.items():
            installed = path.startswith("node_modules/") or "/node_modules/" in path
            if not installed:
                # The root ("") and workspace folders declare ranges but are not registry packages.
                self._ranges[path] = _declared(data, with_dev=True)
                continue
            if data.get("link"):
                continue
            folder = path.rsplit("node_modules/", 1)[-1]
            name = data.get("name", folder)
            self.entries[path] = Entry(path, data, name, bool(data.get("dev")))
            self._ranges[path] = _declared(data, with_dev=False)

    def _load_nested(self, deps: dict[str, Any], parent: str) -> None:
        for folder, data in deps.items():
            path = f"{parent}/node_modules/{folder}" if parent else f"node_modules/{folder}"
            name = folder
            raw_version = str(data.get("version", ""))
            if raw_version.startswith("npm:"):
                name = raw_version[4:].rsplit("@", 1)[0]
            self.entries[path] = Entry(path, data, name, bool(data.get("dev")))
            self._ranges[path] = dict(data.get("requires", {}))
            self._load_nested(data.get("dependencies", {}), path)

    def version(self, entry: Entry) -> str:
        """Return the exact version of an entry (v1 aliases store ``npm:name@version``)."""
        raw = str(entry.data.get("version", ""))
        return raw.rsplit("@", 1)[-1] if raw.startswith("npm:") else raw

    def resolve(self, from_path: str, folder: str) -> str | None:
        """Return the path node's module lookup finds for ``folder`` required from ``from_path``."""
        here = from_path
        while True:
            candidate = f"{here}/node_modules/{folder}" if here else f"node_modules/{folder}"
            if candidate in self.entries:
                return candidate
            if not here:
                return None
            here = here.rsplit("/", 1)[0] if "/" in here else ""

    def dependents(self, path: str) -> Iterator[tuple[str, str]]:
        """Yield ``(dependent path, range)`` for every declaration that resolves to ``path``."""
        if self._reverse is None:
            # Versions move but paths never do, so the resolution graph is built once.
            self._reverse = {}
            for from_path, ranges in self._ranges.items():
                for folder, spec in ranges.items():
                    split = split_spec(folder, spec)
                    target = self.resolve(from_path, folder)
                    if split is not None and target is not None:
                        self._reverse.setdefault(target, []).append((from_path, split[1]))
        yield from self._reverse.get(path, ())

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent of ``path`` accepts ``version`` (and there is one)."""
        ranges = [r for _, r in self.dependents(path)]
        return bool(ranges) and all(satisfies(version, r) for r in ranges)

    def is_direct(self, path: str) -> bool:
        """Tell whether the root or a workspace declares the entry at ``path``."""
        for from_path, _ in self.dependents(path):
            if not (from_path.startswith("node_modules/") or "/node_modules/" in from_path):
                return True
        return False

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move an entry to ``version``, keeping its dev/optional flags and its place in the file.

        Parameters
        ----------
        path : str
            Entry path.
        version : str
            Target exact version.
        template : dict or None
            npm's lock entry for that release (from ``family.json``); ``None`` for releases
            that are gone from the registry, whose entry keeps its current metadata and gets a
            placeholder integrity.
        """
        entry = self.entries[path]
        data = entry.data
        alias = str(data.get("version", "")).startswith("npm:")
        data["version"] = f"npm:{entry.name}@{version}" if alias else version
        data["resolved"] = tarball_url(entry.name, version)
        data["integrity"] = (
            template["integrity"] if template else placeholder_integrity(entry.name, version)
        )
        if template is None:
            return
        if self.version_format >= 2:
            for key, value in template.items():
                if key not in ("version", "resolved", "integrity"):
                    data[key] = copy.deepcopy(value)
            for key in [k for k in data if k in _META_KEYS and k not in template]:
                del data[key]
            self._ranges[path] = _declared(data, with_dev=False)
        elif "dependencies" in template:
            data["requires"] = dict(template["dependencies"])
            self._ranges[path] = dict(data["requires"])
        # A release may declare different ranges from the one it replaces.
        self._reverse = None


_META_KEYS = frozenset(
    {
        "dependencies",
        "optionalDependencies",
        "peerDependencies",
        "peerDependenciesMeta",
        "engines",
        "funding",
        "bin",
        "license",
    }
)


def _declared(data: dict[str, Any], *, with_dev: bool) -> dict[str, str]:
    keys = ["dependencies", "optionalDependencies", "peerDependencies"]
    if with_dev:
        keys.append("devDependencies")
    ranges: dict[str, str] = {}
    for key in keys:
        ranges.update(data.get(key, {}))
    return ranges


def pin_family(
    view: EditableLock, as_of: datetime, *, exclude: frozenset[str] = frozenset()
) -> None:
    """Resolve every family entry to the newest clean release published by ``as_of``.

    Only releases every dependent accepts are considered, and entries whose current version is
    not a recorded family release (for example ``debug`` 2.6.9) are left alone.

    Parameters
    ----------
    view : EditableLock
        Lockfile to edit in place.
    as_of : datetime
        The moment the lockfile is resolved.
    exclude : frozenset of str
        Package names not to move.
    """
    table = family()
    for path, entry in view.entries.items():
        releases = table.get(entry.name)
        if releases is None or entry.name in exclude:
            continue
        current = view.version(entry)
        if current not in releases:
            continue
        candidates = [
            r.version
            for r in releases.values()
            if r.published <= as_of and view.accepts(path, r.version)
        ]
        if not candidates:
            continue
        best = max(candidates, key=_semver_key)
        if best != current:
            view.set_version(path, best, releases[best].entry)


def plant(view: EditableLock, name: str, *, path: str | None = None) -> list[str]:
    """Resolve ``name`` to its malicious version wherever the dependents' ranges allow it.

    Parameters
    ----------
    view : EditableLock
        Lockfile to edit in place.
    name : str
        A compromised package name (key of ``BAD``).
    path : str, optional
        Restrict the change to this entry (e.g. only the aliased ``node_modules/chalk-esm``).

    Returns
    -------
    list of str
        Entry paths that now hold the malicious version.

    Raises
    ------
    ValueError
        If no entry of ``name`` could have resolved to the malicious version.
    """
    bad = BAD[name]
    changed = []
    for entry_path, entry in view.entries.items():
        if entry.name != name or (path is not None and entry_path != path):
            continue
        if view.accepts(entry_path, bad):
            view.set_version(entry_path, bad, None)
            changed.append(entry_path)
    if not changed:
        raise ValueError(f"no entry of {name} accepts {bad} (path={path})")
    return changed


def fix(view: EditableLock, at: datetime) -> None:
    """Move every malicious entry to the newest clean release available at ``at``.

    Before a maintainer republished, that is the previous release (a rollback); afterwards it is
    the fixed release (chalk 5.6.2 from 15:04 UTC, debug 4.4.3 from 2025-09-13, ...).

    Parameters
    ----------
    view : EditableLock
        Lockfile to edit in place.
    at : datetime
        When the fix was resolved.

    Raises
    ------
    ValueError
        If a malicious entry has no clean release its dependents accept.
    """
    table = family()
    for path, entry in view.entries.items():
        if BAD.get(entry.name) != view.version(entry):
            continue
        releases = table[entry.name]
        candidates = [
            r.version
            for r in releases.values()
            if r.published <= at and view.accepts(path, r.version)
        ]
        if not candidates:
            raise ValueError(f"no clean release of {entry.name} for {path} at {at}")
        best = max(candidates, key=_semver_key)
        view.set_version(path, best, releases[best].entry)


def dump(lock: dict[str, Any]) -> str:
    """Serialise a lockfile exactly as npm does (2-space indent, trailing newline)."""
    return json.dumps(lock, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Hit:
    """A malicious release found in a lockfile."""

    name: str
    version: str
    path: str
    dev: bool
    direct: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the hit as a JSON-ready dict."""
        return {
            "name": self.name,
            "version": self.version,
            "path": self.path,
            "dev": self.dev,
            "direct": self.direct,
        }


def scan(lock: dict[str, Any], manifest: dict[str, Any]) -> list[Hit]:
    """List the malicious releases a parsed lockfile resolves, sorted by path.

    Parameters
    ----------
    lock : dict
        Parsed lockfile (v1, v2 or v3).
    manifest : dict
        The matching root ``package.json``.

    Returns
    -------
    list of Hit
        One per installed entry whose (real, alias-resolved) name and version are malicious.
    """
    view = LockView(lock, manifest)
    hits = []
    for path, entry in view.entries.items():
        version = view.version(entry)
        if BAD.get(entry.name) == version:
            hits.append(Hit(entry.name, version, path, entry.dev, view.is_direct(path)))
    return sorted(hits, key=lambda h: h.path)


def problems(lock: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Check that every registry dependency in a lockfile resolves to a version it accepts.

    Parameters
    ----------
    lock : dict
        Parsed lockfile.
    manifest : dict
        The matching root ``package.json``.

    Returns
    -------
    list of str
        Human-readable inconsistencies; empty for a lockfile npm could have written.
    """
    view = LockView(lock, manifest)
    out = []
    for from_path, ranges in view._ranges.items():
        for folder, spec in ranges.items():
            split = split_spec(folder, spec)
            if split is None:
                continue
            target = view.resolve(from_path, folder)
            if target is None:
                continue  # optional peers and platform-specific packages may be absent
            entry = view.entries[target]
            version = view.version(entry)
            if entry.name != split[0] or not satisfies(version, split[1]):
                out.append(f"{from_path or '<root>'} wants {folder}@{spec}, has {version}")
    return out
