"""The OSV.dev API loader against an OSV-shaped server on loopback serving the real records.

``/v1/vulns/{id}`` answers the bytes of the corpus records (``ossf/malicious-packages`` and
``github/advisory-database`` files); ``/v1/querybatch`` answers, like OSV, only ids and
modified times, from an index of those records by package name, paging any package with more
than one advisory. What the API path reads is compared with what ``load_advisories`` reads from
the same files.
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
from ircore.threats import load_osv_api
from ircore.threats._osv_api import MAX_QUERIES, osv_client
from tests._http_server import Reply, Request, Server

QUERYBATCH = "/v1/querybatch"
# Where a row was read, as opposed to what it says.
LOCATION = ["source", "evidence", "url"]


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


def make_client(server: Server, **options: Any) -> Client:
    settings: dict[str, Any] = {
        "base_url": server.url,
        "retries": 2,
        "backoff": 0.001,
        "backoff_max": 0.005,
        "timeout": 5.0,
        **options,
    }
    return osv_client(**settings)


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with make_client(server) as http:
        yield http


class FakeOSV:
    """The corpus records behind OSV's two endpoints."""

    def __init__(self, server: Server, folder: Path, modified: dict[str, str] | None = None):
        self.server = server
        self.files = {p.stem: p for p in sorted(folder.glob("*.json"))}
        self.records = {k: json.loads(p.read_bytes()) for k, p in self.files.items()}
        self.modified = {k: r["modified"] for k, r in self.records.items()} | (modified or {})
        self.by_package: dict[str, list[str]] = {}
        for vuln_id, record in self.records.items():
            for affected in record["affected"]:
                names = self.by_package.setdefault(affected["package"]["name"], [])
                if vuln_id not in names:
                    names.append(vuln_id)

    def querybatch(self, request: Request) -> Reply:
        results = []
        for query in request.json()["queries"]:
            ids = self.by_package.get(query["package"]["name"], [])
            # A package with several advisories answers them one page at a time.
            start = int(query.get("page_token", "0"))
            page = ids[start : start + 1] if len(ids) > 1 else ids
            result: dict[str, Any] = {}
            if page:
                result["vulns"] = [{"id": i, "modified": self.modified[i]} for i in page]
            if len(ids) > 1 and start + 1 < len(ids):
                result["next_page_token"] = str(start + 1)
            results.append(result)
        return Reply(body={"results": results})

    def serve(self, **overrides: tuple[Reply, ...]) -> None:
        self.server.route("POST", QUERYBATCH, self.querybatch)
        for vuln_id, path in self.files.items():
            replies = overrides.get(vuln_id, ())
            body = Reply(body=path.read_bytes(), headers={"Content-Type": "application/json"})
            self.server.route("GET", f"/v1/vulns/{vuln_id}", *replies, body)

    def gets(self, vuln_id: str) -> int:
        return len(self.server.requests_to(f"/v1/vulns/{vuln_id}"))


def _by_claim(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in frame.columns if c not in LOCATION]
    return frame[columns].sort_values(columns[:8]).reset_index(drop=True)


def _said(frame: pd.DataFrame, log: EvidenceLog) -> str:
    return " ".join(f.to_csv() for f in (frame, log.problems, log.inputs))


ASKED = {
    "node-ipc": ["10.1.2", "9.2.3"],  # two advisories: a second page
    "flatmap-stream": ["0.1.1"],  # two advisories (one through event-stream's record)
    "chalk": ["5.6.1"],
    "@ctrl/tinycolor": ["4.1.1"],
    "left-pad": ["1.3.0"],  # none
}


