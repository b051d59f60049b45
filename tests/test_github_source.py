"""The GitHub API inventory source against a GitHub-shaped server on loopback.

The server answers the REST endpoints the loader calls with GitHub's JSON shapes: repository
listings paged with ``Link`` headers, recursive trees, base64 blobs (with GitHub's line breaks),
open pull requests (from forks too) and the dependency-graph SBOM. Lockfiles are real ones from
the shared corpus, so what the API path reads is compared with what ``load_inventory`` reads
from the same bytes on disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from ircore import EvidenceLog, load_inventory, new_frame, validate
from ircore.analysis import blast_radius_summary
from ircore.http import Client
from ircore.inventory._github import github_client, load_github_inventory
from ircore.inventory._sbom import parse_sbom
from ircore.report import problems_html
from tests._fake_github import FakeGitHub, Pull, blob_id, commit_id
from tests._http_server import Reply, Server
from tests._lockfiles import lock_v3

TOKEN = "ghp_IRCORE0GITHUB0TEST0TOKEN0leak0check9"
ENV = "IRCORE_GH_TEST_TOKEN"
CORPUS = {
    "package-lock.json": "corpus/lockfiles/jquery/lock-v3/package-lock.json",
    "legacy/package-lock.json": "corpus/lockfiles/jquery/lock-v1/package-lock.json",
    "packages/vue/pnpm-lock.yaml": "corpus/lockfiles/vuejs-core/pnpm-v9-multidoc/pnpm-lock.yaml",
    "tools/yarn.lock": "corpus/lockfiles/redux/yarn-berry/yarn.lock",
    "bun/bun.lock": "corpus/lockfiles/hono/bun-lock/bun.lock",
}
# Where a row was read, as opposed to what it says.
LOCATION = ["file", "repo", "ref", "surface", "host", "source", "evidence"]


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def client(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv(ENV, TOKEN)
    with github_client(
        base_url=server.url,
        token_env=ENV,
        retries=2,
        backoff=0.001,
        backoff_max=0.005,
        timeout=5.0,
    ) as http:
        yield http


def everything_said(frame: pd.DataFrame, log: EvidenceLog) -> str:
    return " ".join(f.to_csv() for f in (frame, log.problems, log.inputs))


def test_corpus_lockfiles_read_through_the_api_match_load_inventory(
    shared: Path, server: Server, client: Client
) -> None:
    files = {path: (shared / source).read_bytes() for path, source in CORPUS.items()}
    github = FakeGitHub(server)
    github.repo("web", {**files, "README.md": b"# web\n"})
    github.serve()
    log = EvidenceLog()
    frame = validate(
        load_github_inventory("acme", pull_requests=False, sbom=False, log=log, client=client),
        "inventory",
    )
    assert log.problems.empty, log.problems.to_dict("records")
    assert len(log.inputs) == len(CORPUS)
    for path, source in CORPUS.items():
        expected = load_inventory(shared / source, log=EvidenceLog())
        got = frame[frame["file"] == path]
        assert len(got) == len(expected) > 0, path
        pd.testing.assert_frame_equal(
            got.drop(columns=LOCATION).reset_index(drop=True),
            expected.drop(columns=LOCATION).reset_index(drop=True),
        )
        sha = blob_id(files[path])
        assert set(got["evidence"]) == {f"{server.url}/repos/acme/web/git/blobs/{sha}"}
    assert set(frame["source"]) == {"github"}
    assert set(frame["ref"]) == {"main"} and set(frame["surface"]) == {"default_branch"}
    tree_request = server.requests_to("/repos/acme/web/git/trees/main")[0]
    assert tree_request.param("recursive") == "1"
    assert tree_request.headers["accept"] == "application/vnd.github+json"
    assert tree_request.headers["x-github-api-version"] == "2022-11-28"


def test_an_org_on_two_pages_with_archived_repos_forks_and_fork_prs(
    server: Server, client: Client
) -> None:
    main_lock = lock_v3({"chalk": "5.6.2"}, nested={"debug": "4.4.1"}).encode()
    fork_lock = lock_v3({"chalk": "5.6.1"}, nested={"debug": "4.4.1"}).encode()
    manifest = json.dumps({"name": "web", "dependencies": {"chalk": "^5.6.0"}}).encode()
    github = FakeGitHub(server)
    github.repo(
        "web",
        {"package-lock.json": main_lock, "package.json": manifest},
        pulls=(
            Pull(7, {"package-lock.json": fork_lock, "package.json": manifest}, "mallory/web"),
            Pull(8, {"package-lock.json": main_lock, "package.json": manifest}, "acme/web"),
        ),
        # GitHub has a bad moment on the first tree request; the retry gets it.
        tree_replies=(Reply(502, body="Bad Gateway"),),
    )
    github.repo("api", {"services/a/package-lock.json": main_lock}, archived=True)
    github.repo(
        "site",
        {"package-lock.json": lock_v3({"left-pad": "1.3.0"}).encode()},
        default="master",
        fork=True,
    )
    github.serve()
    log = EvidenceLog()
    frame = validate(load_github_inventory("acme", log=log, client=client), "inventory")

    pages = server.requests_to("/orgs/acme/repos")
    assert [r.param("page") for r in pages] == [None, "2"]
    assert pages[0].param("per_page") == "100" and pages[0].param("type") == "all"
    assert set(frame["repo"]) == {"web", "api", "site"}
    web = frame[(frame["repo"] == "web") & (frame["name"] == "chalk")]
    assert dict(zip(web["ref"], web["version"], strict=True)) == {
        "main": "5.6.2",
        "pull/7/head": "5.6.1",
        "pull/8/head": "5.6.2",
    }
    assert dict(zip(web["ref"], web["surface"], strict=True)) == {
        "main": "default_branch",
        "pull/7/head": "pull_request",
        "pull/8/head": "pull_request",
    }
    assert set(frame.loc[frame["repo"] == "site", "ref"]) == {"master"}

    notes = {(str(i.repo), str(i.ref)): str(i.notes) for i in log.inputs.itertuples()}
    assert "from fork mallory/web" in notes[("web", "pull/7/head")]
    assert "fork" not in notes[("web", "pull/8/head")]
    assert "archived" in notes[("api", "main")]
    assert "a fork" in notes[("site", "master")]

    # One lockfile content in three places (web main, PR 8, archived api): fetched once.
    assert github.blob_fetches(main_lock) == 1
    assert github.blob_fetches(manifest) == 1
    assert len(server.requests_to("/repos/acme/web/git/trees/main")) == 2
    assert not server.unmatched
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in server.requests)

    # No dependency graph anywhere: one "unavailable" problem per repository, nothing else.
    problems = log.problems
    assert list(problems["kind"]) == ["unavailable"] * 3
    assert set(problems["source"]) == {"github-sbom"}
    assert set(problems["repo"]) == {"web", "api", "site"}
    assert TOKEN not in everything_said(frame, log)


def test_a_persistent_failure_is_a_problem_and_the_other_refs_are_read(
    server: Server, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    lock = lock_v3({"chalk": "5.6.1"}).encode()
    other = lock_v3({"debug": "4.4.1"}).encode()
    github = FakeGitHub(server)
    github.repo("web", {"package-lock.json": lock}, pulls=(Pull(3, {"x/yarn.lock": b""}, None),))
    github.repo("api", {"package-lock.json": other})
    github.serve()
    # The PR's tree and the api lockfile's blob never come back.
    pr_tree = f"/repos/acme/web/git/trees/{commit_id('acme/web#3')}"
    server.route("GET", pr_tree, Reply(500, body={"message": "Server Error"}))
    blob = f"/repos/acme/api/git/blobs/{blob_id(other)}"
    server.route("GET", blob, Reply(503, body="unavailable"))
    caplog.set_level("DEBUG", logger="ircore.http")
    log = EvidenceLog()
    frame = load_github_inventory("acme", sbom=False, log=log, client=client)

    assert set(frame["name"]) == {"chalk"}  # web main is read despite its failing PR
    problems = log.problems.set_index("ref")
    assert set(problems.index) == {"pull/3/head", "main"}
    pr = problems.loc["pull/3/head"]
    tree_url = f"{server.url}{pr_tree}?recursive=1"
    assert (pr["repo"], pr["kind"], pr["evidence"]) == ("web", "http", tree_url)
    assert "HTTP 500" in pr["message"] and "were not" in pr["message"]
    api = problems.loc["main"]
    assert (api["repo"], api["kind"], api["evidence"]) == ("api", "http", server.url + blob)
    assert "package-lock.json of acme/api at main" in api["message"]
    failed = log.inputs[log.inputs["status"] == "failed"]
    assert list(failed["file"]) == ["package-lock.json"] and list(failed["repo"]) == ["api"]
    assert len(server.requests_to(pr_tree)) == 3  # retried, then given up

    # The report says the source was not fully read, and where.
    summary = blast_radius_summary(new_frame("exposure"), frame, log.inputs, problems=log.problems)
    assert not summary["complete"] and summary["verdict_level"] == "inconclusive"
    assert "could not be read" in summary["verdict"]
    box = problems_html(log.problems, log.inputs)
    assert '"Not affected" cannot be concluded' in box
    assert pr_tree in box
    assert TOKEN not in everything_said(frame, log) + caplog.text + box


def test_a_truncated_tree_is_a_problem_naming_what_may_be_missed(
    server: Server, client: Client
) -> None:
    github = FakeGitHub(server)
    github.repo("mono", {"package-lock.json": lock_v3({"chalk": "5.6.2"}).encode()}, truncated=True)
    github.serve()
    log = EvidenceLog()
    frame = load_github_inventory("acme", pull_requests=False, sbom=False, log=log, client=client)
    assert list(frame["name"].unique()) == ["chalk"]  # what the listing holds is still read
    (problem,) = log.problems.itertuples()
    assert (problem.kind, problem.repo, problem.ref) == ("truncated", "mono", "main")
    assert problem.evidence == f"{server.url}/repos/acme/mono/git/trees/main?recursive=1"
    assert "were not read" in str(problem.message) and "first 1 entries" in str(problem.message)


def test_the_sbom_is_read_as_its_own_source(server: Server, client: Client) -> None:
    sbom = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "com.github.acme/web",
        "documentNamespace": "https://spdx.org/spdxdocs/protobom/example",
        "creationInfo": {"creators": ["Tool: protobom-v0.0.0"], "created": "2025-09-09T00:00:00Z"},
        "documentDescribes": ["SPDXRef-github-acme-web-main"],
        "packages": [
            {
                "SPDXID": "SPDXRef-github-acme-web-main",
                "name": "com.github.acme/web",
                "versionInfo": "main",
                "downloadLocation": "git+https://github.com/acme/web",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:github/acme/web@main",
                    }
                ],
            },
            *(
                {
                    "SPDXID": f"SPDXRef-npm-{name.replace('@', '').replace('/', '-')}-{version}",
                    "name": name,
                    "versionInfo": version,
                    "downloadLocation": "NOASSERTION",
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": f"pkg:npm/{name.replace('@', '%40')}@{version}",
                        }
                    ],
                }
                for name, version in (("chalk", "5.6.1"), ("@ctrl/tinycolor", "4.1.1"))
            ),
        ],
        "relationships": [
            {
                "relationshipType": "DESCRIBES",
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": "SPDXRef-github-acme-web-main",
            }
        ],
    }
    github = FakeGitHub(server)
    github.repo("web", {"README.md": b"no lockfile here\n"}, sbom=sbom)
    github.serve()
    log = EvidenceLog()
    frame = validate(
        load_github_inventory("acme", pull_requests=False, log=log, client=client), "inventory"
    )
    expected = parse_sbom(json.dumps({"sbom": sbom}).encode())
    assert len(frame) == len(expected.rows) == 2
    assert set(zip(frame["name"], frame["version"], strict=True)) == {
        (r["name"], r["version"]) for r in expected.rows
    }
    assert set(frame["source"]) == {"github-sbom"}
    assert set(frame["surface"]) == {"default_branch"} and set(frame["ref"]) == {"main"}
    url = f"{server.url}/repos/acme/web/dependency-graph/sbom"
    assert set(frame["evidence"]) == {url}
    (read,) = log.inputs.itertuples()
    assert (read.source, read.status, read.format, read.packages) == (
        "github-sbom",
        "parsed",
        expected.format,
        2,
    )
    assert "default branch only" in str(read.notes)
    assert log.problems.empty


def test_without_a_token_the_scan_says_private_repos_were_not_read(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IRCORE_GH_UNSET", raising=False)
    github = FakeGitHub(server)
    github.repo("web", {"package-lock.json": lock_v3({"chalk": "5.6.2"}).encode()})
    github.serve()
    log = EvidenceLog()
    frame = load_github_inventory(
        "acme",
        base_url=server.url,
        token_env="IRCORE_GH_UNSET",
        pull_requests=False,
        sbom=False,
        log=log,
    )
    assert set(frame["name"]) == {"chalk"}
    (problem,) = log.problems.itertuples()
    assert problem.kind == "unauthenticated" and "IRCORE_GH_UNSET" in str(problem.message)
    assert all("authorization" not in r.headers for r in server.requests)


def test_a_spent_rate_limit_stops_the_scan_with_every_unread_repo_named(
    server: Server, client: Client
) -> None:
    github = FakeGitHub(server, page_size=10)
    lock = lock_v3({"chalk": "5.6.2"}).encode()
    resets = str(2_000_000_000)  # far in the future: more than max_wait away
    limited = Reply(
        403,
        body={"message": "API rate limit exceeded for installation ID 1."},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": resets},
    )
    github.repo("a", {"package-lock.json": lock}, tree_replies=(limited,))
    github.repo("b", {"package-lock.json": lock})
    github.repo("c", {"package-lock.json": lock})
    github.serve()
    log = EvidenceLog()
    frame = load_github_inventory("acme", pull_requests=False, sbom=False, log=log, client=client)
    assert frame.empty
    problems = log.problems
    assert list(problems["repo"]) == ["a", "b", "c"]
    assert set(problems["kind"]) == {"rate-limited"}
    assert "max_wait" in problems["message"].iloc[0]
    assert "ran out earlier" in problems["message"].iloc[1]
    # b and c were not asked for at all: one request for a's tree was enough to know.
    assert not server.requests_to("/repos/acme/b/git/trees/main")
    assert len(server.requests_to("/repos/acme/a/git/trees/main")) == 1


def test_an_empty_repository_and_a_missing_named_repository(server: Server, client: Client) -> None:
    server.json(
        "/repos/acme/empty",
        {"name": "empty", "full_name": "acme/empty", "default_branch": "main"},
    )
    server.json(
        "/repos/acme/empty/git/trees/main", {"message": "Git Repository is empty."}, status=409
    )
    log = EvidenceLog()
    frame = load_github_inventory(
        "acme",
        repos=["empty", "acme/ghost"],
        pull_requests=False,
        sbom=False,
        log=log,
        client=client,
    )
    assert frame.empty
    kinds = dict(zip(log.problems["repo"], log.problems["kind"], strict=True))
    assert kinds == {"empty": "empty-repo", "ghost": "http"}
    assert not server.requests_to("/orgs/acme/repos")  # named repositories: no listing
