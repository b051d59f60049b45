"""A real HTTP server on loopback for the tests of live sources.

Tests register routes with scripted replies, one per call (the last one repeats), and read back
every request the server received. Replies can be slow, cut short or dropped, so the client's
retry, timeout and truncation handling runs against real sockets, not mocks::

    with Server() as server:
        server.route("GET", "/orgs/acme/repos", Reply(500), Reply(body=[{"name": "web"}]))
        ...
        assert server.requests_to("/orgs/acme/repos")[1].headers["authorization"]

A reply may also be a function of the request (paging on a query parameter, echoing a body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``body`` is bytes, text, or anything else (sent as JSON). ``delay`` waits before answering
    (client timeouts); ``truncate_at`` announces the whole body's length but sends only that many
    bytes, then closes; ``drop`` closes the connection without answering; ``length=False`` sends
    no Content-Length (the body ends when the connection closes, so cutting it short is
    invisible to HTTP and only the JSON shows it).
    """

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_at: int | None = None
    drop: bool = False
    length: bool = True

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()

    def content_type(self) -> str:
        if isinstance(self.body, bytes | str):
            return "text/plain; charset=utf-8"
        return "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """A request as the server received it; header names lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    port: int
    at: float  # time.monotonic() on arrival

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Request], Reply]


class _Script:
    """The replies of one route, handed out in order; the last one repeats."""

    def __init__(self, replies: tuple[Reply | Responder, ...]) -> None:
        if not replies:
            raise ValueError("a route needs at least one reply")
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.calls = 0

    def next(self, request: Request) -> Reply:
        with self._lock:
            reply = self._replies[min(self.calls, len(self._replies) - 1)]
            self.calls += 1
        return reply(request) if callable(reply) else reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs: the client's pool is exercised
    disable_nagle_algorithm = True  # headers and body go in two writes; no 40 ms ACK stall
    server: _LoopbackHTTPServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            port=self.server.server_address[1],
            at=time.monotonic(),
        )
        reply = self.server.owner._dispatch(request)
        if reply.delay:
            self.server.owner._stopping.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        payload = reply.payload()
        self.send_response(reply.status)
        headers = {"Content-Type": reply.content_type(), **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.length:
            self.send_header("Content-Length", str(len(payload)))
        if reply.truncate_at is not None or not reply.length:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            cut = payload if reply.truncate_at is None else payload[: reply.truncate_at]
            self.wfile.write(cut)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the requests are recorded; stderr stays quiet


class _LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: Server) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left makes the late write fail: expected, not news.
        pass


class Server:
    """A threaded HTTP/1.1 server on 127.0.0.1 and a free port, with scripted routes."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[tuple[dict[str, str], _Script]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Request] = []
        self.unmatched: list[Request] = []
        self._httpd = _LoopbackHTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def route(
        self,
        method: str,
        path: str,
        *replies: Reply | Responder,
        query: Mapping[str, str] | None = None,
    ) -> _Script:
        """Answer ``method path`` with ``replies``, one per call, the last one repeating.

        With ``query``, the route only takes requests whose query holds those values; such
        routes are tried before the route of the same path without one. A later route for the
        same method, path and query replaces an earlier one.
        """
        script = _Script(replies)
        with self._lock:
            routes = self._routes.setdefault((method.upper(), path), [])
            # The latest registration wins, so a test can override one answer of a fake API.
            routes.insert(0, (dict(query or {}), script))
            routes.sort(key=lambda r: -len(r[0]))
        return script

    def json(
        self,
        path: str,
        data: Any,
        *,
        method: str = "GET",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> _Script:
        """Shorthand: always answer ``data`` as JSON."""
        return self.route(
            method, path, Reply(status=status, body=data, headers=headers or {}), query=query
        )

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            candidates = list(self._routes.get((request.method, request.path), []))
        for wanted, script in candidates:
            if all(request.param(k) == v for k, v in wanted.items()):
                return script.next(request)
        with self._lock:
            self.unmatched.append(request)
        return Reply(status=404, body={"message": "Not Found (no route in the test server)"})

    def requests_to(self, path: str, *, method: str | None = None) -> list[Request]:
        """The requests received for ``path`` (and ``method``), in order."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())
            ]


@pytest.fixture
def loopback() -> Iterator[Server]:
    """A started :class:`Server`; import it into a test module to use it by this name."""
    with Server() as server:
        yield server
