"""StepSecurity Threat Center incidents, from the API on loopback and from export files.

Threat Center data is not public, so the incidents served here are built in the documented
shape (``reference/stepsecurity-api.md``, Step 1) around real facts: the packages and versions
of two real 2025 incidents as the corpus lists them, one incident per package, with
``affected_versions`` written in the spellings seen in the wild. What the loader reads back
must be exactly the list's (package, version) pairs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore import EvidenceLog, validate
from ircore.http import Client
from ircore.inventory._stepsecurity import stepsecurity_client
from ircore.threats import load_threat_center, load_threat_center_export
from ircore.threats._threat_center import parse_affected_versions
from tests._http_server import Reply, Request, Server

KEY = "step_IRCORE0THREAT0CENTER0KEY0leak0check3"
ENV = "IRCORE_TC_TEST_KEY"
LISTING = "/github/acme/threat-intel/incidents"
LISTS = [
    "corpus/incidents/npm-qix-chalk-debug-2025-09-packages.csv",
    "corpus/incidents/shai-hulud-2025-09-packages.csv",
]


def read_pairs(path: Path) -> list[tuple[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return [(row["name"], row["version"]) for row in csv.DictReader(io.StringIO("\n".join(lines)))]


def _spelling(n: int, name: str, versions: list[str]) -> str:
    """The ways incident write-ups list versions, one per incident in turn."""
    spellings = [
        ", ".join(versions),
        " ".join(versions),
        "; ".join(f"v{v}" for v in versions),
        ", ".join(f"{name}@{v}" for v in versions),
        " and ".join(versions),
        "\n".join(versions),
    ]
    return spellings[n % len(spellings)]


def incidents_from(pairs: list[tuple[str, str]], slug: str) -> list[dict[str, Any]]:
    by_name: dict[str, list[str]] = {}
    for name, version in pairs:
        by_name.setdefault(name, []).append(version)
    incidents = []
    for n, (name, versions) in enumerate(by_name.items()):
        incident_id = f"{slug}-{n:04d}"
        incidents.append(
            {
                "id": incident_id,
                "title": f"{name} compromised ({slug})",
                "description": "Malicious versions published from a hijacked account.",
                "details": f"# {name}\n## Am I Affected?\n"
                + "".join(f"- {name}@{v}\n" for v in versions),
                "ecosystem": "npm",
                "package_name": name,
                "affected_versions": _spelling(n, name, versions),
                "severity": "CRITICAL",
                "is_active": "true" if n % 2 else "false",
                "cve": None,
                "cve_link": None,
                "incident_start_time": "2025-09-08T13:00:00Z",
                "incident_end_time": None if n % 2 else "2025-09-09T10:00:00Z",
                "created_at": "2025-09-08T15:00:00Z",
                "updated_at": "2025-09-10T08:00:00Z",
            }
        )
    return incidents


def corpus_incidents(shared: Path) -> tuple[list[dict[str, Any]], set[tuple[str, str]]]:
    incidents: list[dict[str, Any]] = []
    pairs: set[tuple[str, str]] = set()
    for relative in LISTS:
        found = read_pairs(shared / relative)
        pairs |= set(found)
        incidents += incidents_from(found, Path(relative).stem.split("-packages")[0])
    return incidents, pairs


class FakeThreatCenter:
    """The incidents list (``page``, ``limit`` per page) and the detail endpoint."""

    def __init__(self, server: Server, incidents: list[dict[str, Any]], limit: int = 100):
        self.server = server
        self.incidents = incidents
        self.limit = limit

    def listing(self, request: Request) -> Reply:
        page = int(request.param("page") or "1")
        chunk = self.incidents[(page - 1) * self.limit : page * self.limit]
        pagination = {"current_page": str(page), "limit": str(self.limit)}
        return Reply(body={"detections": chunk, "pagination": pagination})

    def serve(self) -> None:
        self.server.route("GET", LISTING, self.listing)
        for n, incident in enumerate(self.incidents):
            # The detail answer holds one incident, as an object or a one-element list.
            detections = incident if n % 2 else [incident]
            self.server.json(f"{LISTING}/{incident['id']}", {"detections": detections})


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def client(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv(ENV, KEY)
    with stepsecurity_client(
        base_url=server.url,
        key_env=ENV,
        source="threat-center",
        retries=2,
        backoff=0.001,
        backoff_max=0.005,
        timeout=5.0,
    ) as http:
        yield http


def said(frame: pd.DataFrame, log: EvidenceLog) -> str:
    return " ".join(f.to_csv() for f in (frame, log.problems, log.inputs))


def test_every_listed_version_of_two_real_incidents_is_claimed(
    shared: Path, server: Server, client: Client
) -> None:
    incidents, pairs = corpus_incidents(shared)
    assert len(incidents) > 200  # three pages of 100
    FakeThreatCenter(server, incidents).serve()
    server.route(
        "GET",
        LISTING,
        Reply(429, headers={"Retry-After": "0"}),
        Reply(502, body="bad gateway"),
        FakeThreatCenter(server, incidents).listing,
    )
    log = EvidenceLog()
    frame = validate(load_threat_center("acme", log=log, client=client), "advisories")
    assert log.problems.empty, log.problems.to_dict("records")
    assert set(frame["spec_kind"]) == {"exact"}
    assert set(zip(frame["package"], frame["spec"], strict=True)) == pairs
    assert len(frame) == len(pairs)
    pages = [r.param("page") for r in server.requests_to(LISTING)]
    assert pages == ["1", "1", "1", "2", "3"]
    assert not [r for r in server.requests if r.path.startswith(f"{LISTING}/")]  # no details
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)

    first = frame[frame["advisory_id"] == f"threat-center:{incidents[0]['id']}"].iloc[0]
    assert first["classification"] == "malware" and first["severity"] == "critical"
    assert first["summary"].startswith("[closed since 2025-09-08T13:00:00Z, ended 2025-09-09")
    assert repr(incidents[0]["affected_versions"]) in first["summary"]
    assert first["published"] == pd.Timestamp("2025-09-08T15:00:00Z")
    assert first["modified"] == pd.Timestamp("2025-09-10T08:00:00Z")
    assert first["url"] == (
        f"https://app.stepsecurity.io/github/acme/threat-center/incidents/{incidents[0]['id']}"
    )
    second = frame[frame["advisory_id"] == f"threat-center:{incidents[1]['id']}"].iloc[0]
    assert second["summary"].startswith("[active since")
    assert set(frame["source"]) == {"threat-center"} and set(frame["role"]) == {"affected"}
    assert set(frame["evidence"]) == {f"{server.url}{LISTING}?page={p}" for p in (1, 2, 3)}
    assert KEY not in said(frame, log)


def test_unclear_versions_are_problems_and_other_ecosystems_are_noted(
    server: Server, client: Client
) -> None:
    base: dict[str, Any] = {
        "title": "t",
        "ecosystem": "npm",
        "severity": "HIGH",
        "is_active": "true",
        "details": "",
        "incident_start_time": "2025-09-15T00:00:00Z",
    }
    incidents: list[dict[str, Any]] = [
        {**base, "id": "a", "package_name": "@ctrl/tinycolor", "affected_versions": "4.1.1-4.1.2"},
        {**base, "id": "b", "package_name": "flatmap-stream", "affected_versions": "All versions"},
        {**base, "id": "c", "package_name": "rspack", "affected_versions": "1.1.7, 1.2 and later"},
        {**base, "id": "d", "package_name": "x", "affected_versions": ">= 1.0.0, < 1.2.3"},
        {**base, "id": "e", "package_name": "y", "affected_versions": ">=1.0.0, <1.2.0, 2.0.0"},
        {**base, "id": "f", "package_name": "z", "affected_versions": None},
        {**base, "id": "g", "ecosystem": "pypi", "package_name": "requests"},
        {**base, "id": "h", "ecosystem": "github-actions", "package_name": None},
        {**base, "id": "i", "package_name": "w", "affected_versions": "1.4", "cve": "CVE-2099-1"},
    ]
    FakeThreatCenter(server, incidents).serve()
    log = EvidenceLog()
    frame = validate(load_threat_center("acme", log=log, client=client), "advisories")
    claims = {(r.advisory_id, r.spec_kind, r.spec) for r in frame.itertuples()}
    assert claims == {
        ("threat-center:b", "npm_range", "*"),
        ("threat-center:c", "exact", "1.1.7"),
        ("threat-center:d", "npm_range", ">=1.0.0 <1.2.3"),
    }
    problems = dict(
        zip(
            log.problems["message"].str.extract(r"incident (\w)")[0],
            log.problems["message"],
            strict=True,
        )
    )
    assert set(problems) == {"a", "c", "e", "f", "i"}
    assert set(log.problems["kind"]) == {"invalid"}
    assert "'4.1.1-4.1.2'" in problems["a"] and "range 4.1.1 to 4.1.2" in problems["a"]
    assert "'1.2 and later'" in problems["c"]
    assert "comma may mean 'and'" in problems["e"]
    assert "no affected versions" in problems["f"]
    assert "partial version" in problems["i"]
    notes = " ".join(log.inputs["notes"])
    assert "ecosystem pypi" in notes and "ecosystem github-actions" in notes


def test_listed_incidents_without_details_are_read_in_full(
    shared: Path, server: Server, client: Client
) -> None:
    incidents, _ = corpus_incidents(shared)
    incidents = incidents[:4]
    fake = FakeThreatCenter(server, incidents)
    fake.serve()
    compact = [
        {k: i[k] for k in ("id", "title", "severity", "ecosystem", "package_name")}
        for i in incidents
    ]
    server.json(
        LISTING, {"detections": compact, "pagination": {"current_page": "1", "limit": "50"}}
    )
    log = EvidenceLog()
    frame = load_threat_center("acme", log=log, client=client)
    assert log.problems.empty, log.problems.to_dict("records")
    assert set(frame["advisory_id"]) == {f"threat-center:{i['id']}" for i in incidents}
    for incident in incidents:
        mine = frame[frame["advisory_id"] == f"threat-center:{incident['id']}"]
        read = parse_affected_versions(
            incident["affected_versions"], package=incident["package_name"]
        )
        assert sorted(mine["spec"]) == sorted(spec for _, spec in read.claims)
        assert set(mine["evidence"]) == {f"{server.url}{LISTING}/{incident['id']}"}


def test_incidents_by_id_answered_as_object_or_list(
    shared: Path, server: Server, client: Client
) -> None:
    incidents, _ = corpus_incidents(shared)
    FakeThreatCenter(server, incidents[:3]).serve()
    wanted = incidents[1]["id"], incidents[2]["id"], "no-such-incident"
    # One detail request fails once, one is cut short once: both are retried.
    body = json.dumps({"detections": [incidents[2]]}).encode()
    server.route(
        "GET",
        f"{LISTING}/{incidents[2]['id']}",
        Reply(body=body, truncate_at=len(body) // 3),
        Reply(body={"detections": [incidents[2]]}),
    )
    server.route(
        "GET",
        f"{LISTING}/{incidents[1]['id']}",
        Reply(500),
        Reply(body={"detections": incidents[1]}),
    )
    log = EvidenceLog()
    frame = load_threat_center("acme", incident_ids=wanted, log=log, client=client)
    assert not server.requests_to(LISTING)
    assert set(frame["advisory_id"]) == {f"threat-center:{i}" for i in wanted[:2]}
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "http" and "404" in problem["message"]
    assert problem["evidence"] == f"{server.url}{LISTING}/no-such-incident"
    assert KEY not in said(frame, log)


def test_a_server_that_does_not_turn_the_page_is_not_asked_forever(
    shared: Path, server: Server, client: Client
) -> None:
    incidents, _ = corpus_incidents(shared)
    page = {"detections": incidents[:10], "pagination": {"current_page": "1", "limit": "10"}}
    server.json(LISTING, page)
    log = EvidenceLog()
    frame = load_threat_center("acme", log=log, client=client)
    assert len(server.requests_to(LISTING)) == 2
    assert frame["advisory_id"].nunique() == 10
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "pagination" and "past the first 10" in problem["message"]


def test_failures_are_problems_and_the_key_never_shows(
    server: Server, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("GET", LISTING, Reply(500, body=f"upstream refused key {KEY}"))
    log = EvidenceLog()
    frame = load_threat_center("acme", log=log, client=client)
    assert frame.empty
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "http" and "[token]" in problem["message"]
    assert len(server.requests_to(LISTING)) == 3
    assert KEY not in said(frame, log)

    # Without the key nothing is sent, and the problem names the variable to set.
    monkeypatch.delenv(ENV)
    before = len(server.requests)
    log = EvidenceLog()
    load_threat_center("acme", base_url=server.url, key_env=ENV, log=log)
    assert len(server.requests) == before
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "auth" and ENV in problem["message"]


def test_exported_records_read_as_the_api_answers(
    shared: Path, server: Server, client: Client, tmp_path: Path
) -> None:
    incidents, _ = corpus_incidents(shared)
    incidents = incidents[:12]
    FakeThreatCenter(server, incidents).serve()
    live = load_threat_center("acme", client=client)

    def exported(incident: dict[str, Any]) -> dict[str, Any]:
        url = f"https://app.stepsecurity.io/github/acme/threat-center/incidents/{incident['id']}"
        return {
            **incident,
            "event_id": incident["id"],
            "type": "Threat-Intelligence",
            "incident_url": url,
        }

    folder = tmp_path / "threat-intel"
    folder.mkdir()
    records = [exported(i) for i in incidents]
    # S3: one object per incident; a webhook log: JSON lines, with a detection among them.
    for record in records[:4]:
        (folder / f"{record['id']}.json").write_text(json.dumps(record, indent=2))
    detection = {"type": "New-Outbound-Network-Call", "detection": "d-1", "endpoint": "x.example"}
    lines = [json.dumps(r) for r in records[4:8]] + [json.dumps(detection), '{"id": "cut", "ty']
    (folder / "webhook.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "batch.json").write_text(json.dumps(records[8:]))
    (folder / "cut.json").write_text(json.dumps(records[0], indent=2)[:200])
    (folder / "other.json").write_text(json.dumps({"hello": "world"}))
    log = EvidenceLog()
    files = validate(load_threat_center_export(folder, log=log), "advisories")
    columns = [c for c in files.columns if c not in ("source", "evidence")]
    order = ["advisory_id", "spec"]
    pd.testing.assert_frame_equal(
        files[columns].sort_values(order).reset_index(drop=True),
        live[columns].sort_values(order).reset_index(drop=True),
    )
    assert set(files["source"]) == {"threat-center-export"}
    assert any(e.endswith("webhook.jsonl:3") for e in files["evidence"])
    kinds = {
        (Path(p).name, k)
        for p, k in zip(log.problems["evidence"], log.problems["kind"], strict=True)
    }
    assert kinds == {
        ("webhook.jsonl:6", "truncated"),
        ("cut.json", "truncated"),
        ("other.json", "unsupported"),
    }
    notes = log.inputs.set_index("file")["notes"]
    assert notes["webhook.jsonl"] == "records of other types not read: 1 New-Outbound-Network-Call"
    statuses = log.inputs.set_index("file")["status"]
    assert statuses["cut.json"] == "failed" and statuses["batch.json"] == "parsed"


def test_indicators_are_read_from_the_incidents_markdown_details(tmp_path: Path) -> None:
    # the shape of the reference's example record: IOCs live only in the markdown details
    record = {
        "id": "0b9c1d2e",
        "type": "Threat-Intelligence",
        "title": "Example npm package hijack",
        "ecosystem": "npm",
        "package_name": "example-pkg",
        "affected_versions": "1.4.2, 1.4.3",
        "severity": "HIGH",
        "is_active": "true",
        "details": "# What happened\n## Am I Affected?\n- example-pkg@1.4.2\n"
        "- C2: evil-example[.]com, exfil to hxxps://drop.evil-example[.]com/upload\n"
        "- payload `setup_bun.js` (sha256 "
        "3f5e1c9a0b7d2e4f6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b)\n",
    }
    (tmp_path / "incident.json").write_text(json.dumps(record))
    found: list[pd.DataFrame] = []
    frame = load_threat_center_export(tmp_path, indicators=found)
    assert set(frame["spec"]) == {"1.4.2", "1.4.3"}
    iocs = pd.concat(found, ignore_index=True)
    validate(iocs, "iocs")
    assert set(iocs["advisory_id"]) == {"threat-center:0b9c1d2e"}
    values = set(zip(iocs["ioc_type"], iocs["value"], strict=True))
    assert ("domain", "evil-example.com") in values
    assert ("url", "https://drop.evil-example.com/upload") in values
    assert ("file_name", "setup_bun.js") in values
    assert any(kind == "sha256" for kind, _ in values)
    assert ("package_version", "example-pkg@1.4.2") in values
