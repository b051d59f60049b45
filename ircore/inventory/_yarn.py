"""``yarn.lock`` files, classic (v1) and Berry (v2 and later), into inventory rows.

Pure parsing: bytes in, rows out. The caller finds the files and adds ``file``, ``repo``,
``ref`` and the other provenance columns.

The two formats share a name and nothing else:

* **Classic** (``# yarn lockfile v1``) is yarn 1's own line format, not YAML: an entry header
  lists the comma-separated ``name@range`` specifiers that share one resolution (quoted when
  they hold ``@`` first, ``:`` or spaces), followed by two-space indented ``key "value"`` lines
  and ``dependencies:`` / ``optionalDependencies:`` blocks. It is read here line by line, as yarn
  1's tokenizer reads it (``@yarnpkg/lockfile``). A package's name is the part of a specifier
  before the ``@`` that starts its range (after an optional leading scope ``@``); an ``npm:``
  alias (``alias@npm:real@^1``) names the real package. The version is the ``version`` field,
  verbatim.
* **Berry** (a ``__metadata`` block) is YAML. It is loaded with every scalar kept as a string,
  which is how yarn itself loads it (``parseSyml`` falls back to js-yaml's FAILSAFE schema): no
  YAML 1.1 booleans (``yes``/``no``/``on``/``off`` stay names) and no numbers (``1.10`` stays
  ``1.10``). ``resolution`` gives the package (``name@npm:1.2.3``); ``version`` the version.

A dependency ``name: range`` of an entry resolves to the entry whose header lists the specifier
``name@range``, which is how yarn itself finds it. Berry also tries ``name@npm:range`` (older
Berry files omit the default protocol in dependency lists) and, for relative ``link:``,
``portal:`` and ``file:`` paths, the descriptor bound to its declarer (``::locator=...``). A
range that package.json ``resolutions`` replaced is in no header: with the manifest the
replacement is looked up, as yarn does; without it, the only locked package of that name is
taken and a warning counts such matches and names the first ten. Whatever is still unresolved
is left out of the graph, and a warning says so the same way.

What is not a row: Berry ``workspace:`` entries (the project's own packages, version
``0.0.0-use.local``), ``link:`` and ``portal:`` entries, and local folders (``file:`` folders,
``exec:``); they are local source, not something fetched. Their declared dependencies still
count: a workspace's dependencies are *direct*. ``file:`` *tarballs* are rows with origin
``file``, as in the npm parser. A Berry ``patch:`` entry describes the same package as the entry
it patches, so the two give one row (see :func:`parse_yarn_lockfile`).

Git merge conflict markers are resolved as yarn resolves them: both sides are read and their
entries merged.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import orjson

from ircore._decode import decode_text
from ircore._errors import InputError
from ircore._yaml import YAMLLoadError, load_yaml
from ircore.inventory._result import LockfileResult

__all__ = ["LockfileResult", "parse_yarn_lockfile"]

_GIT_PREFIXES = ("git+", "git:", "git@", "ssh:", "github:", "gitlab:", "bitbucket:", "gist:")
_TARBALL_SUFFIXES = (".tgz", ".tar.gz", ".tar")
# Berry git references carry one of these selectors after '#'.
_GIT_SELECTORS = ("commit=", "head=", "tag=", "semver=")
# Protocols of local source: never fetched, so never a registry package.
_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:", "exec:")
# Protocols whose relative paths Berry binds to the declaring package (`::locator=`), and the
# characters JavaScript's encodeURIComponent leaves as they are (besides letters, digits, _.-~).
_BOUND_PROTOCOLS = ("link:", "portal:", "file:", "exec:")
_URI_SAFE = "!*'()"
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(?: |$)")
# A conflict marker: (the sections it may follow, the section it opens). `|||||||` opens the
# common ancestor's lines (diff3 style), which neither side keeps.
_MARKERS = {
    "<": (("both",), "ours"),
    "|": (("ours",), "base"),
    "=": (("ours", "base"), "theirs"),
    ">": (("theirs",), "both"),
}
_METADATA = re.compile(r"^(__metadata|\"__metadata\")\s*:", re.MULTILINE)
# Berry files nest four levels (entry, dependenciesMeta, name, flag); deeper is crafted.
_MAX_YAML_DEPTH = 100

Role = Literal["prod", "dev", "optional"]


@dataclass
class _Node:
    """One package (classic entry or Berry locator) in the lockfile's graph."""

    name: str
    version: str
    resolved: str | None
    origin: str
    # package: a row; workspace: a declarer, its dependencies are direct; local: a link, portal
    # or folder, passed through on the way to what it depends on but not a row.
    kind: Literal["package", "workspace", "local"]
    root_workspace: bool = False
    aliases: set[str] = field(default_factory=set)
    # (install name, specifier key, optional edge)
    deps: list[tuple[str, str, bool]] = field(default_factory=list)
    patches: list[str] = field(default_factory=list)


@dataclass
class _Root:
    """A dependency the project itself declares."""

    name: str
    key: str
    role: Role | None  # None: the input does not say whether it is dev or production
    by_root_workspace: bool = False
    declarer: str | None = None  # the declaring workspace's locator (Berry)


