"""Threat-intel loaders on the real OSV/GHSA records and published incident lists."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from ircore import EvidenceLog, load_advisories, validate


def _expected_claims(record: dict) -> set[tuple[str, str, str]]:
    """Independently of the loader: (package, kind, spec) of every npm claim in the record."""
    claims = set()
    for affected in record["affected"]:
        name = affected["package"]["name"]
        claims |= {(name, "exact", v) for v in affected.get("versions", [])}
        claims |= {
            (name, "osv_events", json.dumps(r["events"], separators=(",", ":")))
            for r in affected.get("ranges", [])
        }
    return claims


def test_every_real_record_loads_with_its_claims(shared: Path) -> None:
    folder = shared / "corpus" / "advisories"
    log = EvidenceLog()
    frame = validate(load_advisories(folder, log=log), "advisories")
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    assert log.problems.empty
    assert (log.inputs["status"] == "parsed").sum() == len(records)
    for record in records:
        mine = frame[(frame["advisory_id"] == record["id"]) & (frame["role"] == "affected")]
        got = set(zip(mine["package"], mine["spec_kind"], mine["spec"], strict=True))
        assert got == _expected_claims(record), record["id"]
        expected_class = "malware" if record["id"].startswith("MAL-") else None
        if expected_class:
            assert set(mine["classification"]) == {"malware"}
            assert set(mine["severity"]) == {""}  # malware is its own class, never "unknown"


def test_old_ghsa_malware_is_malware_by_cwe(shared: Path) -> None:
    frame = load_advisories(shared / "corpus" / "advisories" / "GHSA-mh6f-8j2x-4483.json")
    assert set(frame["classification"]) == {"malware"}  # event-stream, CWE-506


def test_per_origin_claims_are_kept(shared: Path) -> None:
    frame = load_advisories(shared / "corpus" / "advisories" / "MAL-2024-11183.json")
    origins = frame[frame["role"] == "origin"]
    # one feed first claimed every version, a later import narrowed it: both stay visible
    assert set(origins["spec"]) == {
        '[{"introduced":"0"}]',
        '[{"introduced":"1.95.6"},{"fixed":"1.95.8"}]',
    }
    affected = frame[frame["role"] == "affected"]
    assert list(affected["spec"]) == ['[{"introduced":"1.95.6"},{"fixed":"1.95.8"}]']
    assert str(frame["published"].dtype) == "datetime64[ns, UTC]"


def test_incident_lists_count_every_pair(shared: Path) -> None:
    folder = shared / "corpus" / "incidents"
    frame = load_advisories(folder)
    for path in sorted(folder.glob("*.csv")):
        lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
        pairs = {tuple(ln.split(",", 1)) for ln in lines[1:]}
        mine = frame[frame["advisory_id"] == f"list:{path.stem}"]
        assert set(zip(mine["package"], mine["spec"], strict=True)) == pairs
        assert mine["origin"].iloc[0].startswith("source:")


def test_osv_zip_reads_members_and_refuses_oversized(shared: Path, tmp_path: Path) -> None:
    folder = shared / "corpus" / "advisories"
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.glob("MAL-*.json")):
            zf.write(path, path.name)
        zf.writestr("../../escape/MAL-x.json", b"{not json")
    log = EvidenceLog()
    frame = load_advisories(archive, log=log)
    assert frame["advisory_id"].nunique() == len(list(folder.glob("MAL-*.json")))
    assert set(frame["source"]) == {"osv-zip"}
    assert list(log.problems["kind"]) == ["not-json"]
    assert not (tmp_path.parent / "escape").exists()  # members are read, never extracted


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"", "empty"),
        (b'{"id": "MAL-1", "affected": [', "truncated"),
        (b"\x00\xff\x10", "not-json"),
        (b"[1, 2]", "invalid"),
    ],
)
def test_bad_records_become_problems(tmp_path: Path, content: bytes, kind: str) -> None:
    (tmp_path / "bad.json").write_bytes(content)
    log = EvidenceLog()
    frame = load_advisories(tmp_path, log=log)
    assert frame.empty
    assert list(log.problems["kind"]) == [kind]
    assert list(log.inputs["status"]) == ["failed"]
    assert not log.complete


def test_list_shapes(tmp_path: Path) -> None:
    (tmp_path / "mixed.txt").write_text(
        "# source: an analyst\nname,version\nchalk,5.6.1\n@ctrl/tinycolor@4.1.1\n"
        "debug:4.4.2\nnpm:@scope/pkg:1.0.0\n"
    )
    frame = load_advisories(tmp_path / "mixed.txt")
    assert set(zip(frame["package"], frame["spec"], strict=True)) == {
        ("chalk", "5.6.1"),
        ("@ctrl/tinycolor", "4.1.1"),
        ("debug", "4.4.2"),
        ("@scope/pkg", "1.0.0"),
    }
    assert set(frame["origin"]) == {"source: an analyst"}


def test_spreadsheet_exports_quote_their_fields(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text('"name","version"\n"chalk","5.6.1"\n\'debug\',\'4.4.2\'\n')
    log = EvidenceLog()
    frame = load_advisories(tmp_path / "export.csv", log=log)
    assert log.problems.empty
    assert set(zip(frame["package"], frame["spec"], strict=True)) == {
        ("chalk", "5.6.1"),
        ("debug", "4.4.2"),
    }


def test_list_with_unparseable_line_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("name,version\nchalk,5.6.1\njust-a-name\n")
    log = EvidenceLog()
    assert load_advisories(tmp_path, log=log).empty
    assert "line 3" in log.problems["message"].iloc[0]


def test_missing_path_is_a_problem(tmp_path: Path) -> None:
    log = EvidenceLog()
    load_advisories(tmp_path / "nope", log=log)
    assert list(log.problems["kind"]) == ["missing"]


@pytest.mark.parametrize(
    ("record", "needle"),
    [
        ({"id": "MAL-1"}, "no 'affected'"),
        (
            {
                "id": "MAL-1",
                "affected": [{"package": {"ecosystem": "npm", "name": "x"}, "versions": "1.3.0"}],
            },
            "'versions' must be a list",
        ),
        (
            {
                "id": "MAL-1",
                "affected": [
                    {"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{"type": "SEMVER"}]}
                ],
            },
            "no 'events'",
        ),
        ({"id": "MAL-1", "affected": ["x"]}, "not an object"),
    ],
)
def test_malformed_records_are_problems_not_guesses(
    tmp_path: Path, record: dict, needle: str
) -> None:
    """User report: a string 'versions' was read character by character."""
    (tmp_path / "r.json").write_text(json.dumps(record))
    log = EvidenceLog()
    assert load_advisories(tmp_path, log=log).empty
    assert list(log.problems["kind"]) == ["invalid"]
    assert needle in log.problems["message"].iloc[0]


def test_withdrawn_and_other_ecosystems_are_read_but_claim_nothing(tmp_path: Path) -> None:
    (tmp_path / "w.json").write_text(json.dumps({"id": "GHSA-w", "withdrawn": "2024-01-01"}))
    (tmp_path / "p.json").write_text(
        json.dumps({"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}}]})
    )
    log = EvidenceLog()
    assert load_advisories(tmp_path, log=log).empty
    assert log.problems.empty
    assert list(log.inputs["status"]) == ["empty", "empty"]
