"""ircore.semver against npm's own semver (the oracle), case 27 and real OSV records."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ircore._errors import InvalidRange, InvalidVersion
from ircore.semver import (
    Version,
    advisory_matches,
    compare_versions,
    normalize_advisory_range,
    osv_affected,
    parse_version,
    range_can_match,
    satisfies,
    validate_range,
)

ORACLE = Path(__file__).resolve().parent / "oracle" / "semver_oracle.json"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ORACLE.read_text(encoding="utf-8"))
    return data


def _outcome(call: Any) -> object:
    """A call's result, or the name of the ircore error it raised."""
    try:
        return call()
    except (InvalidRange, InvalidVersion) as exc:
        return type(exc).__name__


# --- the npm oracle --------------------------------------------------------------------------------


def test_oracle_covers_what_the_contract_needs(oracle: dict[str, Any]) -> None:
    rows = oracle["satisfies"]
    assert oracle["semver_version"].startswith("7.")
    assert len(rows) >= 150
    ranges = {r[0] for r in rows}
    for needle in ("^0.0.3", "~1.2", "1.x", "1.2.3 - 2.3.4", "||", "*", "", "latest", "+build"):
        assert any(needle in r for r in ranges), needle
    # Rows where npm calls the range invalid, rows with includePrerelease, loose rows, and
    # verdicts both ways: otherwise the replay below proves little.
    assert any(not r[4] for r in rows)
    assert {r[2] for r in rows} == {0, 1}
    assert {r[3] for r in rows} == {0, 1}
    assert {r[6] for r in rows if r[4] and r[5]} == {0, 1}
    assert any(r[3] is None for r in oracle["ranges"])


def test_satisfies_agrees_with_npm_on_every_oracle_row(oracle: dict[str, Any]) -> None:
    mismatches = []
    for rng, version, inc, loose, range_valid, version_valid, verdict in oracle["satisfies"]:
        # npm answers false for an invalid range or version; ircore raises instead.
        expected = (
            "InvalidRange"
            if not range_valid
            else "InvalidVersion"
            if not version_valid
            else bool(verdict)
        )
        got = _outcome(
            lambda r=rng, v=version, i=inc, lo=loose: satisfies(
                v, r, include_prerelease=bool(i), loose=bool(lo)
            )
        )
        if got != expected:
            mismatches.append((rng, version, inc, loose, expected, got))
    total = len(oracle["satisfies"])
    assert not mismatches, f"{len(mismatches)} of {total} rows disagree: {mismatches[:20]}"


def test_validate_range_agrees_with_npm_valid_range(oracle: dict[str, Any]) -> None:
    mismatches = []
    for rng, loose, inc, valid in oracle["ranges"]:
        expected = valid if valid is not None else "InvalidRange"
        got = _outcome(
            lambda r=rng, i=inc, lo=loose: validate_range(
                r, include_prerelease=bool(i), loose=bool(lo)
            )
        )
        if got != expected:
            mismatches.append((rng, loose, inc, expected, got))
    total = len(oracle["ranges"])
    assert not mismatches, f"{len(mismatches)} of {total} rows disagree: {mismatches[:20]}"


def test_parse_version_agrees_with_npm_parse(oracle: dict[str, Any]) -> None:
    mismatches = []
    for text, loose, normalised, build in oracle["versions"]:
        expected = (normalised, build) if normalised is not None else "InvalidVersion"

        def call(t: str = text, lo: int = loose) -> tuple[str, list[str]]:
            parsed = parse_version(t, loose=bool(lo))
            return parsed.core, list(parsed.build)

        got = _outcome(call)
        if got != expected:
            mismatches.append((text, loose, expected, got))
    assert not mismatches, mismatches[:20]


def test_compare_versions_agrees_with_npm_compare(oracle: dict[str, Any]) -> None:
    mismatches = [(a, b, c) for a, b, c in oracle["compare"] if compare_versions(a, b) != c]
    assert not mismatches, mismatches[:20]


