"""StepSecurity NPM Package Search and Developer MDM search against a loopback server.

The server answers with the shapes StepSecurity's own MCP client reads (paths, body keys and
fields); the values are invented.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from ircore import EvidenceLog, validate
from ircore.http import Client
from ircore.inventory._stepsecurity import (
    load_stepsecurity_mdm_search,
    load_stepsecurity_npm_search,
    stepsecurity_client,
)
from ircore.report import problems_html
from tests._http_server import Reply, Request, Server

KEY = "sk_IRCORE0STEPSECURITY0TEST0KEY0leak0check7"
ENV = "IRCORE_STEPSEC_TEST_KEY"
SEARCH = "/github/acme/npm-packages/search"
MDM = "/tenant-1/developer-mdm/npm-packages/search"

SEP_8 = pd.Timestamp("2025-09-08 13:00:00", tz="UTC")
SEP_9 = pd.Timestamp("2025-09-09 13:00:00", tz="UTC")


def seconds(stamp: pd.Timestamp) -> int:
    return int(stamp.timestamp())


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def client(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv(ENV, KEY)
    with stepsecurity_client(
        base_url=server.url, key_env=ENV, retries=2, backoff=0.001, backoff_max=0.005
    ) as http:
        yield http


def search_answer() -> dict:
    return {
        "packages": [
            {
                "owner": "acme",
                "repo": "web",
                "package": "chalk",
                "version": "5.6.1",
                "seen_in_any_prs": True,
                "seen_in_any_workflow_runs": True,
                "seen_in_default_branch": True,
                # milliseconds here, seconds below: the unit is undocumented
                "first_seen_in_default_branch": seconds(SEP_8) * 1000,
                "last_seen_in_default_branch": seconds(SEP_9) * 1000,
                "prs": {"412": {"head_sha": "abc"}, "415": {}},
                "workflow_runs": {"16001234567": {"conclusion": "success"}},
                "source_files_in_default_branch": ["package-lock.json", "apps/admin/yarn.lock"],
            },
            {
                "owner": "acme",
                "repo": "api",
                "package": "debug",
                "version": "4.4.2",
                "seen_in_any_prs": False,
                "seen_in_any_workflow_runs": False,
                "seen_in_default_branch": True,
                "first_seen_in_default_branch": seconds(SEP_8),
                "last_seen_in_default_branch": 0,
                "prs": {},
                "workflow_runs": {},
                "source_files_in_default_branch": ["package-lock.json"],
            },
            {
                "owner": "acme",
                "repo": "docs",
                "package": "chalk",
                "version": "5.6.1",
                "seen_in_any_prs": True,
                "seen_in_any_workflow_runs": False,
                "seen_in_default_branch": False,
                "first_seen_in_default_branch": 0,
                "last_seen_in_default_branch": 0,
                "prs": {},  # the flag says PRs, the map names none: the claim is kept
                "workflow_runs": {},
                "source_files_in_default_branch": [],
            },
        ],
        "packages_with_ai_analysis": [],
    }


def test_npm_search_rows_per_place_seen(server: Server, client: Client) -> None:
    # A first 429 with a short Retry-After: the POST is sent again with the same body.
    server.route(
        "POST", SEARCH, Reply(429, headers={"Retry-After": "0"}), Reply(body=search_answer())
    )
    log = EvidenceLog()
    start = datetime.now(timezone.utc) - timedelta(days=30)
    end = datetime.now(timezone.utc)
    frame = validate(
        load_stepsecurity_npm_search(
            "acme",
            {"chalk": ["5.6.1"], "debug": []},
            start=start,
            end=end,
            log=log,
            client=client,
        ),
        "inventory",
    )
    first, second = server.requests_to(SEARCH)
    assert first.body == second.body
    sent = second.json()
    assert sent == {
        "owner": "acme",
        "packages": [
            {"package": "chalk", "versions": ["5.6.1"]},
            {"package": "debug", "versions": []},
        ],
        "seen_only_in_prs": False,
        "start_time": int(start.timestamp()),
        "end_time": int(end.timestamp()),
    }
    assert second.headers["authorization"] == f"Bearer {KEY}"
    assert second.headers["content-type"] == "application/json"

    web = frame[frame["repo"] == "web"]
    places = sorted(zip(web["surface"], web["ref"], web["file"], strict=True))
    assert places == [
        ("default_branch", "", "apps/admin/yarn.lock"),
        ("default_branch", "", "package-lock.json"),
        ("pull_request", "pull/412/head", ""),
        ("pull_request", "pull/415/head", ""),
        ("workflow_run", "actions/runs/16001234567", ""),
    ]
    default = web[web["surface"] == "default_branch"]
    assert set(default["first_seen"]) == {SEP_8} and set(default["last_seen"]) == {SEP_9}
    api = frame[frame["repo"] == "api"].iloc[0]
    assert api["first_seen"] == SEP_8 and pd.isna(api["last_seen"])
    docs = frame[frame["repo"] == "docs"]
    assert list(zip(docs["surface"], docs["ref"], strict=True)) == [("pull_request", "")]
    assert len(frame) == 7
    assert set(frame["source"]) == {"stepsecurity"}

    # The undocumented inner maps are kept verbatim in the evidence.
    pr = web[web["ref"] == "pull/412/head"].iloc[0]
    url, raw = pr["evidence"].split(" ", 1)
    assert url == f"{server.url}{SEARCH}"
    assert json.loads(raw)["prs"] == {"412": {"head_sha": "abc"}}
    (read,) = log.inputs.itertuples()
    assert (read.status, read.packages) == ("parsed", 7)
    assert "epoch milliseconds and epoch seconds" in str(read.notes)
    assert "not documented" in str(read.notes)
    assert log.problems.empty


def test_a_window_longer_than_90_days_is_flagged_and_its_refusal_explained(
    server: Server, client: Client
) -> None:
    server.route("POST", SEARCH, Reply(400, body={"error": "start_time too old"}))
    log = EvidenceLog()
    frame = load_stepsecurity_npm_search(
        "acme",
        {"chalk": []},
        start=datetime.now() - timedelta(days=200),  # naive: taken as UTC
        log=log,
        client=client,
    )
    assert frame.empty
    (problem,) = log.problems.itertuples()
    assert problem.kind == "http" and "HTTP 400" in str(problem.message)
    assert "90 days" in str(problem.message)
    assert len(server.requests_to(SEARCH)) == 1  # a 400 is not retried
    assert "end_time" in server.requests[0].json()


def test_a_persistent_server_error_leaves_the_search_unread(
    server: Server, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("POST", SEARCH, Reply(500, body="internal error"))
    caplog.set_level("DEBUG", logger="ircore.http")
    log = EvidenceLog()
    frame = validate(
        load_stepsecurity_npm_search("acme", {"chalk": ["5.6.1"]}, log=log, client=client),
        "inventory",
    )
    assert frame.empty
    (problem,) = log.problems.itertuples()
    assert (problem.source, problem.kind, problem.evidence) == (
        "stepsecurity",
        "http",
        f"{server.url}{SEARCH}",
    )
    assert "is unknown" in str(problem.message)
    assert list(log.inputs["status"]) == ["failed"]
    assert len(server.requests_to(SEARCH)) == 3
    assert not log.complete
    assert '"Not affected" cannot be concluded' in problems_html(log.problems, log.inputs)


def test_a_truncated_answer_is_a_problem_of_its_own_kind(server: Server, client: Client) -> None:
    whole = json.dumps(search_answer())
    server.route("POST", SEARCH, Reply(body=whole[: len(whole) // 2], length=False))
    log = EvidenceLog()
    frame = load_stepsecurity_npm_search("acme", {"chalk": []}, log=log, client=client)
    assert frame.empty
    assert list(log.problems["kind"]) == ["truncated"]


def test_more_results_than_one_answer_is_not_a_silent_cut(server: Server, client: Client) -> None:
    server.json(SEARCH, {**search_answer(), "has_more": True, "next_token": "n1"}, method="POST")
    log = EvidenceLog()
    frame = load_stepsecurity_npm_search("acme", {"chalk": []}, log=log, client=client)
    assert len(frame) == 7
    assert list(log.problems["kind"]) == ["pagination"]


def test_the_key_is_required_and_never_shown(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="ircore.http")
    monkeypatch.delenv(ENV, raising=False)
    log = EvidenceLog()
    load_stepsecurity_mdm_search(
        "tenant-1", {"chalk": []}, base_url=server.url, key_env=ENV, log=log
    )
    (problem,) = log.problems.itertuples()
    assert problem.kind == "auth" and ENV in str(problem.message)
    assert not server.requests

    # With the key set, a server that echoes it back in an error does not get it shown.
    monkeypatch.setenv(ENV, KEY)

    def echo(request: Request) -> Reply:
        return Reply(401, body={"message": f"invalid key {request.headers['authorization']}"})

    server.route("POST", MDM, echo)
    log = EvidenceLog()
    load_stepsecurity_mdm_search(
        "tenant-1", {"chalk": []}, base_url=server.url, key_env=ENV, log=log
    )
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    said = log.problems.to_csv() + log.inputs.to_csv() + caplog.text
    assert "invalid key" in said and KEY not in said


def installation(host: str, version: str, **extra: object) -> dict:
    return {
        "customer_device": f"tenant-1/{host}",
        "customer": "tenant-1",
        "device_id": f"dev-{host}",
        "user_identity": f"{host}@acme.example",
        "hostname": host,
        "package_name": "chalk",
        "package_version": version,
        "package_with_version": f"chalk@{version}",
        "is_direct": True,
        "is_global": False,
        "first_seen_at": seconds(SEP_8),
        "last_seen_at": seconds(SEP_9) * 1000,
        **extra,
    }


def test_mdm_search_filters_versions_here_and_says_how_many(server: Server, client: Client) -> None:
    answer = {
        "results": [
            {
                "package_name": "chalk",
                "package_version": "",
                "installations": [
                    installation("laptop-1", "5.6.1"),
                    installation("laptop-2", "5.6.2"),
                    installation("build-3", "5.6.1", is_global=True, is_direct=False),
                ],
            }
        ],
        "total_results": 3,
    }
    server.json(MDM, answer, method="POST")
    log = EvidenceLog()
    frame = validate(
        load_stepsecurity_mdm_search("tenant-1", {"chalk": ["5.6.1"]}, log=log, client=client),
        "inventory",
    )
    assert server.requests[0].json() == {"packages": [{"name": "chalk", "version": ""}]}
    assert sorted(frame["host"]) == ["build-3", "laptop-1"]
    assert set(frame["version"]) == {"5.6.1"}
    laptop = frame.set_index("host").loc["laptop-1"]
    assert laptop["user"] == "laptop-1@acme.example"
    assert laptop["direct"] == True  # noqa: E712 (nullable boolean)
    assert laptop["first_seen"] == SEP_8 and laptop["last_seen"] == SEP_9
    assert laptop["surface"] == "host" and laptop["source"] == "stepsecurity-mdm"
    assert "dev-laptop-1" in laptop["evidence"]
    (read,) = log.inputs.itertuples()
    assert "1 of 3 installations were of other versions" in str(read.notes)
    assert "1 of the installations kept are global" in str(read.notes)
    assert "epoch milliseconds and epoch seconds" in str(read.notes)


def test_mdm_search_with_no_results(server: Server, client: Client) -> None:
    server.json(MDM, {"results": None, "total_results": 0}, method="POST")
    log = EvidenceLog()
    frame = validate(
        load_stepsecurity_mdm_search("tenant-1", {"chalk": []}, log=log, client=client),
        "inventory",
    )
    assert frame.empty
    assert list(log.inputs["status"]) == ["empty"]
    assert log.problems.empty
