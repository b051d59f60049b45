"""Write a planned commit graph as a real git repository, reproducibly.

``git fast-import`` receives the whole history in one stream, so a repository costs three git
processes whatever its length, and every byte that goes into a commit object (trees, names, dates,
time zones, messages) comes from the plan: two builds give the same commit ids. Nothing is read
from the user's or the system's git configuration.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Person:
    """A commit author: name, e-mail and the UTC offset their clock shows (``+0200``)."""

    name: str
    email: str
    tz: str = "+0000"


@dataclass
class Commit:
    """One planned commit with the full file snapshot it records.

    Attributes
    ----------
    key : str
        Identifier unique within the repository, used to map marks back to commit ids.
    ref : str
        Full ref the commit is made on (``refs/heads/main``, ``refs/pull/12/head``).
    parent : str or None
        Key of the parent commit; ``None`` for a root commit.
    when : datetime
        Aware author and committer time.
    author : Person
        Author and committer.
    message : str
        Commit message (a trailing newline is added).
    files : dict of str to bytes
        Complete tree of the commit, path to content.
    merge : str or None
        Key of a second parent (a merged pull request), if any.
    """

    key: str
    ref: str
    parent: str | None
    when: datetime
    author: Person
    message: str
    files: dict[str, bytes] = field(default_factory=dict)
    merge: str | None = None


def git_env() -> dict[str, str]:
    """Return an environment that isolates git from user/system config and inherited repos.

    Returns
    -------
    dict of str to str
        ``PATH`` is kept; every ``GIT_*`` variable of the caller (a hook's ``GIT_DIR``, say) is
        dropped so the subprocess can only touch the repository it is pointed at.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "TZ": "UTC",
        }
    )
    return env


_CONFIG = (
    "-c", "init.defaultBranch=main",
    "-c", "commit.gpgsign=false",
    "-c", "tag.gpgsign=false",
    "-c", "core.autocrlf=false",
    "-c", "gc.auto=0",
    "-c", "user.name=ircore demo",
    "-c", "user.email=demo@invalid.example",
)  # fmt: skip


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *_CONFIG, "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env=git_env(),
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"git {' '.join(args)} failed in {repo}: {proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout


def _ident(person: Person, when: datetime) -> bytes:
    return f"{person.name} <{person.email}> {int(when.timestamp())} {person.tz}".encode()


def _data(payload: bytes) -> bytes:
    return b"data " + str(len(payload)).encode() + b"\n" + payload + b"\n"


def fast_import_stream(commits: list[Commit], refs: dict[str, str]) -> tuple[bytes, dict[str, int]]:
    """Encode commits (parents first) and extra refs as a ``git fast-import`` stream.

    Parameters
    ----------
    commits : list of Commit
        Commits in an order where every parent precedes its children.
    refs : dict of str to str
        Extra refs to point at existing commits, ref to commit key (``refs/pull/7/head``).

    Returns
    -------
    tuple
        The stream, and the mark number given to each commit key.
    """
    out: list[bytes] = []
    blob_marks: dict[bytes, int] = {}
    commit_marks: dict[str, int] = {}
    next_mark = 1
    for commit in commits:
        for content in commit.files.values():
            if content not in blob_marks:
                blob_marks[content] = next_mark
                out.append(b"blob\nmark :%d\n" % next_mark + _data(content))
                next_mark += 1
        commit_marks[commit.key] = next_mark
        ident = _ident(commit.author, commit.when)
        message = commit.message.rstrip("\n").encode() + b"\n"
        out.append(f"commit {commit.ref}\nmark :{next_mark}\n".encode())
        out.append(b"author " + ident + b"\ncommitter " + ident + b"\n" + _data(message))
        if commit.parent is not None:
            out.append(b"from :%d\n" % commit_marks[commit.parent])
        if commit.merge is not None:
            out.append(b"merge :%d\n" % commit_marks[commit.merge])
        out.append(b"deleteall\n")
        for path in sorted(commit.files):
            out.append(b"M 100644 :%d %s\n" % (blob_marks[commit.files[path]], path.encode()))
        out.append(b"\n")
        next_mark += 1
    for ref, key in sorted(refs.items()):
        out.append(f"reset {ref}\nfrom :{commit_marks[key]}\n\n".encode())
    out.append(b"done\n")
    return b"".join(out), commit_marks


def write_repository(path: Path, commits: list[Commit], refs: dict[str, str]) -> dict[str, str]:
    """Create a git repository at ``path`` holding ``commits`` and check out ``main``.

    Parameters
    ----------
    path : Path
        Directory to create (must not exist).
    commits : list of Commit
        Commits in parent-first order; their ``ref`` fields create the branches/refs.
    refs : dict of str to str
        Extra refs (ref to commit key), such as a pull-request head left after its branch was
        deleted or merged.

    Returns
    -------
    dict of str to str
        Commit key to the commit id git assigned.
    """
    path.mkdir(parents=True)
    # An empty template keeps sample hooks and the description file out of the demo repos.
    _git(path, "init", "--quiet", "--template=", "--initial-branch=main")
    stream, marks = fast_import_stream(commits, refs)
    marks_file = path / ".git" / "ircore-demo-marks"
    _git(path, "fast-import", "--quiet", "--done", f"--export-marks={marks_file}", stdin=stream)
    by_mark = {}
    for line in marks_file.read_text(encoding="ascii").splitlines():
        mark, sha = line.split()
        by_mark[int(mark[1:])] = sha
    marks_file.unlink()
    _git(path, "reset", "--quiet", "--hard", "refs/heads/main")
    return {key: by_mark[mark] for key, mark in marks.items()}