def test_npm_quirks_are_reproduced_not_smoothed() -> None:
    # Each of these is npm behaviour that a "nicer" implementation would get wrong.
    assert validate_range("1.2.3 ||") == "*"
    assert validate_range(">=1.2.3, <2.0.0", loose=True) == "<2.0.0"
    assert validate_range("^1.2", include_prerelease=True) == ">=1.2.0-0 <2.0.0-0"
    assert not satisfies("1.2.4-alpha", "^1.2.3")
    assert satisfies("1.2.3-beta.3", "^1.2.3-beta.2")
    assert satisfies("1.2.4-alpha", "^1.2.3", include_prerelease=True)
    assert not satisfies("2.0.0-rc.1", "^1.2.3", include_prerelease=True)


@pytest.mark.parametrize(
    "rng",
    ["latest", "blerg", "1.2.3.4", ">>1.2.3", "^١.2.3", "npm:foo@1.2.3", ">= 1.0.0, < 1.2.3", ">"],
)
def test_invalid_ranges_raise_instead_of_matching_nothing(rng: str) -> None:
    with pytest.raises(InvalidRange):
        validate_range(rng)
    with pytest.raises(InvalidRange):
        satisfies("1.2.3", rng)


@pytest.mark.parametrize("bad", [None, float("nan"), 1.2])
def test_non_strings_raise_ircore_errors(bad: Any) -> None:
    with pytest.raises(InvalidVersion):
        satisfies(bad, "*")
    with pytest.raises(InvalidRange):
        validate_range(bad)
    with pytest.raises(InvalidVersion):
        parse_version(bad)


# --- advisory ranges: case 27 and GHSA spelling ------------------------------------------------------


def test_case_27_advisory_checks() -> None:
    case = _shared("cases", "lockfiles", "27-semver-prerelease-advisory-range", "expected.json")
    checks = json.loads(case.read_text(encoding="utf-8"))["advisory_checks"]
    assert checks
    for check in checks:
        if "range" in check:
            got = advisory_matches(check["version"], spec_kind="npm_range", spec=check["range"])
        else:
            got = any(
                advisory_matches(check["version"], spec_kind="exact", spec=exact)
                for exact in check["exact_versions"]
            )
        assert got is check["affected"], check


def test_case_27_shows_why_npm_defaults_are_not_used_for_advisories() -> None:
    # npm's default prerelease rule would wrongly clear the installed multer version.
    assert not satisfies("1.4.5-lts.1", ">=1.4.4-lts.1 <2.0.0")
    assert not satisfies("2.0.0-rc.1", "<2.0.0")
    assert advisory_matches("1.4.5-lts.1", spec_kind="npm_range", spec=">=1.4.4-lts.1 <2.0.0")
    assert advisory_matches("2.0.0-rc.1", spec_kind="npm_range", spec="<2.0.0")


@pytest.mark.parametrize(
    ("ghsa", "npm"),
    [
        (">= 1.0.0, < 1.2.3", ">=1.0.0 <1.2.3"),
        ("< 2.0.0", "<2.0.0"),
        ("= 1.2.3", "=1.2.3"),
        (">= 4.0.0-beta.1, <= 4.0.0-beta.5", ">=4.0.0-beta.1 <=4.0.0-beta.5"),
        (">= 1.4.4-lts.1, < 2.0.0", ">=1.4.4-lts.1 <2.0.0"),
        (">= 0", ">=0"),
        ("1.0.0 - 2.0.0", "1.0.0 - 2.0.0"),
        ("^1.2.3", "^1.2.3"),
        (">=1.0.0,<1.2.3 || >= 3.0.0", ">=1.0.0 <1.2.3 || >=3.0.0"),
    ],
)
def test_normalize_advisory_range(ghsa: str, npm: str) -> None:
    assert normalize_advisory_range(ghsa) == npm
    assert validate_range(npm)


@pytest.mark.parametrize("bad", ["1.2.3 ||", "|| 1.2.3", ">= 1.0.0, ", ", < 2", "latest", ""])
def test_normalize_advisory_range_rejects_what_npm_would_widen(bad: str) -> None:
    with pytest.raises(InvalidRange):
        normalize_advisory_range(bad)


