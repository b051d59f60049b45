"""Step 2 from the GitHub API: every repository of an org, its default branch and open PRs.

No clone is needed: the lockfiles are found in each ref's recursive tree and read as git blobs
(``/git/blobs/{sha}``, base64), which work up to 100 MB where the contents API stops at 1 MB.
A blob is fetched once however many refs and repositories hold it (same sha, same bytes), and
parsed once by the shared :class:`ircore.inventory._Scan`. Open pull requests are read at
their head commit, forks included (the base repository serves a fork's objects through
``refs/pull/N/head``). The dependency-graph SBOM is read as a further source when asked.

Every request that fails becomes a ``problems`` row naming the repository, the ref and the URL;
the repository's other refs, and the other repositories, are still read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import orjson
import pandas as pd

from ircore import inventory as _inventory
from ircore._errors import InputError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import sha256
from ircore.http import Client, SourceError
from ircore.inventory._sbom import parse_sbom

__all__ = ["GITHUB_HEADERS", "github_client", "load_github_inventory"]

SOURCE = "github"
SBOM_SOURCE = "github-sbom"
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def github_client(
    *, base_url: str = "https://api.github.com", token_env: str = "GITHUB_TOKEN", **options: Any
) -> Client:
    """A :class:`~ircore.http.Client` for the GitHub REST API (``options`` go to it)."""
    headers = {**GITHUB_HEADERS, **options.pop("headers", {})}
    return Client(base_url=base_url, source=SOURCE, token_env=token_env, headers=headers, **options)


@dataclass(frozen=True)
class _Ref:
    name: str  # as the git loader names it: main, pull/12/head
    surface: str  # default_branch | pull_request
    tree: str  # what the trees endpoint is asked for: a branch name or a commit sha
    notes: str  # said of every input read at this ref (archived, from a fork)


class _NotedLog(EvidenceLog):
    """Forwards to the investigation's log, adding the current ref's notes to each input.

    ``_Scan`` records inputs with the parser's notes only; this is how "archived" or "from a
    fork" reaches the ``inputs`` frame without copying ``_Scan``. Its own frames stay empty.
    """

    def __init__(self, inner: EvidenceLog) -> None:
        super().__init__()
        self.inner = inner
        self.notes = ""

    def problem(self, **fields: Any) -> None:
        self.inner.problem(**fields)

    def input(self, *, notes: str = "", **fields: Any) -> None:
        self.inner.input(**fields, notes="; ".join(n for n in (notes, self.notes) if n))


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _OrgScan:
    def __init__(self, client: Client, org: str, log: EvidenceLog) -> None:
        self.client = client
        self.org = org
        self.log = log
        self.noted = _NotedLog(log)
        self.scan = _inventory._Scan(self.noted, inventory=True, declared=False)
        # Blob ids are content addresses: one fetch per content for the whole org. The bytes
        # are kept (the parse cache keeps far more per content), since requests are the
        # scarce resource under GitHub's rate limit.
        self.blobs: dict[str, bytes | SourceError] = {}
        self.digests: dict[str, str] = {}
        self.rows: list[dict[str, Any]] = []
        # Once the rate limit is spent past max_wait, every further request would fail the
        # same way: the repositories not yet read are listed as such instead.
        self.spent: SourceError | None = None

    def api(self, path: str) -> str:
        return self.client.redact(self.client.url(path))

    def failed_request(self, error: SourceError, *, repo: str, ref: str, what: str) -> None:
        if error.kind == "rate-limited":
            self.spent = error
        self.log.problem(
            source=SOURCE,
            evidence=error.url,
            kind=error.kind,
            message=f"{what} ({error.message})",
            repo=repo,
            ref=ref,
        )

    # -- repositories ------------------------------------------------------------------------

    def repositories(self, names: Sequence[str] | None) -> Iterator[dict[str, Any]]:
        if names is not None:
            for name in names:
                full = name if "/" in name else f"{self.org}/{name}"
                try:
                    data = self.client.get_json(f"/repos/{full}")
                except SourceError as exc:
                    self.failed_request(
                        exc,
                        repo=full.split("/")[-1],
                        ref="",
                        what=f"repository {full} could not be read",
                    )
                    continue
                if isinstance(data, dict):
                    yield data
            return
        listing = f"/orgs/{quote(self.org, safe='')}/repos"
        params: dict[str, Any] = {"per_page": 100, "type": "all"}
        pages = 0
        try:
            for page in self.client.paginate_link(listing, params=params):
                pages += 1
                yield from self._repo_list(page.data, page.url)
        except SourceError as exc:
            if pages == 0 and exc.status == 404:
                # Not an organization: a user account holds the repositories.
                yield from self._user_repositories()
                return
            self.failed_request(
                exc,
                repo="",
                ref="",
                what=f"the repository list of {self.org} stopped after {pages} pages; "
                "repositories on later pages were not read",
            )

    def _user_repositories(self) -> Iterator[dict[str, Any]]:
        listing = f"/users/{quote(self.org, safe='')}/repos"
        pages = 0
        try:
            for page in self.client.paginate_link(
                listing, params={"per_page": 100, "type": "owner"}
            ):
                pages += 1
                yield from self._repo_list(page.data, page.url)
        except SourceError as exc:
            what = (
                f"{self.org} is neither an organization nor a user the token can see"
                if pages == 0
                else f"the repository list of {self.org} stopped after {pages} pages"
            )
            self.failed_request(exc, repo="", ref="", what=what)

    def _repo_list(self, data: Any, url: str) -> Iterator[dict[str, Any]]:
        if not isinstance(data, list):
            self.log.problem(
                source=SOURCE,
                evidence=url,
                kind="invalid",
                message=f"{url} is not a list of repositories; the repositories on it were "
                "not read",
            )
            return
        yield from (r for r in data if isinstance(r, dict))

    # -- one repository ----------------------------------------------------------------------

    def read_repo(self, repo: dict[str, Any], *, pull_requests: bool, sbom: bool) -> None:
        name = str(repo.get("name") or "")
        full = str(repo.get("full_name") or f"{self.org}/{name}")
        if self.spent is not None:
            self.log.problem(
                source=SOURCE,
                evidence=self.api(f"/repos/{full}"),
                kind="rate-limited",
                message=f"{full} was not read: the GitHub rate limit ran out earlier "
                f"({self.spent.message})",
                repo=name,
            )
            return
        notes = []
        if repo.get("archived"):
            notes.append("archived repository (read-only)")
        if repo.get("fork"):
            parent = (repo.get("parent") or {}).get("full_name")
            notes.append(f"a fork of {parent}" if parent else "a fork")
        default = repo.get("default_branch")
        if not default:
            self.log.problem(
                source=SOURCE,
                evidence=self.api(f"/repos/{full}"),
                kind="invalid",
                message=f"{full} names no default branch; its files were not read",
                repo=name,
            )
        else:
            self.read_ref(full, name, _Ref(str(default), "default_branch", str(default), ""), notes)
        if pull_requests:
            for ref in self.pull_request_refs(full, name):
                self.read_ref(full, name, ref, notes)
        if sbom and default:
            self.read_sbom(full, name, str(default), notes)

    def pull_request_refs(self, full: str, name: str) -> Iterator[_Ref]:
        listing = f"/repos/{full}/pulls"
        try:
            for page in self.client.paginate_link(
                listing, params={"state": "open", "per_page": 100}
            ):
                for pull in page.data if isinstance(page.data, list) else []:
                    ref = self._pull_ref(full, pull)
                    if ref is not None:
                        yield ref
        except SourceError as exc:
            self.failed_request(
                exc,
                repo=name,
                ref="",
                what=f"the open pull requests of {full} could not all be listed; the ones "
                "not listed were not read",
            )

    def _pull_ref(self, full: str, pull: Any) -> _Ref | None:
        number = pull.get("number") if isinstance(pull, dict) else None
        head = pull.get("head") if isinstance(pull, dict) else None
        sha = head.get("sha") if isinstance(head, dict) else None
        if not isinstance(number, int) or not isinstance(sha, str):
            self.log.problem(
                source=SOURCE,
                evidence=self.api(f"/repos/{full}/pulls"),
                kind="invalid",
                message=f"a pull request of {full} has no number or head commit "
                f"({orjson.dumps(pull)[:200].decode(errors='replace')}); it was not read",
                repo=full.split("/")[-1],
            )
            return None
        head_repo = head.get("repo") if isinstance(head, dict) else None
        origin = head_repo.get("full_name") if isinstance(head_repo, dict) else None
        if origin is None:
            notes = f"pull request #{number} from a repository since deleted, at {sha[:12]}"
        elif origin != full:
            notes = f"pull request #{number} from fork {origin}, at {sha[:12]}"
        else:
            notes = f"pull request #{number}, at {sha[:12]}"
        return _Ref(f"pull/{number}/head", "pull_request", sha, notes)

    # -- one ref -----------------------------------------------------------------------------

    def read_ref(self, full: str, name: str, ref: _Ref, repo_notes: list[str]) -> None:
        tree_path = f"/repos/{full}/git/trees/{quote(ref.tree, safe='')}"
        where = f"{full} at {ref.name}"
        try:
            data = self.client.get_json(tree_path, params={"recursive": 1})
        except SourceError as exc:
            if exc.status == 409:
                # GitHub answers 409 "Git Repository is empty." for a repository with no commit.
                self.log.problem(
                    source=SOURCE,
                    evidence=exc.url,
                    kind="empty-repo",
                    message=f"{full} is empty (no commit on {ref.name}); nothing to read",
                    repo=name,
                    ref=ref.name,
                )
                return
            self.failed_request(
                exc,
                repo=name,
                ref=ref.name,
                what=f"the file list of {where} could not be read, so its lockfiles were not read",
            )
            return
        tree_url = self.api(tree_path) + "?recursive=1"
        entries = data.get("tree") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            self.log.problem(
                source=SOURCE,
                evidence=tree_url,
                kind="invalid",
                message=f"the file list of {where} has no 'tree' array; its lockfiles were "
                "not read",
                repo=name,
                ref=ref.name,
            )
            return
        if data.get("truncated"):
            self.log.problem(
                source=SOURCE,
                evidence=tree_url,
                kind="truncated",
                message=f"the file list of {where} is truncated by GitHub (over 100,000 "
                f"entries or 7 MB); only the first {len(entries)} entries were searched, so "
                "lockfiles and package.json files in the rest were not read",
                repo=name,
                ref=ref.name,
            )
        files = {
            str(e["path"]): str(e["sha"])
            for e in entries
            if isinstance(e, dict)
            and e.get("type") == "blob"
            and e.get("mode") != "120000"  # symlinks are not followed, as in the git loader
            and isinstance(e.get("path"), str)
            and isinstance(e.get("sha"), str)
        }
        listed = [p for p in files if _inventory._is_scanned(p, self.scan)]
        wanted = [p for p in listed if self.scan.reads(PurePosixPath(p).name)]
        unlocked = _inventory._unlocked_manifests(listed)
        self.noted.notes = "; ".join([*repo_notes, ref.notes] if ref.notes else repo_notes)

        def blob_url(path: str) -> str:
            return self.api(f"/repos/{full}/git/blobs/{files[path]}")

        _inventory._report_unlocked(
            self.scan,
            unlocked,
            where={"repo": name, "ref": ref.name},
            source=SOURCE,
            evidence=blob_url,
        )
        for path in sorted(wanted):
            self.read_lockfile(full, name, ref, path, files, blob_url(path))
        self.noted.notes = ""

    def read_lockfile(
        self, full: str, name: str, ref: _Ref, path: str, files: Mapping[str, str], url: str
    ) -> None:
        basename = PurePosixPath(path).name
        try:
            data = self.blob(full, files[path])
        except SourceError as exc:
            if exc.kind == "rate-limited":
                self.spent = exc
            self.log.failed(
                source=SOURCE,
                evidence=exc.url,
                kind=exc.kind,
                message=f"{path} of {full} at {ref.name} could not be fetched: {exc.message}",
                repo=name,
                ref=ref.name,
                file=path,
                format=basename,
            )
            return
        manifest_path = str(PurePosixPath(path).with_name("package.json"))
        manifest = None
        if manifest_path in files and self.scan.wants_manifest(basename):
            try:
                manifest = self.blob(full, files[manifest_path])
            except SourceError as exc:
                self.failed_request(
                    exc,
                    repo=name,
                    ref=ref.name,
                    what=f"{manifest_path} of {full} at {ref.name} could not be fetched, so "
                    f"{path} was read without it (which dependencies are direct is unknown)",
                )
        where = {
            "repo": name,
            "ref": ref.name,
            "surface": ref.surface,
            "host": "",
            "file": path,
            "evidence": url,
        }
        self.scan.add(
            name=basename,
            data=data,
            digest=self.digests[files[path]],
            manifest=manifest,
            manifest_digest=self.digests[files[manifest_path]] if manifest is not None else "",
            where=where,
            source=SOURCE,
        )

    def blob(self, full: str, sha: str) -> bytes:
        """A blob's bytes, fetched once per sha for the whole org; errors are kept too."""
        known = self.blobs.get(sha)
        if isinstance(known, SourceError):
            raise known
        if known is not None:
            return known
        try:
            content = self._fetch_blob(full, sha)
        except SourceError as exc:
            self.blobs[sha] = exc
            raise
        self.blobs[sha] = content
        self.digests[sha] = sha256(content)
        return content

    def _fetch_blob(self, full: str, sha: str) -> bytes:
        path = f"/repos/{full}/git/blobs/{sha}"
        data = self.client.get_json(path)
        url = self.api(path)

        def invalid(kind: str, why: str) -> SourceError:
            return SourceError(f"{SOURCE}: the blob {url} {why}", source=SOURCE, url=url, kind=kind)

        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            raise invalid("invalid", "has no 'content'")
        encoding = data.get("encoding", "base64")
        if encoding == "base64":
            try:
                content = base64.b64decode(data["content"])
            except (binascii.Error, ValueError) as exc:
                raise invalid("invalid", f"is not valid base64 ({exc})") from None
        elif encoding in ("utf-8", "utf8"):
            content = data["content"].encode()
        else:
            raise invalid("invalid", f"has an unknown encoding {encoding!r}")
        if _git_blob_id(content) != sha:
            size = data.get("size")
            if isinstance(size, int) and len(content) < size:
                raise invalid("truncated", f"holds {len(content)} of its {size} bytes")
            raise invalid("invalid", "does not hash to its sha: its content is not what git holds")
        return content

    # -- SBOM --------------------------------------------------------------------------------

    def read_sbom(self, full: str, name: str, default: str, repo_notes: list[str]) -> None:
        path = f"/repos/{full}/dependency-graph/sbom"
        url = self.api(path)
        try:
            response, _ = self.client.fetch("GET", path)
        except SourceError as exc:
            if exc.kind == "http" and exc.status in (403, 404):
                self.log.problem(
                    source=SBOM_SOURCE,
                    evidence=exc.url,
                    kind="unavailable",
                    message=f"the dependency-graph SBOM of {full} is not available (HTTP "
                    f"{exc.status}): the dependency graph is off or the token may not read it. "
                    "The lockfiles of the repository are read apart from it",
                    repo=name,
                    ref=default,
                )
            else:
                self.failed_request(
                    exc,
                    repo=name,
                    ref=default,
                    what=f"the dependency-graph SBOM of {full} could not be read",
                )
            return
        # parse_sbom reads GitHub's {"sbom": ...} wrapper itself; the bytes hashed are those sent.
        raw = response.content
        try:
            result = parse_sbom(raw)
        except InputError as exc:
            self.log.failed(
                source=SBOM_SOURCE,
                evidence=url,
                kind=exc.kind,
                message=f"the dependency-graph SBOM of {full}: {exc.message}",
                repo=name,
                ref=default,
                format="spdx",
                sha256=sha256(raw),
            )
            return
        notes = [*result.warnings, "GitHub's SBOM covers the default branch only", *repo_notes]
        self.log.input(
            source=SBOM_SOURCE,
            evidence=url,
            status="parsed" if result.rows else "empty",
            repo=name,
            ref=default,
            format=result.format,
            packages=len(result.rows),
            sha256=sha256(raw),
            notes="; ".join(notes),
        )
        where = {
            "repo": name,
            "ref": default,
            "surface": "default_branch",
            "host": "",
            "file": "",
            "evidence": url,
            "lockfile_format": result.format,
            "source": SBOM_SOURCE,
        }
        self.rows.extend({**row, **where} for row in result.rows)


