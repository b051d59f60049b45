"""npm lockfiles (``package-lock.json`` v1/v2/v3 and ``npm-shrinkwrap.json``) into inventory rows.

Pure parsing: bytes in, rows out. The caller finds the files and adds ``file``, ``repo``,
``ref`` and the other provenance columns.

How npm's own reader (``@npmcli/arborist``) is followed:

* A file that has ``packages`` is read from ``packages`` only; the legacy ``dependencies``
  block (v1, and repeated in v2) is read only when ``packages`` is absent, exactly as arborist
  does, so v2 files are never counted twice.
* Everything is turned into one map of install locations (``node_modules/a/node_modules/b``),
  and a dependency ``x`` of the entry at location ``L`` resolves to the nearest
  ``<ancestor of L>/node_modules/x``, the rule Node and arborist use. Links
  (``"link": true``) resolve to their target folder.
* Locations outside any ``node_modules`` folder (the root ``""``, workspaces, ``file:``
  directories) are the project's own source, not registry packages: they get no row, but the
  dependencies they declare are the *direct* ones.

Flag semantics, from npm's ``package-lock.json`` documentation and arborist's
``calc-dep-flags.js``:

* ``dev``: the entry is only reachable through devDependencies.
* ``optional``: the entry is only reachable through optional edges.
* ``devOptional`` (written when neither of the above holds but the entry is not needed by a
  plain production install): the overlap of the dev and the optional trees; npm prunes it only
  when *both* dev and optional are omitted. A production install (``--omit=dev``) still installs
  it as an optional dependency, so it is reported as ``dev=False, optional=True``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ircore._decode import decode_text, load_json
from ircore._errors import InputError
from ircore.inventory._result import LockfileResult

__all__ = ["LockfileResult", "parse_npm_lockfile"]

SUPPORTED_VERSIONS = (1, 2, 3)

# Every kind of dependency a manifest can declare; devDependencies only count for the root and
# workspaces (npm never installs an installed package's devDependencies).
_INSTALLED_DEP_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")
_DECLARER_DEP_FIELDS = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)

_GIT_PREFIXES = ("git+", "git:", "git@", "ssh:", "github:", "gitlab:", "bitbucket:", "gist:")
_TARBALL_SUFFIXES = (".tgz", ".tar.gz", ".tar")
# npm's hosted-git shorthand `user/repo#ref` as v1 lockfiles write it in `version`.
_GIT_SHORTHAND = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(#.*)?$")


@dataclass
class _Entry:
    """One location of the lockfile, normalised across v1 and v2/v3."""

    location: str
    install_name: str
    name: str
    version: str
    resolved: str | None
    dev: bool
    optional: bool
    bundled: bool
    deps: list[str]


def parse_npm_lockfile(data: bytes, *, manifest: bytes | None = None) -> LockfileResult:
    """Read an npm ``package-lock.json`` or ``npm-shrinkwrap.json``.

    Parameters
    ----------
    data
        The lockfile's bytes. A UTF-8 byte order mark and CRLF line endings are accepted, as
        npm accepts them.
    manifest
        The project's ``package.json`` bytes, when available. Only lockfileVersion 1 needs it:
        v1 does not record which dependencies the root declares, so without it ``direct``,
        ``introducer`` and ``dependency_path`` are ``None`` for v1 rows. v2/v3 lockfiles state
        the root's and every workspace's dependencies themselves, and those are used (they match
        the flags npm wrote), so ``manifest`` is ignored there.

    Returns
    -------
    LockfileResult
        The format and one row per installed package entry. Excluded, because they are not
        registry packages: the root project, workspace and other local folders, ``link`` entries
        and ``file:`` directory dependencies. Kept: bundled copies (``bundled=True``, origin
        ``registry`` as they come inside their parent's registry tarball), git and remote-tarball
        dependencies, and ``file:`` *tarballs* (origin ``file``), since a vendored tarball can
        carry a compromised release as well as the registry can. A dependency recorded without
        any semver version (v1 git or tarball specs) has ``version=""``.

        ``direct`` is True for an entry that the root or any workspace (or ``file:`` folder)
        declares, as resolved from that manifest's folder. ``dependency_path`` is the shortest
        chain from a direct dependency (breadth-first, ties broken by name, so it is stable), and
        ``introducer`` its first element. Their segments are *install names*, the keys written in
        ``package.json`` and shown by ``npm ls``: for an alias (``"string-width-cjs":
        "npm:string-width@^4"``) the path says ``string-width-cjs``, the name an analyst edits,
        while ``name`` is the real package and ``alias`` the install name. Entries no declared
        dependency reaches (extraneous copies) have no path.

    Raises
    ------
    InputError
        ``kind`` is ``"not-json"`` (not UTF-8, not JSON), ``"truncated"`` (JSON cut short, or
        an empty file), ``"unsupported"`` (not a lockfile object, or a ``lockfileVersion`` other
        than 1, 2, 3) or ``"invalid"`` (a lockfile whose structure npm would not accept, e.g.
        ``packages`` that is not an object).
    """
    lock = _load_json(data, what="lockfile")
    if not isinstance(lock, dict):
        raise InputError(
            "unsupported",
            f"the file holds a JSON {_json_type(lock)}, not an object: not an npm lockfile",
        )
    version = _lockfile_version(lock)
    fmt = f"npm-lock-v{version}"
    warnings: list[str] = []

    if "packages" in lock:
        packages = _expect_object(lock["packages"], "packages")
        entries, links, declarers = _from_packages(packages, warnings)
        root_known = "" in packages
        if not root_known and entries:
            warnings.append(
                'the lockfile has no root entry (packages[""]), so the root project\'s own '
                "dependencies are unknown; direct is only set for those declared by workspaces"
            )
    else:
        root_deps, root_known = _manifest_deps(manifest, warnings)
        entries, links, declarers = _from_legacy(lock, root_deps)
        if not root_known and entries:
            warnings.append(
                f"lockfileVersion {version} does not record the project's direct dependencies "
                "and no readable package.json was given: direct, introducer and dependency_path "
                "are unknown"
            )

    direct, paths = _walk_graph(entries, links, declarers)
    rows = []
    for entry in entries.values():
        path = paths.get(entry.location)
        is_direct: bool | None = entry.location in direct
        if not is_direct and not root_known:
            is_direct = None  # the root may declare it; we cannot tell
        rows.append(
            {
                "name": entry.name,
                "version": entry.version,
                "dev": entry.dev,
                "optional": entry.optional,
                "direct": is_direct,
                "bundled": entry.bundled,
                "introducer": path[0] if path else None,
                "dependency_path": " > ".join(path) if path else None,
                "install_path": entry.location,
                "alias": entry.install_name if entry.install_name != entry.name else None,
                "resolved": entry.resolved,
                "origin_kind": _origin_kind(entry.resolved),
            }
        )
    return LockfileResult(format=fmt, rows=rows, warnings=warnings)


# --- decoding -----------------------------------------------------------------------------------


def _load_json(data: bytes, *, what: str) -> Any:
    """Decode UTF-8 JSON (BOM allowed); every failure becomes an analyst-readable InputError."""
    text = decode_text(data, what=f"the {what}", writer="npm", kind="not-json")
    return load_json(text, what=f"the {what}", writer="npm")


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _lockfile_version(lock: Mapping[str, Any]) -> int:
    if "lockfileVersion" not in lock:
        looks_like_manifest = any(k in lock for k in ("scripts", "devDependencies", "main"))
        hint = " (it looks like a package.json)" if looks_like_manifest else ""
        raise InputError(
            "unsupported", f"the JSON object has no lockfileVersion: not an npm lockfile{hint}"
        )
    version = lock["lockfileVersion"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(
            "unsupported",
            f"lockfileVersion is {version!r}, not a number: not a lockfile npm writes",
        )
    if version not in SUPPORTED_VERSIONS:
        raise InputError(
            "unsupported",
            f"lockfileVersion {version} is not one ircore reads (1, 2, 3); "
            "its packages are not in the inventory",
        )
    return version


def _expect_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(
            "invalid", f"{where} is a JSON {_json_type(value)}, but npm writes an object there"
        )
    return value


def _optional_str(meta: Mapping[str, Any], key: str, where: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            "invalid", f"{where}.{key} is a JSON {_json_type(value)}, but npm writes a string there"
        )
    return value


def _dep_names(meta: Mapping[str, Any], fields: Iterable[str], where: str) -> list[str]:
    names: list[str] = []
    for key in fields:
        if key in meta and meta[key] is not None:
            names.extend(_expect_object(meta[key], f"{where}.{key}"))
    return names


# --- v2/v3 --------------------------------------------------------------------------------------


def _install_name(location: str) -> str | None:
    """The folder name under the last ``node_modules``; None when the location is no such folder."""
    parts = location.split("/")
    try:
        last = len(parts) - 1 - parts[::-1].index("node_modules")
    except ValueError:
        return None
    tail = parts[last + 1 :]
    if len(tail) == 1 and tail[0] and not tail[0].startswith("@"):
        return tail[0]
    if len(tail) == 2 and tail[0].startswith("@") and len(tail[0]) > 1 and tail[1]:
        return f"{tail[0]}/{tail[1]}"
    return None  # a folder inside an installed package (e.g. a git dependency's workspace)


def _from_packages(
    packages: Mapping[str, Any], warnings: list[str]
) -> tuple[dict[str, _Entry], dict[str, str], dict[str, list[str]]]:
    entries: dict[str, _Entry] = {}
    links: dict[str, str] = {}
    declarers: dict[str, list[str]] = {}
    for location, raw in packages.items():
        where = f"packages[{location!r}]"
        meta = _expect_object(raw, where)
        if meta.get("link"):
            target = _optional_str(meta, "resolved", where)
            if target is not None:
                links[location] = target
            continue
        install_name = _install_name(location)
        if install_name is None and "node_modules" not in location.split("/"):
            # The root, a workspace or a file: directory: the project's own source.
            declarers[location] = _dep_names(meta, _DECLARER_DEP_FIELDS, where)
            continue
        if install_name is None:
            # Inside an installed package but not a package folder: npm writes no such key.
            warnings.append(f"{where} is not a package folder under node_modules; skipped")
            continue
        name = _optional_str(meta, "name", where) or install_name
        entries[location] = _Entry(
            location=location,
            install_name=install_name,
            name=name,
            version=_optional_str(meta, "version", where) or "",
            resolved=_optional_str(meta, "resolved", where),
            dev=bool(meta.get("dev")),
            optional=bool(meta.get("optional") or meta.get("devOptional")),
            bundled=bool(meta.get("inBundle")),
            deps=_dep_names(meta, _INSTALLED_DEP_FIELDS, where),
        )
    return entries, links, declarers


# --- v1 (and any file without `packages`) -------------------------------------------------------


def _manifest_deps(manifest: bytes | None, warnings: list[str]) -> tuple[list[str], bool]:
    """The root's declared dependency names from package.json; (names, whether they are known)."""
    if manifest is None:
        return [], False
    try:
        pkg = _load_json(manifest, what="package.json")
        pkg = _expect_object(pkg, "package.json")
        return _dep_names(pkg, _DECLARER_DEP_FIELDS, "package.json"), True
    except InputError as exc:
        # The lockfile itself is fine; losing its rows over a broken manifest would hide more.
        warnings.append(f"package.json could not be used ({exc.kind}: {exc.message})")
        return [], False


def _parse_legacy_version(install_name: str, lock: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Split a v1 entry's overloaded ``version`` into name, version, resolved and link target.

    v1 puts aliases (``npm:real@1.2.3``), git URLs, tarball URLs and ``file:`` paths in
    ``version``; arborist's ``specFromLock`` sorts them the same way.
    """
    spec = _optional_str(lock, "version", where) or ""
    resolved = _optional_str(lock, "resolved", where)
    out: dict[str, Any] = {
        "name": install_name,
        "version": spec,
        "resolved": resolved,
        "link": None,
    }
    lowered = spec.lower()
    if lowered.startswith("npm:"):
        target = spec[4:]
        # Split at the LAST '@': the target may be scoped (npm:@scope/pkg@1.2.3).
        at = target.rfind("@")
        if at > 0:
            out["name"], out["version"] = target[:at], target[at + 1 :]
        else:
            out["name"], out["version"] = target, ""
    elif lowered.startswith("file:"):
        path = spec[5:]
        if lowered.endswith(_TARBALL_SUFFIXES):
            out["version"] = _version_from_tarball(install_name, path)
            out["resolved"] = resolved or spec
        else:
            out["link"] = _normalise_relpath(path)
    elif lowered.startswith(_GIT_PREFIXES):
        out["version"] = ""
        out["resolved"] = resolved or spec
    elif _GIT_SHORTHAND.match(spec):
        # `user/repo#ref` is npm's GitHub shorthand; spelled out so it cannot pass for a path.
        out["version"] = ""
        out["resolved"] = resolved or f"github:{spec}"
    elif lowered.startswith(("http://", "https://")):
        out["version"] = _version_from_tarball(install_name, _split_url(spec).path)
        out["resolved"] = resolved or spec
    return out


def _split_url(value: str) -> SplitResult:
    """``urlsplit`` that never raises: a malformed URL (``http://[x``) is neither registry nor path."""
    try:
        return urlsplit(value)
    except ValueError:
        return SplitResult("", "", "", "", "")


def _version_from_tarball(install_name: str, path: str) -> str:
    """``1.2.3`` from ``…/name-1.2.3.tgz`` (as arborist's versionFromTgz), else ``""``."""
    base = path.rsplit("/", 1)[-1]
    stem = install_name.rsplit("/", 1)[-1] + "-"
    for suffix in _TARBALL_SUFFIXES:
        if base.endswith(suffix) and base.startswith(stem):
            candidate = base[len(stem) : -len(suffix)]
            if re.match(r"^\d+\.\d+\.\d+", candidate):
                return candidate
    return ""


def _normalise_relpath(path: str) -> str:
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _from_legacy(
    lock: Mapping[str, Any], root_deps: list[str]
) -> tuple[dict[str, _Entry], dict[str, str], dict[str, list[str]]]:
    entries: dict[str, _Entry] = {}
    links: dict[str, str] = {}
    declarers: dict[str, list[str]] = {"": root_deps}
    top = lock.get("dependencies")
    if top is None:
        return entries, links, declarers
    # An explicit stack, not recursion: nesting depth is the input's choice.
    stack: list[tuple[str, str, Any]] = []

    def push(parent_location: str, deps: Any, where: str) -> None:
        block = _expect_object(deps, where)
        for install_name in reversed(list(block)):
            prefix = f"{parent_location}/" if parent_location else ""
            stack.append(
                (f"{prefix}node_modules/{install_name}", install_name, block[install_name])
            )

    push("", top, "dependencies")
    while stack:
        location, install_name, raw = stack.pop()
        where = f"dependencies[{location!r}]"
        meta = _expect_object(raw, where)
        parsed = _parse_legacy_version(install_name, meta, where)
        requires = meta.get("requires")
        if requires is None or isinstance(requires, bool):
            dep_names: list[str] = []  # `"requires": true` (early npm 5) names nothing
        else:
            dep_names = list(_expect_object(requires, f"{where}.requires"))
        if parsed["link"] is not None:
            # A file: directory: a local folder whose nested entries live under its target.
            links[location] = parsed["link"]
            declarers.setdefault(parsed["link"], dep_names)
            nested_at = parsed["link"]
        else:
            entries[location] = _Entry(
                location=location,
                install_name=install_name,
                name=parsed["name"],
                version=parsed["version"],
                resolved=parsed["resolved"],
                dev=bool(meta.get("dev")),
                optional=bool(meta.get("optional")),
                bundled=bool(meta.get("bundled")),
                deps=dep_names,
            )
            nested_at = location
        if meta.get("dependencies") is not None:
            push(nested_at, meta["dependencies"], f"{where}.dependencies")
    return entries, links, declarers


# --- graph --------------------------------------------------------------------------------------


def _resolve(
    location: str,
    name: str,
    entries: Mapping[str, _Entry],
    links: Mapping[str, str],
    declarers: Mapping[str, list[str]],
) -> str | None:
    """Where ``name`` required from ``location`` is found: the nearest ancestor's node_modules."""
    path = location
    while True:
        candidate = f"{path}/node_modules/{name}" if path else f"node_modules/{name}"
        if candidate in entries:
            return candidate
        if candidate in links:
            target = links[candidate]
            return target if target in entries or target in declarers else None
        if not path:
            return None
        path = path.rsplit("/", 1)[0] if "/" in path else ""


def _walk_graph(
    entries: Mapping[str, _Entry],
    links: Mapping[str, str],
    declarers: Mapping[str, list[str]],
) -> tuple[set[str], dict[str, list[str]]]:
    """Direct entries and the shortest dependency path (install names) to every reachable entry.

    Breadth-first from every dependency declared by the root and each workspace at once, root
    first then workspaces by location, names sorted, so paths are shortest and deterministic.
    """
    direct: set[str] = set()
    paths: dict[str, list[str]] = {}
    queue: deque[str] = deque()
    for declarer in sorted(declarers, key=lambda loc: (loc != "", loc)):
        for name in sorted(declarers[declarer]):
            found = _resolve(declarer, name, entries, links, declarers)
            if found is None or found not in entries:
                continue  # missing, or another workspace (its own declarations count already)
            direct.add(found)
            if found not in paths:
                paths[found] = [entries[found].install_name]
                queue.append(found)
    while queue:
        location = queue.popleft()
        for name in sorted(entries[location].deps):
            found = _resolve(location, name, entries, links, declarers)
            if found is None or found not in entries or found in paths:
                continue
            paths[found] = [*paths[location], entries[found].install_name]
            queue.append(found)
    return direct, paths


# --- origin -------------------------------------------------------------------------------------


def _origin_kind(resolved: str | None) -> str:
    """registry | git | tarball | file, from a ``resolved`` value.

    No ``resolved`` means npm fetches ``name@version`` from the configured registry: bundled
    entries (inside their parent's registry tarball) and registry entries some npm versions saved
    without it.
    """
    if resolved is None:
        return "registry"
    value = resolved.strip()
    lowered = value.lower()
    if lowered.startswith(_GIT_PREFIXES):
        return "git"
    if lowered.startswith("file:"):
        return "file"
    if lowered.startswith(("http://", "https://")):
        parts = _split_url(value)
        # Every npm registry (npmjs, yarnpkg mirror, Verdaccio, Artifactory, Nexus) serves
        # tarballs at <name>/-/<basename>-<version>.tgz; GitHub Packages under /download/.
        if "/-/" in parts.path and parts.path.endswith(".tgz"):
            return "registry"
        if parts.hostname == "npm.pkg.github.com" and parts.path.startswith("/download/"):
            return "registry"
        return "tarball"
    if "://" not in value:
        return "file"  # a relative path, as arborist writes for local tarballs
    return "tarball"
