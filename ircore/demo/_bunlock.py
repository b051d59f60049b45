"""Edit bun's text lockfile (``bun.lock``) as bun would have written it on a given day.

bun keys ``packages`` by install path (``"ora"``, ``"wrap-ansi-cjs/strip-ansi"``) and writes one
entry per line: ``["name@version", registry, {dependencies...}, integrity]``. Each entry declares
its dependencies' ranges, and a dependency is found the way bun looks it up (under the entry's
path, then under each ancestor, then at the top), so the dependents of an entry and their ranges
are all in the file. A move rewrites the entry's line: bun's own line for that release in
``seed/family/bun/bun.lock``, or the same line with the new version and a placeholder integrity for a
removed malicious release.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ircore.demo._facts import BAD
from ircore.demo._lockfile import (
    SEED_DIR,
    Entry,
    Hit,
    flags,
    placeholder_integrity,
    satisfies,
    split_spec,
)

_LINE = re.compile(r'^    "((?:[^"\\]|\\.)*)": (\[.*\]),$')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_DEP_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")


def loads(text: str) -> Any:
    """Parse bun.lock text: JSON with the trailing commas bun writes."""
    return json.loads(_TRAILING_COMMA.sub(r"\1", text))


def _segments(path: str) -> list[str]:
    """Split an install path into package names (``@scope/name`` is one segment)."""
    parts = path.split("/")
    out: list[str] = []
    for part in parts:
        if out and out[-1].startswith("@") and "/" not in out[-1]:
            out[-1] += "/" + part
        else:
            out.append(part)
    return out


def _split_resolution(value: str) -> tuple[str, str]:
    at = value.find("@", 1)
    return value[:at], value[at + 1 :]


@dataclass
class _Package:
    name: str
    version: str
    line: str  # the text after the key, as bun wrote it ("[...]")
    deps: dict[str, str] = field(default_factory=dict)
    registry: bool = False


class BunLock:
    """An editable ``bun.lock`` with the :class:`EditableLock` interface.

    Parameters
    ----------
    text : str
        The lockfile.
    manifests : dict
        Unused (``workspaces`` carries the manifests' ranges); kept for one constructor signature.
    """

    manager = "bun"

    def __init__(self, text: str, manifests: dict[str, dict[str, Any]] | None = None) -> None:
        self.lines = text.rstrip("\n").split("\n")
        self.doc = loads(text)
        self.lockfile_version: int | str = int(self.doc["lockfileVersion"])
        self.packages: dict[str, _Package] = {}
        self._line_of: dict[str, int] = {}
        for index, line in enumerate(self.lines):
            match = _LINE.match(line)
            if match:
                self._line_of[json.loads(f'"{match[1]}"')] = index
        for key, value in self.doc.get("packages", {}).items():
            name, resolution = _split_resolution(value[0])
            info = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
            registry = len(value) == 4 and re.match(r"^\d", resolution) is not None
            deps = {d: r for f in _DEP_FIELDS for d, r in info.get(f, {}).items()}
            self.packages[key] = _Package(name, resolution, "", deps, registry)
            if key not in self._line_of:
                raise ValueError(f"bun.lock entry {key!r} is not on a line of its own")
        self.entries = {
            key: Entry(key, {}, p.name, False) for key, p in self.packages.items() if p.registry
        }
        self._reverse: dict[str, list[tuple[str, str]]] | None = None

    # -- the graph --------------------------------------------------------------------------

    def _lookup(self, from_path: str, name: str) -> str | None:
        segments = _segments(from_path) if from_path else []
        while True:
            candidate = "/".join([*segments, name])
            if candidate in self.packages:
                return candidate
            if not segments:
                return None
            segments.pop()

    def _workspace_deps(self) -> list[tuple[str, str, str, str]]:
        """(lookup path, name, range, group) for every workspace's declared dependency."""
        out = []
        for folder, workspace in self.doc.get("workspaces", {}).items():
            origin = "" if folder == "" else workspace.get("name", "")
            for section, group in (
                ("dependencies", "prod"),
                ("optionalDependencies", "prod"),
                ("peerDependencies", "prod"),
                ("devDependencies", "dev"),
            ):
                for name, rng in workspace.get(section, {}).items():
                    out.append((origin, name, rng, group))
        return out

    def _dependents(self) -> dict[str, list[tuple[str, str]]]:
        if self._reverse is None:
            self._reverse = {}
            declared = [(o, n, r) for o, n, r, _ in self._workspace_deps()]
            declared += [(k, n, r) for k, p in self.packages.items() for n, r in p.deps.items()]
            for origin, name, rng in declared:
                target = self._lookup(origin, name)
                split = split_spec(name, rng)
                if target is not None and split is not None:
                    self._reverse.setdefault(target, []).append((origin, split[1]))
        return self._reverse

    # -- EditableLock -----------------------------------------------------------------------

    def version(self, entry: Entry) -> str:
        """Return the entry's current version."""
        return self.packages[entry.path].version

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent's declared range accepts ``version``."""
        ranges = [r for _, r in self._dependents().get(path, [])]
        return bool(ranges) and all(satisfies(version, r) for r in ranges)

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the entry to ``version``: bun's own line for it, or a placeholder integrity."""
        package = self.packages[path]
        if template is not None:
            package.line = family_line(package.name, version)
        else:
            value = json.loads(self._value(path)) if not package.line else json.loads(package.line)
            value[0] = f"{package.name}@{version}"
            value[-1] = placeholder_integrity(package.name, version)
            package.line = _render(value)
        package.version = version

    def _value(self, key: str) -> str:
        match = _LINE.match(self.lines[self._line_of[key]])
        assert match is not None
        return match[2]

    # -- writing --------------------------------------------------------------------------

    def dump(self) -> str:
        """Return the lockfile text bun would write for the current versions."""
        lines = list(self.lines)
        for key, package in self.packages.items():
            if package.line:
                lines[self._line_of[key]] = f"    {json.dumps(key)}: {package.line},"
        return "\n".join(lines) + "\n"

    # -- reading --------------------------------------------------------------------------

    def hits(self) -> list[Hit]:
        """List malicious releases by install path, sorted."""
        roots = []
        for origin, name, _, group in self._workspace_deps():
            target = self._lookup(origin, name)
            if target is not None:
                roots.append((target, group))
        edges = {
            key: [t for n in p.deps if (t := self._lookup(key, n)) is not None]
            for key, p in self.packages.items()
        }
        marks = flags(roots, edges)
        hits = []
        for key, package in self.packages.items():
            if package.registry and BAD.get(package.name) == package.version:
                dev, direct = marks.get(key, (False, False))
                hits.append(Hit(package.name, package.version, key, dev, direct))
        return sorted(hits, key=lambda h: h.path)

    def problems(self) -> list[str]:
        """Return dependencies that resolve to no entry, or to a version their range rejects."""
        out = []
        declared = [(o, n, r) for o, n, r, _ in self._workspace_deps()]
        declared += [(k, n, r) for k, p in self.packages.items() for n, r in p.deps.items()]
        for origin, name, rng in declared:
            target = self._lookup(origin, name)
            split = split_spec(name, rng)
            if split is None:
                continue
            if target is None:
                optional_peer = origin and name in self._optional_peers(origin)
                if not optional_peer:
                    out.append(f"{origin or '<root>'}: {name}@{rng} has no entry")
                continue
            package = self.packages[target]
            if package.name != split[0] or not satisfies(package.version, split[1]):
                out.append(f"{origin or '<root>'}: {name}@{rng} resolved to {package.version}")
        return out

    def _optional_peers(self, key: str) -> set[str]:
        value = self.doc["packages"].get(key, [])
        info = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
        return set(info.get("optionalPeers", []))


def _render(value: list[Any]) -> str:
    """Render a packages value the way bun prints it (spaces inside objects, none in arrays)."""

    def render(item: Any) -> str:
        if isinstance(item, dict):
            if not item:
                return "{}"
            return "{ " + ", ".join(f"{json.dumps(k)}: {render(v)}" for k, v in item.items()) + " }"
        if isinstance(item, list):
            return "[" + ", ".join(render(v) for v in item) + "]"
        return json.dumps(item)

    return render(value)


@cache
def _family_lock() -> BunLock:
    return BunLock((SEED_DIR / "family" / "bun" / "bun.lock").read_text(encoding="utf-8"))


def family_line(name: str, version: str) -> str:
    """Return bun's value line for ``name@version`` (``seed/family/bun``, alias ``x-name-ver``).

    Raises
    ------
    KeyError
        If the family lockfile has no such release.
    """
    lock = _family_lock()
    return lock._value(f"x-{name}-{version}")
