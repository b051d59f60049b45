"""One HTTP client for every live source: auth from the environment, retries, paging, a cache.

Every live source (GitHub, StepSecurity, OSV, GHSA, the npm registry) talks through
:class:`Client`, so that the rules an incident report depends on hold everywhere:

* the token comes from an environment variable, is sent only to the source's own origin, and
  never appears in a repr, a log line, an exception or a ``problems`` row;
* rate limits (``429``/``Retry-After``, GitHub's ``x-ratelimit-*`` headers and secondary limit),
  ``5xx`` answers, timeouts and dropped connections are retried with capped, jittered backoff,
  and a wait longer than ``max_wait`` fails at once with a clear error instead of hanging a
  report for an hour;
* a body cut short or not JSON is a :class:`SourceError` of its own kind, never a crash;
* the paging styles these APIs use are one call each.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from ircore._decode import decode_text, load_json
from ircore._errors import InputError, SourceError

__all__ = ["Client", "Page", "SourceError", "redact_url", "retry_after_seconds"]

logger = logging.getLogger("ircore.http")

# Query parameters that carry credentials in the URLs of the APIs ircore calls (and of
# presigned S3 links): dropped from every URL an analyst or a log sees.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "client_secret",
        "key",
        "password",
        "private_token",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    }
)
# Headers a cached answer is replayed without: the body is stored decoded and whole.
_UNCACHED_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "set-cookie"}
)


def _user_agent() -> str:
    try:
        version = metadata.version("ircore")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"ircore/{version} (+incident-response kit)"


@dataclass(frozen=True)
class Page:
    """One page of a paged answer: its (credential-free) URL, parsed JSON and the response."""

    url: str
    data: Any
    response: httpx.Response


def redact_url(url: str | httpx.URL, *, secrets: tuple[str, ...] = ()) -> str:
    """``url`` without user info and without query parameters that carry credentials.

    ``secrets`` are values removed wherever they appear as a parameter value, whatever its name.
    """
    parts = urlsplit(str(url))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SECRET_PARAMS and not (v and v in secrets)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def retry_after_seconds(value: str, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delay-seconds or an HTTP date.

    None when the value is neither; never negative (a date in the past means "now").
    """
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _truthy(value: Any) -> bool:
    # StepSecurity sends some booleans as the strings "true"/"false".
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _as_int(value: Any) -> int | None:
    # Threat Center pagination numbers are strings.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Retry(Exception):
    """An attempt that may be repeated: how long the source asks to wait, and why."""

    def __init__(self, error: SourceError, wait: float | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.wait = wait  # None: no instruction from the server, back off exponentially


class _Cache:
    """GET answers on disk, one body file and one metadata file per URL, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, url: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(url.encode()).hexdigest()
        base = self.folder / digest[:2] / digest
        return base.with_suffix(".json"), base.with_suffix(".body")

    def load(self, url: str) -> tuple[dict[str, Any], bytes] | None:
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text())
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None  # a half-written or edited entry is a miss, never a wrong answer
        return meta, body

    def save(self, url: str, response: httpx.Response, *, shown_url: str) -> None:
        meta_path, body_path = self._paths(url)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        body = response.content
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _UNCACHED_HEADERS
        ]
        meta = {
            "url": shown_url,
            "status": response.status_code,
            "headers": headers,
            "stored": time.time(),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        # Body first, metadata (with the body's hash) last: a crash in between leaves a miss.
        for path, data in ((body_path, body), (meta_path, json.dumps(meta).encode())):
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)


class Client:
    """An HTTP client for one live source.

    Parameters
    ----------
    base_url
        The source's API root (``https://api.github.com``); relative paths are joined to it,
        and only requests to its origin (scheme, host, port) carry the token.
    source
        The source's name in messages and ``problems`` rows.
    token_env
        Name of the environment variable holding the token, sent as
        ``Authorization: <auth_scheme> <token>``. The token is read once, here.
    token_required
        Fail every request with kind ``auth`` when the variable is unset (sources that answer
        nothing without a key); otherwise requests go unauthenticated.
    auth_scheme
        ``Bearer`` for GitHub and StepSecurity.
    headers
        Sent with every request (``Accept``, API version headers).
    timeout
        Seconds for connecting and for each read.
    retries
        Attempts after the first for rate limits, ``5xx``, timeouts, dropped connections and
        bodies cut short.
    backoff, backoff_max
        The first retry waits about ``backoff`` seconds, doubling each time up to
        ``backoff_max``, with jitter; a server's ``Retry-After`` or rate-limit reset wins.
    max_wait
        The most seconds one request may spend waiting between attempts. A source that asks
        for more (a rate limit that resets in an hour) fails at once, saying when to retry.
    user_agent
        The ``User-Agent`` header.
    cache_dir
        Keep GET answers here and revalidate them with ``If-None-Match`` /
        ``If-Modified-Since``; a ``304`` is served from the cache.
    offline
        Serve GET requests from ``cache_dir`` only; anything not cached fails with kind
        ``offline``. No request leaves the machine.
    """

    def __init__(
        self,
        *,
        base_url: str,
        source: str,
        token_env: str | None = None,
        token_required: bool = False,
        auth_scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        max_wait: float = 300.0,
        user_agent: str | None = None,
        cache_dir: str | Path | None = None,
        offline: bool = False,
    ) -> None:
        if offline and cache_dir is None:
            raise ValueError("offline=True needs a cache_dir to serve answers from")
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.token_env = token_env
        self.token_required = token_required
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.max_wait = max_wait
        self.offline = offline
        self._origin = self._origin_of(httpx.URL(self.base_url))
        token = os.environ.get(token_env, "").strip() if token_env else ""
        self._authorization = f"{auth_scheme} {token}" if token else ""
        self._secrets = (token,) if token else ()
        self._cache = _Cache(Path(cache_dir)) if cache_dir is not None else None
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            # httpx drops Authorization when a redirect leaves the origin.
            follow_redirects=True,
            headers={"User-Agent": user_agent or _user_agent(), **(headers or {})},
        )

    def __repr__(self) -> str:
        state = "token set" if self.has_token else "no token"
        return (
            f"Client(source={self.source!r}, base_url={self.base_url!r}, "
            f"token_env={self.token_env!r}, {state})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def has_token(self) -> bool:
        """Whether the token's environment variable was set (the token itself is not exposed)."""
        return bool(self._authorization)

    @staticmethod
    def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
        default = {"http": 80, "https": 443}.get(url.scheme)
        return url.scheme, url.host, url.port or default

    def url(self, path: str) -> str:
        """``path`` joined to the base URL; absolute URLs are returned as they are."""
        if "://" in path:
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def redact(self, url: str | httpx.URL) -> str:
        """``url`` as it may be shown: no credentials, no token value anywhere."""
        return redact_url(url, secrets=self._secrets)

    def scrub(self, text: str) -> str:
        """``text`` with the token value removed, for messages built from server answers."""
        for secret in self._secrets:
            text = text.replace(secret, "[token]")
        return text

    # -- requests ----------------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` and return its JSON; failures raise :class:`SourceError`."""
        return self.fetch("GET", path, params=params, headers=headers)[1]

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST ``body`` as JSON to ``path`` and return the answer's JSON.

        The searches ircore POSTs are reads, so they are retried like GETs (never cached).
        """
        return self.fetch("POST", path, params=params, json_body=body, headers=headers)[1]

    def get_bytes(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET ``path`` without parsing the body (archives, raw files)."""
        return self.fetch("GET", path, params=params, headers=headers, parse=False)[0]

    def fetch(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        parse: bool = True,
    ) -> tuple[httpx.Response, Any]:
        """Send one request, retrying as the class describes; return the response and its JSON.

        ``response.extensions["ircore_cache"]`` is ``"hit"`` (offline), ``"revalidated"``
        (a ``304``) or absent (a fresh answer).
        """
        request = self._http.build_request(
            method, self.url(path), params=params, json=json_body, headers=headers
        )
        shown = self.redact(request.url)
        if request.url.scheme not in {"http", "https"}:
            raise SourceError(
                f"{self.source}: {shown} is not an http(s) URL",
                source=self.source,
                url=shown,
                kind="http",
            )
        if self._origin_of(request.url) == self._origin:
            if self._authorization:
                request.headers["Authorization"] = self._authorization
            elif self.token_required:
                raise SourceError(
                    f"{self.source}: the environment variable {self.token_env} is not set, so "
                    f"{shown} cannot be read (it needs an API key)",
                    source=self.source,
                    url=shown,
                    kind="auth",
                )
        cache_key = None
        if self._cache is not None and method == "GET":
            # One URL may answer differently per Accept (GitHub's raw and JSON media types).
            cache_key = f"{request.headers.get('accept', '')}\n{request.url}"
        if cache_key is not None and self.offline:
            return self._offline(cache_key, shown, parse)
        if self.offline:
            # Only GET answers are cached; offline means no request leaves the machine at all.
            raise SourceError(
                f"{self.source}: {method} {shown} is not answered from the cache and the client "
                "is offline",
                source=self.source,
                url=shown,
                kind="offline",
            )

        waited = 0.0
        attempt = 0
        while True:
            try:
                return self._attempt(request, shown, cache_key, parse)
            except _Retry as retry:
                error = retry.error
                if attempt >= self.retries:
                    raise SourceError(
                        f"{error.message} (gave up after {attempt + 1} attempts)",
                        source=self.source,
                        url=shown,
                        kind=error.kind,
                        status=error.status,
                    ) from None
                wait = retry.wait if retry.wait is not None else self._backoff(attempt)
                if waited + wait > self.max_wait:
                    raise SourceError(
                        f"{error.message}; the next attempt would be in {wait:.0f} s, past "
                        f"max_wait ({self.max_wait:.0f} s), so it was not made: retry after "
                        f"{_clock(time.time() + wait)}",
                        source=self.source,
                        url=shown,
                        kind=error.kind,
                        status=error.status,
                    ) from None
                logger.warning(
                    "%s; retry %d of %d in %.2f s",
                    error.message,
                    attempt + 1,
                    self.retries,
                    wait,
                )
                time.sleep(wait)
                waited += wait
                attempt += 1

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff * 2**attempt)
        # Equal jitter: never less than half the step, so a crowd of clients spreads out
        # without any of them hammering the source again at once.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _error(self, message: str, shown: str, kind: str, status: int | None) -> SourceError:
        return SourceError(
            f"{self.source}: {self.scrub(message)}",
            source=self.source,
            url=shown,
            kind=kind,
            status=status,
        )

    def _attempt(
        self, request: httpx.Request, shown: str, cache_key: str | None, parse: bool
    ) -> tuple[httpx.Response, Any]:
        cached = self._cache.load(cache_key) if self._cache and cache_key else None
        if cached is not None:
            meta, _ = cached
            stored = httpx.Headers(meta["headers"])
            if "etag" in stored:
                request.headers["If-None-Match"] = stored["etag"]
            if "last-modified" in stored:
                request.headers["If-Modified-Since"] = stored["last-modified"]
        logger.debug("%s: %s %s", self.source, request.method, shown)
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise _Retry(
                self._error(
                    f"{shown} did not answer in time ({type(exc).__name__})", shown, "timeout", None
                ),
                None,
            ) from None
        except httpx.TransportError as exc:
            raise _Retry(
                self._error(
                    f"{shown}: the connection failed before an answer came ({type(exc).__name__}: {exc})",
                    shown,
                    "connection",
                    None,
                ),
                None,
            ) from None
        try:
            response.read()
        except httpx.TimeoutException as exc:
            raise _Retry(
                self._error(
                    f"{shown} stopped sending its answer (HTTP {response.status_code}) before "
                    f"it was complete ({type(exc).__name__})",
                    shown,
                    "timeout",
                    response.status_code,
                ),
                None,
            ) from None
        except httpx.TransportError as exc:
            raise _Retry(
                self._error(
                    f"{shown} answered HTTP {response.status_code} but the body was cut short "
                    f"({type(exc).__name__}: {exc})",
                    shown,
                    "truncated",
                    response.status_code,
                ),
                None,
            ) from None
        finally:
            response.close()

        status = response.status_code
        if status == 304 and cached is not None:
            meta, body = cached
            response = self._replay(request, meta, body, "revalidated")
            status = response.status_code
        self._raise_for_status(response, shown)
        data = self._parse(response, shown) if parse else None
        fresh = "ircore_cache" not in response.extensions
        if cache_key is not None and self._cache is not None and status == 200 and fresh:
            self._cache.save(cache_key, response, shown_url=shown)
        return response, data

    def _replay(
        self, request: httpx.Request, meta: dict[str, Any], body: bytes, how: str
    ) -> httpx.Response:
        return httpx.Response(
            int(meta.get("status", 200)),
            headers=[tuple(h) for h in meta["headers"]],
            content=body,
            request=request,
            extensions={"ircore_cache": how},
        )

    def _offline(self, cache_key: str, shown: str, parse: bool) -> tuple[httpx.Response, Any]:
        assert self._cache is not None
        cached = self._cache.load(cache_key)
        if cached is None:
            raise SourceError(
                f"{self.source}: {shown} is not in the cache at {self._cache.folder} and the "
                "client is offline; run once with network access to fill it",
                source=self.source,
                url=shown,
                kind="offline",
            )
        meta, body = cached
        url = cache_key.split("\n", 1)[1]
        response = self._replay(httpx.Request("GET", url), meta, body, "hit")
        return response, (self._parse(response, shown) if parse else None)

    def _raise_for_status(self, response: httpx.Response, shown: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        headers = response.headers
        excerpt = " ".join(response.text[:200].split()) if response.content else ""
        said = f": {excerpt}" if excerpt else ""
        after = headers.get("retry-after")
        after_s = retry_after_seconds(after) if after else None
        if status in (403, 429):
            if after_s is not None:
                raise _Retry(
                    self._error(
                        f"{shown} is rate limited (HTTP {status}, Retry-After: {after})",
                        shown,
                        "rate-limited",
                        status,
                    ),
                    after_s,
                )
            if headers.get("x-ratelimit-remaining") == "0":
                reset = _as_int(headers.get("x-ratelimit-reset"))
                wait = None if reset is None else max(0.0, reset - time.time()) + 1.0
                until = f" until {_clock(reset)}" if reset is not None else ""
                raise _Retry(
                    self._error(
                        f"{shown}: the API rate limit is used up{until} (HTTP {status})",
                        shown,
                        "rate-limited",
                        status,
                    ),
                    wait,
                )
            if status == 429:
                raise _Retry(
                    self._error(
                        f"{shown} is rate limited (HTTP 429){said}", shown, "rate-limited", status
                    ),
                    None,
                )
            if "secondary rate limit" in excerpt.lower():
                # GitHub: with no header to go by, wait at least a minute.
                raise _Retry(
                    self._error(
                        f"{shown} hit GitHub's secondary rate limit (HTTP 403)",
                        shown,
                        "rate-limited",
                        status,
                    ),
                    60.0,
                )
        if status >= 500 and status != 501:
            raise _Retry(
                self._error(f"{shown} answered HTTP {status}{said}", shown, "http", status),
                after_s,
            )
        raise self._error(f"{shown} answered HTTP {status}{said}", shown, "http", status)

    def _parse(self, response: httpx.Response, shown: str) -> Any:
        what = f"the answer of {shown}"
        try:
            return load_json(decode_text(response.content, what=what), what=what)
        except InputError as exc:
            if exc.kind == "truncated":
                # A body that ends mid-JSON was cut off on the way: worth another attempt.
                raise _Retry(
                    self._error(exc.message, shown, "truncated", response.status_code), None
                ) from None
            raise self._error(exc.message, shown, "invalid-json", response.status_code) from None

    # -- paging ------------------------------------------------------------------------------

    def paginate_link(
        self, path: str, *, params: Mapping[str, Any] | None = None, max_pages: int = 10_000
    ) -> Iterator[Page]:
        """Follow ``Link: <…>; rel="next"`` headers (GitHub) from ``path``, one page at a time.

        Pages already yielded stay with the caller when a later page fails.
        """
        url: str | None = self.url(path)
        query = params
        seen: set[str] = set()
        while url is not None:
            response, data = self.fetch("GET", url, params=query)
            current = str(response.request.url)
            yield Page(self.redact(current), data, response)
            seen.add(current)
            following = response.links.get("next", {}).get("url")
            url = urljoin(current, following) if following else None
            query = None  # the next link carries the whole query
            if url is not None and (url in seen or len(seen) >= max_pages):
                raise self._error(
                    f"{self.redact(current)}: its next link loops or passes {max_pages} pages",
                    self.redact(url),
                    "pagination",
                    response.status_code,
                )

    def paginate_token(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        token_param: str = "next_token",
        envelope: str | None = None,
        max_pages: int = 10_000,
    ) -> Iterator[Page]:
        """Follow ``next_token``/``has_more`` (StepSecurity) from ``path``.

        The token goes back as query parameter ``token_param`` (in the JSON body for POST).
        ``envelope`` names the object holding ``has_more``/``next_token`` when it is not the
        top level (detections answer ``{"data": {...}}``).
        """
        token: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            query = dict(params or {})
            payload = dict(body) if body is not None else None
            if token is not None:
                if payload is not None:
                    payload[token_param] = token
                else:
                    query[token_param] = token
            response, data = self.fetch(method, path, params=query or None, json_body=payload)
            shown = self.redact(response.request.url)
            yield Page(shown, data, response)
            meta = data.get(envelope) if envelope and isinstance(data, dict) else data
            if not isinstance(meta, dict) or not _truthy(meta.get("has_more")):
                return
            following = meta.get("next_token")
            if not following or not isinstance(following, str) or following in seen:
                raise self._error(
                    f"{shown} says it has more results but gives no new next_token; the later "
                    "pages could not be read",
                    shown,
                    "pagination",
                    response.status_code,
                )
            seen.add(following)
            token = following
        raise self._error(
            f"{self.url(path)} has more than {max_pages} pages", self.url(path), "pagination", None
        )

    def paginate_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_param: str = "page",
        first: int = 1,
        envelope: str | None = None,
        current_key: str = "current_page",
        total_key: str = "total_pages",
        items_key: str | None = None,
        max_pages: int = 10_000,
    ) -> Iterator[Page]:
        """Ask for page ``first``, ``first + 1``, … until ``current_page`` reaches ``total_pages``.

        Numbers may be strings. Without a total, paging stops at the first page whose
        ``items_key`` list is empty (or after one page when ``items_key`` is not given).
        """
        page = first
        for _ in range(max_pages):
            response, data = self.fetch("GET", path, params={**(params or {}), page_param: page})
            yield Page(self.redact(response.request.url), data, response)
            meta = data.get(envelope) if envelope and isinstance(data, dict) else data
            meta = meta if isinstance(meta, dict) else {}
            total = _as_int(meta.get(total_key))
            current = _as_int(meta.get(current_key)) or page
            if total is not None:
                if current >= total:
                    return
            elif items_key is None or not (isinstance(data, dict) and data.get(items_key)):
                return
            page = current + 1
        raise self._error(
            f"{self.url(path)} has more than {max_pages} pages", self.url(path), "pagination", None
        )
