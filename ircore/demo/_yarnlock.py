"""Edit ``yarn.lock`` files, classic (v1) and Berry, as yarn would have written them on a given day.

Both formats key an entry by the descriptors (``name@range``) that resolved to it, so the ranges
that must accept a new version are in the entry's own header. The text yarn wrote is kept line for
line: a move rewrites the entry's fields (``version``, ``resolved``/``resolution``,
``integrity``/``checksum``), from the entry the same yarn wrote for that release in
``seed/family/<manager>/yarn.lock`` when the release is on the registry, or with placeholder digests
for the removed malicious releases. Entries that end up on one release are merged into one header,
as yarn does, and entries stay sorted by header.
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
    placeholder_hex,
    placeholder_integrity,
    satisfies,
)

CLASSIC_PREFIX = "# yarn lockfile v1"
_CLASSIC_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,\s]+)')


def split_descriptor(descriptor: str) -> tuple[str, str]:
    """Split ``name@range`` (``@scope/name@range``) at the ``@`` that starts the range."""
    at = descriptor.find("@", 1)
    if at < 0:
        return descriptor, ""
    return descriptor[:at], descriptor[at + 1 :]


def _registry_range(rng: str, *, berry: bool) -> tuple[str | None, str]:
    """Return (alias target or None, semver range) of a descriptor's range; range '' if none."""
    if berry:
        if not rng.startswith("npm:"):
            return None, ""
        rng = rng[4:]
    elif rng.startswith("npm:"):
        rng = rng[4:]
    else:
        return None, rng
    # npm:real@range (an alias) or npm:range
    if "@" in rng[1:]:
        real, target = split_descriptor(rng)
        return real, target
    return None, rng


@dataclass
class _Block:
    keys: list[str]  # descriptors, as yarn wrote them (unquoted)
    lines: list[str]  # field lines after the header
    name: str = ""
    version: str = ""
    deps: dict[str, str] = field(default_factory=dict)  # dependency name -> range as written
    template: list[str] | None = None
    registry: bool = False  # a registry release (not a workspace, link or patch)


def _header_keys(header: str, *, berry: bool) -> list[str]:
    body = header[:-1] if header.endswith(":") else header
    if berry:
        return [k.strip() for k in json.loads(body).split(",")] if body.startswith('"') else [body]
    keys = []
    for quoted, bare in _CLASSIC_KEY.findall(body):
        keys.append(json.loads(f'"{quoted}"') if quoted else bare)
    return keys


def _classic_wrap(key: str) -> str:
    # yarn 1 quotes a key that starts with a keyword, a digit or a non-letter, or holds
    # separators (its lockfile stringifier's rule).
    if (
        key.startswith(("true", "false"))
        or re.search(r'[:\s\\",\[\]]', key)
        or re.match(r"^[0-9]", key)
        or not re.match(r"^[a-zA-Z]", key)
    ):
        return json.dumps(key)
    return key


def _unquote(value: str) -> str:
    value = value.strip()
    return json.loads(value) if value.startswith('"') else value


