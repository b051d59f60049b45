"""A GitHub-shaped REST server on loopback: org listings paged with ``Link``, recursive trees,
base64 blobs (with GitHub's line breaks), open pull requests (from forks too) and the SBOM."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests._http_server import Reply, Request, Server


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit_id(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()


def github_base64(data: bytes) -> str:
    # GitHub wraps blob content at 60 characters with "\n".
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


@dataclass
class Pull:
    number: int
    files: dict[str, bytes]
    head_repo: str | None  # full name of the head repository; None once a fork is deleted


@dataclass
class FakeGitHub:
    """The GitHub REST endpoints the loader reads, served with GitHub's shapes."""

    server: Server
    org: str = "acme"
    page_size: int = 2
    repos: list[dict[str, Any]] = field(default_factory=list)
    routed_blobs: set[tuple[str, str]] = field(default_factory=set)

    def repo(
        self,
        name: str,
        files: Mapping[str, bytes],
        *,
        default: str = "main",
        archived: bool = False,
        fork: bool = False,
        pulls: tuple[Pull, ...] = (),
        sbom: dict[str, Any] | None = None,
        tree_replies: tuple[Reply, ...] = (),
        truncated: bool = False,
    ) -> None:
        full = f"{self.org}/{name}"
        self.repos.append(
            {
                "id": len(self.repos) + 1,
                "name": name,
                "full_name": full,
                "private": True,
                "html_url": f"https://github.com/{full}",
                "fork": fork,
                "archived": archived,
                "default_branch": default,
            }
        )
        self.tree(name, default, files, prefix=tree_replies, truncated=truncated)
        pulls_json = []
        for pull in pulls:
            sha = commit_id(f"{full}#{pull.number}")
            self.tree(name, sha, pull.files)
            head_repo = {"full_name": pull.head_repo} if pull.head_repo else None
            pulls_json.append(
                {
                    "number": pull.number,
                    "state": "open",
                    "title": f"PR {pull.number}",
                    "head": {"ref": "patch", "sha": sha, "repo": head_repo},
                    "base": {"ref": default, "repo": {"full_name": full}},
                }
            )
        self.server.json(f"/repos/{full}/pulls", pulls_json)
        sbom_path = f"/repos/{full}/dependency-graph/sbom"
        if sbom is None:
            self.server.json(sbom_path, {"message": "Not Found"}, status=404)
        else:
            self.server.json(sbom_path, {"sbom": sbom})

    def tree(
        self,
        name: str,
        ref: str,
        files: Mapping[str, bytes],
        *,
        prefix: tuple[Reply, ...] = (),
        truncated: bool = False,
    ) -> None:
        full = f"{self.org}/{name}"
        folders = {str(p) for f in files for p in Path(f).parents if str(p) != "."}
        entries: list[dict[str, Any]] = [
            {"path": d, "mode": "040000", "type": "tree", "sha": commit_id(d)}
            for d in sorted(folders)
        ]
        for path, data in files.items():
            sha = blob_id(data)
            entries.append(
                {"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": len(data)}
            )
            if (full, sha) not in self.routed_blobs:
                self.routed_blobs.add((full, sha))
                self.server.json(
                    f"/repos/{full}/git/blobs/{sha}",
                    {
                        "sha": sha,
                        "size": len(data),
                        "content": github_base64(data),
                        "encoding": "base64",
                    },
                )
        body = {"sha": commit_id(ref), "tree": entries, "truncated": truncated}
        self.server.route("GET", f"/repos/{full}/git/trees/{ref}", *prefix, Reply(body=body))

    def serve(self) -> None:
        listing = f"/orgs/{self.org}/repos"

        def page(request: Request) -> Reply:
            number = int(request.param("page") or 1)
            start = (number - 1) * self.page_size
            headers = {}
            if start + self.page_size < len(self.repos):
                nxt = f"{self.server.url}{listing}?per_page=100&type=all&page={number + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return Reply(body=self.repos[start : start + self.page_size], headers=headers)

        self.server.route("GET", listing, page)

    def blob_fetches(self, data: bytes) -> int:
        sha = blob_id(data)
        return sum(r.path.endswith(f"/git/blobs/{sha}") for r in self.server.requests)
