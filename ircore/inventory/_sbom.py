"""SBOM documents into inventory rows: CycloneDX JSON 1.2-1.6, SPDX JSON 2.2/2.3, and GitHub's
dependency-graph export (an SPDX 2.3 document wrapped as ``{"sbom": {...}}``).

Pure parsing: bytes in, rows out, like the lockfile parsers. The format is told from the content
(``bomFormat: "CycloneDX"`` or ``spdxVersion``), never from the file name, so a JSON file that
only happens to be called ``sbom.json`` is an :class:`InputError`, not a guess.

What is read, and why:

* **The package.** An npm package URL (``pkg:npm/%40scope/name@1.2.3``) names it best: its
  namespace is the scope, and tools agree on it where they disagree on fields (cyclonedx-npm
  writes ``group: "@scope"`` + ``name: "name"``, ``npm sbom`` writes ``name: "@scope/name"``
  without a group; GitHub's export once wrote ``name: "npm:chalk"``). Without a purl, the fields
  are used, and only where the component says it is npm (``cdx:npm:*`` properties, an ``npm:``
  name prefix); anything else (pypi, maven, the GitHub repository itself, operating-system or
  file components) is skipped and counted in a warning.
* **The project itself is no row:** CycloneDX ``metadata.component``; SPDX packages the document
  DESCRIBES (``documentDescribes`` or a ``DESCRIBES`` relationship from the document).
* **A version that is an npm range, not a version** (GitHub lists ``^4.17.21`` for a manifest
  without a lockfile) is not something installed: the package is left out and a warning names it.
* **Flags only where the document says them.** ``dev``: CycloneDX ``cdx:npm:package:development``
  (``npm sbom`` and cyclonedx-npm write it on every dev package, so in their documents its absence
  means production), CycloneDX ``scope: "excluded"`` (not used at run time), or SPDX typed edges
  (``DEV_DEPENDENCY_OF``... as ``npm sbom`` writes them: dev when only such edges reach the
  package). ``optional``: CycloneDX ``scope`` (``optional``; ``required`` or absent, the spec's
  default, is not optional) or SPDX ``OPTIONAL_DEPENDENCY_OF`` reachability. ``direct``: the
  project's own dependency edges (CycloneDX ``dependencies[ref=root].dependsOn``, SPDX
  ``DEPENDS_ON``/``*_DEPENDENCY_OF`` from or to the root), unless the root lists every package
  and no package lists any (a flat list, as some exporters write), which says nothing about
  directness. Otherwise ``None``.
* ``install_path`` from ``cdx:npm:package:path`` (one row per path; the property may repeat) or
  SPDX ``packageFileName`` when it is a node_modules location; ``resolved`` from a
  ``distribution`` external reference, a purl ``vcs_url``/``download_url`` qualifier or the SPDX
  ``downloadLocation``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ircore._decode import decode_text, load_json
from ircore._errors import InputError, InvalidRange, InvalidVersion
from ircore.inventory._npm import _origin_kind
from ircore.inventory._result import LockfileResult
from ircore.semver import parse_version, validate_range

__all__ = ["parse_sbom"]

CYCLONEDX_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")

_PROP = "cdx:npm:package:"
# Tools that write cdx:npm:package:development on every dev package, so that its absence in
# their documents means "not dev" (npm's own `npm sbom` and CycloneDX's cyclonedx-npm).
_NPM_TOOLS = {"cyclonedx-npm", "@cyclonedx/cyclonedx-npm", "npm/cli"}
# SPDX relationship types that are dependency edges: type -> (child is the element, kind).
# "X DEPENDS_ON Y" points parent to child; "X DEPENDENCY_OF Y" child to parent.
_SPDX_EDGES: dict[str, tuple[bool, str]] = {
    "DEPENDS_ON": (False, "prod"),
    "HAS_PREREQUISITE": (False, "prod"),
    "DEPENDENCY_OF": (True, "prod"),
    "RUNTIME_DEPENDENCY_OF": (True, "prod"),
    "PREREQUISITE_FOR": (True, "prod"),  # npm writes peer dependencies this way
    "OPTIONAL_DEPENDENCY_OF": (True, "optional"),
    "DEV_DEPENDENCY_OF": (True, "dev"),
    "BUILD_DEPENDENCY_OF": (True, "dev"),
    "TEST_DEPENDENCY_OF": (True, "dev"),
    "DEV_TOOL_OF": (True, "dev"),
}
_SHOWN = 5


@dataclass
class _Package:
    """One npm package of the document, before its flags are known."""

    node: str  # bom-ref / SPDXID, "" when the document gives none
    name: str
    version: str
    resolved: str | None
    install_paths: list[str]
    dev: bool | None = None
    optional: bool | None = None
    bundled: bool | None = None
    found_in: list[str] = field(default_factory=list)  # files the producer read it from (syft)


@dataclass
class _Graph:
    """Dependency edges between document nodes: parent -> [(child, kind)]."""

    roots: set[str] = field(default_factory=set)
    edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, parent: str, child: str, kind: str) -> None:
        self.edges.setdefault(parent, []).append((child, kind))


@dataclass
class _Skipped:
    """What was left out, for the warnings."""

    other: dict[str, int] = field(default_factory=dict)  # purl type -> count
    unnamed: list[str] = field(default_factory=list)  # components with no npm identity
    assumed: list[str] = field(default_factory=list)  # untyped libraries read as npm by name
    ranges: list[str] = field(default_factory=list)  # name@range
    renamed: list[str] = field(default_factory=list)  # fields that disagree with the purl


def parse_sbom(data: bytes, *, manifest: bytes | None = None) -> LockfileResult:
    """Read a CycloneDX or SPDX JSON SBOM, or GitHub's dependency-graph export.

    Parameters
    ----------
    data
        The document's bytes (UTF-8; a byte order mark is accepted).
    manifest
        Ignored; accepted so that every parser has the same signature.

    Returns
    -------
    LockfileResult
        ``format`` is ``"cyclonedx-<specVersion>"`` (``cyclonedx-1.5``) or
        ``"spdx-<version>"`` (``spdx-2.3``). One row per npm package and install path (see
        the module docstring for what is read from where): ``name``, ``version``, ``dev``,
        ``optional``, ``direct``, ``bundled`` (``None`` where the document does not say),
        ``introducer`` and ``dependency_path`` (the shortest chain of package names from the
        project's own dependency edges, when the document has them), ``install_path``,
        ``alias`` (always ``None``: SBOMs name the real package), ``resolved`` and
        ``origin_kind`` (from ``resolved``; ``None`` when the document gives no location).
        Warnings count what was skipped: other ecosystems, components with no npm identity,
        packages listed with a range instead of a version.

    Raises
    ------
    InputError
        ``kind`` is ``"not-json"`` (not UTF-8 JSON, with line and column), ``"truncated"``
        (empty, or the JSON ends too early), ``"unsupported"`` (JSON that is neither a CycloneDX
        nor an SPDX 2.x document, CycloneDX 1.0/1.1, which exist only as XML, SPDX other than 2.x)
        or ``"invalid"`` (a structure the format does not allow, named by its place).
    """
    del manifest  # documented: an SBOM carries everything it knows
    text = decode_text(data, what="the SBOM", kind="not-json")
    doc = load_json(text, what="the SBOM")
    if not isinstance(doc, dict):
        raise InputError(
            "unsupported",
            f"the file holds a JSON {_json_type(doc)}, not an object: not a CycloneDX or SPDX SBOM",
        )
    warnings: list[str] = []
    wrapped = doc.get("sbom")
    if isinstance(wrapped, dict) and "spdxVersion" in wrapped and "spdxVersion" not in doc:
        doc = wrapped  # GitHub's REST export: {"sbom": {...SPDX 2.3...}}
        warnings.append(
            "GitHub dependency-graph export: it covers the default branch only, as GitHub "
            "last computed it"
        )
    skipped = _Skipped()
    if doc.get("bomFormat") == "CycloneDX":
        fmt, packages, graph = _read_cyclonedx(doc, skipped, warnings)
    elif "spdxVersion" in doc:
        fmt, packages, graph = _read_spdx(doc, skipped, warnings)
    elif "bomFormat" in doc:
        raise InputError(
            "unsupported",
            f"bomFormat is {doc['bomFormat']!r:.40}, not 'CycloneDX': not an SBOM ircore reads",
        )
    else:
        raise InputError(
            "unsupported",
            "the JSON object is neither a CycloneDX BOM (no bomFormat 'CycloneDX') nor an SPDX "
            "document (no spdxVersion): not an SBOM",
        )
    packages = _without_own(packages, warnings)
    rows = _rows(packages, graph, warnings)
    _skip_warnings(skipped, warnings)
    return LockfileResult(format=fmt, rows=rows, warnings=warnings)


# --- shared -------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("invalid", f"{where} is a JSON {_json_type(value)}, not an array")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError("invalid", f"{where} is a JSON {_json_type(value)}, not an object")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("invalid", f"{where} is a JSON {_json_type(value)}, not a string")
    return value


@dataclass(frozen=True)
class _Purl:
    type: str
    name: str  # namespace/name, percent-decoded; an npm scope keeps its '@'
    version: str | None
    qualifiers: dict[str, str]


def _parse_purl(purl: str) -> _Purl | None:
    """A package URL (``pkg:type/namespace/name@version?qualifiers#subpath``); None if not one.

    The version starts at the last ``@`` that does not open a path segment, so a scope written
    unencoded (``pkg:npm/@types/node@20.1.0``, which some tools emit) still parses.
    """
    if purl[:4].lower() != "pkg:":
        return None
    rest = purl[4:].lstrip("/")
    rest = rest.partition("#")[0]
    rest, _, query = rest.partition("?")
    kind, slash, path = rest.partition("/")
    if not slash or not kind:
        return None
    version = None
    at = path.rfind("@")
    if at > 0 and path[at - 1] != "/":
        path, version = path[:at], unquote(path[at + 1 :])
    segments = [unquote(s) for s in path.split("/") if s]
    if not segments:
        return None
    qualifiers = {}
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq:
            qualifiers[key.lower()] = unquote(value)
    return _Purl(kind.lower(), "/".join(segments), version or None, qualifiers)


def _npm_name(purl: _Purl) -> str | None:
    """The npm package name of an npm purl: ``@scope/name`` or ``name``."""
    parts = purl.name.split("/")
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        scope = parts[0] if parts[0].startswith("@") else f"@{parts[0]}"
        return f"{scope}/{parts[1]}"
    return None


def _is_range(version: str) -> bool:
    """True for an npm range that is not a plain version (``^1.2.0``, ``1.x``, ``*``)."""
    try:
        parse_version(version)
        return False
    except InvalidVersion:
        pass
    try:
        validate_range(version)
    except InvalidRange:
        return False
    return True


def _accept(
    name: str | None,
    version: str,
    fields_name: str | None,
    *,
    label: str,
    skipped: _Skipped,
) -> bool:
    """Whether a package with this identity becomes a row; records why not."""
    if not name:
        skipped.unnamed.append(label)
        return False
    if version and _is_range(version):
        skipped.ranges.append(f"{name}@{version}")
        return False
    if fields_name and fields_name != name:
        skipped.renamed.append(f"{fields_name} -> {name}")
    return True


def _skip_warnings(skipped: _Skipped, warnings: list[str]) -> None:
    if skipped.other:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(skipped.other.items()))
        warnings.append(
            f"{sum(skipped.other.values())} components of other ecosystems were skipped ({kinds})"
        )
    if skipped.assumed:
        warnings.append(
            f"{len(skipped.assumed)} library components have no package URL and were read as npm "
            f"packages by name: {_shown(skipped.assumed)}"
        )
    if skipped.unnamed:
        warnings.append(
            f"{len(skipped.unnamed)} components have no npm package URL and nothing else marks "
            f"them as npm packages, so they were skipped: {_shown(skipped.unnamed)}"
        )
    if skipped.ranges:
        warnings.append(
            f"{len(skipped.ranges)} packages are listed with a version range, not an installed "
            "version (what a manifest without a lockfile declares), and are not in the "
            f"inventory: {_shown(skipped.ranges)}"
        )
    if skipped.renamed:
        warnings.append(
            f"{len(skipped.renamed)} components name another package in their fields than in "
            f"their package URL; the package URL was used: {_shown(skipped.renamed)}"
        )


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


# --- CycloneDX ----------------------------------------------------------------------------------


def _read_cyclonedx(
    doc: Mapping[str, Any], skipped: _Skipped, warnings: list[str]
) -> tuple[str, list[_Package], _Graph]:
    spec = doc.get("specVersion")
    if not isinstance(spec, str):
        raise InputError(
            "invalid", f"specVersion is a JSON {_json_type(spec)}; CycloneDX writes e.g. '1.5'"
        )
    if spec in ("1.0", "1.1"):
        raise InputError(
            "unsupported", f"CycloneDX {spec} has no JSON form; this file is not one ircore reads"
        )
    if spec not in CYCLONEDX_VERSIONS:
        warnings.append(
            f"CycloneDX {spec:.20} is not one of the versions ircore was written for "
            f"({', '.join(CYCLONEDX_VERSIONS)}); read as 1.6"
        )
    metadata = doc.get("metadata")
    metadata = _object(metadata, "metadata") if metadata is not None else {}
    root = metadata.get("component")
    graph = _Graph()
    stack: list[tuple[Any, str]] = []
    if root is not None:
        root = _object(root, "metadata.component")
        root_ref = _text(root.get("bom-ref"), "metadata.component.bom-ref")
        if root_ref:
            graph.roots.add(root_ref)
        # Parts of the described project nested under it are still what it ships.
        nested = _list(root.get("components"), "metadata.component.components")
        stack.extend((c, f"metadata.component.components[{i}]") for i, c in enumerate(nested))
    top = _list(doc.get("components"), "components")
    stack.extend((c, f"components[{i}]") for i, c in enumerate(top))
    components: list[tuple[dict[str, Any], str]] = []
    # An explicit stack, not recursion: nesting depth is the input's choice.
    while stack:
        raw, where = stack.pop()
        component = _object(raw, where)
        components.append((component, where))
        children = _list(component.get("components"), f"{where}.components")
        stack.extend((c, f"{where}.components[{i}]") for i, c in enumerate(children))
    components.sort(key=lambda item: item[1])

    npm_tool = _names_npm_tool(metadata.get("tools"))
    packages: list[_Package] = []
    for component, where in components:
        package = _cyclonedx_package(component, where, graph.roots, skipped)
        if package is not None:
            packages.append(package)
    # A producer that marks some packages dev marks all of them.
    knows_dev = npm_tool or any(p.dev for p in packages)
    for package in packages:
        if package.dev is None and knows_dev:
            package.dev = False
        if package.bundled is None and knows_dev:
            package.bundled = False

    for i, raw in enumerate(_list(doc.get("dependencies"), "dependencies")):
        entry = _object(raw, f"dependencies[{i}]")
        ref = _text(entry.get("ref"), f"dependencies[{i}].ref")
        if not ref:
            raise InputError("invalid", f"dependencies[{i}] has no ref")
        for j, child in enumerate(_list(entry.get("dependsOn"), f"dependencies[{i}].dependsOn")):
            child_ref = _text(child, f"dependencies[{i}].dependsOn[{j}]")
            if child_ref:
                graph.add(ref, child_ref, "prod")
    return f"cyclonedx-{spec}", packages, graph


def _names_npm_tool(tools: Any) -> bool:
    """Whether ``metadata.tools`` (a list before 1.5, ``{components, services}`` since) names
    ``npm sbom`` or cyclonedx-npm."""
    if isinstance(tools, dict):
        entries = [*(tools.get("components") or []), *(tools.get("services") or [])]
    elif isinstance(tools, list):
        entries = tools
    else:
        return False
    for tool in entries:
        if not isinstance(tool, dict):
            continue
        name = tool.get("name")
        group = tool.get("group") or tool.get("vendor")
        full = f"{group}/{name}" if isinstance(group, str) and group else name
        if name in _NPM_TOOLS or full in _NPM_TOOLS:
            return True
    return False


def _properties(component: Mapping[str, Any], where: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for i, raw in enumerate(_list(component.get("properties"), f"{where}.properties")):
        prop = _object(raw, f"{where}.properties[{i}]")
        name = prop.get("name")
        value = prop.get("value")
        if isinstance(name, str) and isinstance(value, str):
            found.setdefault(name, []).append(value)
    return found


# npm's rules for a package name: lower case, optional @scope/, no spaces or leading dot/underscore
_NPM_NAME = re.compile(r"(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")


def _cyclonedx_package(
    component: Mapping[str, Any], where: str, roots: set[str], skipped: _Skipped
) -> _Package | None:
    ref = _text(component.get("bom-ref"), f"{where}.bom-ref") or ""
    if ref and ref in roots:
        return None  # the project itself, repeated among the components
    raw_name = _text(component.get("name"), f"{where}.name") or ""
    group = _text(component.get("group"), f"{where}.group") or ""
    version = _text(component.get("version"), f"{where}.version") or ""
    purl_text = _text(component.get("purl"), f"{where}.purl")
    props = _properties(component, where)
    purl = _parse_purl(purl_text) if purl_text else None
    if purl is not None and purl.type != "npm":
        skipped.other[purl.type] = skipped.other.get(purl.type, 0) + 1
        return None
    fields_name = raw_name
    if group and not raw_name.startswith("@"):
        scope = group if group.startswith("@") else f"@{group}"
        fields_name = f"{scope}/{raw_name}"
    if purl is not None:
        name = _npm_name(purl)
        version = purl.version or version
    elif any(key.startswith(_PROP) for key in props):
        name = fields_name
    elif component.get("type") in (None, "library", "framework") and _NPM_NAME.fullmatch(
        fields_name
    ):
        # Nothing says which ecosystem: read by name rather than drop it, so a hand-made or
        # tool-stripped SBOM cannot hide a compromised version; the input's notes say so.
        name = fields_name
        skipped.assumed.append(f"{fields_name}@{version}")
    else:
        skipped.unnamed.append(fields_name or ref or where)
        return None
    label = fields_name or ref or where
    if not _accept(name, version, fields_name or None, label=label, skipped=skipped):
        return None
    assert name is not None  # _accept refuses a missing name

    resolved: str | None = None
    for i, raw in enumerate(
        _list(component.get("externalReferences"), f"{where}.externalReferences")
    ):
        reference = _object(raw, f"{where}.externalReferences[{i}]")
        if reference.get("type") == "distribution" and isinstance(reference.get("url"), str):
            resolved = reference["url"]
            break
    if purl is not None:
        resolved = resolved or purl.qualifiers.get("vcs_url") or purl.qualifiers.get("download_url")
    usage = component.get("scope")  # CycloneDX's word for required / optional / excluded
    dev: bool | None = None
    if props.get(f"{_PROP}development", ["false"])[0] == "true" or usage == "excluded":
        dev = True
    bundled = True if props.get(f"{_PROP}bundled", ["false"])[0] == "true" else None
    return _Package(
        node=ref,
        name=name,
        version=version,
        resolved=resolved,
        install_paths=[p for p in props.get(f"{_PROP}path", []) if p],
        found_in=[
            value
            for key, values in props.items()
            if key.startswith("syft:location:") and key.endswith(":path")
            for value in values
        ],
        dev=dev,
        optional=usage == "optional",  # the spec's default scope is "required"
        bundled=bundled,
    )


# --- SPDX ---------------------------------------------------------------------------------------


def _read_spdx(
    doc: Mapping[str, Any], skipped: _Skipped, warnings: list[str]
) -> tuple[str, list[_Package], _Graph]:
    version = doc.get("spdxVersion")
    if not isinstance(version, str) or not re.fullmatch(r"SPDX-\d+\.\d+", version):
        raise InputError(
            "invalid",
            f"spdxVersion is {version!r:.40}; SPDX writes e.g. 'SPDX-2.3'",
        )
    if not version.startswith("SPDX-2."):
        raise InputError(
            "unsupported", f"{version} is not SPDX 2.x JSON, which is what ircore reads"
        )
    if version not in SPDX_VERSIONS:
        warnings.append(
            f"{version} is not one of the versions ircore was written for "
            f"({', '.join(SPDX_VERSIONS)}); read as SPDX-2.3"
        )
    document_id = _text(doc.get("SPDXID"), "SPDXID") or "SPDXRef-DOCUMENT"
    graph = _Graph()
    for i, described in enumerate(_list(doc.get("documentDescribes"), "documentDescribes")):
        described_id = _text(described, f"documentDescribes[{i}]")
        if described_id:
            graph.roots.add(described_id)
    relationships = _list(doc.get("relationships"), "relationships")
    typed = False
    for i, raw in enumerate(relationships):
        where = f"relationships[{i}]"
        rel = _object(raw, where)
        kind = _text(rel.get("relationshipType"), f"{where}.relationshipType") or ""
        element = _text(rel.get("spdxElementId"), f"{where}.spdxElementId") or ""
        related = _text(rel.get("relatedSpdxElement"), f"{where}.relatedSpdxElement") or ""
        if kind == "DESCRIBES" and element == document_id:
            graph.roots.add(related)
        elif kind == "DESCRIBED_BY" and related == document_id:
            graph.roots.add(element)
        elif kind in _SPDX_EDGES:
            child_is_element, edge = _SPDX_EDGES[kind]
            # Only a document that tells dev and optional edges apart says what is neither.
            typed = typed or edge != "prod"
            if child_is_element:
                graph.add(related, element, edge)
            else:
                graph.add(element, related, edge)

    packages: list[_Package] = []
    for i, raw in enumerate(_list(doc.get("packages"), "packages")):
        package = _spdx_package(_object(raw, f"packages[{i}]"), f"packages[{i}]", graph, skipped)
        if package is not None:
            packages.append(package)
    if typed:
        _flags_from_edges(packages, graph)
    return f"spdx-{version.removeprefix('SPDX-')}", packages, graph


def _spdx_package(
    package: Mapping[str, Any], where: str, graph: _Graph, skipped: _Skipped
) -> _Package | None:
    node = _text(package.get("SPDXID"), f"{where}.SPDXID") or ""
    if node and node in graph.roots:
        return None
    raw_name = _text(package.get("name"), f"{where}.name") or ""
    version = _text(package.get("versionInfo"), f"{where}.versionInfo") or ""
    purl = None
    for i, raw in enumerate(_list(package.get("externalRefs"), f"{where}.externalRefs")):
        ref = _object(raw, f"{where}.externalRefs[{i}]")
        if str(ref.get("referenceType", "")).lower() == "purl":
            locator = _text(
                ref.get("referenceLocator"), f"{where}.externalRefs[{i}].referenceLocator"
            )
            purl = _parse_purl(locator) if locator else None
            if purl is not None:
                break
    if purl is not None and purl.type != "npm":
        skipped.other[purl.type] = skipped.other.get(purl.type, 0) + 1
        return None
    fields_name = raw_name.removeprefix("npm:")
    if purl is not None:
        name = _npm_name(purl)
        version = purl.version or version
    elif raw_name.startswith("npm:"):
        name = fields_name  # GitHub's older exports prefix the ecosystem
    else:
        skipped.unnamed.append(raw_name or node or where)
        return None
    if not _accept(name, version, fields_name or None, label=raw_name or where, skipped=skipped):
        return None
    assert name is not None
    location = _text(package.get("downloadLocation"), f"{where}.downloadLocation")
    resolved = location if location and location not in ("NOASSERTION", "NONE") else None
    if purl is not None:
        resolved = resolved or purl.qualifiers.get("vcs_url") or purl.qualifiers.get("download_url")
    file_name = _text(package.get("packageFileName"), f"{where}.packageFileName") or ""
    paths = [file_name] if "node_modules/" in f"{file_name}/" else []
    # syft: "acquired package info from installed node module manifest file: /a/package.json"
    source_info = _text(package.get("sourceInfo"), f"{where}.sourceInfo") or ""
    found_in = [p for p in source_info.rpartition(": ")[2].split(", ") if p.startswith("/")]
    return _Package(
        node=node,
        name=name,
        version=version,
        resolved=resolved,
        install_paths=paths,
        found_in=found_in,
    )


def _reach(graph: _Graph, kinds: Iterable[str]) -> set[str]:
    allowed = set(kinds)
    seen: set[str] = set()
    queue = deque(graph.roots)
    while queue:
        node = queue.popleft()
        for child, kind in graph.edges.get(node, []):
            if kind in allowed and child not in seen and child not in graph.roots:
                seen.add(child)
                queue.append(child)
    return seen


def _flags_from_edges(packages: list[_Package], graph: _Graph) -> None:
    """dev and optional from typed edges, as npm's reachability defines them."""
    everything = _reach(graph, ("prod", "optional", "dev"))
    production = _reach(graph, ("prod", "optional"))
    required = _reach(graph, ("prod",))
    not_optional = _reach(graph, ("prod", "dev"))
    for package in packages:
        if package.node not in everything:
            continue
        package.dev = package.node not in production
        if package.dev:
            package.optional = package.node not in not_optional
        else:
            package.optional = package.node not in required


# --- rows ---------------------------------------------------------------------------------------


def _without_own(packages: list[_Package], warnings: list[str]) -> list[_Package]:
    """Drop the scanned project's own packages; take install paths from where they were found.

    A producer that reads a folder (syft) lists each package.json it met, the project's own and
    its workspaces' included, and a lockfile's root entry: those are local source, not
    dependencies. Found at ``node_modules/**/package.json``, a package was installed there.
    """
    own: set[tuple[str, str]] = set()
    for package in packages:
        manifests = [f for f in package.found_in if f.endswith("/package.json")]
        folders = [f.strip("/").removesuffix("package.json").rstrip("/") for f in manifests]
        if folders and all("node_modules" not in folder.split("/") for folder in folders):
            own.add((package.name, package.version))
        for folder in folders:
            if "node_modules" in folder.split("/") and folder not in package.install_paths:
                package.install_paths.append(folder)
    if not own:
        return packages
    warnings.append(
        f"{len(own)} packages are the scanned project's own (its or a workspace's package.json, "
        f"or a lockfile's root entry), not dependencies: "
        f"{_shown(sorted(f'{n}@{v}' for n, v in own))}"
    )
    kept = []
    for package in packages:
        in_tree = any("node_modules" in f.split("/") for f in package.found_in)
        if package.found_in and not in_tree and (package.name, package.version) in own:
            continue
        kept.append(package)
    return kept


def _rows(packages: list[_Package], graph: _Graph, warnings: list[str]) -> list[dict[str, Any]]:
    names = {p.node: p.name for p in packages if p.node}
    root_children = {
        child for root in graph.roots for child, _ in graph.edges.get(root, []) if child in names
    }
    # A project that lists every package as its own dependency is a flat list (some exporters
    # write one), not a statement that everything is direct.
    flat = len(root_children) == len(names) > 1
    knows_direct = bool(root_children) and not flat
    if flat:
        warnings.append(
            "the document lists every package as a dependency of the project (a flat list): "
            "direct is unknown"
        )
    paths = _paths(graph, names) if knows_direct else {}
    rows = []
    for package in packages:
        path = paths.get(package.node)
        direct = package.node in root_children if knows_direct else None
        install_paths: list[str | None] = [*package.install_paths] or [None]
        for install_path in install_paths:
            rows.append(
                {
                    "name": package.name,
                    "version": package.version,
                    "dev": package.dev,
                    "optional": package.optional,
                    "direct": direct,
                    "bundled": package.bundled,
                    "introducer": path[0] if path else None,
                    "dependency_path": " > ".join(path) if path else None,
                    "install_path": install_path,
                    "alias": None,
                    "resolved": package.resolved,
                    "origin_kind": _origin_kind(package.resolved) if package.resolved else None,
                }
            )
    if rows and all(row["dev"] is None for row in rows):
        warnings.append("the document does not say which packages are dev-only: dev is unknown")
    if rows and not knows_direct and not flat:
        warnings.append(
            "the document records no dependency edges from the project: direct is unknown"
        )
    return rows


def _paths(graph: _Graph, names: Mapping[str, str]) -> dict[str, list[str]]:
    """Shortest chain of package names from the project to each node (names sorted per level)."""
    paths: dict[str, list[str]] = {}
    queue: deque[str] = deque()
    for root in sorted(graph.roots):
        children = sorted(
            (c for c, _ in graph.edges.get(root, []) if c in names), key=lambda c: names[c]
        )
        for child in children:
            if child not in paths:
                paths[child] = [names[child]]
                queue.append(child)
    while queue:
        node = queue.popleft()
        children = sorted(
            (c for c, _ in graph.edges.get(node, []) if c in names), key=lambda c: names[c]
        )
        for child in children:
            if child not in paths and child not in graph.roots:
                paths[child] = [*paths[node], names[child]]
                queue.append(child)
    return paths
