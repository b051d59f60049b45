"""One investigation over every kind of inventory source a sources config can name.

A local project, a developer machine scan, an organization behind a GitHub-shaped API and
StepSecurity's two search APIs (both served on loopback) are gathered into one ``inventory``;
each surface's compromised version must come out in ``exposure`` with its surface.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ircore import investigate, validate
from ircore.inventory import scan_host
from ircore.inventory._host import write_host_scan
from tests._fake_github import FakeGitHub, Pull
from tests._fakehome import cache_download
from tests._http_server import Reply, Request, Server
from tests._lockfiles import lock_v3

GH_ENV = "IRCORE_INVESTIGATE_GH_TOKEN"
SS_ENV = "IRCORE_INVESTIGATE_SS_KEY"
GH_TOKEN = "ghp_IRCORE0INVESTIGATE0TOKEN0never0shown1"
SS_KEY = "sk_IRCORE0INVESTIGATE0KEY0never0shown2"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Server]:
    monkeypatch.setenv(GH_ENV, GH_TOKEN)
    monkeypatch.setenv(SS_ENV, SS_KEY)
    # a local clone-less project resolving the bad chalk
    _write(tmp_path / "projects/site/package-lock.json", lock_v3({"chalk": "5.6.1"}))
    _write(tmp_path / "projects/site/package.json", json.dumps({"dependencies": {"chalk": "^5"}}))
    # a laptop that downloaded debug 4.4.2 and has since had it removed from its cache
    home = tmp_path / "laptop-home"
    cache_download(
        home / ".npm/_cacache",
        "https://registry.npmjs.org/debug/-/debug-4.4.2.tgz",
        removed_at=1757350000000,
    )
    write_host_scan(scan_host(home=home, hostname="laptop-7", global_dirs=[]), tmp_path / "hosts")

    server = Server().__enter__()
    github = FakeGitHub(server, org="acme")
    clean = lock_v3({"chalk": "5.6.2"}).encode()
    bad = lock_v3({"chalk": "5.6.1"}).encode()
    github.repo(
        "api", {"package-lock.json": clean}, pulls=(Pull(9, {"package-lock.json": bad}, None),)
    )
    github.serve()
    search = {
        "packages": [
            {
                "owner": "acme",
                "repo": "worker",
                "package": "debug",
                "version": "4.4.2",
                "seen_in_any_prs": False,
                "seen_in_any_workflow_runs": True,
                "seen_in_default_branch": False,
                "first_seen_in_default_branch": 0,
                "last_seen_in_default_branch": 0,
                "prs": {},
                "workflow_runs": {"16001234567": {}},
                "source_files_in_default_branch": [],
            }
        ]
    }
    server.json("/github/acme/npm-packages/search", search, method="POST")
    mdm = {
        "results": [
            {
                "package_name": "chalk",
                "package_version": "",
                "installations": [
                    {
                        "hostname": "build-box",
                        "user_identity": "ci@acme.example",
                        "device_id": "dev-1",
                        "package_name": "chalk",
                        "package_version": "5.6.1",
                        "is_direct": True,
                        "is_global": False,
                        "first_seen_at": 1757340000,
                        "last_seen_at": 1757350000,
                    }
                ],
            }
        ],
        "total_results": 1,
    }
    server.json("/tenant-1/developer-mdm/npm-packages/search", mdm, method="POST")
    incident = _write(
        tmp_path / "incident.yaml",
        'name: chalk/debug\npackages: {chalk: ["5.6.1"], debug: ["4.4.2"]}\n',
    )
    sources = _write(
        tmp_path / "sources.yaml",
        "repos: [projects/]\nhosts: [hosts/]\n"
        f"github: {{org: acme, api_url: '{server.url}', token_env: {GH_ENV}, sbom: false}}\n"
        f"stepsecurity: {{owner: acme, customer: tenant-1, api_url: '{server.url}', "
        f"key_env: {SS_ENV}}}\n",
    )
    yield incident, sources, server
    server.__exit__(None, None, None)


def test_every_source_lands_in_one_inventory_with_its_surface(
    world: tuple[Path, Path, Server],
) -> None:
    incident, sources, server = world
    inv = investigate(incident, sources)
    validate(inv.inventory, "inventory")
    validate(inv.declared, "declared")
    assert inv.problems.empty, inv.problems.to_dict("records")
    assert inv.complete
    found = {
        (row.surface, row.host or row.repo, row.name, row.version, row.source)
        for row in inv.exposure.drop_duplicates(["surface", "repo", "host", "name"]).itertuples()
    }
    assert found == {
        ("folder", "site", "chalk", "5.6.1", "folder"),
        ("host", "laptop-7", "debug", "4.4.2", "host-scan"),
        ("pull_request", "api", "chalk", "5.6.1", "github"),
        ("workflow_run", "worker", "debug", "4.4.2", "stepsecurity"),
        ("host", "build-box", "chalk", "5.6.1", "stepsecurity-mdm"),
    }
    # the declared ranges of the local project are there for latent exposure
    assert ("chalk", "^5") in set(zip(inv.declared["name"], inv.declared["spec"], strict=True))
    # both APIs were asked about the incident's packages, with each secret sent to its API only
    asked = [r for r in server.requests if r.method == "POST"]
    assert {r.path for r in asked} == {
        "/github/acme/npm-packages/search",
        "/tenant-1/developer-mdm/npm-packages/search",
    }
    text = " ".join(f.to_csv() for f in (inv.inventory, inv.problems, inv.inputs, inv.exposure))
    assert GH_TOKEN not in text and SS_KEY not in text


def test_live_advisories_and_the_registry_join_the_investigation(
    tmp_path: Path, shared: Path
) -> None:
    """OSV.dev is asked about what was found, the registry about what is claimed."""
    record = (shared / "corpus/advisories/MAL-2025-46969.json").read_bytes()
    packument = (shared / "corpus/registry/chalk.json").read_bytes()
    _write(tmp_path / "app/package-lock.json", lock_v3({"chalk": "5.6.1", "ms": "2.1.3"}))
    with Server() as server:
        asked: list[list[dict]] = []

        def querybatch(request: Request) -> Reply:
            queries = request.json()["queries"]
            asked.append(queries)
            results = [
                {"vulns": [{"id": "MAL-2025-46969", "modified": "2025-09-12T01:13:34Z"}]}
                if q["package"]["name"] == "chalk" and q["version"] == "5.6.1"
                else {}
                for q in queries
            ]
            return Reply(body={"results": results})

        server.route("POST", "/v1/querybatch", querybatch)
        server.route("GET", "/v1/vulns/MAL-2025-46969", Reply(body=record))
        server.route("GET", "/chalk", Reply(body=packument))
        incident = _write(tmp_path / "incident.yaml", "name: chalk\nadvisories: [MAL-2025-46969]\n")
        sources = _write(
            tmp_path / "sources.yaml",
            "repos: [app/]\n"
            f"advisory_apis: {{osv: true, osv_url: '{server.url}'}}\n"
            f"registry: {{url: '{server.url}', cache: cache/}}\n",
        )
        inv = investigate(incident, sources)
    assert inv.problems.empty, inv.problems.to_dict("records")
    # every distinct registry (name, version) found was asked about, once
    assert sorted((q["package"]["name"], q["version"]) for q in asked[0]) == [
        ("chalk", "5.6.1"),
        ("ms", "2.1.3"),
    ]
    assert set(inv.exposure["advisory_id"]) == {"MAL-2025-46969"}
    assert set(inv.exposure["source"]) == {"folder"}
    assert "osv-api" in set(inv.advisories["source"])
    validate(inv.versions, "versions")
    chalk = inv.versions.set_index("version")
    assert chalk.loc["5.6.1", "in_registry"] == False  # noqa: E712  pulled after the incident
    assert chalk.loc["5.6.0", "in_registry"] == True  # noqa: E712


def test_indicators_from_the_spec_and_the_advisory_files(tmp_path: Path, shared: Path) -> None:
    _write(tmp_path / "app/package-lock.json", lock_v3({"axios": "1.14.1"}))
    incident = _write(
        tmp_path / "incident.yaml",
        "name: axios\nadvisories: [MAL-2026-2307]\n"
        "indicators: ['domain:collector[.]evil.example', {type: ip, value: 203.0.113.9}]\n",
    )
    sources = _write(
        tmp_path / "sources.yaml",
        f"repos: [app/]\nadvisories: ['{shared / 'corpus/advisories/MAL-2026-2307.json'}']\n",
    )
    inv = investigate(incident, sources)
    validate(inv.iocs, "iocs")
    analyst = inv.iocs[inv.iocs["confidence"] == "analyst"]
    assert set(zip(analyst["ioc_type"], analyst["value"], strict=True)) == {
        ("domain", "collector.evil.example"),  # re-fanged
        ("ip", "203.0.113.9"),
    }
    # the axios record states its indicators in database_specific.iocs
    structured = inv.iocs[inv.iocs["confidence"] == "structured"]
    assert not structured.empty and set(structured["advisory_id"]) == {"MAL-2026-2307"}
    assert set(inv.exposure["advisory_id"]) == {"MAL-2026-2307"}


def test_a_mistyped_indicator_is_a_configuration_error(tmp_path: Path) -> None:
    from ircore import ConfigError, load_incident

    spec = _write(
        tmp_path / "i.yaml", "name: x\npackages: {chalk: 5.6.1}\nindicators: ['sha256:abc']\n"
    )
    with pytest.raises(ConfigError, match="indicators"):
        load_incident(spec)


def test_a_threat_center_export_is_a_source_with_its_indicators(tmp_path: Path) -> None:
    record = {
        "id": "5e1f",
        "event_id": "5e1f",
        "type": "Threat-Intelligence",
        "title": "chalk hijack calling websocket-api2[.]publicvm[.]com",
        "ecosystem": "npm",
        "package_name": "chalk",
        "affected_versions": "5.6.1",
        "severity": "HIGH",
        "is_active": "true",
        "details": "## Am I Affected?\n- chalk@5.6.1\n- C2: websocket-api2[.]publicvm[.]com\n",
    }
    _write(tmp_path / "exports/5e1f.json", json.dumps(record))
    _write(tmp_path / "app/package-lock.json", lock_v3({"chalk": "5.6.1"}))
    incident = _write(tmp_path / "incident.yaml", "name: chalk\nadvisories: [threat-center:5e1f]\n")
    sources = _write(
        tmp_path / "sources.yaml", "repos: [app/]\nthreat_center_exports: [exports/]\n"
    )
    inv = investigate(incident, sources)
    assert inv.problems.empty, inv.problems.to_dict("records")
    assert set(inv.exposure["advisory_id"]) == {"threat-center:5e1f"}
    pairs = list(zip(inv.iocs["ioc_type"], inv.iocs["value"], strict=True))
    assert pairs.count(("domain", "websocket-api2.publicvm.com")) == 1  # read once, from details