def test_oracle_ghsa_rows_are_invalid_for_npm_but_normalised_ranges_work(
    oracle: dict[str, Any],
) -> None:
    ghsa = [r for r in oracle["ranges"] if "," in r[0] and not r[1] and not r[2]]
    assert ghsa
    for rng, _, _, valid in ghsa:
        assert valid is None
        normalised = normalize_advisory_range(rng)
        low, high = (p.replace(" ", "") for p in rng.split(","))
        assert validate_range(normalised) == validate_range(f"{low} {high}")


def test_advisory_matches_spec_kinds() -> None:
    assert advisory_matches("1.2.3+build.7", spec_kind="exact", spec="1.2.3")
    assert advisory_matches("v1.2.3", spec_kind="exact", spec="1.2.3+other")
    assert not advisory_matches("1.2.3-beta", spec_kind="exact", spec="1.2.3")
    assert advisory_matches(
        "4.1.2", spec_kind="osv_events", spec='[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]'
    )
    assert advisory_matches("1.1.0", spec_kind="npm_range", spec=">= 1.0.0, < 1.2.3")
    assert not advisory_matches("1.2.3", spec_kind="npm_range", spec=">= 1.0.0, < 1.2.3")
    with pytest.raises(ValueError, match="spec_kind"):
        advisory_matches("1.2.3", spec_kind="semver", spec="1.2.3")
    with pytest.raises(InvalidRange):
        advisory_matches("1.2.3", spec_kind="exact", spec="latest")
    with pytest.raises(InvalidVersion):
        advisory_matches("not-a-version", spec_kind="exact", spec="1.2.3")
    with pytest.raises(InvalidRange):
        advisory_matches("1.2.3", spec_kind="osv_events", spec="[{introduced")
    with pytest.raises(InvalidRange):
        advisory_matches("1.2.3", spec_kind="npm_range", spec="latest")


# --- OSV events ---------------------------------------------------------------------------------


def test_osv_introduced_zero_means_every_version() -> None:
    events = [{"introduced": "0"}]
    for version in ("0.0.0-0", "0.0.1", "1.0.0-alpha", "99.0.0"):
        assert osv_affected(version, events)


def test_osv_fixed_and_last_affected_bounds() -> None:
    fixed = [{"introduced": "1.95.6"}, {"fixed": "1.95.8"}]
    verdicts = {v: osv_affected(v, fixed) for v in ("1.95.5", "1.95.6", "1.95.7", "1.95.8")}
    assert verdicts == {"1.95.5": False, "1.95.6": True, "1.95.7": True, "1.95.8": False}
    # A prerelease of the fixed version precedes it, so it is still affected.
    assert osv_affected("1.95.8-rc.1", fixed)
    last = [{"introduced": "4.1.1"}, {"last_affected": "4.1.2"}]
    probes = ("4.1.0", "4.1.1", "4.1.2-rc.1", "4.1.2", "4.1.2+build", "4.1.3-0", "4.1.3")
    verdicts = {v: osv_affected(v, last) for v in probes}
    assert verdicts == {
        "4.1.0": False,
        "4.1.1": True,
        "4.1.2-rc.1": True,
        "4.1.2": True,
        "4.1.2+build": True,
        # 4.1.3-0 comes after 4.1.2 in SemVer precedence: past last_affected.
        "4.1.3-0": False,
        "4.1.3": False,
    }


def test_osv_several_segments_and_unsorted_events() -> None:
    events = [
        {"introduced": "3.0.0"},
        {"fixed": "3.1.0"},
        {"introduced": "1.0.0"},
        {"fixed": "2.0.0"},
        {"introduced": "2.0.0"},
        {"fixed": "2.5.0"},
    ]
    verdicts = {v: osv_affected(v, events) for v in ("0.9.0", "1.5.0", "2.0.0", "2.5.0", "3.0.5")}
    assert verdicts == {
        "0.9.0": False,
        "1.5.0": True,
        "2.0.0": True,
        "2.5.0": False,
        "3.0.5": True,
    }


def test_osv_limit() -> None:
    events = [{"introduced": "0"}, {"limit": "2.0.0"}]
    assert osv_affected("1.9.9", events)
    assert not osv_affected("2.0.0", events)
    assert osv_affected("5.0.0", [{"introduced": "0"}, {"limit": "*"}])