def load_github_inventory(
    org: str,
    *,
    base_url: str = "https://api.github.com",
    token_env: str = "GITHUB_TOKEN",
    repos: Sequence[str] | None = None,
    pull_requests: bool = True,
    sbom: bool = True,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Read the lockfiles of an org's repositories through the GitHub API.

    Parameters
    ----------
    org
        The organization (or user) whose repositories are read; archived repositories and
        forks included.
    base_url
        The API root; ``https://HOST/api/v3`` for GitHub Enterprise Server.
    token_env
        Environment variable holding the token (``repo`` or ``contents:read`` scope). Without
        one only public repositories are visible, which is recorded as a problem.
    repos
        Read only these repositories (``name`` or ``owner/name``) instead of listing the org.
    pull_requests
        Also read every open pull request at its head commit (surface ``pull_request``, ref
        ``pull/N/head``), pull requests from forks included.
    sbom
        Also read each repository's dependency-graph SBOM (source ``github-sbom``, default
        branch only). A repository without one is a problem of kind ``unavailable``.
    log
        Collects every lockfile read and every request that failed; a fresh one when omitted.
    client
        A configured :class:`ircore.http.Client` to use instead of one built from ``base_url``
        and ``token_env`` (shared caches, retry settings); it is not closed here.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema: ``name``, ``version`` (string), ``dev``, ``optional``,
        ``direct``, ``bundled`` (boolean, NA when the input does not say), ``introducer``,
        ``dependency_path``, ``install_path``, ``alias``, ``resolved``, ``origin_kind``,
        ``lockfile_format``, ``file``, ``repo`` (the repository name), ``ref`` (the default
        branch's name or ``pull/N/head``), ``surface`` (``default_branch`` | ``pull_request``),
        ``host`` (empty), ``user`` (string, NA), ``first_seen``, ``last_seen`` (datetime64[ns, UTC],
        NaT), ``source`` (``github`` | ``github-sbom``), ``evidence`` (string: the API URL of
        the blob or SBOM read).
    """
    log = log if log is not None else EvidenceLog()
    own = client is None
    http = client if client is not None else github_client(base_url=base_url, token_env=token_env)
    try:
        if not http.has_token:
            log.problem(
                source=SOURCE,
                evidence=http.base_url,
                kind="unauthenticated",
                message=f"{http.token_env or 'no token variable'} is not set: only public "
                f"repositories of {org} are visible and the API allows 60 requests an hour, "
                "so private repositories were not read",
            )
        scan = _OrgScan(http, org, log)
        for repo in scan.repositories(repos):
            scan.read_repo(repo, pull_requests=pull_requests, sbom=sbom)
        return new_frame("inventory", [*scan.scan.inventory_rows, *scan.rows])
    finally:
        if own:
            http.close()