@dataclass
class _Graph:
    """Nodes, the specifier index, and what the project itself declares (the roots)."""

    nodes: list[_Node] = field(default_factory=list)
    by_key: dict[str, int] = field(default_factory=dict)
    roots: list[_Root] = field(default_factory=list)
    roots_known: bool = False
    roles_known: bool = False
    overrides: dict[str, str] = field(default_factory=dict)  # package.json `resolutions`


def parse_yarn_lockfile(data: bytes, *, manifest: bytes | None = None) -> LockfileResult:
    """Read a ``yarn.lock``, classic (v1) or Berry (v2 and later).

    Parameters
    ----------
    data
        The lockfile's bytes. A UTF-8 byte order mark and CRLF line endings are accepted.
    manifest
        The project's root ``package.json`` bytes, when available. It says which dependencies
        the root declares and of which kind (``dependencies``, ``devDependencies``,
        ``optionalDependencies``), which yarn.lock itself never records: without it ``dev`` is
        ``None`` for every row, and a classic file's ``direct``, ``introducer`` and
        ``dependency_path`` are ``None`` too. A Berry file lists each workspace's dependencies
        (dev and prod merged), so ``direct`` and the paths are known from the file alone.

    Returns
    -------
    LockfileResult
        ``format`` is ``"yarn-v1"``, ``"yarn-berry-v<__metadata.version>"``, or
        ``"yarn-empty"`` for a file with no content at all (``yarn init`` leaves such a file, and
        either yarn reads it as "no packages").

        One row per classic entry (a header and its fields) and per Berry package. A Berry
        ``patch:`` entry is merged into the row of the package it patches: one row for
        ``name@version``, whose ``resolved`` is the patch's resolution
        (``name@patch:name@npm%3A1.2.3#...``, so the row itself shows it is patched), and a
        warning lists the patched packages, since their installed content differs from the
        registry tarball.

        Keys are those of the npm parser. ``name`` is the real package, never an alias;
        ``alias`` the other names it is installed under (comma-separated), else ``None``.
        ``resolved`` is the classic ``resolved`` URL or the Berry resolution. ``origin_kind`` is
        ``registry`` (a registry name@version or a registry tarball URL), ``git``, ``tarball``
        (any other URL) or ``file`` (a local tarball). ``install_path`` and ``bundled`` are
        ``None``: yarn.lock records neither.

        ``direct`` is True for a package declared by the root manifest or by any workspace.
        ``dependency_path`` is the shortest chain of install names from a declared dependency
        (breadth-first, ties broken by name), ``introducer`` its first element. ``dev`` (only with
        a manifest) is True when no production or optional dependency reaches the package;
        ``optional`` is True when every way to it (from production dependencies, if any reach it)
        passes an optional edge. A package no declaration reaches has ``None`` for these.

    Raises
    ------
    InputError
        ``kind`` is ``"not-text"`` (binary data, UTF-16, or bytes that are not UTF-8),
        ``"truncated"`` (the file ends in the middle of an entry) or ``"invalid"`` (neither
        format, or an entry yarn would not accept); the message names the line.
    """
    # A blank file is read as format "yarn-empty" below, not refused. CRLF comes from a Windows
    # checkout; a lone CR is a line break to yarn's tokenizer as well.
    text = decode_text(data, what="the file", writer="yarn", empty_kind=None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[str] = []
    content = [line for line in text.split("\n") if line.strip() and not _is_comment(line)]
    if not content:
        fmt = "yarn-v1" if "yarn lockfile v1" in text else "yarn-empty"
        return LockfileResult(format=fmt, rows=[], warnings=_newline_note(data))
    variants = _conflict_variants(text, data)
    if len(variants) > 1:
        warnings.append(
            "the file has git merge conflict markers; both sides were read and merged, "
            "as yarn does on its next install"
        )
    first = content[0].lstrip()
    if first.startswith(("{", "[")):
        raise InputError(
            "invalid",
            f"line 1: the file holds JSON (it starts with {first[0]!r}), not a yarn.lock; "
            "a package-lock.json or package.json under the wrong name",
        )
    if any(_METADATA.search(variant) for variant in variants):
        version, graph = _read_berry(variants, data, warnings)
        fmt = f"yarn-berry-v{version}"
    else:
        graph = _read_classic(variants, data, warnings)
        fmt = "yarn-v1"
    _apply_manifest(graph, manifest, berry=fmt != "yarn-v1", warnings=warnings)
    rows = _rows(graph, warnings)
    warnings.extend(_newline_note(data))
    # The same remark from many entries (an unknown protocol) is said once.
    return LockfileResult(format=fmt, rows=rows, warnings=list(dict.fromkeys(warnings)))


def _newline_note(data: bytes) -> list[str]:
    """Both yarns end the file with a newline; without one, it may have been cut."""
    if not data or data.endswith(b"\n"):
        return []
    return [
        "the file does not end with a newline, as yarn always writes it: it may have been cut "
        "short, and its last entry may be incomplete"
    ]


# --- decoding -----------------------------------------------------------------------------------


def _is_comment(line: str) -> bool:
    return line.lstrip(" ").startswith("#")


def _fail(kind: str, message: str, *, line: int, last_line: int, data: bytes) -> InputError:
    """An error at ``line``; one on the last line of a file without final newline is a cut."""
    where = f"line {line}: " if line else ""  # 0: the entry's line could not be found
    if line >= last_line and not data.endswith(b"\n"):
        return InputError(
            "truncated",
            f"{where}the file ends in the middle of an entry ({message}); it was cut short",
        )
    return InputError(kind, f"{where}{message}")


def _last_content_line(text: str) -> int:
    """The header line of the file's last top-level block (where a cut file ends)."""
    lines = text.split("\n")
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.strip() and not line.startswith((" ", "\t")) and not _is_comment(line):
            return index + 1
    return 1


def _conflict_variants(text: str, data: bytes) -> list[str]:
    """The file as one text, or both sides of git merge conflicts, line numbers kept.

    Lines of the other side are blanked rather than removed, so errors still name the line of
    the file the analyst opens.
    """
    lines = text.split("\n")
    if not any(_CONFLICT.match(line) for line in lines):
        return [text]
    ours: list[str] = []
    theirs: list[str] = []
    state = "both"
    last = _last_content_line(text)
    for number, line in enumerate(lines, start=1):
        marker = _CONFLICT.match(line)
        if marker:
            allowed, state_after = _MARKERS[marker.group(1)[0]]
            if state not in allowed:
                raise _fail(
                    "invalid",
                    f"git conflict marker {line[:7]!r} out of order; the merge was left broken",
                    line=number,
                    last_line=last,
                    data=data,
                )
            state = state_after
            ours.append("")
            theirs.append("")
            continue
        ours.append(line if state in ("both", "ours") else "")
        theirs.append(line if state in ("both", "theirs") else "")
    if state != "both":
        raise _fail(
            "truncated" if not data.endswith(b"\n") else "invalid",
            "a git conflict marker is never closed",
            line=len(lines),
            last_line=last,
            data=data,
        )
    return ["\n".join(ours), "\n".join(theirs)]


# --- specifiers ---------------------------------------------------------------------------------


def _split_specifier(spec: str) -> tuple[str, str] | None:
    """``name@range`` into (name, range); the name may be scoped, the range may hold ``@``."""
    start = 1 if spec.startswith("@") else 0
    at = spec.find("@", start)
    if at < 0:
        name, rng = spec, ""
    else:
        name, rng = spec[:at], spec[at + 1 :]
    if not name or name == "@" or (name.startswith("@") and "/" not in name):
        return None
    return name, rng


def _alias_target(rng: str) -> str | None:
    """The real name an ``npm:`` range points to (``npm:real@^1`` -> ``real``), else None."""
    if not rng.startswith("npm:"):
        return None
    target = rng[4:]
    start = 1 if target.startswith("@") else 0
    at = target.find("@", start)
    name = target if at < 0 else target[:at]
    # `npm:^1.2.0` is Berry's plain registry range, not an alias.
    if not name or not re.match(r"^(@[^/@\s]+/)?[^/@\s:^~<>=*|]+$", name) or name[0].isdigit():
        return None
    return name


# --- origin -------------------------------------------------------------------------------------


def _url_origin(value: str) -> str:
    """registry | git | tarball for a URL as classic ``resolved`` or a Berry reference holds it."""
    lowered = value.lower()
    if lowered.startswith(_GIT_PREFIXES):
        return "git"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "tarball"  # not even a well-formed URL (e.g. a broken IPv6 host): not the registry
    if parts.fragment.startswith(_GIT_SELECTORS) or parts.path.endswith(".git"):
        return "git"
    if parts.hostname == "codeload.github.com":
        return "git"  # yarn 1 fetches GitHub shorthand (`user/repo#sha`) as a commit archive
    # Every npm registry (npmjs, yarnpkg mirror, Verdaccio, Artifactory, Nexus) serves tarballs
    # at <name>/-/<basename>-<version>.tgz, as the npm parser also assumes.
    if "/-/" in parts.path and parts.path.endswith(".tgz"):
        return "registry"
    if parts.hostname == "npm.pkg.github.com" and parts.path.startswith("/download/"):
        return "registry"
    return "tarball"


def _is_local_tarball(path: str) -> bool:
    bare = path.split("#", 1)[0].split("::", 1)[0]
    return bare.lower().endswith(_TARBALL_SUFFIXES)


def _classic_origin(resolved: str | None, ranges: Iterable[str]) -> tuple[str, bool]:
    """(origin_kind, is a row) of a classic entry from its ``resolved`` and header ranges."""
    ranges = list(ranges)
    local = [r for r in ranges if r.startswith(("file:", "link:"))]
    if local and len(local) == len(ranges):
        tarball = any(_is_local_tarball(r.split(":", 1)[1]) for r in local)
        return "file", tarball
    if resolved is None:
        for rng in ranges:
            if rng.lower().startswith(("http://", "https://", *_GIT_PREFIXES)):
                return _url_origin(rng), True
        return "registry", True  # yarn fetches name@version from the configured registry
    lowered = resolved.lower()
    if lowered.startswith("file:"):
        return "file", True
    if lowered.startswith(("http://", "https://", *_GIT_PREFIXES)):
        return _url_origin(resolved), True
    if "://" not in resolved:
        return "file", True  # an offline-mirror file name or a relative path
    return "tarball", True


def _berry_origin(reference: str, warnings: list[str]) -> tuple[str, bool]:
    """(origin_kind, is a row) of a Berry reference (the part of a locator after ``name@``)."""
    lowered = reference.lower()
    if lowered.startswith("npm:"):
        return "registry", True
    if lowered.startswith(_LOCAL_PROTOCOLS):
        protocol = lowered.split(":", 1)[0]
        tarball = protocol == "file" and _is_local_tarball(reference.split(":", 1)[1])
        return "file", tarball
    if lowered.startswith(("http://", "https://", *_GIT_PREFIXES)):
        return _url_origin(reference), True
    protocol = lowered.split(":", 1)[0] if ":" in lowered else lowered
    warnings.append(
        f"a resolution uses the protocol {protocol!r}, which ircore does not know; its package "
        "is reported with origin_kind 'tarball' (not the registry)"
    )
    return "tarball", True


# --- classic ------------------------------------------------------------------------------------


class _Syntax(Exception):
    """A malformed line or entry; turned into an InputError once the caller knows the file."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _read_token(content: str, pos: int, line: int) -> tuple[str, int]:
    """One quoted (JSON escapes) or unquoted token of a classic line, and where it ends."""
    if content[pos] == '"':
        end = pos + 1
        while end < len(content):
            char = content[end]
            if char == "\\":
                end += 2
                continue
            if char == '"':
                break
            end += 1
        if end >= len(content):
            raise _Syntax("a quoted string is not closed", line)
        try:
            value = orjson.loads(content[pos : end + 1])
        except orjson.JSONDecodeError:
            raise _Syntax(
                f"bad escape in the quoted string {content[pos : end + 1]!r}", line
            ) from None
        return str(value), end + 1
    end = pos
    while end < len(content) and content[end] not in ' \t,:"':
        end += 1
    if end == pos:
        raise _Syntax(f"unexpected {content[pos]!r} at column {pos + 1}", line)
    return content[pos:end], end


def _parse_classic_line(content: str, line: int) -> tuple[list[str], str | None]:
    """A line's keys and value: ``(keys, None)`` opens a block, ``([key], value)`` is a pair."""
    keys: list[str] = []
    pos = 0
    while True:
        token, pos = _read_token(content, pos, line)
        keys.append(token)
        while pos < len(content) and content[pos] in " \t":
            pos += 1
        if pos >= len(content):
            raise _Syntax(f"{keys[-1]!r} has no value and no ':'", line)
        if content[pos] == ",":
            pos += 1
            while pos < len(content) and content[pos] in " \t":
                pos += 1
            if pos >= len(content):
                raise _Syntax("the list of specifiers ends with ','", line)
            continue
        if content[pos] == ":":
            rest = content[pos + 1 :].strip()
            if rest:
                hint = (
                    " (a YAML 'key: value', as Yarn Berry writes, but the file has no __metadata "
                    "block)"
                    if len(keys) == 1
                    else ""
                )
                raise _Syntax(f"unexpected {rest!r} after ':'{hint}", line)
            return keys, None
        if len(keys) > 1:
            raise _Syntax("a list of specifiers must end with ':'", line)
        value, pos = _read_token(content, pos, line)
        rest = content[pos:].strip()
        if rest:
            raise _Syntax(f"unexpected {rest!r} after the value", line)
        return keys, value


@dataclass
class _ClassicEntry:
    keys: list[str]
    line: int
    fields: dict[str, Any]


def _parse_classic(text: str) -> tuple[list[_ClassicEntry], list[str]]:
    """The entries of a classic file, and top-level lines that are no entry."""
    entries: list[_ClassicEntry] = []
    strays: list[str] = []
    # The open blocks: (indent level of their children, the dict they fill).
    stack: list[tuple[int, dict[str, Any]]] = []
    # A pair cannot have children; remember the level a child line may have.
    allowed_level = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip() or _is_comment(raw):
            continue
        stripped = raw.lstrip(" ")
        indent = len(raw) - len(stripped)
        if stripped[0] == "\t":
            raise _Syntax("tab in the indentation (yarn indents with two spaces)", number)
        if indent % 2:
            raise _Syntax(f"indented by {indent} spaces; yarn indents by multiples of two", number)
        level = indent // 2
        if level > allowed_level:
            raise _Syntax("indented deeper than the line above allows", number)
        keys, value = _parse_classic_line(stripped.rstrip(), number)
        del stack[level:]
        if level == 0:
            if value is not None:
                strays.append(f"line {number}: {keys[0]!r}")
                allowed_level = 0
                continue
            body: dict[str, Any] = {}
            entries.append(_ClassicEntry(keys=keys, line=number, fields=body))
            stack.append((1, body))
            allowed_level = 1
            continue
        parent = stack[level - 1][1]
        if value is not None:
            for key in keys:
                parent[key] = value
            allowed_level = level
        else:
            block: dict[str, Any] = {}
            for key in keys:
                parent[key] = block
            stack.append((level + 1, block))
            allowed_level = level + 1
    return entries, strays


def _string_map(value: Any, what: str, line: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Syntax(f"{what} must list 'name range' pairs", line)
    return value


def _read_classic(variants: list[str], data: bytes, warnings: list[str]) -> _Graph:
    graph = _Graph()
    seen_keys: dict[str, int] = {}
    for text in variants:
        last = _last_content_line(text)
        try:
            entries, strays = _parse_classic(text)
        except _Syntax as exc:
            raise _fail("invalid", exc.message, line=exc.line, last_line=last, data=data) from None
        if strays and not entries:
            raise _fail(
                "invalid",
                "no entry headers ('name@range:') were found; neither a classic nor a Berry "
                "yarn.lock",
                line=1,
                last_line=last,
                data=data,
            )
        for stray in strays:
            warnings.append(f"{stray} is a top-level value, not a package entry; ignored")
        for entry in entries:
            try:
                _add_classic_entry(graph, entry, seen_keys, warnings)
            except _Syntax as exc:
                raise _fail(
                    "invalid", exc.message, line=exc.line, last_line=last, data=data
                ) from None
    return graph


def _add_classic_entry(
    graph: _Graph, entry: _ClassicEntry, seen_keys: dict[str, int], warnings: list[str]
) -> None:
    specs: list[tuple[str, str]] = []
    for key in entry.keys:
        split = _split_specifier(key)
        if split is None:
            raise _Syntax(f"{key!r} is not a 'name@range' specifier", entry.line)
        specs.append(split)
    version = entry.fields.get("version")
    if not isinstance(version, str):
        raise _Syntax(
            f"the entry {entry.keys[0]!r} has no version (yarn writes one in every entry)",
            entry.line,
        )
    resolved = entry.fields.get("resolved")
    if resolved is not None and not isinstance(resolved, str):
        raise _Syntax(f"the entry {entry.keys[0]!r} has a block as 'resolved'", entry.line)
    real_names = [_alias_target(rng) or name for name, rng in specs]
    name = max(dict.fromkeys(real_names), key=real_names.count)
    if len(set(real_names)) > 1:
        warnings.append(
            f"line {entry.line}: one entry is written for different packages "
            f"({', '.join(sorted(set(real_names)))}); reported as {name}"
        )
    origin, emit = _classic_origin(resolved, (rng for _, rng in specs))
    key_sig = tuple(entry.keys)
    # Both sides of a merge conflict repeat the unchanged entries: keep one node per header.
    if all(key in seen_keys for key in key_sig):
        existing = graph.nodes[seen_keys[key_sig[0]]]
        if (existing.version, existing.resolved) == (version, resolved):
            return
    node = _Node(
        name=name,
        version=version,
        resolved=resolved,
        origin=origin,
        kind="package" if emit else "local",
        aliases={spec_name for spec_name, _ in specs if spec_name != name},
    )
    for block, optional in (("dependencies", False), ("optionalDependencies", True)):
        for dep_name, rng in _string_map(entry.fields.get(block), block, entry.line).items():
            node.deps.append((dep_name, f"{dep_name}@{rng}", optional))
    index = len(graph.nodes)
    graph.nodes.append(node)
    for key in entry.keys:
        seen_keys[key] = index
        graph.by_key[key] = index


# --- Berry --------------------------------------------------------------------------------------


def _load_yaml(text: str, data: bytes) -> Any:
    # Failsafe schema: every scalar is a string, as yarn reads the file, so neither YAML 1.1
    # booleans nor numbers can rename or reshape an entry. One document, as yarn expects.
    try:
        return load_yaml(text, schema="failsafe", max_depth=_MAX_YAML_DEPTH)
    except YAMLLoadError as exc:
        if exc.reason == "depth":
            raise InputError(
                "invalid", "the YAML nests deeper than ircore reads; no yarn-written file does"
            ) from None
        kind, problem = "invalid", f"not valid YAML ({exc.problem})"
        if exc.reason == "alias":
            kind = "unsupported"
            problem = (
                f"a YAML alias of a mapping or list ({exc.problem}); yarn never writes anchors "
                "or aliases"
            )
        last = _last_content_line(text)
        raise _fail(kind, problem, line=exc.line or last, last_line=last, data=data) from None


def _entry_line(text: str, key: str) -> int:
    """The line of an entry's header, for messages (the base loader keeps no marks)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith((key, f'"{key}"')):
            return number
    return 0


def _berry_locator(resolution: str) -> tuple[str, str, list[str]] | None:
    """(name, reference, patch descriptions) of a resolution; ``patch:`` unwrapped."""
    patches: list[str] = []
    split = _split_specifier(resolution)
    if split is None:
        return None
    name, reference = split
    # A patch wraps the locator it patches, URL-encoded: patch:<name>@npm%3A1.2.3#<patch>::...
    while reference.startswith("patch:"):
        source, _, patch = reference[len("patch:") :].partition("#")
        patches.append(patch.split("::", 1)[0])
        inner = _split_specifier(unquote(source))
        if inner is None:
            return None
        name, reference = inner
    return name, reference, patches


def _read_berry(variants: list[str], data: bytes, warnings: list[str]) -> tuple[str, _Graph]:
    graph = _Graph(roots_known=True)
    version: str | None = None
    # underlying locator (patches unwrapped) -> node index
    by_locator: dict[str, int] = {}
    workspaces = 0
    for text in variants:
        last = _last_content_line(text)
        document = _load_yaml(text, data)
        if not isinstance(document, dict):
            raise _fail(
                "invalid",
                "the YAML is not a mapping of entries",
                line=1,
                last_line=last,
                data=data,
            )
        metadata = document.get("__metadata")
        meta_version = metadata.get("version") if isinstance(metadata, dict) else None
        if not isinstance(meta_version, str) or not re.fullmatch(r"[0-9]+", meta_version):
            raise _fail(
                "invalid",
                f"__metadata.version is {meta_version!r}, not a number: not a lockfile Yarn writes",
                line=_entry_line(text, "__metadata"),
                last_line=last,
                data=data,
            )
        version = version or meta_version
        for key, entry in document.items():
            if key == "__metadata":
                continue
            try:
                workspaces += _add_berry_entry(graph, by_locator, str(key), entry, warnings)
            except _Syntax as exc:
                line = _entry_line(text, str(key))
                raise _fail("invalid", exc.message, line=line, last_line=last, data=data) from None
    if not workspaces:
        graph.roots_known = False
        warnings.append(
            "the lockfile has no workspace entry, so the project's own dependencies are unknown"
        )
    return version or "", graph


def _add_berry_entry(
    graph: _Graph,
    by_locator: dict[str, int],
    key: str,
    entry: Any,
    warnings: list[str],
) -> int:
    """Add one Berry entry; returns 1 for a workspace entry, else 0."""
    if not isinstance(entry, dict):
        raise _Syntax(f"the entry {key!r} is not a mapping", 0)
    resolution = entry.get("resolution")
    if not isinstance(resolution, str):
        raise _Syntax(f"the entry {key!r} has no resolution", 0)
    locator = _berry_locator(resolution)
    if locator is None:
        raise _Syntax(f"the resolution {resolution!r} of {key!r} names no package", 0)
    name, reference, patches = locator
    descriptors = [d.strip() for d in key.split(",") if d.strip()]
    specs = [_split_specifier(d) for d in descriptors]
    if not descriptors or any(s is None for s in specs):
        raise _Syntax(f"{key!r} is not a list of 'name@range' descriptors", 0)
    version = entry.get("version")
    if not isinstance(version, str):
        # Berry writes a version in every entry; an npm reference holds it too.
        version = reference[4:].split("::", 1)[0] if reference.startswith("npm:") else ""
    deps = _berry_deps(entry, key)
    if reference.startswith("workspace:"):
        index = len(graph.nodes)
        root = reference == "workspace:."
        graph.nodes.append(
            _Node(
                name=name,
                version=version,
                resolved=resolution,
                origin="file",
                kind="workspace",
                root_workspace=root,
                deps=deps,
            )
        )
        for dep_name, dep_key, optional in deps:
            role: Role | None = "optional" if optional else None
            graph.roots.append(_Root(dep_name, dep_key, role, root, resolution))
        for descriptor in descriptors:
            graph.by_key[descriptor] = index
        return 1
    origin, emit = _berry_origin(reference, warnings)
    if entry.get("linkType") == "soft":
        emit = False  # a soft link points into a local folder, whatever the reference says
    underlying = f"{name}@{reference}"
    index = by_locator.get(underlying, -1)
    if index < 0:
        index = len(graph.nodes)
        by_locator[underlying] = index
        graph.nodes.append(
            _Node(
                name=name,
                version=version,
                resolved=resolution,
                origin=origin,
                kind="package" if emit else "local",
            )
        )
    node = graph.nodes[index]
    if patches:
        node.patches.extend(patches)
        node.resolved = resolution  # what is installed is the patched content
    known = {dep_key for _, dep_key, _ in node.deps}
    node.deps.extend(dep for dep in deps if dep[1] not in known)
    node.aliases.update(spec[0] for spec in specs if spec is not None and spec[0] != name)
    for descriptor in descriptors:
        graph.by_key[descriptor] = index
    return 0


def _berry_deps(entry: Mapping[str, Any], key: str) -> list[tuple[str, str, bool]]:
    meta = entry.get("dependenciesMeta")
    optional_names: set[str] = set()
    if isinstance(meta, dict):
        for dep_name, flags in meta.items():
            if isinstance(flags, dict) and flags.get("optional") == "true":
                optional_names.add(str(dep_name))
    deps: list[tuple[str, str, bool]] = []
    for block, optional in (("dependencies", False), ("optionalDependencies", True)):
        value = entry.get(block)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise _Syntax(f"{key!r}: {block} must map names to ranges", 0)
        for dep_name, rng in value.items():
            deps.append((dep_name, f"{dep_name}@{rng}", optional or dep_name in optional_names))
    return deps


# --- the project's own declarations -------------------------------------------------------------


@dataclass
class _Manifest:
    """What package.json says that yarn.lock does not."""

    roles: dict[str, tuple[str, Role]]  # name -> (range, role)
    overrides: dict[str, str]  # `resolutions`: package name -> the range that replaces its own
    workspaces: bool


def _override_target(pattern: str) -> str | None:
    """The package a ``resolutions`` key applies to: ``**/a``, ``parent/a``, ``a@^1`` -> ``a``."""
    parts = pattern.split("/")
    last = f"{parts[-2]}/{parts[-1]}" if len(parts) > 1 and parts[-2].startswith("@") else parts[-1]
    split = _split_specifier(last)
    return split[0] if split else None


def _read_manifest(manifest: bytes, warnings: list[str]) -> _Manifest | None:
    """The root package.json; None (and a warning) when it cannot be read."""
    try:
        pkg = orjson.loads(manifest.decode("utf-8-sig"))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        warnings.append(f"package.json could not be used (not UTF-8 JSON: {exc})")
        return None
    if not isinstance(pkg, dict):
        warnings.append("package.json could not be used (it is not a JSON object)")
        return None
    roles: dict[str, tuple[str, Role]] = {}
    # The first field that names a package decides: one in both dependencies and
    # devDependencies is installed in production, and optionalDependencies take precedence over
    # dependencies, as in yarn and npm.
    order: tuple[tuple[str, Role], ...] = (
        ("optionalDependencies", "optional"),
        ("dependencies", "prod"),
        ("devDependencies", "dev"),
    )
    for block, role in order:
        value = pkg.get(block)
        if value is None:
            continue
        if not isinstance(value, dict):
            warnings.append(f"package.json {block} is not an object; ignored")
            continue
        for dep_name, rng in value.items():
            if isinstance(rng, str):
                roles.setdefault(dep_name, (rng, role))
    overrides: dict[str, str] = {}
    resolutions = pkg.get("resolutions")
    if isinstance(resolutions, dict):
        for pattern, rng in resolutions.items():
            target = _override_target(pattern)
            if target is not None and isinstance(rng, str):
                overrides.setdefault(target, rng)
    workspaces = isinstance(pkg.get("workspaces"), (list, dict))
    return _Manifest(roles=roles, overrides=overrides, workspaces=workspaces)


def _apply_manifest(
    graph: _Graph, manifest: bytes | None, *, berry: bool, warnings: list[str]
) -> None:
    """Give the roots their roles (prod, dev, optional) from package.json, when there is one."""
    read = _read_manifest(manifest, warnings) if manifest is not None else None
    if read is None:
        if graph.nodes and not berry:
            warnings.append(
                "yarn.lock does not record the project's own dependencies and no readable "
                "package.json was given: dev, optional, direct, introducer and dependency_path "
                "are unknown"
            )
        elif graph.nodes:
            warnings.append(
                "Berry lists workspace dependencies without telling dev from production and no "
                "readable package.json was given: dev is unknown"
            )
        return
    roles = read.roles
    graph.overrides = read.overrides
    if read.workspaces and graph.nodes:
        warnings.append(
            "package.json declares workspaces and only the root manifest was read: "
            + (
                "the other workspaces' dependencies count as production (Berry merges their "
                "devDependencies in)"
                if berry
                else "yarn 1 does not list workspaces in yarn.lock, so what only they declare "
                "is not direct and has unknown dev/optional flags"
            )
        )
    graph.roles_known = True
    graph.roots_known = True
    if not berry:
        # yarn 1 writes no entry for a link: (a symlink to a local folder): nothing to find.
        graph.roots = [
            _Root(dep_name, f"{dep_name}@{rng}", role, True)
            for dep_name, (rng, role) in sorted(roles.items())
            if not rng.startswith("link:")
        ]
        return
    # The root workspace's entry holds the ranges as yarn normalised them (npm:^1.0.0); the
    # manifest says of which kind each is. Other workspaces' manifests are not at hand: their
    # dependencies count as production, the side that never hides an exposure.
    covered: set[str] = set()
    undeclared: list[str] = []
    root_locator = next((n.resolved for n in graph.nodes if n.root_workspace), None)
    for root in graph.roots:
        if root.by_root_workspace:
            covered.add(root.name)
            if root.name in roles:
                root.role = roles[root.name][1]
            else:
                undeclared.append(root.name)
                root.role = root.role or "prod"
        else:
            root.role = root.role or "prod"
    for dep_name, (rng, role) in sorted(roles.items()):
        if dep_name not in covered:
            key = next(
                (k for k in (f"{dep_name}@{rng}", f"{dep_name}@npm:{rng}") if k in graph.by_key),
                f"{dep_name}@{rng}",
            )
            graph.roots.append(_Root(dep_name, key, role, True, root_locator))
    if undeclared:
        warnings.append(
            "the lockfile's root workspace declares dependencies package.json does not "
            f"({', '.join(sorted(undeclared)[:5])}); they count as production: the two files "
            "are out of sync"
        )


# --- graph and rows -----------------------------------------------------------------------------


class _Resolver:
    """Finds the entry a ``name@range`` dependency resolved to, and remembers each miss."""

    def __init__(self, graph: _Graph) -> None:
        self.graph = graph
        self.by_name: dict[str, list[int]] = {}
        for index, node in enumerate(graph.nodes):
            if node.kind != "workspace":
                self.by_name.setdefault(node.name, []).append(index)
        self.overridden: dict[str, str] = {}  # key -> the resolutions key that matched
        self.by_name_only: dict[str, str] = {}  # key -> name@version it was matched to
        self.unresolved: set[str] = set()

    def __call__(self, name: str, key: str, declarer: str | None) -> int | None:
        by_key = self.graph.by_key
        found = by_key.get(key)
        if found is not None:
            return found
        rng = key[len(name) + 1 :]
        if declarer is not None and rng.startswith(_BOUND_PROTOCOLS):
            # Berry binds a relative path to the package declaring it (bindDescriptor): the
            # header reads `name@portal:./x::locator=<declarer, URI-encoded>`.
            found = by_key.get(f"{key}::locator={quote(declarer, safe=_URI_SAFE)}")
            if found is not None:
                return found
        if ":" not in rng:
            # Older Berry files list `dep: ^1.0.0` while the header says dep@npm:^1.0.0.
            found = by_key.get(f"{name}@npm:{rng}")
            if found is not None:
                return found
        real = _alias_target(rng) or name
        override = self.graph.overrides.get(real)
        if override is not None:
            # package.json `resolutions` replaced the range; yarn looks up the replacement.
            for candidate in (f"{real}@{override}", f"{real}@npm:{override}"):
                if candidate in by_key:
                    self.overridden[key] = candidate
                    return by_key[candidate]
        candidates = self.by_name.get(real, [])
        if len(candidates) == 1:
            # Without the manifest's `resolutions` (or in a hand-edited file) the only locked
            # package of that name is the one yarn installed for it.
            node = self.graph.nodes[candidates[0]]
            self.by_name_only[key] = f"{node.name}@{node.version}"
            return candidates[0]
        self.unresolved.add(key)
        return None

    def report(self, warnings: list[str]) -> None:
        if self.by_name_only:
            shown = ", ".join(f"{k} -> {v}" for k, v in sorted(self.by_name_only.items())[:10])
            more = " ..." if len(self.by_name_only) > 10 else ""
            warnings.append(
                f"{len(self.by_name_only)} dependency specifiers have no entry of their own and "
                "were matched to the only locked package of that name (a package.json "
                f"`resolutions` override, or a hand-edited file): {shown}{more}"
            )
        if self.unresolved:
            shown = ", ".join(sorted(self.unresolved)[:10])
            more = " ..." if len(self.unresolved) > 10 else ""
            warnings.append(
                f"{len(self.unresolved)} dependency specifiers have no entry in the lockfile "
                f"and are left out of the graph: {shown}{more}"
            )


def _reach(
    edges: list[list[tuple[str, int, bool]]], starts: Iterable[int], *, hard: bool
) -> set[int]:
    """Nodes reachable from ``starts``; over required edges only when ``hard``."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        current = queue.popleft()
        for _, target, optional in edges[current]:
            if (hard and optional) or target in seen:
                continue
            seen.add(target)
            queue.append(target)
    return seen


def _rows(graph: _Graph, warnings: list[str]) -> list[dict[str, Any]]:
    nodes = graph.nodes
    resolve = _Resolver(graph)
    # Workspaces are declarers, not steps on a path: their own dependencies are roots already.
    edges: list[list[tuple[str, int, bool]]] = []
    for node in nodes:
        out: list[tuple[str, int, bool]] = []
        if node.kind != "workspace":
            for dep_name, key, soft in node.deps:
                target = resolve(dep_name, key, node.resolved)
                if target is not None and nodes[target].kind != "workspace":
                    out.append((dep_name, target, soft))
        edges.append(out)
    roots: list[tuple[str, int, Role | None]] = []
    for root in graph.roots:
        target = resolve(root.name, root.key, root.declarer)
        if target is not None and nodes[target].kind != "workspace":
            roots.append((root.name, target, root.role))
    resolve.report(warnings)

    # Shortest install-name paths, breadth-first from every declaration at once, names sorted.
    paths: dict[int, list[str]] = {}
    direct: set[int] = set()
    queue: deque[int] = deque()
    for dep_name, target, _ in sorted(roots, key=lambda r: (r[0], r[1])):
        direct.add(target)
        if target not in paths:
            paths[target] = [dep_name]
            queue.append(target)
    while queue:
        current = queue.popleft()
        for dep_name, target, _ in sorted(edges[current], key=lambda e: (e[0], e[1])):
            if target not in paths:
                paths[target] = [*paths[current], dep_name]
                queue.append(target)

    starts: dict[str, set[int]] = {"prod": set(), "dev": set(), "optional": set(), "": set()}
    for _, target, role in roots:
        starts[role or ""].add(target)
    prod_any = _reach(edges, starts["prod"] | starts["optional"], hard=False)
    prod_hard = _reach(edges, starts["prod"], hard=True)
    any_hard = _reach(edges, starts["prod"] | starts["dev"] | starts[""], hard=True)

    rows: list[dict[str, Any]] = []
    patched: list[str] = []
    unreached = 0
    for index, node in enumerate(nodes):
        if node.kind != "package":
            continue
        path = paths.get(index)
        dev: bool | None = None
        optional: bool | None = None
        if graph.roots_known and path is not None:
            if graph.roles_known:
                dev = index not in prod_any
                # Optional in the install that matters: production when production reaches it.
                optional = index not in (prod_hard if index in prod_any else any_hard)
            else:
                optional = index not in any_hard
        elif graph.roots_known:
            unreached += 1
        if node.patches:
            patched.append(f"{node.name}@{node.version} ({'; '.join(sorted(set(node.patches)))})")
        rows.append(
            {
                "name": node.name,
                "version": node.version,
                "dev": dev,
                "optional": optional,
                "direct": index in direct if graph.roots_known else None,
                "bundled": None,
                "introducer": path[0] if path else None,
                "dependency_path": " > ".join(path) if path else None,
                "install_path": None,
                "alias": ", ".join(sorted(node.aliases)) if node.aliases else None,
                "resolved": node.resolved,
                "origin_kind": node.origin,
            }
        )
    if patched:
        more = f" and {len(patched) - 10} more" if len(patched) > 10 else ""
        warnings.append(
            f"{len(patched)} packages are installed patched (yarn's patch: protocol), so their "
            f"content differs from the registry tarball: {', '.join(patched[:10])}{more}"
        )
    if unreached:
        warnings.append(
            f"{unreached} packages are not reached from any declared dependency; their dev "
            "and optional flags are unknown"
        )
    return rows
