"""Exposure: which inventory rows resolve a version an advisory claims."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ircore._errors import InvalidRange, InvalidVersion
from ircore._frames import EXPOSURE, new_frame
from ircore._log import EvidenceLog
from ircore.semver import advisory_matches

# Packages fetched from git or local folders were not built from the registry release an advisory
# describes; matching them by name alone reports look-alikes (osv-scanner#2850).
MATCHABLE_ORIGINS = {"registry"}


def _matching_pairs(pairs: pd.DataFrame, claims: pd.DataFrame, log: EvidenceLog) -> pd.DataFrame:
    """Evaluate each distinct (package, version) against each distinct claim once."""
    candidates = pairs.merge(claims, left_on="name", right_on="package")
    verdicts: dict[tuple[str, str, str], bool] = {}
    hits: list[dict[str, Any]] = []
    for row in candidates.to_dict("records"):
        key = (str(row["version"]), str(row["spec_kind"]), str(row["spec"]))
        if key not in verdicts:
            try:
                verdicts[key] = advisory_matches(key[0], spec_kind=key[1], spec=key[2])
            except (InvalidRange, InvalidVersion, ValueError) as exc:
                verdicts[key] = False
                log.problem(
                    source="matcher",
                    evidence=f"{row['advisory_id']}: {row['spec']}",
                    kind="invalid-claim",
                    message=f"{row['name']}@{row['version']} could not be checked against "
                    f"{row['advisory_id']} claim {row['spec']!r}: {exc}",
                )
        if verdicts[key]:
            hits.append({str(k): v for k, v in row.items()})
    return pd.DataFrame(hits, columns=[*candidates.columns])


def match_exposure(
    inventory: pd.DataFrame, advisories: pd.DataFrame, *, log: EvidenceLog | None = None
) -> pd.DataFrame:
    """Join every inventory occurrence to the advisories that claim its version.

    Distinct (package, version) pairs are matched once against distinct claims (rows of
    ``advisories`` with role ``affected``), then joined back to every occurrence. A claim that
    cannot be evaluated (an invalid range) becomes a ``problems`` row, never a silent "no match".

    Returns
    -------
    pandas.DataFrame
        The ``exposure`` schema: one row per (inventory occurrence, advisory) with ``repo``,
        ``ref``, ``surface``, ``host``, ``file``, ``name``, ``version``, ``dev``, ``direct``, ``introducer``,
        ``dependency_path``, ``origin_kind``, ``advisory_id``, ``aliases``, ``classification``,
        ``claims`` (the specs that matched, with who claims them), ``origins``, ``source`` (the
        inventory source that saw it) and ``evidence``.
    """
    log = log if log is not None else EvidenceLog()
    if inventory.empty or advisories.empty:
        return new_frame("exposure")
    claims = advisories.loc[
        advisories["role"] == "affected",
        ["advisory_id", "aliases", "package", "spec_kind", "spec", "origin", "classification"],
    ].drop_duplicates()
    matchable = inventory["origin_kind"].fillna("registry").isin(MATCHABLE_ORIGINS)
    pairs = inventory.loc[matchable, ["name", "version"]].drop_duplicates()
    hits = _matching_pairs(pairs, claims, log)
    if hits.empty:
        return new_frame("exposure")
    # A claim may name no origin (an advisory file without one): say so rather than fail.
    origin = hits["origin"].astype("string").fillna("").replace("", "origin not stated")
    per_advisory = (
        hits.assign(origin=origin, claim=hits["spec"].astype(str) + " (" + origin + ")")
        .groupby(["name", "version", "advisory_id"], as_index=False)
        .agg(
            aliases=("aliases", "first"),
            classification=("classification", "first"),
            claims=("claim", lambda s: "; ".join(sorted(set(s)))),
            origins=("origin", lambda s: "; ".join(sorted(set(s)))),
        )
    )
    joined = inventory.loc[matchable].merge(per_advisory, on=["name", "version"])
    return new_frame("exposure", joined[list(EXPOSURE)].to_dict("records")).sort_values(
        ["repo", "ref", "file", "name", "version", "advisory_id"], ignore_index=True
    )
