"""bun's text lockfile (``bun.lock``, lockfileVersion 0, 1, 2) into inventory rows.

Pure parsing: bytes in, rows out. The caller adds ``file``, ``repo``, ``ref`` and the other
provenance columns.

What bun writes (``bun.lock.zig``, and what ``bun pm ls`` reads back):

* JSONC: JSON with trailing commas (always) and comments (accepted by bun's reader).
* ``workspaces`` maps each workspace folder (``""`` for the root) to the dependencies its
  ``package.json`` declares: ``dependencies``, ``devDependencies``, ``optionalDependencies``,
  ``peerDependencies``.
* ``packages`` keys are *install paths*, not names: ``"glob"`` is ``node_modules/glob``,
  ``"sucrase/glob"`` a glob nested under sucrase, ``"@acme/app/ms"`` an ``ms`` installed for
  the workspace package ``@acme/app``. The key's last segment is the install name, so an alias
  is keyed by the alias (``"string-width-cjs"``). The value is a tuple whose first element is
  ``"<real name>@<resolution>"``, split at the first ``@`` after an optional leading scope
  ``@``:

  ========== ==================================================================
  npm        ``["name@1.2.3", registry URL or "", INFO, integrity]``
  github     ``["name@github:user/repo#sha", INFO, "user-repo-sha"]``
  git        ``["name@git+https://…#sha", INFO, "sha"]``
  tarball    ``["name@https://…/x.tgz", INFO]``; local ``["name@./vendor/x.tgz", INFO]``
  folder     ``["name@file:path", INFO]``; link ``["name@link:path", INFO]``
  workspace  ``["name@workspace:packages/app"]``; root ``["name@root:", …]``
  ========== ==================================================================

  ``INFO`` holds the package's own ``dependencies``, ``optionalDependencies``,
  ``peerDependencies`` (``optionalPeers`` names the optional ones), ``bundled``, ``os``,
  ``cpu``, ``bin``.
* A dependency ``x`` of the entry at path ``P`` is found at ``P/x``, else at the same name
  under each ancestor of ``P``, else at top-level ``x``, as bun's own lookup does. A
  workspace's dependencies are looked up from its workspace package's key.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ircore._decode import decode_text, load_json
from ircore._errors import InputError
from ircore.inventory._result import LockfileResult

__all__ = ["parse_bun_lockfile"]

SUPPORTED_VERSIONS = (0, 1, 2)

_WORKSPACE_GROUPS = {
    "dependencies": "prod",
    "optionalDependencies": "optional",
    "peerDependencies": "prod",
    "devDependencies": "dev",
}
_PACKAGE_DEP_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")
_GIT_PREFIXES = ("github:", "git+", "git:", "ssh:", "gitlab:", "bitbucket:")
_LOCAL_PREFIXES = ("file:", "link:", "workspace:", "root:")
_TARBALL_SUFFIXES = (".tgz", ".tar.gz", ".tar")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
# The head of bun.lockb: `#!/usr/bin/env bun\nbun-lockfile-format-v0\n`.
_LOCKB_MAGIC = (b"#!/usr/bin/env bun", b"bun-lockfile-format-v")

_JSONC_SPECIAL = re.compile(r'["/,\]}]')
_STRING_BODY = re.compile(r'(?:[^"\\\n]|\\.)*')


@dataclass
class _Entry:
    key: str
    name: str
    version: str
    resolved: str | None
    origin: str | None  # None: the project's own source (workspace, folder, link, root)
    deps: list[tuple[str, bool]]  # (name, optional edge)
    bundled: bool
    # The folder of a workspace package's (or the root's) entry: its dependencies are declared
    # in `workspaces` and walked from there, so the graph never enters it.
    workspace: str | None = None


@dataclass(frozen=True)
class _Root:
    prefix: str  # the workspace folder, "" for the root
    kind: str  # "prod" | "optional" | "dev"
    name: str
    key: str


def parse_bun_lockfile(data: bytes, *, manifest: bytes | None = None) -> LockfileResult:
    """Read bun's text lockfile ``bun.lock``.

    Parameters
    ----------
    data
        The lockfile's bytes (UTF-8; a byte order mark and CRLF line endings are accepted).
    manifest
        Ignored: ``bun.lock`` copies every workspace's declared dependencies into its
        ``workspaces`` map, which is what ``direct`` and ``dev`` are computed from. Accepted so
        that every lockfile parser has the same signature.

    Returns
    -------
    LockfileResult
        ``format`` is ``"bun-lock-v<lockfileVersion>"``. One row per ``packages`` entry that is
        an installed package: npm (``origin_kind="registry"``, ``resolved`` the registry URL
        bun wrote or None for the default registry), git and github (``"git"``, ``version=""``:
        bun records no semver version for them), remote tarballs (``"tarball"``) and local
        tarballs (``"file"``); a tarball's version is read from its file name when that is
        ``<name>-<semver>.tgz``, else ``""``. Workspace, ``file:`` folder, ``link:`` and root
        entries are the project's own source: no row. ``install_path`` is the ``packages``
        key, ``alias`` the key's install name when it differs from ``name``.

        ``dev`` is False when a workspace's ``dependencies``, ``optionalDependencies`` or
        ``peerDependencies`` reach the entry, True when only ``devDependencies`` do, None when
        nothing reaches it; ``optional`` is True when only optional edges reach it; ``direct``
        is True for an entry a workspace's declaration resolves to. ``dependency_path`` is the
        shortest chain of install names from a declared dependency (breadth-first, root first,
        names sorted), prefixed with the workspace folder for workspaces other than the root
        (``packages/app: chalk > ansi-styles``); ``introducer`` is its first name.

    Raises
    ------
    InputError
        ``kind`` is ``"unsupported"`` for ``bun.lockb`` (bun's binary lockfile; the message
        says how to write ``bun.lock`` instead), for JSON that is not a bun lockfile and for a
        lockfileVersion other than 0, 1, 2; ``"not-text"`` (not UTF-8, binary), ``"truncated"``
        (empty, or the JSON ends before it is complete), ``"not-json"`` (a syntax error, with
        its line and column) or ``"invalid"`` (a structure bun does not write, named by key).
    """
    del manifest  # documented: the lockfile's workspaces map says everything the manifest would
    if data.startswith(_LOCKB_MAGIC) or _LOCKB_MAGIC[1] in data[:64]:
        raise InputError(
            "unsupported",
            "bun.lockb is bun's binary lockfile, which ircore does not read; in a clone of the "
            "project run `bun install --save-text-lockfile --frozen-lockfile --lockfile-only "
            "--ignore-scripts` (bun 1.1.39 or later; bun 1.2 writes bun.lock by default) to write "
            "bun.lock beside it and scan that, or `bun bun.lockb > yarn.lock` to print it as a "
            "yarn v1 lockfile",
        )
    text = decode_text(data, what="the lockfile", writer="bun")
    lock = load_json(_jsonc_to_json(text), what="the lockfile", writer="bun", syntax="JSONC")
    if not isinstance(lock, dict):
        raise InputError(
            "unsupported",
            f"the file holds a JSON {_json_type(lock)}, not an object: not a bun.lock",
        )
    version = _lockfile_version(lock)
    warnings: list[str] = []
    workspaces = _object(lock.get("workspaces"), "workspaces")
    packages = _object(lock.get("packages"), "packages")
    entries = {key: _entry(key, raw) for key, raw in packages.items()}
    roots = _roots(workspaces, entries)
    rows = _rows(entries, roots, warnings)
    if "" not in workspaces and rows:
        warnings.append(
            'the lockfile has no root workspace (workspaces[""]), so the root\'s own '
            "dependencies are unknown; dev and direct come from the other workspaces only"
        )
    return LockfileResult(format=f"bun-lock-v{version}", rows=rows, warnings=warnings)


# --- decoding -----------------------------------------------------------------------------------


def _jsonc_to_json(text: str) -> str:
    """Blank out comments and trailing commas, keeping every other character where it was.

    Offsets stay the same, so the JSON parser's line and column point into the original file.
    One linear scan: strings are skipped whole, so ``//`` or ``,}`` inside them are untouched.
    """
    out: list[str] = []
    pending_comma: int | None = None  # index in `out` of a comma not yet known to be trailing
    i, n = 0, len(text)
    while i < n:
        match = _JSONC_SPECIAL.search(text, i)
        j = match.start() if match else n
        segment = text[i:j]
        if pending_comma is not None and segment.strip():
            pending_comma = None
        out.append(segment)
        if match is None:
            break
        char = text[j]
        if char == '"':
            end = _STRING_BODY.match(text, j + 1).end()  # type: ignore[union-attr]
            end = end + 1 if end < n and text[end] == '"' else end
            out.append(text[j:end])
            pending_comma = None
            i = end
        elif text.startswith("//", j):
            end = text.find("\n", j)
            end = n if end == -1 else end
            out.append(" " * (end - j))
            i = end
        elif text.startswith("/*", j):
            end = text.find("*/", j + 2)
            if end == -1:
                line = text[:j].count("\n") + 1
                raise InputError(
                    "truncated",
                    f"the lockfile is truncated: a /* comment opened on line {line} never ends",
                )
            out.append(re.sub(r"[^\n]", " ", text[j : end + 2]))
            i = end + 2
        elif char == ",":
            pending_comma = len(out)
            out.append(",")
            i = j + 1
        else:
            if char in "]}" and pending_comma is not None:
                out[pending_comma] = " "  # a trailing comma, as bun writes after every member
            pending_comma = None
            out.append(char)
            i = j + 1
    return "".join(out)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(
            "invalid", f"{where} is a JSON {_json_type(value)}, but bun writes an object there"
        )
    return value


def _lockfile_version(lock: Mapping[str, Any]) -> int:
    if "lockfileVersion" not in lock:
        raise InputError("unsupported", "the JSON object has no lockfileVersion: not a bun.lock")
    version = lock["lockfileVersion"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(
            "unsupported", f"lockfileVersion is a JSON {_json_type(version)}, not a number"
        )
    if version not in SUPPORTED_VERSIONS:
        raise InputError(
            "unsupported",
            f"bun.lock lockfileVersion {version} is not one ircore reads (0, 1, 2); its "
            "packages are not in the inventory",
        )
    return version


# --- entries ------------------------------------------------------------------------------------


def _split_spec(spec: str) -> tuple[str, str] | None:
    """``@scope/name@1.2.3`` → (``@scope/name``, ``1.2.3``); None without a name."""
    at = spec.find("@", 1 if spec.startswith("@") else 0)
    if at <= 0:
        return None
    return spec[:at], spec[at + 1 :]


def _tarball_version(name: str, location: str) -> str:
    base = location.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    stem = name.rsplit("/", 1)[-1] + "-"
    for suffix in _TARBALL_SUFFIXES:
        if base.startswith(stem) and base.endswith(suffix):
            candidate = base[len(stem) : -len(suffix)]
            if _SEMVER.match(candidate):
                return candidate
    return ""


def _info_deps(info: Mapping[str, Any], where: str) -> list[tuple[str, bool]]:
    optional_peers = info.get("optionalPeers") or []
    if not isinstance(optional_peers, list):
        raise InputError("invalid", f"{where}.optionalPeers is not an array")
    deps: list[tuple[str, bool]] = []
    for field_name in _PACKAGE_DEP_FIELDS:
        block = _object(info.get(field_name), f"{where}.{field_name}")
        for name in block:
            optional = field_name == "optionalDependencies" or (
                field_name == "peerDependencies" and name in optional_peers
            )
            deps.append((name, optional))
    return sorted(deps)


def _entry(key: str, raw: Any) -> _Entry:
    where = f"packages[{key!r}]"
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise InputError(
            "invalid",
            f"{where} is not an array starting with the package's name@resolution, as bun writes",
        )
    split = _split_spec(raw[0])
    if split is None:
        raise InputError(
            "invalid", f"{where} starts with {raw[0]!r:.80}, which names no package (name@...)"
        )
    name, spec = split
    lowered = spec.lower()
    if lowered.startswith("workspace:"):
        return _Entry(key, name, "", None, None, [], False, workspace=spec[len("workspace:") :])
    if lowered.startswith("root:"):
        return _Entry(key, name, "", None, None, [], False, workspace="")
    npm = not (
        lowered.startswith(_LOCAL_PREFIXES + _GIT_PREFIXES) or "://" in spec or _is_path(spec)
    )
    info_at = 2 if npm else 1
    info_raw = raw[info_at] if len(raw) > info_at else {}
    info = _object(info_raw, f"{where}[{info_at}]")
    deps = _info_deps(info, where)
    bundled = info.get("bundled") is True
    if lowered.startswith(("file:", "link:")):
        return _Entry(key, name, "", None, None, deps, bundled)
    if lowered.startswith(_GIT_PREFIXES):
        return _Entry(key, name, "", spec, "git", deps, bundled)
    if not npm:
        origin = "tarball" if "://" in spec else "file"
        return _Entry(key, name, _tarball_version(name, spec), spec, origin, deps, bundled)
    registry = raw[1] if len(raw) > 1 else ""
    if not isinstance(registry, str):
        raise InputError(
            "invalid", f"{where}[1] is a JSON {_json_type(registry)}, bun writes the registry URL"
        )
    return _Entry(key, name, spec, registry or None, "registry", deps, bundled)


def _is_path(spec: str) -> bool:
    """A local tarball, which bun writes as a bare relative or absolute path."""
    return spec.startswith((".", "/", "~")) or spec.lower().endswith(_TARBALL_SUFFIXES)


# --- graph --------------------------------------------------------------------------------------


def _parent(key: str) -> str:
    """The install path one level up: ``a/@s/b/c`` → ``a/@s/b``; ``a`` → ``""``."""
    parts = key.split("/")
    components: list[str] = []
    index = 0
    while index < len(parts):
        if parts[index].startswith("@") and index + 1 < len(parts):
            components.append(f"{parts[index]}/{parts[index + 1]}")
            index += 2
        else:
            components.append(parts[index])
            index += 1
    return "/".join(components[:-1])


def _resolve(base: str, name: str, entries: Mapping[str, _Entry]) -> str | None:
    while True:
        candidate = f"{base}/{name}" if base else name
        if candidate in entries:
            return candidate
        if not base:
            return None
        base = _parent(base)


def _roots(workspaces: Mapping[str, Any], entries: Mapping[str, _Entry]) -> list[_Root]:
    # A workspace's own nested dependencies live under its package's key (`@acme/app/ms`).
    workspace_keys = {
        entry.workspace: key for key, entry in entries.items() if entry.workspace is not None
    }
    roots: list[_Root] = []
    for folder in sorted(workspaces, key=lambda f: (f != "", f)):
        where = f"workspaces[{folder!r}]"
        meta = _object(workspaces[folder], where)
        base = "" if folder == "" else workspace_keys.get(folder, meta.get("name") or folder)
        if not isinstance(base, str):
            raise InputError("invalid", f"{where}.name is not a string")
        declared: list[tuple[str, str]] = []
        for field_name, kind in _WORKSPACE_GROUPS.items():
            for name in _object(meta.get(field_name), f"{where}.{field_name}"):
                declared.append((name, kind))
        for name, kind in sorted(declared):
            key = _resolve(base, name, entries)
            if key is not None and entries[key].workspace is None:
                roots.append(_Root(folder, kind, name, key))
    return roots


def _reach(
    entries: Mapping[str, _Entry], roots: Iterable[_Root], *, optional_edges: bool
) -> set[str]:
    seen: set[str] = set()
    queue = deque(root.key for root in roots)
    while queue:
        key = queue.popleft()
        if key in seen:
            continue
        seen.add(key)
        for name, optional in entries[key].deps:
            if optional and not optional_edges:
                continue
            found = _resolve(key, name, entries)
            if found is not None and entries[found].workspace is None:
                queue.append(found)
    return seen


def _rows(
    entries: Mapping[str, _Entry], roots: list[_Root], warnings: list[str]
) -> list[dict[str, Any]]:
    prod = _reach(entries, (r for r in roots if r.kind != "dev"), optional_edges=True)
    reached = _reach(entries, roots, optional_edges=True)
    required = _reach(entries, (r for r in roots if r.kind != "optional"), optional_edges=False)
    direct = {root.key for root in roots}

    paths: dict[str, tuple[str, list[str]]] = {}
    queue: deque[str] = deque()
    for root in roots:
        if root.key not in paths:
            paths[root.key] = (root.prefix, [root.name])
            queue.append(root.key)
    missing: set[str] = set()
    while queue:
        key = queue.popleft()
        prefix, path = paths[key]
        for name, optional in entries[key].deps:
            found = _resolve(key, name, entries)
            if found is None:
                if not optional:
                    missing.add(f"{key} > {name}")
                continue
            if entries[found].workspace is None and found not in paths:
                paths[found] = (prefix, [*path, name])
                queue.append(found)
    if missing:
        warnings.append(
            f"{len(missing)} dependencies resolve to no packages entry (e.g. "
            f"{min(missing)!r:.80}); the lockfile may be incomplete or hand-edited"
        )

    rows: list[dict[str, Any]] = []
    unreached = 0
    for key, entry in entries.items():
        if entry.origin is None:
            continue
        if key not in reached:
            unreached += 1
        install_name = key if "/" not in key else key[len(_parent(key)) :].lstrip("/")
        chain = paths.get(key)
        if chain is None:
            introducer = dependency_path = None
        else:
            prefix, names = chain
            introducer = names[0]
            joined = " > ".join(names)
            dependency_path = f"{prefix}: {joined}" if prefix else joined
        rows.append(
            {
                "name": entry.name,
                "version": entry.version,
                "dev": (key not in prod) if key in reached else None,
                "optional": (key not in required) if key in reached else None,
                "direct": key in direct,
                "bundled": entry.bundled,
                "introducer": introducer,
                "dependency_path": dependency_path,
                "install_path": key,
                "alias": install_name if install_name != entry.name else None,
                "resolved": entry.resolved,
                "origin_kind": entry.origin,
            }
        )
    if unreached:
        warnings.append(
            f"{unreached} packages are not reached from any workspace's declared dependencies; "
            "their dev and optional flags are unknown (None)"
        )
    return rows
