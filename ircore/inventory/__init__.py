"""Step 2 loaders: lockfiles in folders and git repositories into the ``inventory`` frame."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from ircore._errors import InputError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, read_bytes, sha256
from ircore.inventory import _git
from ircore.inventory._bun import parse_bun_lockfile
from ircore.inventory._npm import parse_npm_lockfile
from ircore.inventory._pnpm import parse_pnpm_lockfile
from ircore.inventory._result import LockfileResult
from ircore.inventory._yarn import parse_yarn_lockfile

__all__ = ["LOCKFILE_NAMES", "load_inventory"]

# A parser takes the lockfile and its package.json (when there is one) and returns the format,
# the rows, and notes on what it could read only in part.
Parsed = tuple[str, list[dict[str, Any]], list[str]]
Parser = Callable[[bytes, bytes | None], Parsed]


def _adapt(parse: Callable[..., LockfileResult]) -> Parser:
    def parser(data: bytes, manifest: bytes | None) -> Parsed:
        result = parse(data, manifest=manifest)
        return result.format, result.rows, list(result.warnings)

    return parser


def _shrinkwrap(data: bytes, manifest: bytes | None) -> Parsed:
    fmt, rows, notes = _adapt(parse_npm_lockfile)(data, manifest)
    return fmt.replace("npm-lock", "npm-shrinkwrap"), rows, notes


PARSERS: dict[str, Parser] = {
    "package-lock.json": _adapt(parse_npm_lockfile),
    "npm-shrinkwrap.json": _shrinkwrap,
    "yarn.lock": _adapt(parse_yarn_lockfile),
    "pnpm-lock.yaml": _adapt(parse_pnpm_lockfile),
    "bun.lock": _adapt(parse_bun_lockfile),
    "bun.lockb": _adapt(parse_bun_lockfile),  # binary: raises a problem saying how to convert it
}
# Lockfiles this version finds but cannot read yet: reported as problems, never as clean.
NOT_YET_READ: set[str] = set()
LOCKFILE_NAMES = frozenset(PARSERS) | NOT_YET_READ
SKIP_DIRS = {"node_modules", ".git"}


def _is_scanned(path: str, *, manifests: bool = False) -> bool:
    parts = PurePosixPath(path).parts
    wanted = parts[-1] in LOCKFILE_NAMES or (manifests and parts[-1] == "package.json")
    return wanted and not SKIP_DIRS.intersection(parts[:-1])


class _Reader:
    """Parses each distinct (lockfile, manifest) content once and records every input."""

    def __init__(self, log: EvidenceLog) -> None:
        self.log = log
        self.rows: list[dict[str, Any]] = []
        self._cache: dict[tuple[str, str, str], Parsed | InputError] = {}

    def add(
        self, *, name: str, data: bytes, manifest: bytes | None, where: dict[str, str], source: str
    ) -> None:
        digest = sha256(data)
        evidence = where["evidence"]
        repo, ref = where["repo"], where["ref"]
        failed = {
            "source": source,
            "evidence": evidence,
            "repo": repo,
            "ref": ref,
            "file": where["file"],
            "format": name,
            "sha256": digest,
        }
        if name in NOT_YET_READ:
            self.log.failed(
                kind="unsupported",
                message=f"{name} is not read by this version of "
                "ircore; its packages are not in the inventory",
                **failed,
            )
            return
        key = (name, digest, sha256(manifest) if manifest is not None else "")
        if key not in self._cache:
            try:
                self._cache[key] = PARSERS[name](data, manifest)
            except InputError as exc:
                self._cache[key] = exc
        parsed = self._cache[key]
        if isinstance(parsed, InputError):
            self.log.failed(
                kind=parsed.kind, message=f"{where['file']}: {parsed.message}", **failed
            )
            return
        fmt, rows, notes = parsed
        self.log.input(
            source=source,
            evidence=evidence,
            status="parsed" if rows else "empty",
            file=where["file"],
            format=fmt,
            packages=len(rows),
            sha256=digest,
            notes="; ".join(notes),
            repo=repo,
            ref=ref,
        )
        extra = {**where, "lockfile_format": fmt, "source": source}
        self.rows.extend({**row, **extra} for row in rows)


def _unlocked_manifests(paths: Iterable[str]) -> list[str]:
    """``package.json`` files with no lockfile beside them or in any folder above them.

    Such a project installs whatever its ranges resolve to on the day: what it got cannot be
    read from the repository, so it is reported instead of passed over.
    """
    paths = list(paths)
    locked = {str(PurePosixPath(p).parent) for p in paths if PurePosixPath(p).name in PARSERS}
    unlocked = []
    for path in paths:
        pure = PurePosixPath(path)
        if pure.name != "package.json":
            continue
        folders = [str(pure.parent), *(str(a) for a in pure.parent.parents)]
        if not locked.intersection(folders):
            unlocked.append(path)
    return unlocked


def _report_unlocked(
    reader: _Reader,
    manifests: list[str],
    *,
    where: dict[str, str],
    source: str,
    evidence: Callable[[str], str],
) -> None:
    for path in manifests:
        reader.log.failed(
            source=source,
            evidence=evidence(path),
            kind="no-lockfile",
            repo=where["repo"],
            ref=where["ref"],
            file=path,
            format="package.json",
            message=f"{path} has no lockfile: what an install resolved cannot be read, so a "
            "compromised version may have been installed without trace here",
        )


def _joined(base: Path, path: str) -> str:
    return str(base / path)


def _at_commit(prefix: str, path: str) -> str:
    return f"{prefix}:{path}"


def _walk(root: Path, log: EvidenceLog, *, skip: Collection[Path]) -> Iterator[Path]:
    """Lockfiles and manifests below ``root``; folders that cannot be listed become problems."""

    def unreadable(exc: OSError) -> None:
        log.failed(
            source="folder",
            evidence=str(exc.filename),
            kind="unreadable",
            message=f"folder {exc.filename} could not be listed ({exc.strerror or exc}); "
            "lockfiles in it were not read",
        )

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and here / d not in skip)
        for name in sorted(files):
            if name in LOCKFILE_NAMES or name == "package.json":
                yield here / name


def _is_project(folder: Path) -> bool:
    return _git.is_git_repo(folder) or any(
        (folder / name).is_file() for name in (*LOCKFILE_NAMES, "package.json")
    )


def _read_folder(
    root: Path,
    reader: _Reader,
    repo: str | None,
    host: str,
    *,
    skip: Collection[Path] = (),
    of_projects: bool = False,
) -> None:
    """Read lockfiles from the working tree.

    ``root`` is one project (it has a lockfile, a package.json or .git at its top), or a folder
    of projects, each first-level folder then being a repository of its own.
    """
    projects: dict[Path, list[Path]]
    if root.is_file():
        projects = {root.parent: [root]}
    else:
        found = list(_walk(root, reader.log, skip=skip))
        tops = {p.relative_to(root).parts[0] for p in found if p.parent != root}
        # A folder of projects (a checkout folder, an export of several repos): several
        # first-level folders hold lockfiles and the folder itself is no project.
        several = of_projects or (not _is_project(root) and len(tops) > 1)
        projects = {}
        for path in found:
            top = (
                root / path.relative_to(root).parts[0] if several and path.parent != root else root
            )
            projects.setdefault(top, []).append(path)
    for base, paths in sorted(projects.items()):
        name = repo or base.name
        surface = "host" if host else "folder"
        relative = [p.relative_to(base).as_posix() for p in paths]
        where = {"repo": name, "ref": "", "surface": surface, "host": host}
        _report_unlocked(
            reader,
            _unlocked_manifests(relative),
            where=where,
            source="folder",
            evidence=functools.partial(_joined, base),
        )
        for path, rel in zip(paths, relative, strict=True):
            if path.name == "package.json":
                continue
            _read_lockfile(reader, path, {**where, "file": rel, "evidence": str(path)})


def _read_lockfile(reader: _Reader, path: Path, where: dict[str, str]) -> None:
    try:
        data = read_bytes(path)
    except OSError as exc:
        reader.log.failed(
            source="folder",
            evidence=str(path),
            kind="unreadable",
            message=f"{path} could not be read ({exc.strerror or exc})",
            repo=where["repo"],
            file=where["file"],
            format=path.name,
        )
        return
    manifest_path = path.with_name("package.json")
    try:
        manifest = read_bytes(manifest_path) if manifest_path.is_file() else None
    except OSError:
        manifest = None
    reader.add(name=path.name, data=data, manifest=manifest, where=where, source="folder")


def _read_git(repo_path: Path, reader: _Reader, repo: str | None) -> None:
    name = repo or repo_path.name
    try:
        refs, broken = _git.list_refs(repo_path)
    except _git.GitError as exc:
        reader.log.failed(
            source="git", evidence=str(repo_path), kind="git", message=str(exc), repo=name
        )
        return
    for ref_name, reason in broken:
        reader.log.failed(
            source="git",
            evidence=f"{repo_path}@{ref_name}",
            kind="broken-ref",
            message=f"ref {ref_name} could not be read ({reason}); what it holds was not scanned",
            repo=name,
            ref=ref_name,
        )
    if not refs:
        reader.log.problem(
            source="git",
            evidence=str(repo_path),
            kind="empty-repo",
            message=f"{repo_path} has no branches to read",
            repo=name,
        )
    for ref in refs:
        try:
            tree = dict(_git.list_files(repo_path, ref.commit))
            wanted = [p for p in tree if _is_scanned(p)]
            unlocked = _unlocked_manifests(p for p in tree if _is_scanned(p, manifests=True))
            manifests = {p: str(PurePosixPath(p).with_name("package.json")) for p in wanted}
            blobs = {tree[p] for p in wanted} | {tree[m] for m in manifests.values() if m in tree}
            contents = _git.read_blobs(repo_path, sorted(blobs))
        except _git.GitError as exc:
            reader.log.failed(
                source="git",
                evidence=f"{repo_path}@{ref.full}",
                kind="git",
                message=str(exc),
                repo=name,
                ref=ref.name,
            )
            continue
        _report_unlocked(
            reader,
            unlocked,
            where={"repo": name, "ref": ref.name},
            source="git",
            evidence=functools.partial(_at_commit, f"{repo_path}@{ref.commit[:12]}"),
        )
        for path in wanted:
            manifest_blob = tree.get(manifests[path])
            where = {
                "repo": name,
                "ref": ref.name,
                "surface": ref.surface,
                "host": "",
                "file": path,
                "evidence": f"{repo_path}@{ref.commit[:12]}:{path}",
            }
            reader.add(
                name=PurePosixPath(path).name,
                data=contents[tree[path]],
                manifest=contents.get(manifest_blob) if manifest_blob else None,
                where=where,
                source="git",
            )


def load_inventory(
    sources: PathLike | Iterable[PathLike],
    *,
    repo: str | None = None,
    git_refs: bool = False,
    host: str = "",
    log: EvidenceLog | None = None,
) -> pd.DataFrame:
    """Read every lockfile under ``sources`` into one ``inventory`` frame.

    Parameters
    ----------
    sources
        Lockfiles, project folders, git repositories, or folders of git repositories.
    repo
        Name to give the rows; by default the repository (or folder) name.
    git_refs
        Read git repositories from their objects at every branch and pull-request ref
        (``refs/heads``, ``refs/remotes``, ``refs/pull``) instead of the working tree.
    host
        When scanning a developer machine, its name (rows get surface ``host``).
    log
        Collects every lockfile read and every one that could not be; a fresh one when omitted.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema: ``name``, ``version`` (string), ``dev``, ``optional``,
        ``direct``, ``bundled`` (boolean, NA when the input does not say), ``introducer``,
        ``dependency_path``, ``install_path``, ``alias``, ``resolved``, ``origin_kind``,
        ``lockfile_format``, ``file``, ``repo``, ``ref``, ``surface``, ``host``, ``source``,
        ``evidence`` (string).
    """
    log = log if log is not None else EvidenceLog()
    reader = _Reader(log)
    for root in log.existing(as_paths(sources), source="inventory"):
        if git_refs and root.is_dir():
            if _git.is_git_repo(root):
                _read_git(root, reader, repo)
                continue
            try:
                children = sorted(c for c in root.iterdir() if c.is_dir() and _git.is_git_repo(c))
            except OSError as exc:
                log.failed(
                    source="folder",
                    evidence=str(root),
                    kind="unreadable",
                    message=f"folder {root} could not be listed ({exc.strerror or exc})",
                )
                continue
            for child in children:
                _read_git(child, reader, None)
            # plain project folders beside the clones are read from their working tree
            _read_folder(root, reader, repo, host, skip=set(children), of_projects=True)
            continue
        _read_folder(root, reader, repo, host)
    return new_frame("inventory", reader.rows)
