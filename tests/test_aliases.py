"""Alias merging on the real corpus records, alone and beside the GitHub advisories they name.

The corpus holds no two records that name each other (checked below), so the merges come from
reading, next to the MAL records, the GitHub malware advisories their ``ghsa-malware`` origins
name, and the reviewed GHSA records in GitHub's REST shape.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd

from ircore import load_advisories, new_frame, validate
from ircore.threats import merge_aliases
from ircore.threats._aliases import canonical_order
from ircore.threats._ghsa import ghsa_advisory_rows
from ircore.threats._threat_center import threat_center_rows
from tests._advisory_shapes import CORPUS, corpus_advisories, rest_from_osv

UNCHANGED = ["package", "spec_kind", "spec", "role", "origin", "source", "evidence", "published"]


def _records(shared: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_bytes()) for p in sorted((shared / CORPUS).glob("*.json"))}


def _ghsa_frame(advisories: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for advisory in advisories:
        read = ghsa_advisory_rows(advisory, evidence=f"api/{advisory['ghsa_id']}")
        assert not read.issues
        rows += read.rows
    return new_frame("advisories", rows)


def test_the_corpus_alone_merges_nothing_and_keeps_every_alias(shared: Path) -> None:
    records = _records(shared)
    # Checked, not assumed: no corpus record names another corpus record.
    named = {a for r in records.values() for a in r.get("aliases") or []}
    assert not named & set(records)
    frame = load_advisories(shared / CORPUS)
    merged = validate(merge_aliases(frame), "advisories")
    pd.testing.assert_frame_equal(
        merged.drop(columns=["aliases", "record_id"]),
        frame.drop(columns=["aliases", "record_id"]),
        check_exact=True,
    )
    assert list(merged["record_id"]) == list(frame["advisory_id"])
    for vuln_id, record in records.items():
        got = set(merged.loc[merged["advisory_id"] == vuln_id, "aliases"])
        assert got == {",".join(sorted(record.get("aliases") or [], key=canonical_order))}
    assert set(merged.loc[merged["advisory_id"] == "MAL-2025-46985", "aliases"]) == {
        "GHSA-j8fv-6x8p-p766,GHSA-qrmh-qg46-72pp"
    }


def test_mal_records_and_the_github_advisories_they_name_become_one(shared: Path) -> None:
    records = _records(shared)
    osv = load_advisories(shared / CORPUS)
    ghsa = _ghsa_frame(list(corpus_advisories(shared).values()))
    both = pd.concat([osv, ghsa], ignore_index=True)
    merged = validate(merge_aliases(both), "advisories")

    assert len(merged) == len(both)
    pd.testing.assert_frame_equal(merged[UNCHANGED], both[UNCHANGED])
    # Independently of the merger: each MAL record and every id it names is one advisory.
    for vuln_id, record in records.items():
        if not vuln_id.startswith("MAL-"):
            continue
        ids = {vuln_id, *(record.get("aliases") or [])}
        mine = merged[both["advisory_id"].isin(ids)]
        assert set(mine["advisory_id"]) == {vuln_id}, vuln_id
        if any(a in set(ghsa["advisory_id"]) for a in ids):
            assert set(mine["source"]) == {"osv-dir", "ghsa"}, vuln_id
            # who claims what: the MAL record's claims and GitHub's, side by side
            assert {o.split(":")[0] for o in mine["origin"]} >= {"osv", "ghsa"}
    # Reviewed GHSA records (their own id, no MAL) stay GHSA advisories with both sources.
    event_stream = merged[both["advisory_id"] == "GHSA-mh6f-8j2x-4483"]
    assert set(event_stream["advisory_id"]) == {"GHSA-mh6f-8j2x-4483"}
    assert set(event_stream["source"]) == {"osv-dir", "ghsa"}
    color = merged[merged["advisory_id"] == "MAL-2025-46985"]
    assert set(color["aliases"]) == {"GHSA-j8fv-6x8p-p766,GHSA-qrmh-qg46-72pp"}
    # each row still says which record of its source it came from
    assert list(merged["record_id"]) == list(both["advisory_id"])


def test_ids_linked_only_through_a_third_merge(shared: Path) -> None:
    record = json.loads((shared / CORPUS / "GHSA-97m3-w2cp-4xx6.json").read_bytes())
    incident = {
        "id": "5b0c6a1e-node-ipc-2022",
        "title": "node-ipc protestware",
        "ecosystem": "npm",
        "package_name": "node-ipc",
        "affected_versions": "10.1.1, 10.1.2",
        "cve": "CVE-2022-23812",  # names the CVE only, never the GHSA
        "severity": "CRITICAL",
        "is_active": "false",
    }
    tc = threat_center_rows(incident, evidence="export.json", owner="acme")
    assert not tc.issues
    frames = [
        new_frame("advisories", tc.rows),
        load_advisories(shared / CORPUS / "GHSA-97m3-w2cp-4xx6.json"),
        _ghsa_frame([rest_from_osv(record)]),
        load_advisories(shared / CORPUS / "MAL-2026-3744.json"),  # node-ipc 2026: another
    ]
    both = pd.concat(frames, ignore_index=True)
    merged = merge_aliases(both)
    node_ipc = merged[merged["package"] == "node-ipc"]
    sources = {str(i): set(g["source"]) for i, g in node_ipc.groupby("advisory_id")}
    assert sources == {
        "GHSA-97m3-w2cp-4xx6": {"threat-center", "osv-dir", "ghsa"},
        "MAL-2026-3744": {"osv-dir"},
    }
    assert set(merged.loc[merged["advisory_id"] == "GHSA-97m3-w2cp-4xx6", "aliases"]) == {
        "CVE-2022-23812,threat-center:5b0c6a1e-node-ipc-2022"
    }


def _frame(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return new_frame(
        "advisories",
        [{"advisory_id": i, "aliases": a, "package": "p", "source": "test"} for i, a in pairs],
    )


def test_the_canonical_id_does_not_depend_on_row_order() -> None:
    pairs = [
        ("GHSA-aaaa-bbbb-cccc", "CVE-2025-1"),
        ("MAL-2025-46969", "GHSA-aaaa-bbbb-cccc"),
        ("threat-center:x", "cve-2025-1"),
        ("MAL-2025-6020", "ghsa-AAAA-bbbb-cccc"),  # GitHub's ids are case-insensitive
        ("list:other", ""),
        ("", ""),
    ]
    results = []
    for seed in range(6):
        shuffled = random.Random(seed).sample(pairs, len(pairs))
        merged = merge_aliases(_frame(shuffled))
        ids = [i for i, _ in shuffled]  # rows keep their order
        results.append(
            dict(zip(ids, zip(merged["advisory_id"], merged["aliases"], strict=True), strict=True))
        )
    assert all(r == results[0] for r in results)
    got = results[0]
    # MAL-2025-6020 before MAL-2025-46969: numbers compare as numbers.
    group = ("MAL-2025-6020", "MAL-2025-46969,GHSA-aaaa-bbbb-cccc,CVE-2025-1,threat-center:x")
    assert {k: got[k] for k in (i for i, _ in pairs[:4])} == dict.fromkeys(
        (i for i, _ in pairs[:4]), group
    )
    assert got["list:other"] == ("list:other", "")
    assert got[""] == ("", "")


def test_an_empty_frame_stays_an_empty_advisories_frame() -> None:
    assert validate(merge_aliases(new_frame("advisories")), "advisories").empty
