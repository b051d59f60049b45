"""One safe, fast YAML loader for lockfiles (pnpm-lock.yaml, Yarn Berry's yarn.lock).

The parser is libyaml through PyYAML's C extension; when PyYAML was built without libyaml, the
pure-Python parser of ruamel.yaml takes its place (some twenty times slower, same results). Either
way only the parser's *events* are used: turning them into Python values happens here, once, so
both parsers give the same values and every rule below holds for both.

* **YAML 1.2 core schema** (``schema="core"``, what pnpm's js-yaml reads): only ``true`` and
  ``false`` (any of their three spellings) are booleans, so the package names ``yes``, ``no``,
  ``on``, ``off``, ``y`` and ``n`` stay names; integers are decimal, ``0o`` octal or ``0x``
  hexadecimal (``010`` is ten, ``1:30`` is text, not 90); ``null``, ``~`` and an empty value are
  None; no timestamps (``2024-01-01`` stays text). Everything else is a string.
* **Failsafe** (``schema="failsafe"``, what Yarn Berry reads): every scalar is a string, so
  ``1.10`` stays ``1.10``; an empty value is ``""``.
* Every document of a multi-document stream is read (pnpm 11 writes two).
* An alias of a mapping or a list is refused where it stands: a few lines of such aliases
  ("billion laughs") multiply into gigabytes once anything walks the result, and no lockfile
  writer emits anchors. An alias of a scalar is harmless and resolved.
* Collections nest at most ``max_depth`` levels; a duplicate key, a mapping or list used as a
  key, a merge key (``<<``, core schema) or an undefined alias is an error naming its line.

Every failure is a :class:`YAMLLoadError` with a ``reason`` and, where the parser knows it, the
1-based line and column, so that the caller can tell a cut-short file from a malformed one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from ruamel.yaml.error import YAMLError as _RuamelError

__all__ = ["BACKEND", "YAMLLoadError", "load_yaml", "load_yaml_documents"]

Schema = Literal["core", "failsafe"]
Backend = Literal["libyaml", "ruamel"]

try:
    from yaml import YAMLError as _PyYAMLError
    from yaml.cyaml import CParser as _CParser
except ImportError:  # PyYAML missing, or built without libyaml
    _CParser = None
    _PARSER_ERRORS: tuple[type[Exception], ...] = (_RuamelError,)
else:
    _PARSER_ERRORS = (_RuamelError, _PyYAMLError)

BACKEND: Backend = "libyaml" if _CParser is not None else "ruamel"
"""The parser :func:`load_yaml_documents` uses by default."""

DEFAULT_MAX_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
# Explicit tags a core-schema value may carry; anything else (!!binary, !!timestamp, !custom)
# is refused, since no lockfile writer tags values.
_CORE_TAGS = {f"{_CORE}{name}" for name in ("str", "null", "bool", "int", "float")}
_COLLECTION_TAGS = {f"{_CORE}map", f"{_CORE}seq"}

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# YAML 1.2.2 section 10.3.2 (core schema), one pattern per tag.
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_NUMBER_START = frozenset("-+.0123456789")
# First characters of plain scalars that may be something other than text (null, bool, number,
# merge key); any other plain scalar is text as it stands.
_RESOLVE_START = frozenset("-+.0123456789tTfFnN~<")


class YAMLLoadError(Exception):
    """YAML that cannot be loaded.

    Attributes
    ----------
    reason
        ``"syntax"`` (the parser failed, or the text holds a character YAML forbids),
        ``"alias"`` (an alias of a mapping or list), ``"depth"`` (nested deeper than allowed),
        ``"duplicate-key"``, ``"key"`` (a mapping or list as a key, a merge key), ``"tag"`` (an
        explicit tag the schema does not read, or a value its tag does not fit),
        ``"undefined-alias"`` or ``"documents"`` (more than one document where one is expected).
    problem
        What is wrong, without the location.
    line, column
        1-based position, None when unknown.
    """

    def __init__(
        self, reason: str, problem: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        at = f" at line {line}, column {column}" if line is not None and column is not None else ""
        super().__init__(f"{problem}{at}")
        self.reason = reason
        self.problem = problem
        self.line = line
        self.column = column


def load_yaml_documents(
    text: str,
    *,
    schema: Schema = "core",
    max_depth: int = DEFAULT_MAX_DEPTH,
    backend: Backend | None = None,
) -> list[Any]:
    """Every document of ``text``, as dicts, lists and scalars (see the module docstring).

    An empty document (``---`` with nothing after it) is None in core and ``""`` in failsafe;
    text without any document gives an empty list. ``backend`` chooses the parser (default
    :data:`BACKEND`); ``"libyaml"`` raises RuntimeError when PyYAML lacks it.

    Raises
    ------
    YAMLLoadError
        The text is not YAML, or holds something refused (see :class:`YAMLLoadError`).
    """
    backend = backend or BACKEND
    events, close = _events(text, backend)
    try:
        return _Builder(schema == "core", max_depth).run(events)
    except YAMLLoadError:
        raise
    except _PARSER_ERRORS as exc:
        raise _parser_error(exc, text, backend) from None
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        if backend != "ruamel":
            raise
        # ruamel's pure-Python parser fails on some malformed input with built-in errors;
        # for the caller that is malformed YAML all the same.
        raise YAMLLoadError("syntax", f"malformed YAML ({type(exc).__name__})") from None
    finally:
        close()


def load_yaml(
    text: str,
    *,
    schema: Schema = "core",
    max_depth: int = DEFAULT_MAX_DEPTH,
    backend: Backend | None = None,
) -> Any:
    """The single document of ``text`` (None when there is none); a second one is an error."""
    documents = load_yaml_documents(text, schema=schema, max_depth=max_depth, backend=backend)
    if len(documents) > 1:
        raise YAMLLoadError(
            "documents", f"the text holds {len(documents)} YAML documents where one is expected"
        )
    return documents[0] if documents else None


# --- parsers ------------------------------------------------------------------------------------


def _events(text: str, backend: Backend) -> tuple[Iterator[Any], Callable[[], None]]:
    """The parser's events, and what to call once they are no longer needed."""
    if backend == "libyaml":
        if _CParser is None:
            raise RuntimeError("PyYAML was built without libyaml")
        parser = _CParser(text)
        # iter(callable, sentinel) pulls events without a Python frame per event.
        return iter(parser.get_event, None), parser.dispose
    from ruamel.yaml import YAML

    return iter(YAML(typ="safe", pure=True).parse(text)), _nothing


