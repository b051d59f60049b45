"""npm packuments into the ``versions`` frame, against a registry-shaped server on loopback.

The server answers with the real packuments of ``../shared/corpus/registry`` (read from there,
never copied). Where a test needs what those files lack (``created``/``modified`` in ``time``, the
time entry npm keeps for an unpublished version, ``_npmUser``, ``deprecated``), it adds that to an
in-memory copy of a real packument and says so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore import EvidenceLog, validate
from ircore.http import Client
from ircore.registry import load_versions, packument_path, publish_window, registry_client
from tests._http_server import Reply, Request, Server
from tests._shared import shared_path

# Versions per packument, counted apart from ircore:
#   cd ../shared/corpus/registry && for f in *.json; do echo "$f $(jq '.versions|length' "$f")"; done
COUNTS = {
    "@ctrl/tinycolor": 40,
    "@solana/web3.js": 395,
    "ansi-styles": 29,
    "axios": 148,
    "chalk": 45,
    "color": 41,
    "debug": 77,
    "eslint-config-prettier": 85,
    "is": 23,
    "ua-parser-js": 74,
}
# jq -r '.["dist-tags"].latest' *.json (each corpus packument has only the `latest` tag)
LATEST = {
    "@ctrl/tinycolor": "4.3.0",
    "@solana/web3.js": "2.0.0",
    "ansi-styles": "7.0.0",
    "axios": "1.21.1",
    "chalk": "6.0.1",
    "color": "5.0.3",
    "debug": "4.4.3",
    "eslint-config-prettier": "10.1.9",
    "is": "3.3.2",
    "ua-parser-js": "2.0.10",
}
UTC = "UTC"


@pytest.fixture
def corpus() -> dict[str, dict[str, Any]]:
    folder = shared_path("corpus/registry")
    packuments = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_bytes())
        packuments[data["name"]] = data
    return packuments


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


def client(server: Server, **options: Any) -> Client:
    settings: dict[str, Any] = {
        "retries": 2,
        "backoff": 0.001,
        "backoff_max": 0.005,
        "timeout": 5.0,
        **options,
    }
    return registry_client(base_url=server.url, **settings)


def encoded(name: str) -> str:
    # Written out here rather than taken from packument_path, so that the path is checked.
    return "/" + name.replace("/", "%2F")


def serve(server: Server, packuments: dict[str, dict[str, Any]]) -> None:
    for name, data in packuments.items():
        server.json(encoded(name), data)


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert(UTC)


def test_one_row_per_version_of_every_corpus_packument(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    assert set(corpus) == set(COUNTS)
    serve(server, corpus)
    log = EvidenceLog()
    with client(server) as http:
        frame = validate(load_versions(list(corpus), log=log, client=http), "versions")

    assert log.complete, log.problems.to_dict("records")
    assert frame.groupby("name").size().to_dict() == COUNTS
    assert frame["in_registry"].all()
    assert not frame.duplicated(["name", "version"]).any()
    assert set(frame["source"]) == {"registry"}
    for name in COUNTS:
        rows = frame[frame["name"] == name]
        assert set(rows["evidence"]) == {server.url + encoded(name)}
        # publish order per package, as on a time axis
        assert rows["published"].is_monotonic_increasing
        assert rows["published"].notna().all()
        tagged = rows[rows["dist_tags"].notna()]
        assert tagged[["version", "dist_tags"]].values.tolist() == [[LATEST[name], "latest"]]
        assert rows["tarball"].notna().all() and rows["integrity"].notna().all()
        # every time equals the packument's own entry, read here by a separate path
        times = corpus[name]["time"]
        expected = pd.to_datetime(rows["version"].map(times), utc=True, format="ISO8601")
        assert (rows["published"].to_numpy() == expected.to_numpy()).all()

    chalk = frame[frame["name"] == "chalk"].set_index("version")
    # jq -r '.time["5.6.2"], .versions["6.0.1"].dist' chalk.json
    assert chalk.loc["5.6.2", "published"] == stamp("2025-09-08T15:04:26.266Z")
    assert chalk.loc["6.0.1", "integrity"] == (
        "sha512-/Ce6KNm3vIbWdMlNna6RVIZ/ICQxnJxCicet5LBKK9ZffBkqzDw0xh9EiKSljdRtiIQ1S1z4Ygcsc"
        "UUGzNCWrA=="
    )
    assert chalk.loc["6.0.1", "tarball"] == "https://registry.npmjs.org/chalk/-/chalk-6.0.1.tgz"
    # the corpus carries no _npmUser, deprecated or install hooks for chalk: NA, not ""
    assert chalk[["publisher", "deprecated", "install_scripts"]].isna().all().all()

    inputs = log.inputs
    assert len(inputs) == len(COUNTS)
    assert set(inputs["status"]) == {"parsed"} and set(inputs["format"]) == {"npm-packument"}
    assert dict(zip(inputs["evidence"], inputs["packages"], strict=True)) == {
        server.url + encoded(n): c for n, c in COUNTS.items()
    }
    assert len(server.requests) == len(COUNTS)
    # the full packument: the abbreviated form has no `time`
    assert {r.headers["accept"] for r in server.requests} == {"application/json"}


def test_scoped_names_ask_for_the_encoded_path(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    assert packument_path("@ctrl/tinycolor") == "/@ctrl%2Ftinycolor"
    assert packument_path("chalk") == "/chalk"
    server.json("/@ctrl%2Ftinycolor", corpus["@ctrl/tinycolor"])
    server.json("/@solana%2Fweb3.js", corpus["@solana/web3.js"])
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["@ctrl/tinycolor", "@solana/web3.js"], log=log, client=http)
    assert log.complete, log.problems.to_dict("records")
    assert server.unmatched == []
    assert len(server.requests_to("/@ctrl%2Ftinycolor")) == 1
    assert len(server.requests_to("/@solana%2Fweb3.js")) == 1
    assert frame.groupby("name").size().to_dict() == {"@ctrl/tinycolor": 40, "@solana/web3.js": 395}
    # jq '[.versions[]|select(.scripts.install)]|length' @solana__web3.js.json -> 13, all `install`
    solana = frame[frame["name"] == "@solana/web3.js"]
    assert solana["install_scripts"].value_counts().to_dict() == {"install": 13}
    assert solana.set_index("version").loc["0.14.0", "install_scripts"] == "install"


def test_the_compromised_versions_of_2025_09_08_show_as_pulled(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    # The qix incident (reference/incidents.md §11). The corpus packuments neither list these
    # versions nor keep a time for them: jq -c '[.time["5.6.1"], .versions["5.6.1"]]' chalk.json
    # gives [null,null], and likewise for the other three.
    named = {
        "chalk": ["5.6.1", "5.6.2"],
        "debug": ["4.4.2"],
        "ansi-styles": ["6.2.2"],
        "color": ["5.0.1"],
    }
    serve(server, {n: corpus[n] for n in named})
    log = EvidenceLog()
    with client(server) as http:
        frame = validate(load_versions(named, log=log, client=http), "versions")

    assert log.complete
    pulled = frame[~frame["in_registry"]]
    assert sorted(zip(pulled["name"], pulled["version"], strict=True)) == [
        ("ansi-styles", "6.2.2"),
        ("chalk", "5.6.1"),
        ("color", "5.0.1"),
        ("debug", "4.4.2"),
    ]
    assert pulled["published"].isna().all()
    manifest = ["dist_tags", "deprecated", "install_scripts", "publisher", "tarball", "integrity"]
    assert pulled[manifest].isna().all().all()
    assert set(pulled["source"]) == {"registry"}
    # 5.6.2, the fix, is listed: one row, in the registry
    fix = frame[(frame["name"] == "chalk") & (frame["version"] == "5.6.2")]
    assert fix["in_registry"].tolist() == [True]
    assert frame.groupby("name").size().to_dict() == {n: COUNTS[n] + 1 for n in named}
    # rows of unknown time come last in their package
    assert frame[frame["name"] == "debug"]["version"].iloc[-1] == "4.4.2"
    notes = dict(zip(log.inputs["evidence"], log.inputs["notes"], strict=True))
    assert "not listed by the registry: 5.6.1" in notes[server.url + "/chalk"]


def with_unpublished_time(chalk: dict[str, Any]) -> dict[str, Any]:
    """The chalk packument as the public registry sends it after an unpublish.

    npm adds `created` and `modified` to `time` and keeps the time of an unpublished version
    while dropping it from `versions`. The time given to 5.6.1 here is the incident's
    start (incidents.md: live at ~13:16 UTC), not the registry's record.
    """
    data = copy.deepcopy(chalk)
    data["time"] = {
        "created": "2011-08-15T01:36:01.573Z",
        "modified": "2026-09-27T04:53:42.101Z",
        **data["time"],
        "5.6.1": "2025-09-08T13:16:00.000Z",
    }
    return data


def test_an_unpublished_version_keeps_the_time_npm_kept(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    server.json("/chalk", with_unpublished_time(corpus["chalk"]))
    log = EvidenceLog()
    with client(server) as http:
        # Not named by anyone: the time entry alone shows that 5.6.1 existed and was pulled.
        frame = validate(load_versions(["chalk"], log=log, client=http), "versions")
    assert len(frame) == COUNTS["chalk"] + 1
    assert not frame["version"].isin(["created", "modified", "unpublished"]).any()
    row = frame.set_index("version").loc["5.6.1"]
    assert not row["in_registry"]
    assert row["published"] == stamp("2025-09-08T13:16:00Z")
    # placed in publish order, between 5.6.0 and 5.6.2
    order = frame["version"].tolist()
    assert order.index("5.6.0") < order.index("5.6.1") < order.index("5.6.2")

    window = publish_window(frame, "chalk", ["5.6.1"])
    assert window["start"] == stamp("2025-09-08T13:16:00Z")
    # incidents.md §11: sindresorhus published 5.6.2 over it; 5.6.0 is the one before
    assert window["last_good_before"] == "5.6.0"
    assert window["first_clean_after"] == "5.6.2"
    assert window["first_clean_after_published"] == stamp("2025-09-08T15:04:26.266Z")
    assert window["not_in_registry"] == ["5.6.1"]
    assert window["unknown_time"] == [] and window["missing"] == []


def test_a_package_unpublished_whole_answers_a_tombstone(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    # The shape npm serves once a whole package is unpublished: no `versions`, no dist-tags,
    # `time.unpublished = {time, versions}`, the old versions' times kept. Built from the real
    # `is` packument as if it had been unpublished.
    real = corpus["is"]
    tombstone = {
        "_id": "is",
        "name": "is",
        "time": {
            "created": "2011-08-20T00:00:00.000Z",
            "modified": "2025-07-20T08:00:00.000Z",
            **real["time"],
            "unpublished": {"time": "2025-07-20T08:00:00.000Z", "versions": list(real["versions"])},
        },
    }
    server.json("/is", tombstone)
    log = EvidenceLog()
    with client(server) as http:
        frame = validate(load_versions({"is": ["3.3.1"]}, log=log, client=http), "versions")
    assert log.complete, log.problems.to_dict("records")
    # every version it had, plus 3.3.1 (the 2025 compromise, incidents.md §9), none listed
    assert len(frame) == COUNTS["is"] + 1
    assert not frame["in_registry"].any()
    assert frame["published"].notna().sum() == COUNTS["is"]
    assert frame["version"].iloc[-1] == "3.3.1"
    notes = log.inputs["notes"].iloc[0]
    assert "the whole package was unpublished at 2025-07-20T08:00:00.000Z" in notes
    # long lists are cut in the note (the frame has them all)
    assert "and 3 more;" in notes and notes.endswith("and 4 more")


def test_manifest_fields_the_public_registry_sends(
    server: Server, corpus: dict[str, dict[str, Any]], shared: Path
) -> None:
    # The corpus packuments were stripped of `_npmUser` and `deprecated`, and carry `integrity`
    # on every version; the public registry's old versions may have only `shasum`.
    data = copy.deepcopy(corpus["debug"])
    versions = data["versions"]
    versions["4.4.1"]["_npmUser"] = {"name": "qix", "email": "qix@example.invalid"}
    versions["2.2.0"]["deprecated"] = "Versions of debug before 2.6.9 are vulnerable"
    del versions["2.2.0"]["dist"]["integrity"]
    versions["4.4.0"]["scripts"] = {
        "test": "mocha",
        "postinstall": "node bundle.js",
        "preinstall": "node setup_bun.js",
    }
    versions["4.3.7"]["gypfile"] = True
    versions["4.3.6"]["gypfile"] = True
    versions["4.3.6"]["scripts"] = {"preinstall": "node check.js"}
    data["dist-tags"] = {"latest": "4.4.3", "legacy": "2.6.9", "beta": "4.4.2"}
    server.json("/debug", data)
    with client(server) as http:
        frame = load_versions(["debug"], client=http).set_index("version")

    assert frame.loc["4.4.1", "publisher"] == "qix"
    assert frame.loc["2.2.0", "deprecated"] == "Versions of debug before 2.6.9 are vulnerable"
    # The same digest as the sha1 integrity npm wrote into a real v1 lockfile for debug 2.2.0.
    lock = json.loads((shared / "corpus/lockfiles/jquery/lock-v1/package-lock.json").read_bytes())
    recorded = {
        d["integrity"]
        for d in iter_lock_deps(lock.get("dependencies", {}))
        if d["name"] == "debug" and d["version"] == "2.2.0"
    }
    assert recorded == {frame.loc["2.2.0", "integrity"]}
    assert frame.loc["2.2.0", "integrity"].startswith("sha1-")
    assert frame.loc["4.4.0", "install_scripts"] == "preinstall,postinstall"
    assert frame.loc["4.3.7", "install_scripts"] == "install"  # node-gyp rebuild
    assert frame.loc["4.3.6", "install_scripts"] == "preinstall"  # its own preinstall wins
    assert frame.loc["4.4.3", "dist_tags"] == "latest"
    assert frame.loc["2.6.9", "dist_tags"] == "legacy"
    # a tag pointing at a version the registry does not list
    assert frame.loc["4.4.2", "dist_tags"] == "beta"
    assert not frame.loc["4.4.2", "in_registry"]


def iter_lock_deps(deps: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for name, entry in deps.items():
        yield {"name": name, "version": entry.get("version"), "integrity": entry.get("integrity")}
        yield from iter_lock_deps(entry.get("dependencies", {}))


def test_etag_revalidation_then_offline_from_the_cache(
    server: Server, corpus: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    etag = '"chalk-rev-61"'

    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(body=corpus["chalk"], headers={"ETag": etag})

    server.route("GET", "/chalk", answer)
    cache = tmp_path / "registry-cache"
    first_log, second_log = EvidenceLog(), EvidenceLog()
    first = load_versions(["chalk"], base_url=server.url, cache_dir=cache, log=first_log)
    second = load_versions(["chalk"], base_url=server.url, cache_dir=cache, log=second_log)

    requests = server.requests_to("/chalk")
    assert len(requests) == 2
    assert "if-none-match" not in requests[0].headers
    assert requests[1].headers["if-none-match"] == etag
    pd.testing.assert_frame_equal(first, second)
    assert len(first) == COUNTS["chalk"] and set(second["source"]) == {"registry"}
    assert "HTTP 304" in second_log.inputs["notes"].iloc[0]
    assert first_log.inputs["sha256"].iloc[0] == second_log.inputs["sha256"].iloc[0]

    # Offline: the cached packument, no request; a package never cached is a problem.
    log = EvidenceLog()
    offline = load_versions(
        {"chalk": ["5.6.1"], "debug": ["4.4.2"]},
        base_url=server.url,
        cache_dir=cache,
        offline=True,
        log=log,
    )
    assert len(server.requests) == 2
    chalk = offline[offline["name"] == "chalk"]
    assert set(chalk["source"]) == {"registry-cache"}
    pd.testing.assert_frame_equal(
        chalk[chalk["in_registry"]].drop(columns="source").reset_index(drop=True),
        first.drop(columns="source"),
    )
    assert chalk.set_index("version").loc["5.6.1", "in_registry"] == False  # noqa: E712
    assert (offline["name"] == "debug").sum() == 0
    problems = log.problems
    assert problems[["kind", "evidence"]].values.tolist() == [["offline", server.url + "/debug"]]
    assert "4.4.2" in problems["message"].iloc[0]
    assert "read from the cache" in log.inputs.set_index("status").loc["parsed", "notes"]
    assert not log.complete


def test_offline_needs_a_cache_and_a_client_keeps_its_own(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cache_dir"):
        load_versions(["chalk"], base_url=server.url, offline=True)
    with client(server) as http, pytest.raises(ValueError, match="client"):
        load_versions(["chalk"], client=http, cache_dir=tmp_path)
    assert server.requests == []


def test_a_404_is_a_problem_not_an_empty_answer(server: Server) -> None:
    server.json("/ircore-no-such-package", {"error": "Not found"}, status=404)
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions({"ircore-no-such-package": ["1.0.0"]}, log=log, client=http)
    assert frame.empty
    validate(frame, "versions")
    assert not log.complete
    problem = log.problems.iloc[0]
    assert (problem["kind"], problem["source"]) == ("not-found", "registry")
    assert problem["evidence"] == server.url + "/ircore-no-such-package"
    assert "HTTP 404" in problem["message"] and "1.0.0" in problem["message"]
    assert log.inputs["status"].tolist() == ["failed"]
    assert len(server.requests) == 1  # a 404 is an answer, not retried


def test_a_server_error_then_the_packument(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    server.route("GET", "/debug", Reply(500), Reply(503, body="busy"), Reply(body=corpus["debug"]))
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["debug"], log=log, client=http)
    assert log.complete
    assert len(frame) == COUNTS["debug"]
    assert len(server.requests_to("/debug")) == 3


def test_a_server_that_stays_down_is_a_problem(server: Server) -> None:
    server.route("GET", "/debug", Reply(502, body="bad gateway"))
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["debug"], log=log, client=http)
    assert frame.empty
    assert log.problems[["kind", "source"]].values.tolist() == [["http", "registry"]]
    assert "HTTP 502" in log.problems["message"].iloc[0]
    assert len(server.requests_to("/debug")) == 3


@pytest.mark.parametrize(
    "cut",
    [
        {"truncate_at": 4096},  # shorter than its Content-Length
        {"truncate_at": 4096, "length": False},  # no length: only the JSON shows the cut
    ],
    ids=["content-length", "no-length"],
)
def test_a_truncated_packument_is_a_problem(
    server: Server, corpus: dict[str, dict[str, Any]], cut: dict[str, Any]
) -> None:
    server.route("GET", "/axios", Reply(body=corpus["axios"], **cut))
    server.json("/chalk", corpus["chalk"])
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["axios", "chalk"], log=log, client=http)
    # the other package is still read
    assert frame["name"].unique().tolist() == ["chalk"]
    assert log.problems[["kind", "evidence"]].values.tolist() == [
        ["truncated", server.url + "/axios"]
    ]
    assert len(server.requests_to("/axios")) == 3  # retried, then given up


@pytest.mark.parametrize(
    ("body", "kind", "said"),
    [
        ([{"name": "chalk"}], "invalid", "not a packument"),
        ({"name": "chalk-fork", "versions": {}}, "invalid", "'chalk-fork'"),
        ({"name": "chalk", "versions": ["5.6.2"]}, "invalid", "'versions'"),
        ({"name": "chalk", "time": {"modified": "2025-09-08T20:00:00Z"}}, "invalid", "tombstone"),
        ("<html>captive portal</html>", "invalid-json", "JSON"),
    ],
)
def test_an_answer_that_is_not_a_packument(server: Server, body: Any, kind: str, said: str) -> None:
    server.json("/chalk", body)
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["chalk"], log=log, client=http)
    assert frame.empty
    problem = log.problems.iloc[0]
    assert problem["kind"] == kind
    assert said in problem["message"]
    assert log.inputs["status"].tolist() == ["failed"]


def test_unreadable_publish_times_are_said(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    data = copy.deepcopy(corpus["color"])
    data["time"]["5.0.0"] = "now"  # pandas alone would read this as the current time
    data["time"]["0.10.0"] = "yesterday"
    server.json("/color", data)
    log = EvidenceLog()
    with client(server) as http:
        frame = load_versions(["color"], log=log, client=http)
    assert len(frame) == COUNTS["color"]
    assert frame["published"].isna().sum() == 2
    assert frame.set_index("version")["published"].isna()[["5.0.0", "0.10.0"]].all()
    assert log.problems["kind"].tolist() == ["invalid"]
    assert "5.0.0" in log.problems["message"].iloc[0]
    assert "0.10.0" in log.problems["message"].iloc[0]


def test_names_that_cannot_be_package_names_are_not_looked_up(server: Server) -> None:
    log = EvidenceLog()
    bad = ["../../etc/passwd", "..", "", "@scope/a/b", " chalk", "@/x"]
    with client(server) as http:
        frame = load_versions(bad, log=log, client=http)
    assert frame.empty
    assert server.requests == []
    assert log.problems["kind"].tolist() == ["invalid"] * len(bad)
    assert log.problems["evidence"].tolist() == bad


def test_one_name_is_one_package_and_repeats_are_read_once(
    server: Server, corpus: dict[str, dict[str, Any]]
) -> None:
    server.json("/is", corpus["is"])
    with client(server) as http:
        assert len(load_versions("is", client=http)) == COUNTS["is"]
        assert len(load_versions(["is", "is"], client=http)) == COUNTS["is"]
        # a version given as a string, not a list of its characters
        named = load_versions({"is": "3.3.1"}, client=http)
    assert len(named) == COUNTS["is"] + 1
    assert len(server.requests_to("/is")) == 3


def test_publish_window_on_the_corpus(server: Server, corpus: dict[str, dict[str, Any]]) -> None:
    named = {"chalk": ["5.6.1"], "debug": ["4.4.2"], "@ctrl/tinycolor": ["4.1.1", "4.1.2"]}
    serve(server, {n: corpus[n] for n in named})
    with client(server) as http:
        frame = load_versions(named, client=http)

    # The registry dropped the bad versions' times: without a start, nothing is proposed.
    blind = publish_window(frame, "chalk", ["5.6.1"])
    assert blind["start"] is None and blind["last_good_before"] is None
    assert blind["unknown_time"] == ["5.6.1"] and blind["not_in_registry"] == ["5.6.1"]

    # With the incident's window start (incidents.md §11, §12), the facts it records:
    chalk = publish_window(frame, "chalk", ["5.6.1"], start="2025-09-08T13:16:00Z")
    assert (chalk["last_good_before"], chalk["first_clean_after"]) == ("5.6.0", "5.6.2")
    debug = publish_window(frame, "debug", ["4.4.2"], start=pd.Timestamp("2025-09-08 13:16"))
    assert (debug["last_good_before"], debug["first_clean_after"]) == ("4.4.1", "4.4.3")
    # jq -r '.time["4.4.1"], .time["4.4.3"]' debug.json
    assert debug["last_good_before_published"] == stamp("2025-05-13T22:55:09.883Z")
    assert debug["first_clean_after_published"] == stamp("2025-09-13T19:28:59.839Z")
    tiny = publish_window(frame, "@ctrl/tinycolor", ["4.1.2", "4.1.1", "9.9.9"], start="2025-09-14")
    # scttcper: "4.1.0 or >=4.2.0"
    assert (tiny["last_good_before"], tiny["first_clean_after"]) == ("4.1.0", "4.2.0")
    assert tiny["bad"] == ["4.1.1", "4.1.2", "9.9.9"]
    assert tiny["missing"] == ["9.9.9"]