def test_osv_prerelease_precedence() -> None:
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-rc.1", "1.0.0"]
    for low, high in itertools.pairwise(chain):
        events = [{"introduced": low}, {"fixed": high}]
        assert osv_affected(low, events)
        assert not osv_affected(high, events)
        assert compare_versions(low, high) == -1
    # OSV uses plain precedence: no npm-style exclusion of other prereleases.
    assert osv_affected("1.0.0-zzz", [{"introduced": "0.9.0"}, {"fixed": "1.0.0"}])


def test_osv_build_metadata_is_ignored() -> None:
    events = [{"introduced": "1.0.0+abc"}, {"fixed": "1.0.1+def"}]
    assert osv_affected("1.0.0", events)
    assert osv_affected("1.0.0+zzz", events)
    assert not osv_affected("1.0.1+anything", events)
    assert compare_versions("1.0.0+a", "1.0.0+b") == 0


@pytest.mark.parametrize(
    "events",
    [
        [],
        [{"fixed": "1.0.0"}],
        [{"introduced": "latest"}],
        [{"introduced": "1.0.0", "fixed": "2.0.0"}],
        [{"introduced": "1.0.0"}, {"withdrawn": "2.0.0"}],
        [{"introduced": 1}],
        ["introduced"],
        "introduced",
    ],
)
def test_osv_malformed_events_raise(events: Any) -> None:
    with pytest.raises(InvalidRange):
        osv_affected("1.0.0", events)


def test_osv_invalid_version_raises() -> None:
    with pytest.raises(InvalidVersion):
        osv_affected("1.0", [{"introduced": "0"}])


def _corpus_ranges() -> list[tuple[str, str, list[Mapping[str, str]]]]:
    folder = _shared("corpus", "advisories")
    found = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for affected in record.get("affected", []):
            for rng in affected.get("ranges") or []:
                if rng["type"] in {"SEMVER", "ECOSYSTEM"}:
                    found.append((record["id"], affected["package"]["name"], rng["events"]))
    return found


def _next_patch(version: str) -> str:
    v = parse_version(version)
    return f"{v.major}.{v.minor}.{v.patch + 1}"


def test_every_corpus_range_bounds_behave() -> None:
    ranges = _corpus_ranges()
    assert len(ranges) >= 10
    for record_id, package, events in ranges:
        spec = json.dumps(events)
        for event in events:
            ((kind, bound),) = event.items()
            if kind == "introduced" and bound != "0":
                assert osv_affected(bound, events), (record_id, package, event)
                below = parse_version(bound)
                assert not osv_affected(f"{below.major}.{below.minor}.{below.patch}-0", events)
            elif kind == "fixed":
                assert not osv_affected(bound, events), (record_id, package, event)
                assert advisory_matches(bound, spec_kind="osv_events", spec=spec) is False
            elif kind == "last_affected":
                assert osv_affected(bound, events), (record_id, package, event)
                assert not osv_affected(_next_patch(bound), events)


