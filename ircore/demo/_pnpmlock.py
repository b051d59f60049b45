"""Edit ``pnpm-lock.yaml`` (lockfileVersion 9) as pnpm would have written it on a given day.

pnpm keys a release by ``name@version`` in ``packages`` and by ``name@version(peer@x)`` in
``snapshots``, and refers to it by version from importers and other snapshots; the ranges behind
those references are not in the file. So a move renames the release everywhere it is named (its
keys, every reference, every peer suffix), takes its ``packages`` fields from the entry pnpm wrote
for that release in ``seed/family/pnpm/pnpm-lock.yaml`` (a placeholder integrity for a removed
malicious release), and checks the dependents' ranges: importer specifiers from the file, the
ranges a published package declares from :func:`~ircore.demo._lockfile.known_ranges`. Entries stay
sorted by key, as pnpm writes them.
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
    known_ranges,
    placeholder_integrity,
    satisfies,
    split_spec,
)

_SECTIONS = ("importers", "packages", "snapshots")


def _scalar(text: str) -> str:
    """A plain or quoted YAML scalar as a string (pnpm writes no other scalars that matter here)."""
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"'):
        return str(json.loads(text))
    return text


def _mapping(lines: list[str], indent: int) -> dict[str, Any]:
    """Read the block mappings pnpm writes (two spaces a level) into nested dicts of strings.

    Only the subset of YAML in pnpm's lockfile is read, the way its writer lays it out; flow
    collections (``resolution: {integrity: ...}``) are kept as their text, and every scalar is a
    string, so ``yes``, ``no`` or ``1.10`` stay what pnpm wrote (pnpm's keys are YAML 1.2).
    """
    out: dict[str, Any] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        key_text, sep, value = line[indent:].partition(": ")
        if not sep:
            key_text = line[indent:].rstrip(":")
            child = []
            while index < len(lines) and (
                not lines[index].strip() or lines[index].startswith(" " * (indent + 2))
            ):
                child.append(lines[index])
                index += 1
            out[_scalar(key_text)] = _mapping(child, indent + 2)
        else:
            out[_scalar(key_text)] = {} if value == "{}" else _scalar(value)
    return out


def _split_id(package_id: str) -> tuple[str, str]:
    """``name@version`` (scoped or not) -> (name, version)."""
    at = package_id.find("@", 1)
    return package_id[:at], package_id[at + 1 :]


def _strip_peers(key: str) -> str:
    return key.split("(", 1)[0]


def _unquote(key: str) -> str:
    return key[1:-1].replace("''", "'") if key.startswith("'") else key


@dataclass
class _Block:
    key: str  # unquoted
    lines: list[str]  # the key line and the body, as pnpm wrote them


@dataclass
class _Release:
    name: str
    version: str
    original: str  # version in the seed text
    template: list[str] | None = None  # body lines of the packages entry to write
    declares: str = ""  # the version whose published dependency ranges the entry keeps
    dependents: list[tuple[str, str]] = field(default_factory=list)  # (dependent, dep name)


class PnpmLock:
    """An editable pnpm v9 lockfile with the :class:`EditableLock` interface.

    Parameters
    ----------
    text : str
        The lockfile.
    manifests : dict
        Unused (importers carry the manifests' ranges); kept for one constructor signature.
    """

    manager = "pnpm"

    def __init__(self, text: str, manifests: dict[str, dict[str, Any]] | None = None) -> None:
        self.text = text
        self.head: list[str] = []
        self.sections: dict[str, list[_Block]] = {}
        self.tail: list[str] = []  # other top-level keys after the entry sections, verbatim
        self._split(text)
        self.doc: dict[str, Any] = _mapping(self.head, 0)
        for section, blocks in self.sections.items():
            self.doc[section] = {
                b.key: _mapping(b.lines[1:], 4) if len(b.lines) > 1 else {} for b in blocks
            }
        self.lockfile_version: int | str = str(self.doc["lockfileVersion"])
        self.releases: dict[str, _Release] = {}
        self.entries: dict[str, Entry] = {}
        for package_id, meta in (self.doc.get("packages") or {}).items():
            resolution = str((meta or {}).get("resolution", ""))
            if "integrity:" not in resolution or "tarball:" in resolution:
                continue  # directories, git and tarball URLs are not registry releases
            name, version = _split_id(package_id)
            self.releases[package_id] = _Release(name, version, version, declares=version)
            self.entries[package_id] = Entry(package_id, {}, name, False)
        self._link_dependents()

    def _split(self, text: str) -> None:
        section = ""
        for line in text.rstrip("\n").split("\n"):
            if line and not line.startswith(" "):
                section = line[:-1] if line.endswith(":") and line[:-1] in _SECTIONS else ""
                if section:
                    self.sections[section] = []
                    continue
                (self.tail if self.sections else self.head).append(line)
                continue
            if not section:
                (self.tail if self.sections else self.head).append(line)
                continue
            if line.startswith("  ") and not line.startswith("   "):
                key = line.strip()
                key = key[:-4] if key.endswith(": {}") else key[:-1]
                self.sections[section].append(_Block(_unquote(key), [line]))
            elif line and self.sections[section]:
                self.sections[section][-1].lines.append(line)

    # -- the graph --------------------------------------------------------------------------

    def _ref_key(self, name: str, ref: str) -> str | None:
        """Snapshot key a reference points at (None for links to workspace packages)."""
        if ref.startswith(("link:", "file:")):
            return None
        if re.match(r"^(@[^/]+/)?[^@(]+@", ref):
            return ref  # an alias: the reference names the real package
        return f"{name}@{ref}"

    def _deps(self, meta: dict[str, Any] | None) -> list[tuple[str, str]]:
        meta = meta or {}
        return [
            (name, str(ref))
            for section in ("dependencies", "optionalDependencies")
            for name, ref in (meta.get(section) or {}).items()
        ]

    def _link_dependents(self) -> None:
        for path, importer in (self.doc.get("importers") or {}).items():
            for section in ("dependencies", "optionalDependencies", "devDependencies"):
                for name, ref in ((importer or {}).get(section) or {}).items():
                    key = self._ref_key(name, str(ref["version"]))
                    if key is not None and _strip_peers(key) in self.releases:
                        split = split_spec(name, str(ref["specifier"]))
                        rng = split[1] if split else ""
                        self.releases[_strip_peers(key)].dependents.append((f"<{path}>", rng))
        for snapshot, meta in (self.doc.get("snapshots") or {}).items():
            for name, ref in self._deps(meta):
                key = self._ref_key(name, ref)
                if key is not None and _strip_peers(key) in self.releases:
                    self.releases[_strip_peers(key)].dependents.append(
                        (_strip_peers(snapshot), name)
                    )

    def _range(self, dependent: str, dep: str) -> str | None:
        if dependent.startswith("<"):
            return dep or None
        release = self.releases.get(dependent)
        name, version = (release.name, release.declares) if release else _split_id(dependent)
        # Peers are in the lockfile (debug declares supports-color only there, as a meta peer).
        meta = (self.doc.get("packages") or {}).get(dependent) or {}
        peer = (meta.get("peerDependencies") or {}).get(dep)
        return peer or known_ranges().get((name, version), {}).get(dep)

    # -- EditableLock -----------------------------------------------------------------------

    def version(self, entry: Entry) -> str:
        """Return the release's current version."""
        return self.releases[entry.path].version

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent's range (importer specifier or published range) fits."""
        dependents = self.releases[path].dependents
        ranges = [self._range(d, dep) for d, dep in dependents]
        return bool(ranges) and all(r is not None and satisfies(version, r) for r in ranges)

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the release to ``version``: pnpm's own entry for it, or a placeholder integrity."""
        release = self.releases[path]
        release.version = version
        if template is not None:
            release.template = family_packages_block(release.name, version)
            release.declares = version
        else:
            # A removed release keeps the metadata of the one it replaced, as npm's planting does.
            release.template = None

    # -- writing --------------------------------------------------------------------------

    def _renames(self) -> dict[str, str]:
        return {
            f"{r.name}@{r.original}": f"{r.name}@{r.version}"
            for r in self.releases.values()
            if r.version != r.original
        }

    def dump(self) -> str:
        """Return the lockfile text pnpm would write for the current versions."""
        renames = self._renames()
        by_name: dict[str, dict[str, str]] = {}
        for old, new in renames.items():
            name, old_version = _split_id(old)
            by_name.setdefault(name, {})[old_version] = _split_id(new)[1]

        def rename_ref(dep: str, ref: str) -> str:
            base, paren, peers = ref.partition("(")
            if base in renames:  # an alias: name@version
                base = renames[base]
            elif base in by_name.get(dep, {}):
                base = by_name[dep][base]
            return base + (rename_peers(paren + peers) if paren else "")

        def rename_peers(text: str) -> str:
            for old, new in renames.items():
                text = re.sub(rf"(?<=\(){re.escape(old)}(?=[()])", new, text)
            return text

        def rename_key(key: str) -> str:
            base, paren, peers = key.partition("(")
            return renames.get(base, base) + (rename_peers(paren + peers) if paren else "")

        out_sections: dict[str, list[_Block]] = {}
        for section, blocks in self.sections.items():
            written: dict[str, _Block] = {}
            for block in blocks:
                key = rename_key(block.key)
                lines = [self._key_line(block.lines[0], block.key, key)]
                if section == "packages" and block.key in self.releases:
                    lines.extend(self._package_body(self.releases[block.key], block.lines[1:]))
                else:
                    lines.extend(self._rename_body(block.lines[1:], rename_ref))
                # Two versions moved onto one release: pnpm keeps one entry.
                written.setdefault(key, _Block(key, lines))
            out_sections[section] = sorted(written.values(), key=lambda b: b.key)
        parts = [
            f"{section}:\n\n" + "\n\n".join("\n".join(b.lines) for b in blocks)
            for section, blocks in out_sections.items()
        ]
        if self.tail:
            parts.append("\n".join(self.tail).strip("\n"))
        return "\n".join(self.head).rstrip("\n") + "\n\n" + "\n\n".join(parts) + "\n"

    @staticmethod
    def _key_line(line: str, old: str, new: str) -> str:
        if old == new:
            return line
        quoted = line.strip().startswith("'")
        suffix = ": {}" if line.endswith(": {}") else ":"
        return "  " + (f"'{new}'" if quoted else new) + suffix

    def _package_body(self, release: _Release, body: list[str]) -> list[str]:
        if release.template is not None:
            return list(release.template)
        if release.version == release.original:
            return body
        integrity = placeholder_integrity(release.name, release.version)
        return [
            f"    resolution: {{integrity: {integrity}}}"
            if line.startswith("    resolution: ")
            else line
            for line in body
        ]

    @staticmethod
    def _rename_body(body: list[str], rename_ref: Any) -> list[str]:
        out = []
        dep = ""
        for line in body:
            stripped = line.strip()
            indent = len(line) - len(line.lstrip(" "))
            key, sep, value = stripped.partition(": ")
            if indent == 6 and stripped.endswith(":") and not sep:
                dep = _unquote(stripped[:-1])  # importer dependency; its version follows
            elif indent == 8 and key == "version" and dep:
                line = f"{' ' * indent}version: {rename_ref(dep, value)}"
            elif indent == 6 and sep:  # snapshot dependency: name: ref
                line = f"{' ' * indent}{key}: {rename_ref(_unquote(key), value)}"
            out.append(line)
        return out

    # -- reading --------------------------------------------------------------------------

    def _graph(self) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        roots: list[tuple[str, str]] = []
        for importer in (self.doc.get("importers") or {}).values():
            for section, group in (
                ("dependencies", "prod"),
                ("optionalDependencies", "prod"),
                ("devDependencies", "dev"),
            ):
                for name, ref in ((importer or {}).get(section) or {}).items():
                    key = self._ref_key(name, str(ref["version"]))
                    if key is not None:
                        roots.append((_strip_peers(key), group))
        edges: dict[str, list[str]] = {}
        for snapshot, meta in (self.doc.get("snapshots") or {}).items():
            targets = [self._ref_key(n, r) for n, r in self._deps(meta)]
            edges.setdefault(_strip_peers(snapshot), []).extend(
                _strip_peers(t) for t in targets if t is not None
            )
        return roots, edges

    def hits(self) -> list[Hit]:
        """List malicious releases, keyed by package id (``name@version``), sorted."""
        roots, edges = self._graph()
        marks = flags(roots, edges)
        hits = []
        for package_id, release in self.releases.items():
            if BAD.get(release.name) == release.version:
                dev, direct = marks.get(package_id, (False, False))
                hits.append(Hit(release.name, release.version, package_id, dev, direct))
        return sorted(hits, key=lambda h: h.path)

    def problems(self) -> list[str]:
        """Return inconsistencies: dangling references, or versions a dependent rejects."""
        out = []
        snapshots = self.doc.get("snapshots") or {}
        packages = self.doc.get("packages") or {}
        for key in snapshots:
            if _strip_peers(key) not in packages:
                out.append(f"snapshot {key} has no packages entry")
        for path, importer in (self.doc.get("importers") or {}).items():
            for section in ("dependencies", "optionalDependencies", "devDependencies"):
                for name, ref in ((importer or {}).get(section) or {}).items():
                    key = self._ref_key(name, str(ref["version"]))
                    if key is not None and key not in snapshots:
                        out.append(f"importer {path}: {name} -> {key} has no snapshot")
        for snapshot, meta in snapshots.items():
            for name, ref in self._deps(meta):
                key = self._ref_key(name, ref)
                if key is not None and key not in snapshots:
                    out.append(f"{snapshot}: {name} -> {key} has no snapshot")
        for package_id, release in self.releases.items():
            for dependent, dep in release.dependents:
                rng = self._range(dependent, dep)
                if rng is None:
                    out.append(f"{dependent}: range of {dep} unknown")
                elif not satisfies(release.version, rng):
                    out.append(f"{dependent}: {dep}@{rng} resolved to {package_id}")
        return out


@cache
def _family_lock() -> PnpmLock:
    return PnpmLock((SEED_DIR / "family" / "pnpm" / "pnpm-lock.yaml").read_text(encoding="utf-8"))


def family_packages_block(name: str, version: str) -> list[str]:
    """Return the body pnpm wrote under ``packages: name@version`` (``seed/family/pnpm``).

    Raises
    ------
    KeyError
        If the family lockfile has no such release.
    """
    for block in _family_lock().sections["packages"]:
        if block.key == f"{name}@{version}":
            return list(block.lines[1:])
    raise KeyError(f"pnpm family lockfile has no {name}@{version}")
