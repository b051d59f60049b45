"""One advisory per set of ids that name each other (MAL <-> GHSA <-> CVE), every source kept."""

from __future__ import annotations

import re

import pandas as pd

from ircore._frames import conform

__all__ = ["canonical_order", "merge_aliases"]

# Malware records first: they are the ones built to be matched against installs; then GitHub's.
_PREFERENCE = ("MAL-", "GHSA-", "CVE-")
_KNOWN_PREFIX = re.compile(r"^(mal|ghsa|cve)-", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")


def _normal(identifier: str) -> str:
    """The id as its database writes it: ``GHSA-`` and a lower-case body, ``MAL-``/``CVE-`` upper."""
    text = identifier.strip()
    match = _KNOWN_PREFIX.match(text)
    if match is None:
        return text
    prefix = match.group(1).upper()
    body = text[match.end() :]
    return f"{prefix}-{body.lower() if prefix == 'GHSA' else body.upper()}"


def canonical_order(identifier: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Sort key: MAL- before GHSA- before CVE- before anything else, then numbers by value."""
    rank = next(
        (n for n, prefix in enumerate(_PREFERENCE) if identifier.startswith(prefix)),
        len(_PREFERENCE),
    )
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(identifier) if p)
    return rank, parts


class _Groups:
    """Union-find over ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def merge_aliases(advisories: pd.DataFrame) -> pd.DataFrame:
    """Make advisories whose ids name each other one advisory, keeping every source's rows.

    Each row's ``advisory_id`` and the ids in its ``aliases`` are linked; ids linked directly
    or through others (a MAL record naming two GHSA ids, a GHSA naming a CVE that a Threat
    Center incident names) form one advisory. Its ``advisory_id`` is the first of its ids by
    :func:`canonical_order` (MAL-, then GHSA-, then CVE-, then others such as
    ``threat-center:<id>``, lowest number first), and ``aliases`` lists all the others, the
    rows' own former ids included. No row is dropped or changed otherwise: ``source``,
    ``origin``, ``spec`` and ``evidence`` still say who claims what and where it was read (the
    ``origin`` of a record's own claims names the record: ``osv:<id>``, ``ghsa:<id>``,
    ``threat-center:<id>``).

    Parameters
    ----------
    advisories
        An ``advisories`` frame, from one loader or several concatenated.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema, the same rows in the same order, with ``advisory_id`` and
        ``aliases`` (comma-separated, in canonical order) rewritten and ``record_id`` the id
        the row had before (unless it already had one).
    """
    frame = conform(advisories, "advisories")
    if frame.empty:
        return frame
    ids = frame["advisory_id"].fillna("").astype(str).map(_normal)
    aliases = frame["aliases"].fillna("").astype(str)
    groups = _Groups()
    for own, named in set(zip(ids, aliases, strict=True)):
        if not own:
            continue
        groups.find(own)
        for alias in named.split(","):
            alias = _normal(alias)
            if alias and alias != own:
                groups.union(own, alias)
    members: dict[str, list[str]] = {}
    for identifier in groups.parent:
        members.setdefault(groups.find(identifier), []).append(identifier)
    canonical: dict[str, str] = {}
    others: dict[str, str] = {}
    for group in members.values():
        ordered = sorted(group, key=canonical_order)
        rest = ",".join(ordered[1:])
        for identifier in group:
            canonical[identifier] = ordered[0]
            others[identifier] = rest
    known = ids != ""
    # the id the source itself gave the row survives the merge
    frame["record_id"] = frame["record_id"].where(frame["record_id"].notna(), frame["advisory_id"])
    frame.loc[known, "advisory_id"] = ids[known].map(canonical)
    frame.loc[known, "aliases"] = ids[known].map(others)
    return conform(frame, "advisories")
