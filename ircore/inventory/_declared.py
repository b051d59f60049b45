"""Declared dependencies: the ranges manifests and lockfiles record, for the ``declared`` frame.

A lockfile says what was installed; a range says what the next fresh install may get. Latent
exposure is a declared range that admits a compromised version, so every range the evidence
holds is read here, with who declares it:

* ``package.json``: ``dependencies``, ``devDependencies``, ``optionalDependencies``,
  ``peerDependencies`` (field named as in the file), npm ``overrides`` (nested ones too; a
  ``"$name"`` reference is replaced by the root's own spec for ``name``, as npm does), yarn
  ``resolutions`` and ``pnpm.overrides``. All are ``direct``: the manifest is the project's or a
  workspace's (package.json files inside ``node_modules`` are never read here).
* Lockfiles, field ``lockfile``, ``declared_by`` the depending package as ``name@version``:
  npm v2/v3 ``packages[*]`` ``dependencies``/``optionalDependencies``/``peerDependencies`` (and,
  for the root and workspace entries, ``devDependencies``; those are ``direct`` and declared by
  the workspace's name or folder), npm v1 ``requires``; yarn classic/Berry entries'
  dependency blocks, and header specifiers (``chalk@^4.1.0``) no entry accounts for, which come
  from the project's manifests or ``resolutions`` (``declared_by`` and ``direct`` unknown);
  pnpm importers' ``specifier`` (``declared_by`` the importer folder; pnpm's own tooling,
  ``packageManagerDependencies``/``configDependencies``, declared by that field name with
  ``direct`` unknown), ``catalogs`` and ``overrides`` (pnpm packages' ``peerDependencies`` are
  not read); bun.lock ``workspaces``, ``packages`` dependency maps, ``overrides`` and catalogs.

Each spec is classified as npm-package-arg does: ``range``, ``tag``, ``git``, ``tarball``,
``file``, ``link``, ``workspace``, ``alias`` (``npm:real@range``; the row's ``name`` is then
the real package) and two more kinds the schema comment does not list: ``catalog`` (pnpm's
``catalog:`` indirection, whose range is a row of its own) and ``invalid`` (what npm would
refuse). ``spec`` is verbatim, with two exceptions: an override's ``$name`` reference is the
spec it refers to, and Yarn Berry's default protocol on a plain range (``npm:^1.2.0``) is not
part of the range the manifest declared, so a ``range`` row's spec is always the npm range itself
(``^1.2.0``), ready to evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ircore._decode import decode_text, load_json
from ircore._errors import InputError, InvalidRange
from ircore.inventory import _bun, _npm, _pnpm, _yarn
from ircore.semver import validate_range

__all__ = [
    "DECLARED_LOCKFILES",
    "DeclaredResult",
    "classify_spec",
    "declared_in_lockfile",
    "declared_in_manifest",
]

MANIFEST_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
DECLARED_LOCKFILES = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock"}
)

_GIT_PREFIXES = ("git+", "git:", "git@", "ssh:", "github:", "gitlab:", "bitbucket:", "gist:")
_GIT_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gist.github.com")
_TARBALL_SUFFIXES = (".tgz", ".tar.gz", ".tar")
_PATH_PREFIXES = ("./", "../", "/", "~/", ".\\", "..\\")
_GIT_SHORTHAND = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:#.*)?$")
# npm refuses tags that encodeURIComponent would change.
_TAG = re.compile(r"^[A-Za-z0-9_.~!*'()-]+$")
_PACKAGE_NAME = re.compile(r"^(?:@[^/@\s]+/)?[^/@\s:^~<>=*|]+$")
_SHOWN = 5


@dataclass(frozen=True)
class DeclaredResult:
    """The declarations one file holds.

    ``format`` is ``"package.json"`` or the lockfile's format as its parser names it
    (``npm-lock-v3``, ``yarn-berry-v8``, ``pnpm-v9.0``, ``bun-lock-v1``). ``rows`` carry
    ``name``, ``spec``, ``spec_kind``, ``declared_by``, ``field`` and ``direct`` (``None`` when
    the file does not say), one per distinct declaration.
    """

    format: str
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


# --- specs --------------------------------------------------------------------------------------


def _is_range(text: str) -> bool:
    try:
        validate_range(text, loose=True)  # npm-package-arg reads ranges loosely
    except InvalidRange:
        return False
    return True


def _alias_name(target: str) -> str | None:
    """``real`` of ``npm:real@range`` (given without ``npm:``); None when it names no package."""
    at = target.find("@", 1 if target.startswith("@") else 0)
    name = target if at < 0 else target[:at]
    if not name or name[0].isdigit() or not _PACKAGE_NAME.match(name):
        return None
    return name


def classify_spec(spec: str) -> tuple[str, str | None]:
    """The kind of a dependency spec, and the real package an ``npm:`` alias names.

    Returns ``(kind, real_name)``; ``real_name`` is None except for ``alias``.
    """
    text = spec.strip()
    lowered = text.lower()
    if lowered.startswith("npm:"):
        real = _alias_name(text[4:])
        if real is not None:
            return "alias", real
        return ("range" if _is_range(text[4:]) else "invalid"), None  # Berry: npm:^1.2.0
    if lowered.startswith("workspace:"):
        return "workspace", None
    if lowered.startswith(("link:", "portal:")):
        return "link", None
    if lowered.startswith(("file:", "exec:")):
        return "file", None
    if lowered.startswith("catalog:"):
        return "catalog", None
    if lowered.startswith("patch:"):
        # Berry's patch:<name>@<url-encoded spec>#<patch>: as the spec it patches.
        inner = unquote(text[len("patch:") :].partition("#")[0])
        at = inner.find("@", 1 if inner.startswith("@") else 0)
        return classify_spec(inner[at + 1 :] if at > 0 else "")[0], None
    if lowered.startswith(_GIT_PREFIXES):
        return "git", None
    if lowered.startswith(("http://", "https://")):
        try:
            parts = urlsplit(text)
        except ValueError:
            return "tarball", None
        segments = [s for s in parts.path.split("/") if s]
        if parts.hostname in _GIT_HOSTS and len(segments) == 2:
            return "git", None  # a repository page URL, as hosted-git-info reads it
        return "tarball", None
    if text in (".", "..") or text.startswith(_PATH_PREFIXES) or re.match(r"^[A-Za-z]:[\\/]", text):
        return "file", None
    if _is_range(text):
        return "range", None
    if _GIT_SHORTHAND.match(text):
        return "git", None  # user/repo#ref, npm's GitHub shorthand
    if _TAG.match(text):
        return "tag", None
    return "invalid", None


class _Rows:
    """Distinct declaration rows of one file."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._seen: set[tuple[Any, ...]] = set()

    def add(
        self, name: str, spec: str, *, declared_by: str | None, field: str, direct: bool | None
    ) -> None:
        kind, real = classify_spec(spec)
        if kind == "range" and spec.strip()[:4].lower() == "npm:":
            spec = spec.strip()[4:]  # Berry's default protocol on a plain range: the range
        row = {
            "name": real or name,
            "spec": spec,
            "spec_kind": kind,
            "declared_by": declared_by,
            "field": field,
            "direct": direct,
        }
        key = tuple(row.values())
        if key not in self._seen:
            self._seen.add(key)
            self.rows.append(row)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _map(value: Any, where: str, writer: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(
            "invalid", f"{where} is a {_json_type(value)}, but {writer} writes an object there"
        )
    return value


def _spec_text(value: Any) -> str | None:
    """A spec as YAML may have typed it (a bare ``1.10`` is a number to a YAML loader)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


# --- package.json -------------------------------------------------------------------------------


def declared_in_manifest(data: bytes, *, path: str) -> DeclaredResult:
    """What one ``package.json`` declares.

    Parameters
    ----------
    data
        The manifest's bytes.
    path
        Its path in the repository, the ``declared_by`` of a manifest without a ``name``.

    Raises
    ------
    InputError
        ``"not-json"``, ``"truncated"`` (as for lockfiles) or ``"invalid"`` (JSON that is not
        an object).
    """
    text = decode_text(data, what=path, kind="not-json")
    manifest = load_json(text, what=path)
    if not isinstance(manifest, dict):
        raise InputError(
            "invalid", f"{path} holds a JSON {_json_type(manifest)}, not a package.json object"
        )
    name = manifest.get("name")
    label = name if isinstance(name, str) and name else path
    rows = _Rows()
    warnings: list[str] = []
    own: dict[str, str] = {}
    for field_name in MANIFEST_FIELDS:
        block = manifest.get(field_name)
        if block is None:
            continue
        if not isinstance(block, dict):
            warnings.append(f"{field_name} is a JSON {_json_type(block)}, not an object; ignored")
            continue
        for dep, spec in block.items():
            if not isinstance(spec, str):
                warnings.append(f"{field_name}.{dep} is not a string; ignored")
                continue
            own.setdefault(dep, spec)
            rows.add(dep, spec, declared_by=label, field=field_name, direct=True)
    overrides = manifest.get("overrides")
    if isinstance(overrides, dict):
        _npm_overrides(overrides, own, rows, label, warnings)
    resolutions = manifest.get("resolutions")
    if isinstance(resolutions, dict):
        for pattern, spec in resolutions.items():
            target = _yarn._override_target(pattern)
            if target is None or not isinstance(spec, str):
                warnings.append(f"resolutions[{pattern!r}] names no package; ignored")
                continue
            rows.add(target, spec, declared_by=label, field="resolutions", direct=True)
    pnpm = manifest.get("pnpm")
    if isinstance(pnpm, dict) and isinstance(pnpm.get("overrides"), dict):
        _selector_overrides(pnpm["overrides"], own, rows, label, "pnpm.overrides", warnings)
    return DeclaredResult(format="package.json", rows=rows.rows, warnings=warnings)


def _selector_name(selector: str) -> str | None:
    """The package an override selector targets: ``a@1>b@<2`` -> ``b``, ``@s/x@^1`` -> ``@s/x``."""
    split = _yarn._split_specifier(selector.rsplit(">", 1)[-1].strip())
    return split[0] if split else None


def _reference(spec: str, own: Mapping[str, str], warnings: list[str], where: str) -> str:
    """``$name`` -> the root's own spec for ``name``, as npm and pnpm resolve it."""
    if not spec.startswith("$"):
        return spec
    if spec[1:] in own:
        return own[spec[1:]]
    warnings.append(
        f"{where} refers to {spec}, which the manifest does not declare (npm refuses this)"
    )
    return spec


def _npm_overrides(
    overrides: Mapping[str, Any],
    own: Mapping[str, str],
    rows: _Rows,
    label: str,
    warnings: list[str],
) -> None:
    stack: list[tuple[Mapping[str, Any], str | None, str]] = [(overrides, None, "overrides")]
    while stack:
        block, parent, where = stack.pop()
        for key, value in block.items():
            here = f"{where}[{key!r}]"
            target = parent if key == "." else _selector_name(key)
            if target is None:
                warnings.append(f"{here} names no package; ignored")
                continue
            if isinstance(value, str):
                spec = _reference(value, own, warnings, here)
                rows.add(target, spec, declared_by=label, field="overrides", direct=True)
            elif isinstance(value, dict):
                stack.append((value, target, here))
            else:
                warnings.append(f"{here} is a JSON {_json_type(value)}; ignored")


def _selector_overrides(
    overrides: Mapping[str, Any],
    own: Mapping[str, str],
    rows: _Rows,
    label: str,
    field_name: str,
    warnings: list[str],
) -> None:
    for selector, value in overrides.items():
        target = _selector_name(selector)
        spec = _spec_text(value)
        if target is None or spec is None:
            warnings.append(f"{field_name}[{selector!r}] is not 'package: spec'; ignored")
            continue
        if spec == "-":
            continue  # pnpm: remove the dependency, which declares nothing
        spec = _reference(spec, own, warnings, f"{field_name}[{selector!r}]")
        rows.add(target, spec, declared_by=label, field=field_name, direct=True)


# --- lockfiles ----------------------------------------------------------------------------------


def declared_in_lockfile(name: str, data: bytes) -> DeclaredResult:
    """The ranges a lockfile records, for a lockfile named ``name`` (see the module docstring).

    Raises
    ------
    InputError
        As the inventory parser of the same lockfile raises it (same kinds).
    """
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        result = _from_npm(data)
        if name == "npm-shrinkwrap.json":
            fmt = result.format.replace("npm-lock", "npm-shrinkwrap")
            return DeclaredResult(fmt, result.rows, result.warnings)
        return result
    if name == "yarn.lock":
        return _from_yarn(data)
    if name == "pnpm-lock.yaml":
        return _from_pnpm(data)
    if name == "bun.lock":
        return _from_bun(data)
    raise InputError("unsupported", f"{name} records no declared ranges ircore reads")


def _from_npm(data: bytes) -> DeclaredResult:
    lock = _npm._load_json(data, what="lockfile")
    if not isinstance(lock, dict):
        raise InputError(
            "unsupported",
            f"the file holds a JSON {_json_type(lock)}, not an object: not an npm lockfile",
        )
    version = _npm._lockfile_version(lock)
    rows = _Rows()
    if "packages" in lock:
        packages = _npm._expect_object(lock["packages"], "packages")
        for location, raw in packages.items():
            where = f"packages[{location!r}]"
            meta = _npm._expect_object(raw, where)
            if meta.get("link"):
                continue  # the target folder's own entry declares its dependencies
            own_name = _npm._optional_str(meta, "name", where)
            if "node_modules" not in location.split("/"):
                # The root, a workspace or a file: folder: the project's own declarations.
                root_name = lock.get("name") if isinstance(lock.get("name"), str) else None
                label = own_name or (root_name if location == "" else location) or "."
                fields: Iterable[str] = MANIFEST_FIELDS
                direct = True
            else:
                install = _npm._install_name(location)
                if install is None:
                    continue
                version_text = _npm._optional_str(meta, "version", where) or ""
                label = f"{own_name or install}@{version_text}"
                fields = ("dependencies", "optionalDependencies", "peerDependencies")
                direct = False
            for field_name in fields:
                block = _npm._expect_object(meta.get(field_name) or {}, f"{where}.{field_name}")
                for dep, spec in block.items():
                    if isinstance(spec, str):
                        rows.add(dep, spec, declared_by=label, field="lockfile", direct=direct)
    else:
        _npm_v1(lock, rows)
    return DeclaredResult(format=f"npm-lock-v{version}", rows=rows.rows)


def _npm_v1(lock: Mapping[str, Any], rows: _Rows) -> None:
    top = lock.get("dependencies")
    if top is None:
        return
    stack: list[tuple[str, Any, str]] = [
        (name, meta, f"dependencies[{name!r}]")
        for name, meta in _npm._expect_object(top, "dependencies").items()
    ]
    while stack:
        install_name, raw, where = stack.pop()
        meta = _npm._expect_object(raw, where)
        parsed = _npm._parse_legacy_version(install_name, meta, where)
        requires = meta.get("requires")
        if isinstance(requires, dict):
            label = f"{parsed['name']}@{parsed['version']}"
            for dep, spec in requires.items():
                if isinstance(spec, str):
                    rows.add(dep, spec, declared_by=label, field="lockfile", direct=False)
        nested = meta.get("dependencies")
        if nested is not None:
            for name, child in _npm._expect_object(nested, f"{where}.dependencies").items():
                stack.append((name, child, f"{where}.dependencies[{name!r}]"))


def _from_yarn(data: bytes) -> DeclaredResult:
    text = decode_text(data, what="the file", writer="yarn", empty_kind=None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    content = [line for line in text.split("\n") if line.strip() and not _yarn._is_comment(line)]
    if not content:
        return DeclaredResult("yarn-v1" if "yarn lockfile v1" in text else "yarn-empty", [])
    if content[0].lstrip().startswith(("{", "[")):
        raise InputError("invalid", "line 1: the file holds JSON, not a yarn.lock")
    variants = _yarn._conflict_variants(text, data)
    rows = _Rows()
    covered: set[tuple[str, str]] = set()
    headers: list[tuple[str, str]] = []
    if any(_yarn._METADATA.search(variant) for variant in variants):
        fmt = _yarn_berry(variants, data, rows, covered, headers)
    else:
        fmt = "yarn-v1"
        _yarn_classic(variants, rows, covered, headers)
    unaccounted = []
    for name, rng in headers:
        if (name, rng) in covered or rng.startswith("workspace:"):
            continue
        unaccounted.append(f"{name}@{rng}")
        rows.add(name, rng, declared_by=None, field="lockfile", direct=None)
    warnings = []
    if unaccounted:
        warnings.append(
            f"{len(unaccounted)} specifiers are declared by no lockfile entry (the project's "
            f"manifests, or resolutions): declarer and direct unknown: {_shown(unaccounted)}"
        )
    return DeclaredResult(format=fmt, rows=rows.rows, warnings=warnings)


def _yarn_classic(
    variants: list[str],
    rows: _Rows,
    covered: set[tuple[str, str]],
    headers: list[tuple[str, str]],
) -> None:
    for variant in variants:
        try:
            entries, _ = _yarn._parse_classic(variant)
        except _yarn._Syntax as exc:
            raise InputError("invalid", f"line {exc.line}: {exc.message}") from None
        for entry in entries:
            specs = [_yarn._split_specifier(key) for key in entry.keys]
            if any(spec is None for spec in specs):
                raise InputError(
                    "invalid", f"line {entry.line}: {entry.keys!r} holds no 'name@range'"
                )
            pairs = [spec for spec in specs if spec is not None]
            version = entry.fields.get("version")
            if not isinstance(version, str):
                raise InputError("invalid", f"line {entry.line}: the entry has no version")
            real = [_yarn._alias_target(rng) or name for name, rng in pairs]
            label = f"{max(dict.fromkeys(real), key=real.count)}@{version}"
            headers.extend(pairs)
            for block in ("dependencies", "optionalDependencies"):
                deps = entry.fields.get(block)
                if deps is None:
                    continue
                if not isinstance(deps, dict) or not all(isinstance(v, str) for v in deps.values()):
                    raise InputError(
                        "invalid", f"line {entry.line}: {block} must list 'name range' pairs"
                    )
                for dep, rng in deps.items():
                    covered.add((dep, rng))
                    rows.add(dep, rng, declared_by=label, field="lockfile", direct=False)


def _yarn_berry(
    variants: list[str],
    data: bytes,
    rows: _Rows,
    covered: set[tuple[str, str]],
    headers: list[tuple[str, str]],
) -> str:
    version = ""
    for variant in variants:
        document = _yarn._load_yaml(variant, data)
        if not isinstance(document, dict):
            raise InputError("invalid", "the YAML is not a mapping of entries")
        metadata = document.get("__metadata")
        meta_version = metadata.get("version") if isinstance(metadata, dict) else None
        if not isinstance(meta_version, str):
            raise InputError("invalid", "__metadata.version is missing: not a lockfile Yarn writes")
        version = version or meta_version
        for key, entry in document.items():
            if key == "__metadata":
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("resolution"), str):
                raise InputError("invalid", f"the entry {key!r:.80} has no resolution")
            locator = _yarn._berry_locator(entry["resolution"])
            if locator is None:
                raise InputError(
                    "invalid", f"the entry {key!r:.80} resolves to no 'name@reference'"
                )
            name, reference, _ = locator
            workspace = reference.startswith("workspace:")
            entry_version = entry.get("version") if isinstance(entry.get("version"), str) else ""
            label = name if workspace else f"{name}@{entry_version}"
            for descriptor in str(key).split(","):
                split = _yarn._split_specifier(descriptor.strip())
                if split is not None:
                    headers.append(split)
            for block in ("dependencies", "peerDependencies"):
                deps = entry.get(block)
                if deps is None:
                    continue
                if not isinstance(deps, dict) or not all(isinstance(v, str) for v in deps.values()):
                    raise InputError(
                        "invalid", f"the entry {key!r:.80}: {block} must map names to ranges"
                    )
                for dep, rng in deps.items():
                    covered.add((dep, rng))
                    rows.add(dep, rng, declared_by=label, field="lockfile", direct=workspace)
    return f"yarn-berry-v{version}"


def _from_pnpm(data: bytes) -> DeclaredResult:
    text = decode_text(data, what="the lockfile", writer="pnpm").replace("\r\n", "\n")
    documents = _pnpm._load_documents(text, complete=text.endswith("\n"))
    rows = _Rows()
    fmt = ""
    for index, document in enumerate(documents):
        where = f"YAML document {index + 1}: " if len(documents) > 1 else ""
        if not isinstance(document, dict) or "lockfileVersion" not in document:
            raise InputError("unsupported", f"{where}no lockfileVersion: not a pnpm lockfile")
        version = str(document["lockfileVersion"]).strip()
        if not fmt or "importers" in document:
            fmt = f"pnpm-v{version}"
        importers = (
            _map(document["importers"], f"{where}importers", "pnpm")
            if "importers" in document
            else {".": document}
        )
        for importer in sorted(importers, key=lambda i: (i != ".", i)):
            entry = _map(importers[importer], f"{where}importers[{importer!r}]", "pnpm")
            specifiers = _map(entry.get("specifiers"), f"{where}specifiers", "pnpm")  # v5
            for field_name in (
                "dependencies",
                "devDependencies",
                "optionalDependencies",
                "packageManagerDependencies",
                "configDependencies",
            ):
                tooling = field_name in ("packageManagerDependencies", "configDependencies")
                block = _map(entry.get(field_name), f"{where}{field_name}", "pnpm")
                for alias, value in block.items():
                    spec = _spec_text(
                        value.get("specifier") if isinstance(value, dict) else specifiers.get(alias)
                    )
                    if spec is None:
                        continue
                    rows.add(
                        str(alias),
                        spec,
                        declared_by=field_name if tooling else importer or ".",
                        field="lockfile",
                        direct=None if tooling else True,
                    )
        catalogs = _map(document.get("catalogs"), f"{where}catalogs", "pnpm")
        for catalog, entries in catalogs.items():
            for dep, value in _map(entries, f"{where}catalogs[{catalog!r}]", "pnpm").items():
                spec = _spec_text(value.get("specifier") if isinstance(value, dict) else None)
                if spec is not None:
                    rows.add(
                        str(dep),
                        spec,
                        declared_by=f"catalog:{catalog}",
                        field="lockfile",
                        direct=True,
                    )
        overrides = _map(document.get("overrides"), f"{where}overrides", "pnpm")
        _selector_overrides(overrides, {}, rows, ".", "pnpm.overrides", [])
    return DeclaredResult(format=fmt, rows=rows.rows)


def _from_bun(data: bytes) -> DeclaredResult:
    if data.startswith(_bun._LOCKB_MAGIC) or _bun._LOCKB_MAGIC[1] in data[:64]:
        raise InputError("unsupported", "bun.lockb is bun's binary lockfile; ircore reads bun.lock")
    text = decode_text(data, what="the lockfile", writer="bun")
    lock = load_json(_bun._jsonc_to_json(text), what="the lockfile", writer="bun", syntax="JSONC")
    if not isinstance(lock, dict):
        raise InputError("unsupported", "the file holds no JSON object: not a bun.lock")
    version = _bun._lockfile_version(lock)
    rows = _Rows()
    workspaces = _map(lock.get("workspaces"), "workspaces", "bun")
    root_label = "."
    for folder in sorted(workspaces, key=lambda f: (f != "", f)):
        meta = _map(workspaces[folder], f"workspaces[{folder!r}]", "bun")
        name = meta.get("name")
        label = name if isinstance(name, str) and name else folder or "."
        if folder == "":
            root_label = label
        for field_name in MANIFEST_FIELDS:
            for dep, spec in _map(meta.get(field_name), f"workspaces.{field_name}", "bun").items():
                if isinstance(spec, str):
                    rows.add(dep, spec, declared_by=label, field="lockfile", direct=True)
    packages = _map(lock.get("packages"), "packages", "bun")
    for key, raw in packages.items():
        if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
            raise InputError("invalid", f"packages[{key!r}] is not an array starting with name@")
        split = _bun._split_spec(raw[0])
        if split is None or split[1].startswith(("workspace:", "root:")):
            continue  # workspaces declare through the workspaces map
        info = next((item for item in raw[1:] if isinstance(item, dict)), {})
        for field_name in ("dependencies", "optionalDependencies", "peerDependencies"):
            block = _map(info.get(field_name), f"packages[{key!r}].{field_name}", "bun")
            for dep, spec in block.items():
                if isinstance(spec, str):
                    rows.add(dep, spec, declared_by=raw[0], field="lockfile", direct=False)
    overrides = _map(lock.get("overrides"), "overrides", "bun")
    _selector_overrides(overrides, {}, rows, root_label, "overrides", [])
    for catalog_field in ("catalog", "catalogs"):
        block = _map(lock.get(catalog_field), catalog_field, "bun")
        named = {"default": block} if catalog_field == "catalog" else block
        for catalog, entries in named.items():
            for dep, spec in _map(entries, f"{catalog_field}[{catalog!r}]", "bun").items():
                if isinstance(spec, str):
                    rows.add(
                        dep, spec, declared_by=f"catalog:{catalog}", field="lockfile", direct=True
                    )
    return DeclaredResult(format=f"bun-lock-v{version}", rows=rows.rows)