def _nothing() -> None:
    return None


def _parser_error(exc: Exception, text: str, backend: Backend) -> YAMLLoadError:
    """A PyYAML or ruamel parser error, with its position."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if problem is None:
        # Reader errors (a character YAML forbids) carry no mark, only the text as said.
        problem = str(exc).split("\n", 1)[0] or type(exc).__name__
    problem = str(problem)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark is not mark:
        # Where the unclosed bracket or quote started, which the end of the text does not say.
        where = _position(text, context_mark.line + 1, context_mark.column + 1)[0]
        problem = f"{problem} ({context} that starts at line {where})"
    if mark is None:
        position = getattr(exc, "position", None)  # reader errors: an offset, no mark
        if not isinstance(position, int):
            return YAMLLoadError("syntax", problem)
        # libyaml counts bytes of the UTF-8 text, ruamel characters.
        before = (
            text.encode()[:position].decode(errors="ignore")
            if backend == "libyaml"
            else text[:position]
        )
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        return YAMLLoadError("syntax", problem, line=line, column=column)
    line, column = _position(text, mark.line + 1, mark.column + 1)
    return YAMLLoadError("syntax", problem, line=line, column=column)


def _position(text: str, line: int, column: int) -> tuple[int, int]:
    """A parser's 1-based position, the end of the text moved to the end of its last line.

    Both parsers place the end of the text on a line of its own (libyaml even after a last line
    without newline); the analyst's editor shows the end of the last line.
    """
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if line > len(lines):
        return max(len(lines), 1), len(lines[-1]) + 1 if lines else 1
    return line, column


# --- events into values -------------------------------------------------------------------------


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# A mapping's slot while it waits for its next key; an anchor's value when it names a collection.
_NO_KEY = _Sentinel("<no key>")
_COLLECTION = _Sentinel("<collection>")

# Event kinds by class name, shared by PyYAML's and ruamel's event classes.
_SCALAR, _ALIAS, _MAPPING, _SEQUENCE, _END, _DOC_START, _DOC_END, _OTHER = range(8)
_COLLECTIONS = frozenset((_MAPPING, _SEQUENCE))
_KIND_BY_NAME = {
    "ScalarEvent": _SCALAR,
    "AliasEvent": _ALIAS,
    "MappingStartEvent": _MAPPING,
    "SequenceStartEvent": _SEQUENCE,
    "MappingEndEvent": _END,
    "SequenceEndEvent": _END,
    "DocumentStartEvent": _DOC_START,
    "DocumentEndEvent": _DOC_END,
}


class _Builder:
    """Builds values from a stream of parser events, PyYAML's and ruamel's alike.

    A stack holds the open collections (a document is a one-slot list its root value lands in);
    beside each, the key read and waiting for its value (mappings) or None (lists), and the
    event of that key, for the line of a duplicate.
    """

    def __init__(self, core: bool, max_depth: int) -> None:
        self.core = core
        self.max_depth = max_depth
        self.kinds: dict[type, int] = {}

    def run(self, events: Iterable[Any]) -> list[Any]:
        core, max_depth, kinds = self.core, self.max_depth, self.kinds
        scalar = self._scalar
        resolve_start = _RESOLVE_START
        documents: list[Any] = []
        containers: list[Any] = []
        keys: list[Any] = []
        key_events: list[Any] = []
        anchors: dict[str, Any] = {}  # anchor -> its scalar's value, or _COLLECTION
        # One loop, no call per event beyond the parser's: this runs once per event, a few
        # hundred thousand times for a large lockfile.
        for event in events:
            cls = type(event)
            kind = kinds.get(cls)
            if kind is None:
                kind = kinds[cls] = _KIND_BY_NAME.get(cls.__name__, _OTHER)
            if kind == _SCALAR:
                value = event.value
                if core and (
                    event.tag is not None
                    or (event.implicit[0] and (not value or value[0] in resolve_start))
                ):
                    value = scalar(event)
                if event.anchor is not None:
                    anchors[event.anchor] = value
            elif kind == _END:
                containers.pop()
                keys.pop()
                key_events.pop()
                continue
            elif kind in _COLLECTIONS:
                if core and event.tag is not None and event.tag not in _COLLECTION_TAGS:
                    raise _at(event, "tag", f"explicit tag {event.tag!r} is not read")
                if len(containers) > max_depth:  # containers[0] is the document's slot
                    raise _at(event, "depth", f"the YAML nests deeper than {max_depth} levels")
                value = {} if kind == _MAPPING else []
            elif kind == _ALIAS:
                value = anchors.get(event.anchor, _NO_KEY)
                if value is _NO_KEY:
                    raise _at(event, "undefined-alias", f"alias *{event.anchor} has no anchor")
                if value is _COLLECTION:
                    raise _at(
                        event,
                        "alias",
                        f"alias *{event.anchor} repeats a mapping or list; refused so that "
                        "the document cannot expand without bound",
                    )
            elif kind == _DOC_START:
                containers[:] = [[]]  # the document: a one-slot list its root value lands in
                keys[:] = [None]
                key_events[:] = [None]
                anchors = {}  # anchors do not cross documents
                continue
            elif kind == _DOC_END:
                root = containers[0]
                documents.append(root[0] if root else (None if core else ""))
                containers.clear()
                keys.clear()
                key_events.clear()
                continue
            else:
                continue  # stream start and end

            # Into the innermost open collection.
            container = containers[-1]
            if type(container) is list:
                container.append(value)
            else:
                key = keys[-1]
                if key is _NO_KEY:
                    if kind in _COLLECTIONS:
                        raise _at(event, "key", "a mapping or list is used as a mapping key")
                    keys[-1] = value
                    key_events[-1] = event
                    continue
                if key in container:
                    raise _at(key_events[-1], "duplicate-key", f"duplicate key {key!r:.80}")
                container[key] = value
                keys[-1] = _NO_KEY
            if kind == _MAPPING:
                containers.append(value)
                keys.append(_NO_KEY)
                key_events.append(None)
                if event.anchor is not None:
                    anchors[event.anchor] = _COLLECTION
            elif kind == _SEQUENCE:
                containers.append(value)
                keys.append(None)
                key_events.append(None)
                if event.anchor is not None:
                    anchors[event.anchor] = _COLLECTION
        return documents

    def _scalar(self, event: Any) -> Any:
        """A core-schema scalar: plain ones are resolved, quoted and ``!``-tagged are text."""
        value: str = event.value
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:
                return value  # quoted or block scalar
        elif tag == "!":
            return value
        elif tag not in _CORE_TAGS:
            raise _at(event, "tag", f"explicit tag {tag!r} is not read")
        elif tag == f"{_CORE}str":
            return value
        resolved = _resolve_plain(value, event)
        if tag is not None and tag.rsplit(":", 1)[1] != _type_tag(resolved):
            raise _at(event, "tag", f"{value!r:.40} is not a {tag.rsplit(':', 1)[1]}")
        return resolved


def _resolve_plain(value: str, event: Any) -> Any:
    if value in _NULLS:
        return None
    first = value[0]
    if first in "tTfF" and value in _BOOLS:
        return _BOOLS[value]
    if first in _NUMBER_START:
        if _INT.fullmatch(value):
            try:
                if value.startswith("0o"):
                    return int(value[2:], 8)
                if value.startswith("0x"):
                    return int(value[2:], 16)
                return int(value)
            except ValueError:
                return value  # more digits than Python converts: kept as written
        if _FLOAT.fullmatch(value):
            lowered = value.lower()
            if lowered.endswith("nan"):
                return math.nan
            if lowered.endswith("inf"):
                return -math.inf if lowered.startswith("-") else math.inf
            return float(value)
    elif value == "<<":
        raise _at(event, "key", "merge key '<<' is not read (no lockfile writer uses one)")
    return value


def _type_tag(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def _at(event: Any, reason: str, problem: str) -> YAMLLoadError:
    mark = event.start_mark
    if mark is None:
        return YAMLLoadError(reason, problem)
    return YAMLLoadError(reason, problem, line=mark.line + 1, column=mark.column + 1)