def test_ids_are_read_once_and_read_as_the_files_are(shared: Path, server: Server) -> None:
    folder = shared / "corpus" / "advisories"
    osv = FakeOSV(server, folder)
    osv.serve(
        # one record fails once, one is cut short once: both are retried
        **{
            "MAL-2026-3744": (Reply(500, body="internal error"),),
            "MAL-2025-47141": (
                Reply(
                    body=osv.files["MAL-2025-47141"].read_bytes(),
                    truncate_at=300,
                    headers={"Content-Type": "application/json"},
                ),
            ),
        }
    )
    # OSV rate limits the first batch.
    server.route(
        "POST",
        QUERYBATCH,
        Reply(429, headers={"Retry-After": "0"}, body="slow down"),
        osv.querybatch,
    )
    log = EvidenceLog()
    with make_client(server) as client:
        frame = validate(load_osv_api(ASKED, log=log, client=client), "advisories")

    assert log.problems.empty, log.problems.to_dict("records")
    expected_ids = {"GHSA-97m3-w2cp-4xx6", "MAL-2026-3744", "GHSA-mh6f-8j2x-4483"} | {
        "MAL-2025-20690",
        "MAL-2025-46969",
        "MAL-2025-47141",
    }
    assert set(frame["advisory_id"]) == expected_ids
    assert {i: osv.gets(i) for i in expected_ids} == {
        i: 2 if i in {"MAL-2026-3744", "MAL-2025-47141"} else 1 for i in expected_ids
    }
    from_files = load_advisories([osv.files[i] for i in sorted(expected_ids)])
    pd.testing.assert_frame_equal(_by_claim(frame), _by_claim(from_files))
    assert set(frame["source"]) == {"osv-api"}
    for vuln_id, rows in frame.groupby("advisory_id"):
        assert set(rows["evidence"]) == {f"{server.url}/v1/vulns/{vuln_id}"}
        assert set(rows["url"]) == {f"https://osv.dev/vulnerability/{vuln_id}"}

    batches = server.requests_to(QUERYBATCH)
    assert len(batches) == 3  # the 429, the first answer, one round of second pages
    first = batches[1].json()["queries"]
    assert first == [
        {"package": {"name": n, "ecosystem": "npm"}, "version": v}
        for n, vs in ASKED.items()
        for v in vs
    ]
    assert batches[0].body == batches[1].body
    again = batches[2].json()["queries"]
    assert {(q["package"]["name"], q["page_token"]) for q in again} == {
        ("node-ipc", "1"),
        ("flatmap-stream", "1"),
    }
    inputs = log.inputs
    records = inputs[inputs["format"] == "OSV record"]
    assert len(records) == len(expected_ids) and set(records["status"]) == {"parsed"}
    assert records["sha256"].str.len().eq(64).all()


def test_more_than_a_thousand_queries_go_in_several_batches(server: Server, client: Client) -> None:
    server.route(
        "POST",
        QUERYBATCH,
        lambda request: Reply(body={"results": [{} for _ in request.json()["queries"]]}),
    )
    versions = [f"1.0.{n}" for n in range(1500)]
    log = EvidenceLog()
    frame = validate(load_osv_api({"chalk": versions}, log=log, client=client), "advisories")
    assert frame.empty
    sizes = [len(r.json()["queries"]) for r in server.requests_to(QUERYBATCH)]
    assert sizes == [MAX_QUERIES, 500]
    sent = [q["version"] for r in server.requests_to(QUERYBATCH) for q in r.json()["queries"]]
    assert sent == versions
    assert list(log.inputs["status"]) == ["empty", "empty"]
    assert log.complete


def test_pairs_with_no_version_ask_for_every_version(server: Server, client: Client) -> None:
    server.route(
        "POST",
        QUERYBATCH,
        lambda request: Reply(body={"results": [{} for _ in request.json()["queries"]]}),
    )
    load_osv_api([("chalk", ""), ("chalk", "5.6.1"), ("chalk", "5.6.1")], client=client)
    (request,) = server.requests_to(QUERYBATCH)
    assert request.json()["queries"] == [
        {"package": {"name": "chalk", "ecosystem": "npm"}},
        {"package": {"name": "chalk", "ecosystem": "npm"}, "version": "5.6.1"},
    ]


