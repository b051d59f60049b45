"""Read files straight from git objects, at every branch and pull-request ref, without a checkout.

Only plumbing commands are run (``for-each-ref``, ``ls-tree``, ``cat-file``); nothing from the
repository is executed, and hooks and filters do not apply to these commands.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 120
# A scanned repository's own config must not make git run anything (fsmonitor is the one
# setting read-only commands can still honour); ownership checks would refuse clones made by
# other users, and only plumbing runs here.
_SAFE_CONFIG = (
    "-c",
    "core.quotepath=off",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "safe.directory=*",
)


class GitError(Exception):
    pass


def _git(repo: Path, *args: str, input_: bytes | None = None) -> bytes:
    return _git_with_stderr(repo, *args, input_=input_)[0]


def _git_with_stderr(repo: Path, *args: str, input_: bytes | None = None) -> tuple[bytes, bytes]:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *_SAFE_CONFIG, *args],
            input=input_,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} failed in {repo}: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {args[0]} failed in {repo}: {message}")
    return done.stdout, done.stderr


def is_git_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


@dataclass(frozen=True)
class Ref:
    name: str  # short, as an analyst says it: main, feature/x, pull/12/head
    full: str
    commit: str
    surface: str  # default_branch | branch | pull_request


def list_refs(repo: Path) -> tuple[list[Ref], list[tuple[str, str]]]:
    """Every branch, remote-tracking branch and pull-request ref, the default branch first.

    Also returns the refs git could not read (``(name, reason)``): a broken ref must be reported,
    and must not hide the others. Remote-tracking refs that point at the same commit as a local
    branch of the same name are folded into it, so a fresh clone does not report each twice.
    """
    try:
        default = _git(repo, "symbolic-ref", "-q", "HEAD").decode().strip()
    except GitError:
        default = ""
    # %(objecttype) would make git open every object, and one missing object fails the whole
    # listing; each ref's commit is read on its own later, where a failure is that ref's only.
    out, err = _git_with_stderr(
        repo,
        "for-each-ref",
        "--format=%(refname) %(objectname)",
        "refs/heads",
        "refs/remotes",
        "refs/pull",
    )
    broken = [
        (line.rsplit(" ", 1)[-1], line.strip())
        for line in err.decode("utf-8", "replace").splitlines()
        if "broken ref" in line or "badly named ref" in line
    ]
    refs: list[Ref] = []
    seen: set[tuple[str, str]] = set()
    for line in out.decode().splitlines():
        full, commit = line.split(" ")
        if full.endswith("/HEAD"):
            continue
        if full.startswith("refs/pull/"):
            short, surface = full.removeprefix("refs/"), "pull_request"
        elif full.startswith("refs/remotes/"):
            short = full.removeprefix("refs/remotes/").split("/", 1)[-1]
            surface = "pull_request" if short.startswith("pull/") else "branch"
        else:
            short, surface = full.removeprefix("refs/heads/"), "branch"
        if full == default:
            surface = "default_branch"
        if (short, commit) in seen:
            continue
        seen.add((short, commit))
        refs.append(Ref(short, full, commit, surface))
    refs.sort(key=lambda r: (r.surface != "default_branch", r.surface, r.name))
    return refs, broken


def list_files(repo: Path, commit: str) -> list[tuple[str, str]]:
    """``(path, blob id)`` of every file in a commit's tree."""
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    files = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        if kind == "blob" and mode != "120000":  # symlinks are not followed
            files.append((path.decode("utf-8", "surrogateescape"), blob))
    return files


def read_blobs(repo: Path, blobs: list[str]) -> dict[str, bytes]:
    """Contents of many blobs with one ``git cat-file --batch`` call."""
    if not blobs:
        return {}
    out = _git(repo, "cat-file", "--batch", input_="\n".join(blobs).encode() + b"\n")
    contents: dict[str, bytes] = {}
    pos = 0
    for blob in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split(" ")
        if len(header) < 3 or header[1] != "blob":
            raise GitError(f"object {blob} is not readable in {repo}: {' '.join(header)}")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return contents
