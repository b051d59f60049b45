"""Matching distinct (package, version) pairs against advisory claims, joined back to occurrences."""

from __future__ import annotations

from pathlib import Path

from ircore import EvidenceLog, load_advisories, load_inventory, match_exposure, new_frame, validate
from tests._lockfiles import lock_v3


def _inventory(rows: list[dict]) -> object:
    base = {
        "dev": False,
        "direct": False,
        "origin_kind": "registry",
        "ref": "main",
        "surface": "default_branch",
        "file": "package-lock.json",
    }
    return new_frame("inventory", [{**base, **r} for r in rows])


def _claims(rows: list[tuple[str, str, str, str]]) -> object:
    return new_frame(
        "advisories",
        [
            {
                "advisory_id": a,
                "package": p,
                "spec_kind": k,
                "spec": s,
                "role": "affected",
                "origin": "test",
                "classification": "malware",
            }
            for a, p, k, s in rows
        ],
    )


def test_every_occurrence_of_a_matching_pair_is_joined_back() -> None:
    inventory = _inventory(
        [
            {"repo": "a", "name": "chalk", "version": "5.6.1", "direct": True},
            {"repo": "b", "name": "chalk", "version": "5.6.1", "dev": True},
            {"repo": "b", "name": "chalk", "version": "5.6.2"},
            {"repo": "c", "name": "@scope/chalk", "version": "5.6.1"},  # scope matters
        ]
    )
    exposure = validate(
        match_exposure(inventory, _claims([("MAL-1", "chalk", "exact", "5.6.1")])), "exposure"
    )
    assert list(zip(exposure["repo"], exposure["version"], strict=True)) == [
        ("a", "5.6.1"),
        ("b", "5.6.1"),
    ]


def test_prerelease_inside_advisory_range_and_osv_events() -> None:
    inventory = _inventory(
        [
            {"repo": "a", "name": "multer", "version": "1.4.5-lts.1"},
            {"repo": "a", "name": "ctrl", "version": "4.1.2"},
            {"repo": "a", "name": "ctrl", "version": "4.1.3"},
        ]
    )
    claims = _claims(
        [
            ("GHSA-1", "multer", "npm_range", ">= 1.4.4-lts.1, < 2.0.0"),
            ("MAL-2", "ctrl", "osv_events", '[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]'),
        ]
    )
    exposure = match_exposure(inventory, claims)
    assert set(zip(exposure["name"], exposure["version"], strict=True)) == {
        ("multer", "1.4.5-lts.1"),
        ("ctrl", "4.1.2"),
    }


def test_git_sourced_package_is_not_matched_by_name() -> None:
    inventory = _inventory(
        [{"repo": "a", "name": "chalk", "version": "5.6.1", "origin_kind": "git"}]
    )
    assert match_exposure(inventory, _claims([("MAL-1", "chalk", "exact", "5.6.1")])).empty


def test_invalid_claim_is_a_problem_not_a_silent_miss() -> None:
    inventory = _inventory([{"repo": "a", "name": "chalk", "version": "5.6.1"}])
    log = EvidenceLog()
    exposure = match_exposure(
        inventory, _claims([("X-1", "chalk", "npm_range", ">=5.6.1 <<")]), log=log
    )
    assert exposure.empty
    assert list(log.problems["kind"]) == ["invalid-claim"]


def test_claims_from_two_sources_merge_per_advisory(shared: Path) -> None:
    advisories = load_advisories(
        [shared / "corpus" / "advisories", shared / "corpus" / "incidents"]
    )
    inventory = _inventory(
        [
            {"repo": "a", "name": "chalk", "version": "5.6.1"},
            {"repo": "a", "name": "@ctrl/tinycolor", "version": "4.1.0"},
            {"repo": "a", "name": "debug", "version": "4.4.1"},
        ]
    )
    exposure = match_exposure(inventory, advisories)
    got = set(zip(exposure["name"], exposure["advisory_id"], strict=True))
    assert ("chalk", "MAL-2025-46969") in got
    assert ("chalk", "list:npm-qix-chalk-debug-2025-09-packages") in got
    # MAL-2025-47141 claims every version of @ctrl/tinycolor (introduced 0): so 4.1.0 matches
    assert ("@ctrl/tinycolor", "MAL-2025-47141") in got
    assert "debug" not in set(exposure["name"])


def test_a_claim_without_an_origin_still_matches(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text(lock_v3({"chalk": "5.6.1"}))
    inventory = load_inventory(lock)
    advisories = new_frame(
        "advisories",
        [
            {
                "advisory_id": "X-1",
                "package": "chalk",
                "spec_kind": "exact",
                "spec": "5.6.1",
                "role": "affected",
                "origin": None,
                "classification": "malware",
            }
        ],
    )
    exposure = match_exposure(inventory, advisories)
    assert list(exposure["claims"]) == ["5.6.1 (origin not stated)"]
    assert list(exposure["origins"]) == ["origin not stated"]
