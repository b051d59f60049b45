"""pnpm lockfiles (``pnpm-lock.yaml``, lockfileVersion 5.x, 6.x and 9.x) into inventory rows.

Pure parsing: bytes in, rows out. The caller adds ``file``, ``repo``, ``ref`` and the other
provenance columns.

How pnpm's own reader (``@pnpm/lockfile.fs`` and ``@pnpm/dependency-path``) is followed:

* YAML 1.2 core schema (:mod:`ircore._yaml`): pnpm writes keys such as ``yes``, ``no``, ``on``
  and ``off`` unquoted, and a YAML 1.1 loader would turn them into booleans so that one
  dependency silently replaces another.
* Every YAML document is read. pnpm 11 writes two: an *env* document whose root importer lists
  ``packageManagerDependencies`` / ``configDependencies`` (pnpm itself, ``@pnpm/exe`` and its
  platform packages), then the project's lockfile. Tooling is installed software too, so it is
  reported, with ``dev`` and ``direct`` unknown (``None``) because it belongs to no manifest, a
  warning, and a dependency path that starts with the field name
  (``packageManagerDependencies: @pnpm/exe > @pnpm/linux-x64``).
* Package keys by version: v5 ``/name/version_peers`` (the version ends at the first ``_``:
  ``/acorn-jsx/5.3.2_acorn@8.8.0``, ``/ts-node/10.9.1_cin3sgdz4jggr7myxgs3fe5lbm``), v6
  ``/name@version(peers)``, v9 ``name@version`` in ``packages`` with the dependency graph in
  ``snapshots`` keyed ``name@version(peer@x)(patch_hash=…)``. A reference in an importer or a
  snapshot becomes a key the way pnpm's ``refToRelative`` does it, which is also how aliases
  (``string-width-cjs: string-width@4.2.3``, v6 ``/string-width@4.2.3``, v5
  ``/string-width/4.2.3``) point at the real package.
* Peer and patch variants of one package are one row (one package, several ``.pnpm`` folders):
  ``install_path`` is the package key without the variant suffix.
* ``link:`` references (workspace packages) and ``file:`` *directories* (``resolution: {type:
  directory}``, injected workspace packages) are the project's own source: no row, though the
  graph is followed through them. ``file:`` *tarballs* are kept (``origin_kind="file"``), as the
  npm parser keeps them.

Flags (computed by reachability, since v9 records no ``dev``):

* ``dev``: False when a ``dependencies``/``optionalDependencies`` entry of any importer reaches
  the package, True when only ``devDependencies`` do, None when only tooling does. A v5/v6
  package that no importer reaches keeps the ``dev:`` flag pnpm wrote; a v9 one gets None.
* ``optional``: pnpm's own ``optional: true`` flag (set on packages only optional edges reach).
* ``direct``: listed by any importer (the top-level maps of a single-project v5/v6 file).
* ``dependency_path``: the shortest chain from an importer's dependency (breadth-first, importers
  ``.`` first then by path, names sorted), segments being install names (aliases as written in
  ``package.json``). A chain from an importer other than ``.`` is prefixed with the importer's
  path: ``packages/web: chalk > ansi-styles``; ``introducer`` is the chain's first package
  (``chalk``), without the prefix.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ircore._decode import decode_text
from ircore._errors import InputError
from ircore._yaml import YAMLLoadError, load_yaml_documents
from ircore.inventory._result import LockfileResult

__all__ = ["parse_pnpm_lockfile"]

SUPPORTED_MAJORS = (5, 6, 9)

_PROD_FIELDS = ("dependencies", "optionalDependencies")
_DEV_FIELDS = ("devDependencies",)
# pnpm 11's env document: pnpm itself and its config dependencies, not the project's.
_TOOLING_FIELDS = ("packageManagerDependencies", "configDependencies")
_IMPORTER_FIELDS = (*_PROD_FIELDS, *_DEV_FIELDS, *_TOOLING_FIELDS)
_SNAPSHOT_DEP_FIELDS = ("dependencies", "optionalDependencies")

# pnpm lockfiles nest about six levels; crafted input nested deeper is refused where it starts.
_MAX_YAML_DEPTH = 100

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
# Hosts whose tarball URLs pnpm writes for git dependencies (its isGitHostedTarballUrl).
_GIT_TARBALL_HOSTS = ("codeload.github.com", "gitlab.com", "bitbucket.org")


@dataclass
class _Snapshot:
    """One installed variant (a key of v9 ``snapshots`` or of v5/v6 ``packages``)."""

    key: str
    package_id: str
    deps: list[tuple[str, str]]
    optional: bool
    dev_flag: bool | None


@dataclass
class _Package:
    """What one package id resolves to; ``origin`` None marks a local directory (no row)."""

    package_id: str
    name: str
    version: str
    resolved: str | None
    origin: str | None


@dataclass(frozen=True)
class _Root:
    """A dependency an importer declares."""

    prefix: str
    kind: str  # "prod" | "dev" | "tooling"
    alias: str
    key: str


@dataclass
class _Document:
    version: str
    snapshots: dict[str, _Snapshot] = field(default_factory=dict)
    packages: dict[str, _Package] = field(default_factory=dict)
    roots: list[_Root] = field(default_factory=list)
    tooling_fields: set[str] = field(default_factory=set)


class _VersionUnsupported(InputError):
    """A lockfileVersion ircore does not read: reported as such even when the file is cut."""


def parse_pnpm_lockfile(data: bytes, *, manifest: bytes | None = None) -> LockfileResult:
    """Read a pnpm ``pnpm-lock.yaml`` (lockfileVersion 5.x, 6.x or 9.x, one or more documents).

    Parameters
    ----------
    data
        The lockfile's bytes (UTF-8; a byte order mark and CRLF line endings are accepted).
    manifest
        Ignored: a pnpm lockfile records every importer's (workspace's) dependencies itself,
        which is what ``direct`` and ``dev`` are computed from. Accepted so that every lockfile
        parser has the same signature.

    Returns
    -------
    LockfileResult
        ``format`` is ``"pnpm-v<lockfileVersion>"`` as written (``pnpm-v5.4``, ``pnpm-v9.0``),
        taken from the project document of a multi-document file. One row per package (peer
        and patch variants collapsed): ``install_path`` is the package key without the variant
        suffix (``react-dom@18.2.0``, ``/acorn-jsx/5.3.2``), ``resolved`` the tarball URL or
        ``repo#commit`` when the lockfile records one (None for registry packages, whose URL
        pnpm derives from the registry), ``bundled`` always False (pnpm records bundled
        dependencies inside their parent, not as entries). ``alias`` is the install name of the
        first chain that reaches the package when it differs from ``name``. A package recorded
        without a semver version and without a ``version:`` field has ``version=""``.
        Warnings say what was only partly read: tooling documents, references to missing
        entries, packages no importer reaches, ``runtime:`` entries (Node.js/Deno/Bun binaries,
        not npm packages, skipped).

    Raises
    ------
    InputError
        ``kind`` is ``"not-text"`` (not UTF-8, binary), ``"truncated"`` (empty, or cut short:
        the YAML or the structure breaks on a last line that lacks pnpm's final newline),
        ``"invalid"`` (not YAML, or a structure pnpm does not write, named with its YAML line or
        its key) or ``"unsupported"`` (not a pnpm lockfile, a lockfileVersion other than 5.x,
        6.x, 9.x, or YAML aliases of collections, which pnpm never writes).
    """
    del manifest  # documented: the lockfile's importers say everything the manifest would
    text = decode_text(data, what="the lockfile", writer="pnpm").replace("\r\n", "\n")
    complete = text.endswith("\n")
    documents = _load_documents(text, complete=complete)
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    fmt: str | None = None
    try:
        for index, raw in enumerate(documents):
            where = f"YAML document {index + 1}: " if len(documents) > 1 else ""
            doc = _read_document(raw, where, warnings)
            doc_rows = _rows(doc, where, warnings)
            if doc.tooling_fields:
                warnings.append(
                    f"{f'YAML document {index + 1}' if where else 'the lockfile'} lists pnpm's "
                    "own tooling "
                    f"({', '.join(sorted(doc.tooling_fields))}): "
                    f"{sum(r['direct'] is None for r in doc_rows)} packages that only tooling needs "
                    "are reported with dev and direct unknown (None), their dependency paths "
                    "starting with the field name"
                )
            project = any(root.kind != "tooling" for root in doc.roots)
            if fmt is None or project or not doc.tooling_fields:
                fmt = f"pnpm-v{doc.version}"
            rows.extend(doc_rows)
    except _VersionUnsupported:
        raise
    except InputError as exc:
        if not complete:
            # pnpm ends every lockfile with a newline: a file that stops mid-line and does not
            # hold together was cut short, whatever the first thing to break was.
            raise InputError(
                "truncated",
                f"the lockfile ends without pnpm's final newline and does not hold together "
                f"({exc.message}): it was cut short",
            ) from None
        raise
    if not complete:
        warnings.append(
            "the file does not end with a newline, as pnpm always writes it: it may be truncated"
        )
    assert fmt is not None  # _load_documents returns at least one document
    return LockfileResult(format=fmt, rows=rows, warnings=warnings)


# --- decoding -----------------------------------------------------------------------------------


def _load_documents(text: str, *, complete: bool) -> list[Any]:
    last_line = text.rstrip("\n").count("\n") + 1
    try:
        # YAML 1.2 core schema, every document, aliases of collections refused (ircore._yaml).
        loaded = load_yaml_documents(text, schema="core", max_depth=_MAX_YAML_DEPTH)
    except YAMLLoadError as exc:
        if exc.reason == "alias":
            raise InputError(
                "unsupported",
                f"line {exc.line} uses a YAML alias of a mapping or list; pnpm never writes "
                "anchors or aliases, and ircore refuses them so a crafted file cannot expand "
                "without bound",
            ) from None
        line = exc.line
        at = f" at line {line}, column {exc.column}" if line is not None else ""
        if not complete and (line is None or line >= last_line):
            raise InputError(
                "truncated",
                f"the lockfile is truncated: its YAML breaks on the last line{at} "
                f"({exc.problem}), which lacks pnpm's final newline",
            ) from None
        raise InputError("invalid", f"the lockfile is not valid YAML: {exc.problem}{at}") from None
    documents = [doc for doc in loaded if doc is not None]
    if not documents:
        raise InputError(
            "unsupported", "the file holds no YAML document with content: not a pnpm lockfile"
        )
    return documents


def _type_name(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    """A YAML mapping with string keys; anything else is a structure pnpm does not write."""
    if value is None:
        return {}  # `dependencies:` with nothing after it
    if not isinstance(value, dict):
        raise InputError("invalid", f"{where} is a {_type_name(value)}, pnpm writes a mapping")
    for key in value:
        if not isinstance(key, str):
            raise InputError(
                "invalid", f"{where} has a {_type_name(key)} key {key!r:.60}, pnpm writes names"
            )
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError("invalid", f"{where} is a {_type_name(value)}, pnpm writes a string")
    return value


# --- documents ----------------------------------------------------------------------------------


def _lockfile_version(lock: Mapping[str, Any], where: str) -> tuple[str, int]:
    if "lockfileVersion" not in lock:
        raise InputError(
            "unsupported",
            f"{where}the YAML mapping has no lockfileVersion: not a pnpm lockfile",
        )
    raw = lock["lockfileVersion"]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _VersionUnsupported(
            "unsupported", f"{where}lockfileVersion is a {_type_name(raw)}, not a version"
        )
    version = str(raw).strip()
    major_text = version.split(".", 1)[0]
    major = int(major_text) if major_text.isdigit() else -1
    if major not in SUPPORTED_MAJORS:
        raise _VersionUnsupported(
            "unsupported",
            f"{where}lockfileVersion {version!r:.40} is not one ircore reads (5.x, 6.x, 9.x); "
            "its packages are not in the inventory",
        )
    return version, major


def _read_document(raw: Any, where: str, warnings: list[str]) -> _Document:
    if not isinstance(raw, dict):
        raise InputError(
            "unsupported",
            f"{where}the YAML holds a {_type_name(raw)}, not a mapping: not a pnpm lockfile",
        )
    version, major = _lockfile_version(raw, where)
    doc = _Document(version=version)
    if major == 9:
        _read_v9_packages(raw, doc, where, warnings)
    else:
        _read_v5_v6_packages(raw, doc, major, where, warnings)
    _read_importers(raw, doc, major, where)
    return doc


def _importer_ref(value: Any, where: str) -> str:
    """v5 writes ``alias: ref``; v6 and v9 ``alias: {specifier, version}``."""
    if isinstance(value, dict):
        return _string(value.get("version"), f"{where}.version")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(
            value
        )  # a bare version YAML read as a number; pnpm quotes those, a human may not
    return _string(value, where)


def _read_importers(raw: Mapping[str, Any], doc: _Document, major: int, where: str) -> None:
    if "importers" in raw:
        importers = _mapping(raw["importers"], f"{where}importers")
    else:
        # A single-project v5/v6 file keeps the root's maps at the top level.
        importers = {".": {f: raw[f] for f in _IMPORTER_FIELDS if f in raw}}
    for importer_id in sorted(importers, key=lambda i: (i != ".", i)):
        entry = _mapping(importers[importer_id], f"{where}importers[{importer_id!r}]")
        prefix = "" if importer_id in (".", "") else importer_id
        for field_name in _IMPORTER_FIELDS:
            block_where = f"{where}importers[{importer_id!r}].{field_name}"
            block = _mapping(entry.get(field_name), block_where)
            if field_name in _TOOLING_FIELDS:
                kind = "tooling"
                if block:
                    doc.tooling_fields.add(field_name)
            else:
                kind = "dev" if field_name in _DEV_FIELDS else "prod"
            for alias in sorted(block):
                ref = _importer_ref(block[alias], f"{block_where}[{alias!r}]")
                key = _ref_to_key(ref, alias, major)
                if key is not None:
                    root_prefix = field_name if kind == "tooling" else prefix
                    doc.roots.append(_Root(root_prefix, kind, alias, key))


def _snapshot_deps(meta: Mapping[str, Any], major: int, where: str) -> list[tuple[str, str]]:
    deps: list[tuple[str, str]] = []
    for field_name in _SNAPSHOT_DEP_FIELDS:
        block = _mapping(meta.get(field_name), f"{where}.{field_name}")
        for alias, ref in block.items():
            ref_text = _importer_ref(ref, f"{where}.{field_name}[{alias!r}]")
            key = _ref_to_key(ref_text, alias, major)
            if key is not None:
                deps.append((alias, key))
    return sorted(deps)


def _read_v9_packages(
    raw: Mapping[str, Any], doc: _Document, where: str, warnings: list[str]
) -> None:
    packages = _mapping(raw.get("packages"), f"{where}packages")
    snapshots = _mapping(raw.get("snapshots"), f"{where}snapshots")
    for key, value in snapshots.items():
        meta = _mapping(value, f"{where}snapshots[{key!r}]")
        doc.snapshots[key] = _Snapshot(
            key=key,
            package_id=_strip_variant(key),
            deps=_snapshot_deps(meta, 9, f"{where}snapshots[{key!r}]"),
            optional=meta.get("optional") is True,
            dev_flag=None,
        )
    with_snapshot = {snap.package_id for snap in doc.snapshots.values()}
    for package_id in packages:
        if package_id not in with_snapshot:
            # A packages entry without a snapshot: still installed software, without a graph.
            doc.snapshots[package_id] = _Snapshot(package_id, package_id, [], False, None)
    missing_meta = 0
    for package_id in sorted(with_snapshot | set(packages)):
        if package_id not in packages:
            missing_meta += 1
        meta = _mapping(packages.get(package_id), f"{where}packages[{package_id!r}]")
        package = _package(package_id, meta, 9, f"{where}packages[{package_id!r}]", warnings)
        if package is not None:
            doc.packages[package_id] = package
    if missing_meta:
        warnings.append(
            f"{where}{missing_meta} snapshots have no entry in packages (no resolution "
            "recorded); they are reported from their keys, as registry packages"
        )


def _read_v5_v6_packages(
    raw: Mapping[str, Any], doc: _Document, major: int, where: str, warnings: list[str]
) -> None:
    packages = _mapping(raw.get("packages"), f"{where}packages")
    for key, value in packages.items():
        entry_where = f"{where}packages[{key!r}]"
        meta = _mapping(value, entry_where)
        package_id = _strip_variant_v5(key) if major == 5 else _strip_variant(key)
        doc.snapshots[key] = _Snapshot(
            key=key,
            package_id=package_id,
            deps=_snapshot_deps(meta, major, entry_where),
            optional=meta.get("optional") is True,
            # pnpm omits `dev:` on packages both dev and prod dependencies need.
            dev_flag=meta.get("dev") is True,
        )
        if package_id not in doc.packages:
            package = _package(package_id, meta, major, entry_where, warnings, key=key)
            if package is not None:
                doc.packages[package_id] = package


# --- keys ---------------------------------------------------------------------------------------


def _ref_to_key(ref: str, alias: str, major: int) -> str | None:
    """The package key a dependency reference points to (pnpm's ``refToRelative``); None for links."""
    if ref.startswith("link:"):
        return None
    if major == 9:
        if ref.startswith("@"):
            return ref
        at = ref.find("@")
        if at == -1:
            return f"{alias}@{ref}"
        colon, paren = ref.find(":"), ref.find("(")
        if (colon == -1 or at < colon) and (paren == -1 or at < paren):
            return ref  # an alias: `real@1.2.3(peer@1)`
        return f"{alias}@{ref}"
    if ref.startswith("file:"):
        return ref
    paren = ref.find("(")
    head = ref if paren == -1 else ref[:paren]
    if "/" not in head:
        return f"/{alias}/{ref}" if major == 5 else f"/{alias}@{ref}"
    return ref  # `/real/1.2.3` (an alias), or a host path such as github.com/user/repo/sha


def _strip_variant(key: str) -> str:
    """Drop trailing ``(peer@1)`` / ``(patch_hash=…)`` groups, as pnpm's ``removeSuffix``."""
    while key.endswith(")"):
        depth = 0
        for index in range(len(key) - 1, -1, -1):
            if key[index] == ")":
                depth += 1
            elif key[index] == "(":
                depth -= 1
                if depth == 0:
                    break
        else:
            return key  # unbalanced: leave the key as written
        if index == 0:
            return key
        key = key[:index]
    return key


def _strip_variant_v5(key: str) -> str:
    """``/name/1.2.3_peers`` → ``/name/1.2.3``; the version ends at its first ``_``."""
    if not key.startswith("/"):
        return key  # host paths and file: keys carry no peer suffix pnpm strips
    parts = key[1:].split("/")
    cut = 2 if parts[0].startswith("@") else 1
    if len(parts) <= cut:
        return key
    version = "/".join(parts[cut:]).split("_", 1)[0]
    return "/" + "/".join([*parts[:cut], version])


def _split_key(package_id: str, major: int) -> tuple[str, str] | None:
    """(name, version text) from a package key; None when the key does not name a package."""
    if major == 9:
        at = package_id.find("@", 1)
        if at <= 0:
            return None
        return package_id[:at], package_id[at + 1 :]
    if package_id.startswith("/"):
        split = _split_path(package_id[1:], major)
    elif "/" in package_id and not package_id.startswith("file:"):
        # `registry.example.com/name/1.2.3`: a registry package under its host. Git and tarball
        # paths (`github.com/user/repo/sha`) do not end in a version and need the entry's fields.
        split = _split_path(package_id.split("/", 1)[1], major)
        if split is not None and not _SEMVER.match(split[1]):
            split = None
    else:
        split = None
    return split


def _split_path(body: str, major: int) -> tuple[str, str] | None:
    if major == 6:
        at = body.find("@", 1)
        return (body[:at], body[at + 1 :]) if at > 0 else None
    parts = body.split("/")
    cut = 2 if parts[0].startswith("@") else 1
    if len(parts) <= cut or not all(parts[:cut]):
        return None
    return "/".join(parts[:cut]), "/".join(parts[cut:])


def _package(
    package_id: str,
    meta: Mapping[str, Any],
    major: int,
    where: str,
    warnings: list[str],
    *,
    key: str | None = None,
) -> _Package | None:
    """Name, version and origin of one package; None for entries that are not npm packages."""
    split = _split_key(package_id, major)
    name_field = meta.get("name")
    version_field = meta.get("version")
    if name_field is not None:
        name = _string(name_field, f"{where}.name")
    elif split is not None:
        name = split[0]
    else:
        # pnpm writes `name:` on every entry whose key is no name@version; without it the
        # entry is still installed software, so it is kept under its key rather than dropped.
        name = package_id
        warnings.append(
            f"{where}: the key names no package and the entry has no name field (pnpm writes "
            "one for git and tarball dependencies); reported with the key as its name"
        )
    if version_field is not None:
        version = _importer_ref(version_field, f"{where}.version")
    elif split is not None and _SEMVER.match(split[1]):
        version = split[1].removeprefix("v")
    else:
        version = ""  # a git or tarball key without a recorded version
    resolution = meta.get("resolution")
    resolution = _mapping(resolution, f"{where}.resolution") if resolution is not None else {}
    kind = resolution.get("type")
    if kind == "directory":
        return _Package(package_id, name, version, None, None)
    if kind in ("binary", "variations"):
        warnings.append(
            f"{key or package_id} is a pnpm runtime ({name} {version}), a binary that is not "
            "an npm package; it is not in the inventory"
        )
        return None
    if kind == "git":
        repo = _string(resolution.get("repo"), f"{where}.resolution.repo")
        commit = resolution.get("commit")
        resolved = f"{repo}#{commit}" if isinstance(commit, str) else repo
        return _Package(package_id, name, version, resolved, "git")
    tarball = resolution.get("tarball")
    if tarball is None:
        return _Package(package_id, name, version, None, "registry")
    tarball = _string(tarball, f"{where}.resolution.tarball")
    origin = "git" if resolution.get("gitHosted") is True else _tarball_origin(tarball)
    return _Package(package_id, name, version, tarball, origin)


def _tarball_origin(url: str) -> str:
    lowered = url.strip().lower()
    if lowered.startswith("file:"):
        return "file"
    if not lowered.startswith(("http://", "https://")):
        return "tarball"
    parts = urlsplit(url.strip())
    if parts.hostname in _GIT_TARBALL_HOSTS and "/-/" not in parts.path:
        return "git"
    # Every npm registry serves <name>/-/<basename>-<version>.tgz.
    if "/-/" in parts.path and parts.path.endswith(".tgz"):
        return "registry"
    return "tarball"


# --- graph and rows -----------------------------------------------------------------------------


def _reach(doc: _Document, roots: Iterable[_Root]) -> set[str]:
    seen: set[str] = set()
    queue = deque(root.key for root in roots)
    while queue:
        key = queue.popleft()
        if key in seen or key not in doc.snapshots:
            continue
        seen.add(key)
        queue.extend(target for _, target in doc.snapshots[key].deps)
    return seen


def _shortest_paths(doc: _Document) -> dict[str, tuple[str, list[str]]]:
    """(prefix, install names) of the shortest chain to every snapshot; project before tooling."""
    paths: dict[str, tuple[str, list[str]]] = {}
    for wave in ("project", "tooling"):
        queue: deque[str] = deque()
        for root in doc.roots:
            if (root.kind == "tooling") != (wave == "tooling"):
                continue
            if root.key in doc.snapshots and root.key not in paths:
                paths[root.key] = (root.prefix, [root.alias])
                queue.append(root.key)
        while queue:
            key = queue.popleft()
            prefix, path = paths[key]
            for alias, target in doc.snapshots[key].deps:
                if target in doc.snapshots and target not in paths:
                    paths[target] = (prefix, [*path, alias])
                    queue.append(target)
    return paths


def _rows(doc: _Document, where: str, warnings: list[str]) -> list[dict[str, Any]]:
    prod = _reach(doc, (r for r in doc.roots if r.kind == "prod"))
    project = _reach(doc, (r for r in doc.roots if r.kind != "tooling"))
    tooling = _reach(doc, (r for r in doc.roots if r.kind == "tooling"))
    direct_keys = {r.key for r in doc.roots if r.kind != "tooling"}
    paths = _shortest_paths(doc)

    dangling = sorted(
        {target for snap in doc.snapshots.values() for _, target in snap.deps}.union(
            root.key for root in doc.roots
        ).difference(doc.snapshots)
    )
    if dangling:
        warnings.append(
            f"{where}{len(dangling)} dependency references point to entries missing from the "
            f"lockfile (e.g. {dangling[0]!r:.80}); the file may be truncated or hand-edited"
        )

    variants: dict[str, list[_Snapshot]] = {}
    for snap in doc.snapshots.values():
        variants.setdefault(snap.package_id, []).append(snap)
    rows: list[dict[str, Any]] = []
    unreached = 0
    for package_id, snaps in variants.items():
        package = doc.packages.get(package_id)
        if package is None or package.origin is None:
            continue  # a runtime binary or a local directory
        keys = [s.key for s in snaps]
        dev: bool | None
        direct: bool | None
        if any(k in prod for k in keys):
            dev, direct = False, any(k in direct_keys for k in keys)
        elif any(k in project for k in keys):
            dev, direct = True, any(k in direct_keys for k in keys)
        elif any(k in tooling for k in keys):
            dev, direct = None, None
        else:
            unreached += 1
            flags = [s.dev_flag for s in snaps]
            dev = False if False in flags else (True if flags and all(flags) else None)
            direct = False
        reached = [paths[k] for k in keys if k in paths]
        best = min(reached, key=lambda p: (len(p[1]), p[0], p[1])) if reached else None
        if best is None:
            introducer = dependency_path = alias = None
        else:
            prefix, chain = best
            introducer = chain[0]
            joined = " > ".join(chain)
            dependency_path = f"{prefix}: {joined}" if prefix else joined
            alias = chain[-1] if chain[-1] != package.name else None
        rows.append(
            {
                "name": package.name,
                "version": package.version,
                "dev": dev,
                "optional": all(s.optional for s in snaps),
                "direct": direct,
                "bundled": False,
                "introducer": introducer,
                "dependency_path": dependency_path,
                "install_path": package_id,
                "alias": alias,
                "resolved": package.resolved,
                "origin_kind": package.origin,
            }
        )
    if unreached:
        warnings.append(
            f"{where}{unreached} packages are not reached from any importer (left over in the "
            "lockfile); they are reported with direct False and no dependency path"
        )
    return rows
