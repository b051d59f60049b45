"""Version semantics: npm's ranges for what gets installed, plain SemVer for advisories.

Two semantics live here, because they disagree on prereleases:

- **npm ranges** (`satisfies`, `validate_range`, `parse_version`, `compare_versions`): what npm
  would install for a ``package.json`` or lockfile spec. Ranges are read the way npm's ``semver``
  package reads them (caret, tilde, x-ranges, hyphen ranges, partial versions, ``||``, the
  ``loose`` and ``includePrerelease`` options) and obey npm's prerelease rule: a prerelease
  version only satisfies a comparator set holding a prerelease on the same major.minor.patch.
- **advisories** (`advisory_matches`, `osv_affected`, `normalize_advisory_range`): whether an
  installed version is inside an advisory's bounds. That is SemVer 2.0 precedence and nothing
  else; npm's prerelease rule would clear ``1.4.5-lts.1`` of ``>=1.4.4-lts.1 <2.0.0``. GitHub
  advisory ranges (``>= 1.0.0, < 1.2.3``) are rewritten to npm syntax and matched with
  ``includePrerelease``; OSV ``SEMVER``/``ECOSYSTEM`` events are walked in version order.

This is an independent implementation, written from npm's documentation, the SemVer 2.0
specification and black-box observation, never from npm's source. A range is read in steps:
build metadata is deleted; a whole ``A - B`` set is rewritten to two comparators; spaces after
operators are closed up; each word is desugared (``^``, ``~``, x-ranges and partial versions)
into primitive comparators; loose mode drops words that are not comparators; and the sets are
tidied (duplicates, match-anything, the ``<0.0.0-0`` match-nothing). Where npm rewrites text,
this does too, so its quirks come out the same (``1.2.3 ||`` is ``*``, ``1.x.3`` is invalid but
``^1.x.3`` is not, ``>=vv1.2`` is valid but ``>=vv1.2.3`` is not).

It is checked against npm's ``semver`` 7.8.6 (under Node 20) as an oracle:
``tests/oracle/semver_oracle.json`` (892 ``validRange``, 140 ``parse``, 11,730 ``satisfies`` and
961 ``compare`` rows, the last group of ranges pinning the quirks above) agrees row for row, as
did about 49,000 randomly generated ranges in all four option combinations.

PyPI's ports were measured against the same oracle and not used: ``node-semver`` 0.9 disagreed on
167 of 8,720 valid rows and accepted 13 ranges npm rejects; ``semantic_version.NpmSpec``
disagreed on 23 of 3,520 plain rows, raised on 768 valid ones (such as ``^ 1.2.3``), accepted 17
invalid ranges, and has no ``includePrerelease``.

Deliberate differences from npm:

- A range or version npm cannot read raises `InvalidRange` / `InvalidVersion` (also for
  non-strings) where npm returns null or false: an unreadable spec must never look like "not
  affected".
- Numeric prerelease identifiers compare exactly; npm compares them as doubles, so
  ``1.0.0-9007199254740993`` ties with ``1.0.0-9007199254740992`` there.
- In loose mode a numeric prerelease identifier with leading zeros is always normalised; npm
  keeps the zeros when the value is 2**53 - 1 or more (``1.2.3-0009007199254740993``).
- `normalize_advisory_range` rejects an empty ``||`` alternative or comma part, which npm would
  read as matching everything.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ircore._errors import InvalidRange, InvalidVersion

__all__ = [
    "Version",
    "advisory_matches",
    "compare_versions",
    "normalize_advisory_range",
    "osv_affected",
    "parse_version",
    "satisfies",
    "validate_range",
]

# --- limits and character classes npm applies ---------------------------------------------------

#: Longest version string npm accepts, counted before trimming.
_MAX_LENGTH = 256
#: npm holds version numbers as doubles and refuses those past Number.MAX_SAFE_INTEGER.
_MAX_SAFE = 2**53 - 1
# Inside ranges npm reads each field with a bounded pattern: at most 256 digits per number and
# 250 characters after an identifier's first letter. A longer field makes the word unreadable
# (loose mode then drops it) instead of a readable word holding a bad version.
_DIGITS = 256
_TAIL = 250

# JavaScript's \s, which npm trims and splits on; Python's \s differs (it lacks U+FEFF and has
# U+0085 and U+001C-U+001F), and an oracle row depends on each difference.
_WS_CHARS = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS = "[" + re.escape(_WS_CHARS) + "]"


# --- versions --------------------------------------------------------------------------------------


def _version_pattern(*, loose: bool) -> re.Pattern[str]:
    num = "[0-9]+" if loose else "0|[1-9][0-9]*"
    ident = f"(?:{num}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
    prefix = f"(?:v|=|{_WS})*" if loose else "v?"
    dash = "-?" if loose else "-"
    part = "[0-9A-Za-z-]+"
    return re.compile(
        f"{prefix}({num})\\.({num})\\.({num})"
        f"(?:{dash}({ident}(?:\\.{ident})*))?"
        f"(?:\\+({part}(?:\\.{part})*))?"
    )


_VERSION = {False: _version_pattern(loose=False), True: _version_pattern(loose=True)}


def _identifier(text: str) -> int | str:
    return int(text) if text.isdigit() else text


@functools.total_ordering
@dataclass(frozen=True, eq=False, slots=True)
class Version:
    """A SemVer 2.0 version; equality, hashing and order follow precedence, so build is ignored.

    Attributes
    ----------
    major, minor, patch : int
        The release numbers.
    prerelease : tuple of int or str
        Prerelease identifiers; numeric ones are ints so they compare numerically.
    build : tuple of str
        Build metadata identifiers, kept for display only.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: tuple[str, ...] = ()

    @property
    def core(self) -> str:
        """The version without build metadata, as npm prints it."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        return text + "-" + ".".join(map(str, self.prerelease)) if self.prerelease else text

    def _key(self) -> tuple[Any, ...]:
        # SemVer §11: a release outranks its prereleases; numeric identifiers rank below
        # alphanumeric ones; a longer identifier list wins when one is a prefix of the other.
        if not self.prerelease:
            return (self.major, self.minor, self.patch, 1, ())
        ids = tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in self.prerelease)
        return (self.major, self.minor, self.patch, 0, ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.core + ("+" + ".".join(self.build) if self.build else "")


def parse_version(text: str | Version, *, loose: bool = False) -> Version:
    """Read a version the way npm's ``semver.parse`` does.

    Parameters
    ----------
    text : str or Version
        The version; surrounding JavaScript whitespace and one leading ``v`` are allowed.
    loose : bool
        npm's loose mode: leading ``=``/``v``/spaces, leading zeros, ``1.2.3beta``.

    Returns
    -------
    Version

    Raises
    ------
    InvalidVersion
        If npm would return null, or `text` is not a string.
    """
    if isinstance(text, Version):
        return text
    if not isinstance(text, str):
        raise InvalidVersion(f"not a version string: {text!r}")
    match = _VERSION[loose].fullmatch(text.strip(_WS_CHARS)) if len(text) <= _MAX_LENGTH else None
    if match is None:
        raise InvalidVersion(f"invalid version: {text!r}")
    major, minor, patch = (int(group) for group in match.groups()[:3])
    if max(major, minor, patch) > _MAX_SAFE:
        raise InvalidVersion(f"version number too large: {text!r}")
    pre, build = match[4], match[5]
    return Version(
        major,
        minor,
        patch,
        prerelease=tuple(map(_identifier, pre.split("."))) if pre else (),
        build=tuple(build.split(".")) if build else (),
    )


def compare_versions(a: str | Version, b: str | Version) -> int:
    """Compare two versions by SemVer precedence: -1, 0 or 1 (npm's ``semver.compare``).

    Raises
    ------
    InvalidVersion
        If either is not a strict SemVer version.
    """
    left, right = parse_version(a), parse_version(b)
    return (left > right) - (left < right)


# --- the range grammar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grammar:
    """Whole-match patterns for one mode (strict or loose) of npm's range syntax."""

    hyphen: re.Pattern[str]  # a whole comparator set "A - B"
    caret: re.Pattern[str]
    tilde: re.Pattern[str]
    xrange: re.Pattern[str]  # an optional primitive operator and a possibly partial version
    comparator: re.Pattern[str]  # a primitive operator and a full version
    partial: str
    plain: str


def _grammar(*, loose: bool) -> _Grammar:
    num = f"[0-9]{{1,{_DIGITS}}}" if loose else f"(?:0|[1-9][0-9]{{0,{_DIGITS}}})"
    ident = f"(?:{num}|[0-9]{{0,{_DIGITS}}}[A-Za-z-][0-9A-Za-z-]{{0,{_TAIL}}})"
    dash = "-?" if loose else "-"
    pre = f"{ident}(?:\\.{ident})*"
    # Possessive: these characters can never start the number that must follow them, so giving
    # any back is pointless, and refusing keeps long runs of them from costing quadratic time.
    prefix = f"(?:v|=|{_WS})*+"
    last = num
    if loose:
        # With the "-" optional a digit run may be split between patch and prerelease ("1.2.34.5"
        # reads 1.2.3-4.5). Past the whole run only the largest patch leaving the prerelease
        # 1-256 digits is tried: a backtracking matcher settles on it, every other split ends
        # alike, and retrying them all made a long failing word cost quadratic time.
        split = f"(?>[0-9]{{1,{_DIGITS}}}(?=[0-9]{{1,{_DIGITS}}}(?![0-9])))"
        last = f"(?:[0-9]{{1,{_DIGITS}}}(?![0-9])|{split})"

    def partial(tag: str = "") -> str:
        # Any field may be a wildcard or missing; a prerelease may only follow a third field.
        xr = f"(?:[xX*]|{num})"
        return (
            f"{prefix}(?P<M{tag}>{xr})(?:\\.(?P<m{tag}>{xr})"
            f"(?:\\.(?P<p{tag}>[xX*]|{last})(?:{dash}(?P<pre{tag}>{pre}))?)?)?"
        )

    # Builds are gone before reading, but npm's double arithmetic can write "1e+21" into one.
    build = f"[0-9A-Za-z-]{{1,{_TAIL}}}"
    plain = (
        f"{prefix if loose else 'v?'}{num}\\.{num}\\.{last}"
        f"(?:{dash}{pre})?(?:\\+{build}(?:\\.{build})*)?"
    )
    return _Grammar(
        hyphen=re.compile(f"(?P<lo>{partial('1')}) - (?P<hi>{partial('2')}) ?"),
        caret=re.compile(f"\\^{partial()}"),
        tilde=re.compile(f"~>?{partial()}"),
        xrange=re.compile(f"(?P<op>[<>]?=?){partial()}"),
        comparator=re.compile(f"(?P<op>[<>]?=?)(?P<version>{plain})"),
        partial=partial(),
        plain=plain,
    )


_GRAMMARS = {False: _grammar(loose=False), True: _grammar(loose=True)}
# npm deletes build metadata from each alternative before reading it, wherever it appears.
_RANGE_BUILD = re.compile(r"\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*")
_WS_RUN = re.compile(f"{_WS}+")
# Spaces after an operator go when a version follows it; npm scans for this pattern left to
# right, resuming after each version it consumed (so "> = 1.2" stays two words).
_OPERATOR_GAP = re.compile(f"( *)([<>]?=?) *({_GRAMMARS[True].plain}|{_GRAMMARS[False].partial})")
_TILDE_GAP = re.compile("~>? ")
_CARET_GAP = re.compile(r"\^ ")
# A word npm cannot otherwise read loses its first "*" (with any operator before it).
_STAR = re.compile(r"[<>]?=?\*")


def _glue_operators(text: str) -> str:
    """Close up the spaces between each operator and its version (``>= 1.2`` to ``>=1.2``)."""
    out, i = [], 0
    while i < len(text):
        if match := _OPERATOR_GAP.match(text, i):
            out.append(match[1] + match[2] + match[3])
            i = match.end()
            continue
        # Every attempt from inside the run of "v", "=" and spaces after a failed one reaches the
        # same first character past the run and fails alike: skipping it keeps the scan linear.
        end = i + 1
        if text[i] in "<>v= ":
            while end < len(text) and text[end] in "v= ":
                end += 1
        out.append(text[i:end])
        i = end
    return "".join(out)


def _bump(number: str) -> str:
    """``number + 1`` as npm computes and prints it, in doubles.

    Past 2**53 that is inexact, and from 1e21 JavaScript prints exponent notation, which loose
    mode may then drop or misread; below that the result is an exact integer too large to pass.
    """
    value = float(number) + 1
    if value == float("inf"):
        return "Infinity"
    return repr(value) if value >= 1e21 else str(int(value))


_WILDCARDS = ("x", "X", "*")


def _fields(match: re.Match[str], tag: str = "") -> tuple[str | None, str | None, str | None]:
    """Major, minor, patch; None for a wildcard or a missing field and for every field after it."""
    out: list[str | None] = []
    for name in ("M", "m", "p"):
        value = match[name + tag]
        wild = value is None or value in _WILDCARDS or (bool(out) and out[-1] is None)
        out.append(None if wild else value)
    return out[0], out[1], out[2]


def _hyphen(match: re.Match[str], inc: bool) -> str:
    """``A - B`` as two comparators; full bounds keep their spelling, as npm's rewrite does."""
    z = "-0" if inc else ""
    major, minor, patch = _fields(match, "1")
    if major is None:
        low = ""
    elif minor is None:
        low = f">={major}.0.0{z}"
    elif patch is None:
        low = f">={major}.{minor}.0{z}"
    else:
        low = ">=" + match["lo"] + ("" if match["pre1"] else z)
    major, minor, patch = _fields(match, "2")
    if major is None:
        high = ""
    elif minor is None:
        high = f"<{_bump(major)}.0.0-0"
    elif patch is None:
        high = f"<{major}.{_bump(minor)}.0-0"
    elif match["pre2"]:
        high = f"<={major}.{minor}.{patch}-{match['pre2']}"
    elif inc:
        high = f"<{major}.{minor}.{_bump(patch)}-0"
    else:
        high = "<=" + match["hi"]
    return f"{low} {high}"


def _caret(match: re.Match[str], inc: bool) -> list[str]:
    """``^`` allows changes that keep the leftmost non-zero field (all fields when all are zero)."""
    z = "-0" if inc else ""
    major, minor, patch = _fields(match)
    if major is None:
        return [""]
    if minor is None:
        return [f">={major}.0.0{z}", f"<{_bump(major)}.0.0-0"]
    if patch is None:
        low = f">={major}.{minor}.0{z}"
    else:
        pre = match["pre"]
        low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    # npm compares the text with "0", so a loose "00" major counts as non-zero.
    if major != "0":
        return [low, f"<{_bump(major)}.0.0-0"]
    if minor != "0" or patch is None:
        return [low, f"<{major}.{_bump(minor)}.0-0"]
    return [low, f"<{major}.{minor}.{_bump(patch)}-0"]


def _tilde(match: re.Match[str], inc: bool) -> list[str]:
    """``~`` allows patch changes when a minor is given, minor changes otherwise."""
    z = "-0" if inc else ""
    major, minor, patch = _fields(match)
    if major is None:
        return [""]
    if minor is None:
        return [f">={major}.0.0{z}", f"<{_bump(major)}.0.0-0"]
    if patch is None:
        low = f">={major}.{minor}.0{z}"
    else:
        pre = match["pre"]
        low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return [low, f"<{major}.{_bump(minor)}.0-0"]


def _xrange(match: re.Match[str], word: str, inc: bool) -> list[str]:
    """A partial version with an optional primitive operator, as primitive comparators."""
    major, minor, patch = _fields(match)
    given = [match[name] for name in ("M", "m", "p") if match[name] is not None]
    if patch is not None or any(
        a in _WILDCARDS and b not in _WILDCARDS for a, b in itertools.pairwise(given)
    ):
        # A full version stays as written; a number after a wildcard ("1.x.3") is no x-range.
        return [word]
    z = "-0" if inc else ""
    op = "" if match["op"] == "=" else match["op"]
    if major is None:
        return ["<0.0.0-0" if op in ("<", ">") else ""]
    if op == ">":
        return [f">={_bump(major)}.0.0{z}" if minor is None else f">={major}.{_bump(minor)}.0{z}"]
    if op == "<=":
        return [f"<{_bump(major)}.0.0-0" if minor is None else f"<{major}.{_bump(minor)}.0-0"]
    if op == "<":
        return [f"<{major}.{minor or 0}.0-0"]
    if op == ">=":
        return [f">={major}.{minor or 0}.0{z}"]
    if minor is None:
        return [f">={major}.0.0{z}", f"<{_bump(major)}.0.0-0"]
    return [f">={major}.{minor}.0{z}", f"<{major}.{_bump(minor)}.0-0"]


def _desugar(word: str, grammar: _Grammar, inc: bool) -> list[str]:
    """One word as primitive comparator texts (``""`` matches anything), still to be read."""
    if match := grammar.caret.fullmatch(word):
        return _caret(match, inc)
    if match := grammar.tilde.fullmatch(word):
        return _tilde(match, inc)
    if match := grammar.xrange.fullmatch(word):
        return _xrange(match, word, inc)
    return [_STAR.sub("", word, count=1)]


@dataclass(frozen=True)
class _Comparator:
    """A primitive comparator; ``version=None`` is npm's match-anything comparator."""

    op: str  # "", "<", "<=", ">", ">="
    version: Version | None

    def __str__(self) -> str:
        return "" if self.version is None else self.op + self.version.core

    @property
    def is_null(self) -> bool:
        """``<0.0.0-0``, which nothing satisfies."""
        return str(self) == "<0.0.0-0"

    def test(self, version: Version) -> bool:
        if self.version is None:
            return True
        return (version > self.version) - (version < self.version) in _ALLOWED_ORDER[self.op]


_ALLOWED_ORDER = {"": {0}, "<": {-1}, "<=": {-1, 0}, ">": {1}, ">=": {0, 1}}
_ANY = _Comparator("", None)


@functools.lru_cache(maxsize=4096)
def _read_comparator(text: str, loose: bool) -> _Comparator:
    if not text:
        return _ANY
    match = _GRAMMARS[loose].comparator.fullmatch(text)
    if match is None:
        raise InvalidRange(f"not a comparator: {text!r}")
    try:
        version = parse_version(match["version"], loose=loose)
    except InvalidVersion as exc:
        raise InvalidRange(f"invalid version in comparator {text!r}") from exc
    return _Comparator("" if match["op"] == "=" else match["op"], version)


def _comparator_set(text: str, grammar: _Grammar, *, loose: bool, inc: bool) -> list[_Comparator]:
    """One ``||`` alternative; empty when loose mode dropped every word of it."""
    # Deleted after trimming, so a build at either end leaves an empty word (match-anything).
    text = _RANGE_BUILD.sub("", text)
    if match := grammar.hyphen.fullmatch(text):
        text = _hyphen(match, inc)
    text = _glue_operators(text)
    text = _CARET_GAP.sub("^", _TILDE_GAP.sub("~", text))
    words = [part for word in text.split(" ") for part in _desugar(word, grammar, inc)]
    # npm joins and re-splits here, so a match-anything ("") survives only at either end.
    texts = re.split(" +", " ".join(words))
    any_spelling = ">=0.0.0-0" if inc else ">=0.0.0"
    texts = ["" if t == any_spelling else t for t in texts]
    if loose:
        texts = [t for t in texts if not t or grammar.comparator.fullmatch(t)]
    comparators = [_read_comparator(t, loose) for t in texts]
    null = next((c for c in comparators if c.is_null), None)
    if null is not None:
        return [null]
    unique = list({str(c): c for c in comparators}.values())
    return [c for c in unique if c.version is not None] or unique


@functools.lru_cache(maxsize=4096)
def _parse_range(text: str, loose: bool, inc: bool) -> tuple[tuple[_Comparator, ...], ...]:
    """A range as its ``||`` alternatives, each a tuple of comparators that must all hold."""
    grammar = _GRAMMARS[loose]
    text = _WS_RUN.sub(" ", text).strip(" ")
    sets = [
        tuple(found)
        for alternative in text.split("||")
        if (found := _comparator_set(alternative.strip(" "), grammar, loose=loose, inc=inc))
    ]
    if not sets:
        raise InvalidRange(f"no comparator npm can read: {text!r}")
    if len(sets) > 1:
        sets = [s for s in sets if not s[0].is_null] or sets[:1]
        sets = next(([s] for s in sets if s == (_ANY,)), sets)
    return tuple(sets)


def _range(range_: object, *, loose: bool, inc: bool) -> tuple[tuple[_Comparator, ...], ...]:
    if not isinstance(range_, str):
        raise InvalidRange(f"not a range string: {range_!r}")
    try:
        return _parse_range(range_, loose, inc)
    except InvalidRange as exc:
        raise InvalidRange(f"invalid npm range {range_!r}: {exc}") from None


def validate_range(range_: str, *, include_prerelease: bool = False, loose: bool = False) -> str:
    """npm's ``semver.validRange``: the range as primitive comparators.

    Parameters
    ----------
    range_ : str
        An npm range.
    include_prerelease, loose : bool
        npm's ``includePrerelease`` and ``loose`` options.

    Returns
    -------
    str
        Comparators joined by spaces, alternatives by ``||``; ``"*"`` for match-anything.

    Raises
    ------
    InvalidRange
        Where npm returns null.
    """
    sets = _range(range_, loose=loose, inc=include_prerelease)
    return "||".join(" ".join(map(str, s)) for s in sets) or "*"


def satisfies(
    version: str | Version, range_: str, *, include_prerelease: bool = False, loose: bool = False
) -> bool:
    """npm's ``semver.satisfies``, raising where npm quietly answers false.

    A prerelease version satisfies an alternative only if some comparator in it has a prerelease
    on the same major.minor.patch, unless `include_prerelease`.

    Raises
    ------
    InvalidRange
        If npm cannot read `range_` (checked first).
    InvalidVersion
        If `version` is not a version in the chosen mode.
    """
    sets = _range(range_, loose=loose, inc=include_prerelease)
    v = parse_version(version, loose=loose)
    release = (v.major, v.minor, v.patch)
    for comparators in sets:
        if not all(c.test(v) for c in comparators):
            continue
        if not v.prerelease or include_prerelease:
            return True
        if any(
            c.version is not None
            and c.version.prerelease
            and (c.version.major, c.version.minor, c.version.patch) == release
            for c in comparators
        ):
            return True
    return False


# --- advisories ------------------------------------------------------------------------------------

_GHSA_OPERATOR_GAP = re.compile(r"^(<=|>=|<|>|=|\^|~>?)\s+")


def normalize_advisory_range(range_: str) -> str:
    """GitHub advisory spelling (``>= 1.0.0, < 1.2.3``) as an npm range (``>=1.0.0 <1.2.3``).

    Raises
    ------
    InvalidRange
        For an empty alternative or comma part (npm would widen those to everything) and for
        anything that is not a valid strict npm range afterwards.
    """
    if not isinstance(range_, str):
        raise InvalidRange(f"not a range string: {range_!r}")
    alternatives = []
    for alternative in range_.split("||"):
        parts = [" ".join(p.split()) for p in alternative.split(",")]
        if not all(parts):
            raise InvalidRange(f"empty part in advisory range {range_!r}")
        alternatives.append(" ".join(_GHSA_OPERATOR_GAP.sub(r"\1", p) for p in parts))
    normalised = " || ".join(alternatives)
    validate_range(normalised)
    return normalised


def range_can_match(range_: str) -> bool:
    """Whether any version at all (prereleases included) satisfies the npm range.

    ``5.6.1 5.6.2`` (both at once) and ``>=5.6.2 <5.6.1`` are valid npm ranges that nothing
    satisfies; an analyst who wrote one meant something else.
    """
    for comparators in _range(range_, loose=False, inc=True):
        low: Version | None = None
        high: Version | None = None
        low_inclusive = high_inclusive = True
        possible = True
        for comparator in comparators:
            version = comparator.version
            if version is None:
                continue
            if comparator.is_null:
                possible = False
                break
            inclusive = comparator.op in ("", ">=", "<=")
            if comparator.op in ("", ">", ">=") and (
                low is None or version > low or (version == low and not inclusive)
            ):
                low, low_inclusive = version, inclusive
            if comparator.op in ("", "<", "<=") and (
                high is None or version < high or (version == high and not inclusive)
            ):
                high, high_inclusive = version, inclusive
        if possible and (
            low is None
            or high is None
            or low < high
            or (low == high and low_inclusive and high_inclusive)
        ):
            return True
    return False


def _event_bound(kind: str, value: object) -> Version | None:
    """An event's version; None for ``introduced: "0"`` and ``limit: "*"``."""
    if not isinstance(value, str):
        raise InvalidRange(f"OSV event {kind} is not a string: {value!r}")
    if (kind, value) in (("introduced", "0"), ("limit", "*")):
        return None
    try:
        return parse_version(value)
    except InvalidVersion as exc:
        raise InvalidRange(f"OSV event {kind} is not SemVer: {value!r}") from exc


def osv_affected(version: str | Version, events: Sequence[Mapping[str, str]]) -> bool:
    """Whether `version` falls in an OSV ``SEMVER``/``ECOSYSTEM`` range given by its events.

    Events are walked in version order (as the OSV schema prescribes, so their listed order does
    not matter): ``introduced`` opens, ``fixed`` closes at its version, ``last_affected`` closes
    after it. ``introduced: "0"`` precedes every version. Plain SemVer precedence applies: no
    npm prerelease rule. A version at or past every ``limit`` (``"*"`` is no limit) is unaffected.

    Raises
    ------
    InvalidRange
        For anything but a non-empty list of one-key event objects with at least one
        ``introduced``, or an event version that is not SemVer.
    InvalidVersion
        If `version` is not SemVer.
    """
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Sequence) or not events:
        raise InvalidRange(f"OSV events must be a non-empty list: {events!r}")
    walk: list[tuple[tuple[Any, ...], int, str, Version | None]] = []
    limits: list[Version | None] = []
    for event in events:
        if not isinstance(event, Mapping) or len(event) != 1:
            raise InvalidRange(f"an OSV event holds exactly one key: {event!r}")
        ((kind, value),) = event.items()
        if kind not in ("introduced", "fixed", "last_affected", "limit"):
            raise InvalidRange(f"unknown OSV event {kind!r}")
        bound = _event_bound(kind, value)
        if kind == "limit":
            limits.append(bound)
            continue
        # At equal versions a closing event goes first, so a range that reopens there stays open.
        key = (0,) if bound is None else (1, bound._key())
        walk.append((key, 1 if kind == "introduced" else 0, kind, bound))
    if not any(kind == "introduced" for _, _, kind, _ in walk):
        raise InvalidRange("OSV events without an introduced event")
    v = parse_version(version)
    if limits and all(limit is not None and v >= limit for limit in limits):
        return False
    affected = False
    for _, _, kind, bound in sorted(walk, key=lambda item: item[:2]):
        if kind == "introduced":
            affected = affected or bound is None or v >= bound
        elif (kind == "fixed" and bound is not None and v >= bound) or (
            kind == "last_affected" and bound is not None and v > bound
        ):
            affected = False
    return affected


