"""GitHub's advisory REST API against a GitHub-shaped server on loopback.

The advisories served are the corpus's real ones in the REST shape: the reviewed GHSA records
of ``github/advisory-database`` (ids, packages, ranges, CWEs, times) and the malware advisories
that the corpus's MAL records name as their ``ghsa-malware`` origins (id, package, versions).
The claims read from the REST shape must select the same versions as the OSV files do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore import EvidenceLog, load_advisories, validate
from ircore.http import Client
from ircore.semver import advisory_matches, parse_version
from ircore.threats import load_github_advisories, load_github_advisories_files
from ircore.threats._ghsa import ghsa_client
from tests._advisory_shapes import CORPUS, corpus_advisories
from tests._http_server import Reply, Request, Server

TOKEN = "ghp_IRCORE0GHSA0TEST0TOKEN0leak0check7"
ENV = "IRCORE_GHSA_TEST_TOKEN"


class FakeAdvisories:
    """``GET /advisories`` filtered by type and affects, ``page_size`` per page, cursor paged."""

    def __init__(self, server: Server, advisories: dict[str, dict[str, Any]], page_size: int = 1):
        self.server = server
        self.advisories = advisories
        self.page_size = page_size

    def listing(self, request: Request) -> Reply:
        wanted = request.param("affects")
        chosen = [
            a
            for a in self.advisories.values()
            if a["type"] == request.param("type")
            and request.param("ecosystem") == "npm"
            and (
                wanted is None or any(v["package"]["name"] == wanted for v in a["vulnerabilities"])
            )
        ]
        start = int((request.param("after") or "c0")[1:])
        page = chosen[start : start + self.page_size]
        headers = {}
        if start + self.page_size < len(chosen):
            query = {k: v[-1] for k, v in request.query.items() if k != "after"}
            following = "&".join(f"{k}={v}" for k, v in query.items())
            cursor = f"c{start + self.page_size}"
            headers["Link"] = (
                f'<{self.server.url}/advisories?{following}&after={cursor}>; rel="next"'
            )
        return Reply(body=page, headers=headers)

    def serve(self) -> None:
        self.server.route("GET", "/advisories", self.listing)
        for ghsa_id, advisory in self.advisories.items():
            self.server.json(f"/advisories/{ghsa_id}", advisory)


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def client(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv(ENV, TOKEN)
    with ghsa_client(
        base_url=server.url, token_env=ENV, retries=2, backoff=0.001, backoff_max=0.005, timeout=5.0
    ) as http:
        yield http


def said(frame: pd.DataFrame, log: EvidenceLog) -> str:
    return " ".join(f.to_csv() for f in (frame, log.problems, log.inputs))


def _probes(specs: list[tuple[str, str]]) -> set[str]:
    """Versions at, around and far from every bound the claims name."""
    probes = {"0.0.1", "99.0.0"}
    for kind, spec in specs:
        text = spec if kind == "exact" else spec.replace('"', " ").replace("=", " ")
        for word in text.replace("<", " ").replace(">", " ").replace(",", " ").split():
            try:
                version = parse_version(word.strip("{}[]:"))
            except ValueError:
                continue
            major, minor, patch = version.major, version.minor, version.patch
            probes |= {str(version), f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0"}
            if patch:
                probes.add(f"{major}.{minor}.{patch - 1}")
    return probes


def _affected(frame: pd.DataFrame, probes: set[str]) -> set[tuple[str, str]]:
    claims = frame[frame["role"] == "affected"]
    return {
        (str(package), version)
        for package, kind, spec in zip(
            claims["package"], claims["spec_kind"], claims["spec"], strict=True
        )
        for version in probes
        if advisory_matches(version, spec_kind=str(kind), spec=str(spec))
    }


def test_reviewed_advisories_claim_what_their_osv_files_claim(
    shared: Path, server: Server, client: Client
) -> None:
    reviewed = {k: v for k, v in corpus_advisories(shared).items() if v["type"] == "reviewed"}
    assert len(reviewed) == 5
    FakeAdvisories(server, reviewed).serve()
    log = EvidenceLog()
    frame = validate(
        load_github_advisories(ghsa_ids=sorted(reviewed), log=log, client=client), "advisories"
    )
    assert log.problems.empty, log.problems.to_dict("records")
    for ghsa_id in reviewed:
        mine = frame[frame["advisory_id"] == ghsa_id]
        osv = load_advisories(shared / CORPUS / f"{ghsa_id}.json")
        assert set(mine["package"]) == set(osv["package"])
        specs = list(zip(osv["spec_kind"], osv["spec"], strict=True))
        probes = _probes(specs + list(zip(mine["spec_kind"], mine["spec"], strict=True)))
        assert _affected(mine, probes) == _affected(osv, probes), ghsa_id
        assert _affected(mine, probes)  # something is claimed
        for column in ("aliases", "classification", "published", "modified"):
            assert set(mine[column]) == set(osv[column]), (ghsa_id, column)
        assert set(mine["url"]) == {f"https://github.com/advisories/{ghsa_id}"}
        assert set(mine["evidence"]) == {f"{server.url}/advisories/{ghsa_id}"}
    # A reviewed advisory keeps GitHub's severity, malware by CWE-506 or not.
    ua = frame[frame["advisory_id"] == "GHSA-pjwm-rvh2-c87w"]
    assert set(ua["severity"]) == {"critical"} and set(ua["classification"]) == {"malware"}
    assert set(ua["spec"]) == {">=0.7.29 <0.7.30", ">=0.8.0 <0.8.1", ">=1.0.0 <1.0.1"}
    coa = frame[frame["advisory_id"] == "GHSA-73qr-pfmq-6rp8"]  # "= X" per version
    assert set(coa["spec_kind"]) == {"exact"} and "2.0.3" in set(coa["spec"])
    ipc = frame[frame["advisory_id"] == "GHSA-97m3-w2cp-4xx6"]
    assert list(ipc["spec"]) == [">=10.1.1 <10.1.3"] and list(ipc["aliases"]) == ["CVE-2022-23812"]
    assert set(frame["withdrawn"].isna()) == {True}
    assert set(frame["source"]) == {"ghsa"}
    assert TOKEN not in said(frame, log)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert all(r.headers["x-github-api-version"] == "2022-11-28" for r in server.requests)


def test_listings_per_package_and_type_follow_link_pages(
    shared: Path, server: Server, client: Client
) -> None:
    advisories = corpus_advisories(shared)
    github = FakeAdvisories(server, advisories)
    github.serve()
    # GitHub rate limits, then fails once, then answers.
    server.route(
        "GET",
        "/advisories",
        Reply(429, headers={"Retry-After": "0"}),
        Reply(500, body="oops"),
        github.listing,
    )
    log = EvidenceLog()
    packages = ["node-ipc", "ua-parser-js", "chalk", "color", "@ctrl/tinycolor", "left-pad"]
    frame = validate(
        load_github_advisories(packages=packages, log=log, client=client), "advisories"
    )
    assert log.problems.empty, log.problems.to_dict("records")
    expected = {
        a["ghsa_id"]
        for a in advisories.values()
        if any(v["package"]["name"] in packages for v in a["vulnerabilities"])
    }
    assert set(frame["advisory_id"]) == expected
    # node-ipc has a reviewed (2022) and a malware (2026) advisory: one listing each.
    asked = [
        (r.param("affects"), r.param("type"), r.param("after"))
        for r in server.requests_to("/advisories")
    ]
    assert asked[:3] == [("node-ipc", "malware", None)] * 3
    assert set(asked) == {(p, t, None) for p in packages for t in ("malware", "reviewed")}
    assert all(r.param("per_page") == "100" for r in server.requests_to("/advisories"))

    malware = frame[frame["classification"] == "malware"]
    assert set(frame["advisory_id"]) - set(malware["advisory_id"]) == set()
    typed = frame.set_index("advisory_id")
    assert typed.loc["GHSA-2v46-p5h4-248w", "severity"] == ""  # malware has no severity
    assert typed.loc["GHSA-2v46-p5h4-248w", "spec"] == "5.6.1"
    # The tinycolor malware advisory's latest claim is a range, not "all versions".
    assert typed.loc["GHSA-qjqf-7j6f-82c4", "spec"] == ">=4.1.1 <=4.1.2"
    assert set(log.inputs["status"]) >= {"parsed", "empty"}
    assert TOKEN not in said(frame, log)


def test_a_listing_of_every_advisory_reads_every_page(
    shared: Path, server: Server, client: Client
) -> None:
    advisories = corpus_advisories(shared)
    FakeAdvisories(server, advisories, page_size=2).serve()
    log = EvidenceLog()
    frame = load_github_advisories(types=("malware",), log=log, client=client)
    malware = {k for k, v in advisories.items() if v["type"] == "malware"}
    assert len(malware) >= 5
    assert set(frame["advisory_id"]) == malware
    cursors = [r.param("after") for r in server.requests_to("/advisories")]
    assert cursors == [None] + [f"c{n}" for n in range(2, len(malware), 2)]
    (entry,) = log.inputs.to_dict("records")
    assert f"{len(malware)} advisories on {len(cursors)} pages" in entry["notes"]


def test_failures_are_problems_and_the_token_never_shows(
    shared: Path, server: Server, client: Client
) -> None:
    advisories = corpus_advisories(shared)
    FakeAdvisories(server, advisories).serve()
    # A server that echoes the credential in its error page; and one cut short for good.
    server.route("GET", "/advisories/GHSA-2v46-p5h4-248w", Reply(500, body=f"bad token {TOKEN}"))
    body = json.dumps(advisories["GHSA-j8fv-6x8p-p766"]).encode()
    server.route(
        "GET", "/advisories/GHSA-j8fv-6x8p-p766", Reply(body=body, truncate_at=len(body) - 20)
    )
    # Cut short once only: the retry reads it.
    once = json.dumps(advisories["GHSA-pjwm-rvh2-c87w"]).encode()
    server.route(
        "GET",
        "/advisories/GHSA-pjwm-rvh2-c87w",
        Reply(body=once, truncate_at=40),
        Reply(body=advisories["GHSA-pjwm-rvh2-c87w"]),
    )
    log = EvidenceLog()
    frame = load_github_advisories(
        ghsa_ids=["GHSA-2v46-p5h4-248w", "GHSA-j8fv-6x8p-p766", "GHSA-pjwm-rvh2-c87w"],
        log=log,
        client=client,
    )
    assert set(frame["advisory_id"]) == {"GHSA-pjwm-rvh2-c87w"}
    problems = log.problems.set_index("evidence")
    down = problems.loc[f"{server.url}/advisories/GHSA-2v46-p5h4-248w"]
    assert down["kind"] == "http" and "[token]" in down["message"]
    cut = problems.loc[f"{server.url}/advisories/GHSA-j8fv-6x8p-p766"]
    assert cut["kind"] == "truncated"
    assert len(server.requests_to("/advisories/GHSA-2v46-p5h4-248w")) == 3
    assert TOKEN not in said(frame, log)
    assert not log.complete


def test_unreadable_ranges_and_withdrawn_advisories(server: Server, client: Client) -> None:
    advisory: dict[str, Any] = {
        "ghsa_id": "GHSA-xxxx-yyyy-zzzz",
        "type": "reviewed",
        "severity": "high",
        "identifiers": [
            {"type": "GHSA", "value": "GHSA-xxxx-yyyy-zzzz"},
            {"type": "CVE", "value": "CVE-2099-0001"},
        ],
        "published_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-02-01T00:00:00Z",
        "withdrawn_at": None,
        "vulnerabilities": [
            {
                "package": {"ecosystem": "npm", "name": "good"},
                "vulnerable_version_range": "< 2.0.0",
            },
            {
                "package": {"ecosystem": "npm", "name": "bad"},
                "vulnerable_version_range": ">= 1.0.0, , < 2",
            },
            {"package": {"ecosystem": "npm", "name": "none"}, "vulnerable_version_range": None},
            {"package": {"ecosystem": "pip", "name": "other"}, "vulnerable_version_range": "< 1"},
        ],
    }
    withdrawn = {
        **advisory,
        "ghsa_id": "GHSA-wwww-wwww-wwww",
        "identifiers": [],
        "withdrawn_at": "2025-03-01T00:00:00Z",
        "vulnerabilities": advisory["vulnerabilities"][:1],
    }
    server.json("/advisories/GHSA-xxxx-yyyy-zzzz", advisory)
    server.json("/advisories/GHSA-wwww-wwww-wwww", withdrawn)
    log = EvidenceLog()
    frame = validate(
        load_github_advisories(
            ghsa_ids=["GHSA-xxxx-yyyy-zzzz", "GHSA-wwww-wwww-wwww"], log=log, client=client
        ),
        "advisories",
    )
    standing = frame[frame["advisory_id"] == "GHSA-xxxx-yyyy-zzzz"]
    assert list(zip(standing["package"], standing["spec"], strict=True)) == [("good", "<2.0.0")]
    assert list(standing["aliases"]) == ["CVE-2099-0001"] and list(standing["severity"]) == ["high"]
    messages = sorted(log.problems["message"])
    assert list(log.problems["kind"]) == ["invalid", "invalid"]
    assert "'>= 1.0.0, , < 2'" in messages[0] and "bad" in messages[0]
    assert "None" in messages[1] and "none" in messages[1]
    gone = frame[frame["advisory_id"] == "GHSA-wwww-wwww-wwww"]
    assert list(gone["role"]) == ["origin"]  # shown, never matched
    assert gone["withdrawn"].iloc[0] == pd.Timestamp("2025-03-01", tz="UTC")
    assert gone["summary"].iloc[0].startswith("[withdrawn 2025-03-01")


def test_exported_files_read_as_the_api_answers(
    shared: Path, server: Server, client: Client, tmp_path: Path
) -> None:
    advisories = corpus_advisories(shared)
    FakeAdvisories(server, advisories).serve()
    live = load_github_advisories(ghsa_ids=sorted(advisories), client=client)
    folder = tmp_path / "ghsa"
    folder.mkdir()
    ids = sorted(advisories)
    for ghsa_id in ids[:3]:
        (folder / f"{ghsa_id}.json").write_text(json.dumps(advisories[ghsa_id]))
    (folder / "page-2.json").write_text(json.dumps([advisories[i] for i in ids[3:]]))
    # An OSV-format GHSA record and a file cut short: problems, never silence.
    (folder / "osv.json").write_bytes((shared / CORPUS / "GHSA-97m3-w2cp-4xx6.json").read_bytes())
    (folder / "cut.json").write_text(json.dumps(advisories[ids[0]])[:50])
    log = EvidenceLog()
    files = validate(load_github_advisories_files(folder, log=log), "advisories")
    columns = [c for c in files.columns if c not in ("source", "evidence")]
    pd.testing.assert_frame_equal(
        files[columns].sort_values(["advisory_id", "package", "spec"]).reset_index(drop=True),
        live[columns].sort_values(["advisory_id", "package", "spec"]).reset_index(drop=True),
    )
    assert set(files["source"]) == {"ghsa-file"}
    assert files["evidence"].str.contains("page-2.json#").any()
    kinds = dict(
        zip(log.problems["evidence"].map(lambda e: Path(e).name), log.problems["kind"], strict=True)
    )
    assert kinds == {"osv.json": "unsupported", "cut.json": "truncated"}
    statuses = dict(zip(log.inputs["file"], log.inputs["status"], strict=True))
    assert statuses["osv.json"] == statuses["cut.json"] == "failed"
    assert statuses["page-2.json"] == "parsed"