class YarnLock:
    """An editable ``yarn.lock`` (classic or Berry) with the :class:`EditableLock` interface.

    Parameters
    ----------
    text : str
        The lockfile.
    manifests : dict
        ``package.json`` contents by relative path; the root one says what is direct or dev.
    """

    def __init__(self, text: str, manifests: dict[str, dict[str, Any]]) -> None:
        self.berry = CLASSIC_PREFIX not in text.split("\n\n", 1)[0]
        self.manager = "yarn-berry" if self.berry else "yarn-classic"
        self.manifests = manifests
        lines = text.rstrip("\n").split("\n")
        # The comments (and Berry's __metadata) before the first entry are kept verbatim.
        first = next(
            i
            for i, line in enumerate(lines)
            if line and not line.startswith(("#", " ", "__metadata"))
        )
        self.prefix = "\n".join(lines[:first]) + "\n"
        chunks = "\n".join(lines[first:]).split("\n\n")
        self.cache_key = ""
        match = re.search(r"^  cacheKey: (\S+)$", self.prefix, re.MULTILINE)
        if match:
            self.cache_key = match[1]
        version = re.search(r"^  version: (\S+)$", self.prefix, re.MULTILINE)
        self.lockfile_version: int | str = int(version[1]) if version and self.berry else 1
        self.blocks: dict[str, _Block] = {}
        for chunk in chunks:
            block_lines = chunk.split("\n")
            block = _Block(_header_keys(block_lines[0], berry=self.berry), block_lines[1:])
            self._read_fields(block)
            self.blocks[", ".join(block.keys)] = block
        self.entries: dict[str, Entry] = {}
        for key, block in self.blocks.items():
            if block.name and block.version and block.registry:
                self.entries[key] = Entry(key, {}, block.name, False)
        self._by_descriptor = {k: key for key, b in self.blocks.items() for k in b.keys}

    def _read_fields(self, block: _Block) -> None:
        section = ""
        for line in block.lines:
            if line.startswith("    ") and section in ("dependencies", "optionalDependencies"):
                if self.berry:
                    name, _, value = line.strip().partition(": ")
                else:
                    name, _, value = line.strip().partition(" ")
                block.deps[_unquote(name.rstrip(":"))] = _unquote(value)
                continue
            if line.startswith("    "):
                continue
            stripped = line.strip()
            if stripped.endswith(":") and " " not in stripped:
                section = stripped[:-1]
                continue
            section = ""
            key, _, value = stripped.partition(": " if self.berry else " ")
            if key == "version":
                block.version = _unquote(value)
            elif key == "resolution" and self.berry:
                name, ref = split_descriptor(_unquote(value))
                block.name = name
                block.registry = ref.startswith("npm:")
        if not self.berry:
            name, rng = split_descriptor(block.keys[0])
            alias, _ = _registry_range(rng, berry=False)
            block.name = alias or name
            block.registry = bool(block.version)

    # -- EditableLock -----------------------------------------------------------------------

    def version(self, entry: Entry) -> str:
        """Return the entry's current version."""
        return self.blocks[entry.path].version

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every descriptor in the entry's header accepts ``version``."""
        ranges = []
        for key in self.blocks[path].keys:
            _, rng = split_descriptor(key)
            _, semver_range = _registry_range(rng, berry=self.berry)
            if not semver_range:
                return False
            ranges.append(semver_range)
        return bool(ranges) and all(satisfies(version, r) for r in ranges)

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the entry to ``version``: yarn's own entry for it, or placeholder digests."""
        block = self.blocks[path]
        block.version = version
        if template is not None:
            block.template = family_block(self.manager, block.name, version)
            return
        block.template = None
        name = block.name
        out = []
        for line in block.lines:
            stripped = line.strip()
            if self.berry:
                if stripped.startswith("version: "):
                    line = f"  version: {version}"
                elif stripped.startswith("resolution: "):
                    line = f'  resolution: "{name}@npm:{version}"'
                elif stripped.startswith("checksum: "):
                    line = f"  checksum: {self.cache_key}/{placeholder_hex(name, version)}"
            elif stripped.startswith("version "):
                line = f'  version "{version}"'
            elif stripped.startswith("resolved "):
                url = _unquote(stripped[len("resolved ") :])
                base = url.split("/" + name + "/-/", 1)[0]
                basename = name.rsplit("/", 1)[-1]
                sha1 = placeholder_hex(name, version, algorithm="sha1")
                line = f'  resolved "{base}/{name}/-/{basename}-{version}.tgz#{sha1}"'
            elif stripped.startswith("integrity "):
                line = f"  integrity {placeholder_integrity(name, version)}"
            out.append(line)
        block.lines = out

    # -- writing --------------------------------------------------------------------------

    def dump(self) -> str:
        """Return the lockfile text yarn would write for the current versions."""
        merged: dict[tuple[str, str, bool], _Block] = {}
        blocks: list[_Block] = []
        for block in self.blocks.values():
            lines = block.template if block.template is not None else block.lines
            current = _Block(list(block.keys), list(lines), block.name, block.version)
            aliased = any(
                _registry_range(split_descriptor(k)[1], berry=self.berry)[0] for k in block.keys
            )
            group = (block.name, block.version, aliased)
            if block.registry and group in merged:
                # Two ranges now resolve to one release: yarn writes one entry for both.
                merged[group].keys = sorted(set(merged[group].keys) | set(block.keys))
                continue
            if block.registry:
                merged[group] = current
            blocks.append(current)
        for block in blocks:
            block.keys = sorted(block.keys)
        if self.berry:
            blocks.sort(key=lambda b: ", ".join(b.keys))
        else:
            blocks.sort(key=lambda b: b.keys[0])
        out = []
        for block in blocks:
            if self.berry:
                header = json.dumps(", ".join(block.keys)) + ":"
            else:
                header = ", ".join(_classic_wrap(k) for k in block.keys) + ":"
            out.append("\n".join([header, *block.lines]))
        return self.prefix + "\n\n".join(out) + "\n"

    # -- reading the graph ------------------------------------------------------------------

    def _target(self, name: str, rng: str) -> str | None:
        descriptor = f"{name}@{rng}"
        if descriptor in self._by_descriptor:
            return self._by_descriptor[descriptor]
        if self.berry and not rng.startswith(("npm:", "workspace:", "patch:")):
            return self._by_descriptor.get(f"{name}@npm:{rng}")
        return None

    def _graph(self) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        roots: list[tuple[str, str]] = []
        for manifest in self.manifests.values():
            for section, group in (
                ("dependencies", "prod"),
                ("optionalDependencies", "prod"),
                ("devDependencies", "dev"),
            ):
                for name, rng in manifest.get(section, {}).items():
                    target = self._target(name, rng)
                    if target is not None:
                        roots.append((target, group))
        edges: dict[str, list[str]] = {}
        for key, block in self.blocks.items():
            if self.berry and not block.registry:
                continue  # the workspace's own entry: its dependencies are the roots above
            targets = [self._target(n, r) for n, r in block.deps.items()]
            edges[key] = [t for t in targets if t is not None]
        return roots, edges

    def hits(self) -> list[Hit]:
        """List the entries resolving a malicious release, sorted by header."""
        roots, edges = self._graph()
        marks = flags(roots, edges)
        hits = []
        for key, entry in self.entries.items():
            version = self.blocks[key].version
            if BAD.get(entry.name) == version:
                dev, direct = marks.get(key, (False, False))
                hits.append(Hit(entry.name, version, key, dev, direct))
        return sorted(hits, key=lambda h: h.path)

    def problems(self) -> list[str]:
        """Return inconsistencies: dependencies without an entry, or with one they reject."""
        out = []
        declared = [
            (f"<{path}>", name, rng)
            for path, manifest in self.manifests.items()
            for section in ("dependencies", "optionalDependencies", "devDependencies")
            for name, rng in manifest.get(section, {}).items()
            if not rng.startswith(("workspace:", "file:", "link:"))
        ]
        for key, block in self.blocks.items():
            declared.extend((key, n, r) for n, r in block.deps.items())
        for where, name, rng in declared:
            target = self._target(name, rng)
            if target is None:
                out.append(f"{where}: {name}@{rng} has no entry")
                continue
            _, semver_range = _registry_range(
                rng if not self.berry or rng.startswith("npm:") else f"npm:{rng}",
                berry=self.berry,
            )
            version = self.blocks[target].version
            if semver_range and not satisfies(version, semver_range):
                out.append(f"{where}: {name}@{rng} resolved to {version}")
        seen: dict[tuple[str, str], str] = {}
        for key, block in self.blocks.items():
            if not block.registry:
                continue
            aliased = any(
                _registry_range(split_descriptor(k)[1], berry=self.berry)[0] for k in block.keys
            )
            group = (block.name, block.version + ("+alias" if aliased else ""))
            if group in seen:
                out.append(f"{key} and {seen[group]} resolve the same release")
            seen[group] = key
        return out


@cache
def _family_lock(manager: str) -> YarnLock:
    text = (SEED_DIR / "family" / manager / "yarn.lock").read_text(encoding="utf-8")
    return YarnLock(text, {})


def family_block(manager: str, name: str, version: str) -> list[str]:
    """Return the field lines yarn wrote for ``name@version`` (from ``seed/family/<manager>``).

    Parameters
    ----------
    manager : str
        ``yarn-classic`` or ``yarn-berry``.
    name, version : str
        A clean release listed in ``family.json``.

    Returns
    -------
    list of str
        The entry's lines after its header.

    Raises
    ------
    KeyError
        If the family lockfile has no such release.
    """
    lock = _family_lock(manager)
    # resolve_seeds.py locks each family release under the alias x-<name>-<version>.
    alias = f"x-{name}-{version}@npm:{name}@{version}"
    for block in lock.blocks.values():
        if alias in block.keys:
            return list(block.lines)
    raise KeyError(f"{manager} family lockfile has no {name}@{version}")
