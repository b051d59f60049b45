"""The shared HTTP client against a real HTTP server on loopback."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ircore import IrcoreError
from ircore.http import Client, SourceError, redact_url, retry_after_seconds
from tests._http_server import Reply, Request, Server

TOKEN = "ghp_IRCORE0TEST0TOKEN0do0not0leak0e1f2"
ENV = "IRCORE_TEST_TOKEN"


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def other() -> Iterator[Server]:
    """A second origin (another port): never to receive the token."""
    with Server() as running:
        yield running


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, TOKEN)
    return TOKEN


def make_client(server: Server, **options: Any) -> Client:
    settings: dict[str, Any] = {
        "base_url": server.url,
        "source": "test-source",
        "token_env": ENV,
        "retries": 3,
        "backoff": 0.001,
        "backoff_max": 0.005,
        "timeout": 5.0,
        **options,
    }
    return Client(**settings)


def test_token_goes_as_bearer_to_its_own_origin_only(server: Server, other: Server) -> None:
    server.json("/api/x", {"ok": True})
    other.json("/elsewhere", {"ok": True})
    server.route("GET", "/moved", Reply(status=302, headers={"Location": f"{other.url}/elsewhere"}))
    with make_client(server) as client:
        assert client.get_json("/api/x") == {"ok": True}
        assert client.get_json(f"{other.url}/elsewhere") == {"ok": True}
        assert client.get_json("/moved") == {"ok": True}  # redirected to the other origin
        assert TOKEN not in repr(client)
        assert "token set" in repr(client)
    assert server.requests_to("/api/x")[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests_to("/moved")[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert len(other.requests) == 2
    assert all("authorization" not in r.headers for r in other.requests)
    assert server.requests[0].headers["user-agent"].startswith("ircore/")


def test_a_server_error_is_retried_until_it_answers(server: Server) -> None:
    server.route("GET", "/flaky", Reply(500), Reply(503, body="busy"), Reply(body=[1, 2]))
    with make_client(server) as client:
        assert client.get_json("/flaky") == [1, 2]
    assert len(server.requests_to("/flaky")) == 3


def test_a_persistent_server_error_is_one_clear_error(server: Server) -> None:
    server.route("GET", "/down", Reply(502, body="bad gateway"))
    with make_client(server, retries=2) as client, pytest.raises(SourceError) as info:
        client.get_json("/down")
    error = info.value
    assert isinstance(error, IrcoreError)
    assert (error.kind, error.status, error.source) == ("http", 502, "test-source")
    assert error.url == f"{server.url}/down"
    assert "HTTP 502" in error.message and "bad gateway" in error.message
    assert "3 attempts" in error.message
    assert len(server.requests_to("/down")) == 3


def test_a_client_error_is_not_retried(server: Server) -> None:
    server.route("GET", "/gone", Reply(404, body={"message": "Not Found"}))
    server.route("GET", "/forbidden", Reply(403, body={"message": "Resource not accessible"}))
    with make_client(server) as client:
        for path, status in (("/gone", 404), ("/forbidden", 403)):
            with pytest.raises(SourceError) as info:
                client.get_json(path)
            assert (info.value.kind, info.value.status) == ("http", status)
            assert len(server.requests_to(path)) == 1


def test_429_waits_as_long_as_retry_after_says(server: Server) -> None:
    server.route("GET", "/limited", Reply(429, headers={"Retry-After": "1"}), Reply(body={}))
    with make_client(server) as client:
        assert client.get_json("/limited") == {}
    first, second = server.requests_to("/limited")
    assert second.at - first.at >= 0.95


def test_a_wait_longer_than_max_wait_fails_at_once(server: Server) -> None:
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    server.route("GET", "/seconds", Reply(429, headers={"Retry-After": "3600"}))
    server.route("GET", "/date", Reply(503, headers={"Retry-After": in_an_hour}))
    reset = str(int(time.time()) + 3600)
    server.route(
        "GET",
        "/github",
        Reply(
            403,
            body={"message": "API rate limit exceeded"},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        ),
    )
    started = time.monotonic()
    with make_client(server, max_wait=5) as client:
        for path, kind in (
            ("/seconds", "rate-limited"),
            ("/date", "http"),
            ("/github", "rate-limited"),
        ):
            with pytest.raises(SourceError) as info:
                client.get_json(path)
            assert info.value.kind == kind, path
            assert "max_wait" in info.value.message and "retry after" in info.value.message
            assert len(server.requests_to(path)) == 1
    assert time.monotonic() - started < 5  # no attempt waited for the hour


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_757_340_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(date, now=now) == pytest.approx(90, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 90, usegmt=True), now=now) == 0
    assert retry_after_seconds("-5") == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("inf") is None


def test_a_body_cut_short_is_retried_then_reported_as_truncated(server: Server) -> None:
    whole = {"items": list(range(50))}
    server.route("GET", "/once", Reply(body=whole, truncate_at=20), Reply(body=whole))
    server.route("GET", "/always", Reply(body=whole, truncate_at=20))
    # No Content-Length: HTTP cannot tell the body was cut; the JSON can.
    server.route("GET", "/unframed", Reply(body='{"items": [1, 2, 3', length=False))
    with make_client(server, retries=1) as client:
        assert client.get_json("/once") == whole
        for path in ("/always", "/unframed"):
            with pytest.raises(SourceError) as info:
                client.get_json(path)
            assert (info.value.kind, info.value.status) == ("truncated", 200), path
            assert len(server.requests_to(path)) == 2


def test_a_body_that_is_not_json_is_its_own_error(server: Server) -> None:
    server.route("GET", "/html", Reply(body="<html>Sign in to continue</html>"))
    with make_client(server) as client, pytest.raises(SourceError) as info:
        client.get_json("/html")
    assert (info.value.kind, info.value.status) == ("invalid-json", 200)
    assert len(server.requests_to("/html")) == 1


def test_a_server_that_does_not_answer_times_out(server: Server) -> None:
    server.route("GET", "/slow", Reply(body={}, delay=2.0))
    with make_client(server, timeout=0.1, retries=1) as client, pytest.raises(SourceError) as info:
        client.get_json("/slow")
    assert (info.value.kind, info.value.status) == ("timeout", None)
    assert len(server.requests_to("/slow")) == 2


def test_a_dropped_connection_is_retried(server: Server) -> None:
    server.route("GET", "/drop", Reply(drop=True), Reply(body={"ok": 1}))
    server.route("GET", "/gone", Reply(drop=True))
    with make_client(server, retries=1) as client:
        assert client.get_json("/drop") == {"ok": 1}
        with pytest.raises(SourceError) as info:
            client.get_json("/gone")
    assert info.value.kind == "connection"


def test_link_paging_follows_next_until_the_last_page(server: Server) -> None:
    def page(request: Request) -> Reply:
        number = int(request.param("page") or 1)
        headers = {}
        if number < 3:
            nxt = f"{server.url}/items?per_page=2&page={number + 1}"
            headers["Link"] = f'<{nxt}>; rel="next", <{server.url}/items?page=3>; rel="last"'
        return Reply(body=[f"p{number}a", f"p{number}b"], headers=headers)

    server.route("GET", "/items", page)
    with make_client(server) as client:
        pages = list(client.paginate_link("/items", params={"per_page": 2}))
    assert [p.data[0] for p in pages] == ["p1a", "p2a", "p3a"]
    assert [r.param("page") for r in server.requests] == [None, "2", "3"]
    assert all(r.param("per_page") == "2" for r in server.requests)


def test_token_paging_sends_next_token_back_and_stops_without_more(server: Server) -> None:
    def runs(request: Request) -> Reply:
        token = request.param("next_token")
        if token is None:
            return Reply(body={"runs": [1, 2], "has_more": True, "next_token": "abc"})
        if token == "abc":
            return Reply(body={"runs": [3], "has_more": "true", "next_token": "def"})
        return Reply(body={"runs": [4], "has_more": False, "next_token": ""})

    server.route("GET", "/runs", runs)
    server.route(
        "POST",
        "/search",
        lambda r: Reply(body={"data": {"hits": [r.json().get("next_token")], "has_more": False}}),
    )
    server.json("/broken", {"runs": [1], "has_more": True})
    with make_client(server) as client:
        pages = list(client.paginate_token("/runs", params={"limit": 100}))
        assert [p.data["runs"] for p in pages] == [[1, 2], [3], [4]]
        assert [r.param("limit") for r in server.requests_to("/runs")] == ["100"] * 3
        posted = list(
            client.paginate_token("/search", method="POST", body={"q": 1}, envelope="data")
        )
        assert posted[0].data["data"]["hits"] == [None]
        seen: list[Any] = []
        with pytest.raises(SourceError) as info:
            for page in client.paginate_token("/broken"):
                seen.append(page.data)
    assert seen == [{"runs": [1], "has_more": True}]  # the page read is kept
    assert info.value.kind == "pagination"


def test_page_number_paging_reads_total_pages(server: Server) -> None:
    def page(request: Request) -> Reply:
        number = int(request.param("page") or 0)
        return Reply(body={"runs": [number], "current_page": str(number), "total_pages": "3"})

    server.route("GET", "/repo-runs", page)
    with make_client(server) as client:
        pages = list(client.paginate_pages("/repo-runs"))
    assert [p.data["runs"] for p in pages] == [[1], [2], [3]]


def test_cache_revalidates_with_etag_and_serves_offline(server: Server, tmp_path: Path) -> None:
    def packument(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(body={"name": "chalk", "versions": ["5.6.1"]}, headers={"ETag": '"v1"'})

    server.route("GET", "/chalk", packument)
    cache = tmp_path / "cache"
    with make_client(server, cache_dir=cache) as client:
        first, data = client.fetch("GET", "/chalk")
        again, cached = client.fetch("GET", "/chalk")
    assert data == cached == {"name": "chalk", "versions": ["5.6.1"]}
    assert "ircore_cache" not in first.extensions
    assert again.extensions["ircore_cache"] == "revalidated"
    assert server.requests_to("/chalk")[1].headers["if-none-match"] == '"v1"'
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored

    with make_client(server, cache_dir=cache, offline=True) as offline:
        response, data = offline.fetch("GET", "/chalk")
        assert response.extensions["ircore_cache"] == "hit"
        assert data["name"] == "chalk"
        with pytest.raises(SourceError) as info:
            offline.get_json("/never-fetched")
    assert info.value.kind == "offline"
    assert len(server.requests_to("/chalk")) == 2
    assert not server.requests_to("/never-fetched")
    with (
        make_client(server, cache_dir=cache, offline=True) as offline,
        pytest.raises(SourceError) as posted,
    ):
        offline.post_json("/search", {"q": 1})  # POSTs are never cached: nothing is sent
    assert posted.value.kind == "offline"
    assert not server.requests_to("/search")


def test_a_missing_required_key_fails_before_any_request(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    with make_client(server, token_required=True) as client:
        assert not client.has_token
        with pytest.raises(SourceError) as info:
            client.post_json("/search", {"packages": []})
    assert info.value.kind == "auth"
    assert ENV in info.value.message
    assert not server.requests


def test_the_token_is_never_in_errors_urls_or_logs(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # A hostile or careless server echoes the request's Authorization header in its errors.
    def echo(request: Request) -> Reply:
        return Reply(400, body={"message": f"bad credentials: {request.headers['authorization']}"})

    server.route("GET", "/echo", echo)
    server.route("GET", "/echo-500", lambda r: Reply(500, body=r.headers["authorization"]))
    caplog.set_level(logging.DEBUG, logger="ircore.http")
    errors = []
    with make_client(server, retries=1) as client:
        for path in (f"/echo?access_token={TOKEN}&page=2", "/echo-500", f"/echo?q={TOKEN}"):
            with pytest.raises(SourceError) as info:
                client.get_json(path)
            errors.append(info.value)
        text = repr(client) + str(vars(client).get("_http"))
    assert len(server.requests) == 4
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    everything = " ".join([text, caplog.text, *(f"{e} {e.url} {e.message} {e!r}" for e in errors)])
    assert TOKEN not in everything
    assert "[token]" in errors[0].message  # the echoed value was replaced, not dropped silently
    assert errors[0].url == f"{server.url}/echo?page=2"
    assert "retry 1 of 1" in caplog.text  # the log was written, and it is clean


def test_redact_url_drops_credentials() -> None:
    url = "https://user:pass@example.com/x?key=abc&page=2&X-Amz-Signature=s&next_token=t"
    assert redact_url(url) == "https://example.com/x?page=2&next_token=t"
    assert redact_url("https://h/x?q=secret1", secrets=("secret1",)) == "https://h/x"