def test_a_record_that_keeps_failing_is_a_problem_and_the_rest_still_load(
    shared: Path, server: Server, client: Client
) -> None:
    osv = FakeOSV(server, shared / "corpus" / "advisories")
    cut = osv.files["MAL-2025-46969"].read_bytes()
    osv.serve(
        **{
            "MAL-2026-3744": (Reply(503, body="backend unavailable"),) * 5,
            "MAL-2025-46969": (
                Reply(body=cut, truncate_at=len(cut) // 2, headers={"Content-Type": "x/json"}),
            )
            * 5,
        }
    )
    log = EvidenceLog()
    frame = validate(
        load_osv_api({"node-ipc": ["9.2.3"], "chalk": ["5.6.1"]}, log=log, client=client),
        "advisories",
    )
    assert set(frame["advisory_id"]) == {"GHSA-97m3-w2cp-4xx6"}
    problems = log.problems.set_index("evidence")
    down = problems.loc[f"{server.url}/v1/vulns/MAL-2026-3744"]
    assert down["kind"] == "http" and "503" in down["message"]
    assert "MAL-2026-3744" in down["message"] and "gave up after 3 attempts" in down["message"]
    cut_short = problems.loc[f"{server.url}/v1/vulns/MAL-2025-46969"]
    assert cut_short["kind"] == "truncated"
    assert osv.gets("MAL-2026-3744") == 3
    assert not log.complete
    failed = log.inputs[log.inputs["status"] == "failed"]
    assert set(failed["evidence"]) == set(problems.index)


def test_a_failed_querybatch_names_the_packages_it_could_not_check(
    server: Server, client: Client
) -> None:
    server.route("POST", QUERYBATCH, Reply(500, body="boom"))
    log = EvidenceLog()
    frame = load_osv_api({"chalk": ["5.6.1"], "debug": ["4.4.2"]}, log=log, client=client)
    assert frame.empty
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "http" and problem["source"] == "osv-api"
    assert "chalk@5.6.1, debug@4.4.2" in problem["message"]
    assert "unknown" in problem["message"]
    assert len(server.requests_to(QUERYBATCH)) == 3


def test_an_answer_with_the_wrong_number_of_results_is_not_read(
    server: Server, client: Client
) -> None:
    server.json(
        QUERYBATCH, {"results": [{"vulns": [{"id": "MAL-1", "modified": "x"}]}]}, method="POST"
    )
    log = EvidenceLog()
    frame = load_osv_api({"chalk": ["5.6.1"], "debug": ["4.4.2"]}, log=log, client=client)
    assert frame.empty
    assert list(log.problems["kind"]) == ["invalid"]
    assert "answered 1 results, not one per query" in log.problems["message"][0]
    assert not server.requests_to("/v1/vulns/MAL-1")  # nothing read from a broken answer


def test_a_repeated_page_token_stops_paging(server: Server, client: Client) -> None:
    answer = {"results": [{"vulns": [], "next_page_token": "same"}]}
    server.json(QUERYBATCH, answer, method="POST")
    log = EvidenceLog()
    load_osv_api({"chalk": ["5.6.1"]}, log=log, client=client)
    assert len(server.requests_to(QUERYBATCH)) == 2
    assert list(log.problems["kind"]) == ["pagination"]


def _run(server: Server, cache: Path) -> EvidenceLog:
    log = EvidenceLog()
    with make_client(server, cache_dir=cache) as client:
        validate(
            load_osv_api({"chalk": ["5.6.1"], "node-ipc": []}, log=log, client=client), "advisories"
        )
    return log


def test_the_cache_is_used_while_modified_is_unchanged(
    shared: Path, server: Server, tmp_path: Path
) -> None:
    folder = shared / "corpus" / "advisories"
    osv = FakeOSV(server, folder)
    osv.serve()
    ids = ["GHSA-97m3-w2cp-4xx6", "MAL-2025-46969", "MAL-2026-3744"]
    first = _run(server, tmp_path)
    assert [osv.gets(i) for i in ids] == [1, 1, 1]
    second = _run(server, tmp_path)
    assert [osv.gets(i) for i in ids] == [1, 1, 1]  # no request for an unchanged record
    notes = second.inputs.set_index("evidence")["notes"]
    assert "from the response cache" in notes[f"{server.url}/v1/vulns/MAL-2026-3744"]
    assert first.problems.empty and second.problems.empty

    # OSV now says one record changed: only that one is read again.
    newer = FakeOSV(server, folder, modified={"MAL-2026-3744": "2026-06-01T00:00:00Z"})
    server.route("POST", QUERYBATCH, newer.querybatch)
    _run(server, tmp_path)
    assert [osv.gets(i) for i in ids] == [1, 1, 2]


def test_an_offline_client_reports_that_it_cannot_ask(server: Server, tmp_path: Path) -> None:
    log = EvidenceLog()
    with make_client(server, cache_dir=tmp_path, offline=True) as client:
        frame = load_osv_api({"chalk": ["5.6.1"]}, log=log, client=client)
    assert frame.empty and not server.requests
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "offline" and "chalk@5.6.1" in problem["message"]


def test_a_withdrawn_record_gives_no_claims_and_says_so(
    shared: Path, server: Server, client: Client
) -> None:
    record = json.loads((shared / "corpus" / "advisories" / "MAL-2025-6020.json").read_bytes())
    record["withdrawn"] = "2025-08-01T00:00:00Z"
    server.json(
        QUERYBATCH,
        {"results": [{"vulns": [{"id": record["id"], "modified": record["modified"]}]}]},
        method="POST",
    )
    server.json(f"/v1/vulns/{record['id']}", record)
    log = EvidenceLog()
    frame = load_osv_api({"is": ["3.3.1"]}, log=log, client=client)
    assert frame.empty and log.problems.empty
    entry = log.inputs[log.inputs["format"] == "OSV record"].iloc[0]
    assert entry["status"] == "empty" and "withdrawn 2025-08-01" in entry["notes"]


def test_a_record_that_is_not_osv_is_a_problem(server: Server, client: Client) -> None:
    server.json(
        QUERYBATCH, {"results": [{"vulns": [{"id": "MAL-9", "modified": "x"}]}]}, method="POST"
    )
    server.json("/v1/vulns/MAL-9", {"code": 5, "message": "Bug not found."})
    log = EvidenceLog()
    frame = load_osv_api({"x": ["1.0.0"]}, log=log, client=client)
    assert frame.empty
    (problem,) = log.problems.to_dict("records")
    assert problem["kind"] == "invalid" and problem["evidence"] == f"{server.url}/v1/vulns/MAL-9"