def test_mal_2025_47141_keeps_both_origins_apart() -> None:
    path = _shared("corpus", "advisories", "MAL-2025-47141.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    everything, narrow = record["affected"][0]["ranges"]
    assert everything["events"] == [{"introduced": "0"}]
    for version in ("1.0.0", "4.1.0", "4.1.3", "5.0.0"):
        assert osv_affected(version, everything["events"])
        assert not osv_affected(version, narrow["events"])
    for version in ("4.1.1", "4.1.2"):
        assert osv_affected(version, narrow["events"])
    origins = record["database_specific"]["malicious-packages-origins"]
    per_origin = [any(osv_affected("4.1.0", r["events"]) for r in o["ranges"]) for o in origins]
    # One origin claims every version, another only 4.1.1..4.1.2: 4.1.0 is claimed by just one.
    assert sorted(per_origin) == [False, True]


def test_corpus_exact_versions_match_exactly() -> None:
    folder = _shared("corpus", "advisories")
    seen = 0
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for affected in record.get("affected", []):
            for version in affected.get("versions") or []:
                seen += 1
                assert advisory_matches(version, spec_kind="exact", spec=version)
                assert not advisory_matches(_next_patch(version), spec_kind="exact", spec=version)
    assert seen >= 10


# --- the Version type and the total order ---------------------------------------------------------

POOL = [
    "0.0.0-0", "0.0.0", "0.0.1", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0--",
    "1.0.0-0a", "1.0.0-A", "1.0.0-a", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
    "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0+build",
    "v1.0.0", "1.0.1", "1.9.0", "1.10.0", "2.0.0", "10.0.0", "1.0.0-9007199254740993",
    "1.0.0-9007199254740992", "1.0.0-18014398509481984",
]  # fmt: skip


def _assert_total_order(pool: Sequence[str]) -> None:
    cmp = {(a, b): compare_versions(a, b) for a in pool for b in pool}
    for a, b in cmp:
        assert cmp[a, b] == -cmp[b, a]
        assert (cmp[a, b] == 0) == (parse_version(a) == parse_version(b))
    for a, b, c in itertools.product(pool, repeat=3):
        if cmp[a, b] <= 0 and cmp[b, c] <= 0:
            assert cmp[a, c] <= 0, (a, b, c)
    ordered = sorted(pool, key=parse_version)
    for low, high in itertools.pairwise(ordered):
        assert compare_versions(low, high) <= 0


def test_compare_versions_is_a_total_order_consistent_with_sorting() -> None:
    _assert_total_order(POOL)
    # SemVer 2.0 §11's own example, in order.
    spec = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]  # fmt: skip
    assert sorted(reversed(spec), key=parse_version) == spec


def test_large_numeric_prerelease_identifiers_compare_exactly() -> None:
    # npm compares these as doubles (2**53 == 2**53 + 1); SemVer 2.0 says numerically.
    assert compare_versions("1.0.0-9007199254740993", "1.0.0-9007199254740992") == 1


def test_version_type() -> None:
    v = parse_version(" v1.4.5-lts.1+sha.5 ")
    assert (v.major, v.minor, v.patch, v.prerelease, v.build) == (1, 4, 5, ("lts", 1), ("sha", "5"))
    assert str(v) == "1.4.5-lts.1+sha.5"
    assert v.core == "1.4.5-lts.1"
    assert v == parse_version("1.4.5-lts.1")
    assert len({v, parse_version("1.4.5-lts.1+other")}) == 1
    assert parse_version("1.4.4") < v < parse_version("1.4.5")
    with pytest.raises(AttributeError):
        v.major = 2  # type: ignore[misc]
    assert isinstance(v, Version)
    with pytest.raises(InvalidVersion):
        parse_version("=1.2.3")
    assert parse_version("=1.2.3", loose=True) == parse_version("1.2.3")


try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - depends on the environment

    def test_compare_versions_total_order_property() -> None:
        pytest.skip("hypothesis is not installed")

else:
    _identifier = st.one_of(
        st.integers(min_value=0, max_value=2**64).map(str),
        st.from_regex(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*", fullmatch=True),
    )
    _versions = st.builds(
        lambda nums, pre, build: (
            ".".join(map(str, nums))
            + ("-" + ".".join(pre) if pre else "")
            + ("+" + ".".join(build) if build else "")
        ),
        st.tuples(*[st.integers(min_value=0, max_value=2**53 - 1)] * 3),
        st.lists(_identifier, max_size=3),
        st.lists(st.from_regex(r"[0-9A-Za-z-]+", fullmatch=True), max_size=2),
    ).filter(lambda s: len(s) <= 256)

    @given(st.lists(_versions, min_size=1, max_size=8))
    def test_compare_versions_total_order_property(pool: list[str]) -> None:
        _assert_total_order(pool)


@pytest.mark.parametrize(
    ("range_", "possible"),
    [
        ("5.6.1", True),
        ("5.6.1 5.6.2", False),
        (">=5.6.2 <5.6.1", False),
        (">1.0.0 <=1.0.0", False),
        (">=1.0.0 <=1.0.0", True),
        (">1.0.0 <1.0.1", True),  # 1.0.1-0 and other prereleases lie between
        ("5.6.1 5.6.2 || 4.4.2", True),
        ("<0.0.0-0", False),
        ("^5.6.1", True),
        ("*", True),
    ],
)
def test_range_can_match(range_: str, possible: bool) -> None:
    assert range_can_match(range_) is possible