def advisory_matches(version: str | Version, *, spec_kind: str, spec: str) -> bool:
    """Whether an installed version is claimed by one advisory spec.

    Parameters
    ----------
    version : str or Version
        The installed version (strict SemVer).
    spec_kind : {"exact", "npm_range", "osv_events"}
        ``exact``: one version, build ignored. ``npm_range``: an npm or GHSA range, matched by
        plain SemVer precedence (npm's ``includePrerelease``), since a prerelease inside an
        advisory's bounds is affected. ``osv_events``: a JSON list of OSV events.
    spec : str
        The version, range or events.

    Raises
    ------
    ValueError
        For an unknown `spec_kind`.
    InvalidRange
        If `spec` cannot be read.
    InvalidVersion
        If `version` is not SemVer.
    """
    if spec_kind == "exact":
        try:
            target = parse_version(spec)
        except InvalidVersion as exc:
            raise InvalidRange(f"exact advisory version is not SemVer: {spec!r}") from exc
        return parse_version(version) == target
    if spec_kind == "npm_range":
        return satisfies(version, normalize_advisory_range(spec), include_prerelease=True)
    if spec_kind == "osv_events":
        try:
            events = json.loads(spec) if isinstance(spec, str) else spec
        except json.JSONDecodeError as exc:
            raise InvalidRange(f"OSV events are not JSON: {spec!r}") from exc
        return osv_affected(version, events)
    raise ValueError(f"unknown spec_kind {spec_kind!r}: expected exact, npm_range or osv_events")
