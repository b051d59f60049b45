"""Step 2 and 6 loaders: lockfiles, SBOMs, installed ``node_modules`` trees and declared ranges,
in folders and git repositories, into the ``inventory`` and ``declared`` frames."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from ircore._errors import InputError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, read_bytes, sha256
from ircore.inventory import _git
from ircore.inventory._bun import parse_bun_lockfile
from ircore.inventory._declared import (
    DECLARED_LOCKFILES,
    DeclaredResult,
    declared_in_lockfile,
    declared_in_manifest,
)
from ircore.inventory._host import scan_host
from ircore.inventory._hosts import load_hosts
from ircore.inventory._node_modules import read_node_modules
from ircore.inventory._npm import parse_npm_lockfile
from ircore.inventory._pnpm import parse_pnpm_lockfile
from ircore.inventory._result import LockfileResult
from ircore.inventory._sbom import parse_sbom
from ircore.inventory._yarn import parse_yarn_lockfile

__all__ = [
    "LOCKFILE_NAMES",
    "SBOM_NAMES",
    "SBOM_SUFFIXES",
    "load_declared",
    "load_hosts",
    "load_inventory",
    "scan_host",
]

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
# SBOM files are recognised by these names and read by content (CycloneDX or SPDX JSON), so an
# unrelated JSON file that is merely called sbom.json is reported, not guessed at.
SBOM_NAMES = frozenset({"bom.json", "sbom.json"})
SBOM_SUFFIXES = (".cdx.json", ".spdx.json", ".sbom.json")
SBOM_PARSER: Parser = _adapt(parse_sbom)
# Lockfiles this version finds but cannot read yet: reported as problems, never as clean.
NOT_YET_READ: set[str] = set()
LOCKFILE_NAMES = frozenset(PARSERS) | NOT_YET_READ
MODULES = "node_modules"
SKIP_DIRS = {MODULES, ".git"}


def _is_sbom(name: str) -> bool:
    return name in SBOM_NAMES or name.endswith(SBOM_SUFFIXES)


def _is_inventory_file(name: str) -> bool:
    return name in LOCKFILE_NAMES or _is_sbom(name)


def _is_declared_file(name: str) -> bool:
    return name == "package.json" or name in DECLARED_LOCKFILES


@dataclass
class _Scan:
    """One pass over the sources for the inventory, the declared ranges, or both.

    Each distinct content is parsed once per purpose (identical blobs on many refs share one
    parse); each file found is one input, and a file that cannot be read one problem, whichever
    frames it feeds.
    """

    log: EvidenceLog
    inventory: bool
    declared: bool
    installed: bool = False
    progress: Callable[[str, int], None] | None = None  # called per file: (evidence, bytes)
    inventory_rows: list[dict[str, Any]] = field(default_factory=list)
    declared_rows: list[dict[str, Any]] = field(default_factory=list)
    _parsed: dict[tuple[str, str, str], Parsed | InputError] = field(default_factory=dict)
    _ranges: dict[tuple[str, str, str], DeclaredResult | InputError] = field(default_factory=dict)

    def listed(self, name: str) -> bool:
        """Files a walk collects: what is read, and every package.json (the no-lockfile check)."""
        return name == "package.json" or self.reads(name)

    def reads(self, name: str) -> bool:
        return (self.inventory and _is_inventory_file(name)) or (
            self.declared and _is_declared_file(name)
        )

    def wants_manifest(self, name: str) -> bool:
        return self.inventory and name in PARSERS

    def cached(self, name: str, digest: str, manifest_digest: str, file: str) -> bool:
        """Whether ``add`` needs no bytes for this content (every parse of it is known)."""
        if (
            self.inventory
            and _is_inventory_file(name)
            and (name, digest, manifest_digest) not in self._parsed
        ):
            return False
        return not (
            self.declared and _is_declared_file(name) and (name, digest, file) not in self._ranges
        )

    def _inventory_parse(
        self, name: str, data: bytes | None, digest: str, manifest: bytes | None, mdigest: str
    ) -> Parsed | InputError:
        key = (name, digest, mdigest)
        if key not in self._parsed:
            assert data is not None, "content not read for an uncached parse"
            parser = PARSERS.get(name, SBOM_PARSER)
            try:
                self._parsed[key] = parser(data, manifest)
            except InputError as exc:
                self._parsed[key] = exc
        return self._parsed[key]

    def _declared_parse(
        self, name: str, data: bytes | None, digest: str, file: str
    ) -> DeclaredResult | InputError:
        key = (name, digest, file)
        if key not in self._ranges:
            assert data is not None, "content not read for an uncached parse"
            try:
                self._ranges[key] = (
                    declared_in_manifest(data, path=file)
                    if name == "package.json"
                    else declared_in_lockfile(name, data)
                )
            except InputError as exc:
                self._ranges[key] = exc
        return self._ranges[key]

    def add(
        self,
        *,
        name: str,
        data: bytes | None,
        digest: str,
        manifest: bytes | None,
        manifest_digest: str,
        where: dict[str, str],
        source: str,
    ) -> None:
        """Parse one file (``data`` may be None when :meth:`cached` said so) and record it."""
        if self.progress is not None:
            self.progress(where["evidence"], len(data) if data is not None else 0)
        file = where["file"]
        failed = {
            "source": source,
            "evidence": where["evidence"],
            "repo": where["repo"],
            "ref": where["ref"],
            "file": file,
            "format": name,
            "sha256": digest,
            "host": where.get("host", ""),
        }
        if self.inventory and name in NOT_YET_READ:
            self.log.failed(
                kind="unsupported",
                message=f"{name} is not read by this version of "
                "ircore; its packages are not in the inventory",
                **failed,
            )
            return
        parsed: Parsed | None = None
        if self.inventory and _is_inventory_file(name):
            result = self._inventory_parse(name, data, digest, manifest, manifest_digest)
            if isinstance(result, InputError):
                self.log.failed(kind=result.kind, message=f"{file}: {result.message}", **failed)
                return
            parsed = result
        ranges: DeclaredResult | None = None
        if self.declared and _is_declared_file(name):
            declared = self._declared_parse(name, data, digest, file)
            if isinstance(declared, InputError):
                if parsed is None:
                    self.log.failed(
                        kind=declared.kind, message=f"{file}: {declared.message}", **failed
                    )
                    return
                # The packages were read; only the ranges were not.
                self.log.problem(
                    source=source,
                    evidence=where["evidence"],
                    kind=declared.kind,
                    message=f"{file}: its declared ranges could not be read: {declared.message}",
                    repo=where["repo"],
                    ref=where["ref"],
                    host=where.get("host", ""),
                )
            else:
                ranges = declared
        if parsed is not None:
            fmt, rows, notes = parsed
            count = len(rows)
            self.inventory_rows.extend(
                {**row, **where, "lockfile_format": fmt, "source": source} for row in rows
            )
        elif ranges is not None:
            fmt, notes, count = ranges.format, [], len(ranges.rows)
        else:
            return
        if ranges is not None:
            notes = [*notes, *ranges.warnings]
            self.declared_rows.extend({**row, **where, "source": source} for row in ranges.rows)
        self.log.input(
            source=source,
            evidence=where["evidence"],
            status="parsed" if count else "empty",
            file=file,
            format=fmt,
            packages=count,
            sha256=digest,
            notes="; ".join(notes),
            repo=where["repo"],
            ref=where["ref"],
            host=where.get("host", ""),
        )

    def add_installed(self, modules: Path, *, base: Path, where: dict[str, str]) -> list[Path]:
        """Read an installed ``node_modules`` tree; returns the folders it covered."""
        if self.progress is not None:
            self.progress(str(modules), 0)
        tree = read_node_modules(modules)
        file = _relative(modules, base)
        for problem in tree.problems:
            if problem.is_input:
                self.log.failed(
                    source="folder",
                    evidence=problem.path,
                    kind=problem.kind,
                    message=problem.message,
                    repo=where["repo"],
                    host=where.get("host", ""),
                    file=_relative(Path(problem.path), base),
                    format="package.json",
                )
            else:
                self.log.problem(
                    source="folder",
                    evidence=problem.path,
                    kind=problem.kind,
                    message=problem.message,
                    repo=where["repo"],
                    host=where.get("host", ""),
                )
        self.log.input(
            source="folder",
            evidence=str(modules),
            status="parsed" if tree.rows else "empty",
            file=file,
            format=tree.format,
            packages=len(tree.rows),
            notes="; ".join(tree.warnings),
            repo=where["repo"],
            host=where.get("host", ""),
        )
        self.inventory_rows.extend(
            {
                **row,
                **where,
                "file": file,
                "lockfile_format": tree.format,
                "source": "folder",
                "evidence": row["evidence"],
            }
            for row in tree.rows
        )
        return tree.folders


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        # read_node_modules resolves symlinks in the base; the path may be spelled the other way.
        return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(base))).as_posix()


def _unlocked_manifests(paths: Iterable[str], *, installed: Iterable[str] = ()) -> list[str]:
    """``package.json`` files with no lockfile (or ``installed`` tree) beside or above them.

    Such a project installs whatever its ranges resolve to on the day: what it got cannot be
    read from the repository, so it is reported instead of passed over.
    """
    paths = list(paths)
    locked = {str(PurePosixPath(p).parent) for p in paths if PurePosixPath(p).name in PARSERS}
    locked.update(installed)
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
    scan: _Scan,
    manifests: list[str],
    *,
    where: dict[str, str],
    source: str,
    evidence: Callable[[str], str],
) -> None:
    for path in manifests:
        scan.log.failed(
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


def _walk(root: Path, scan: _Scan, *, skip: Collection[Path]) -> Iterator[Path]:
    """Files to read below ``root``, and ``node_modules`` folders when installed trees are read.

    Folders that cannot be listed become problems; symbolic links to folders are not entered.
    """

    def unreadable(exc: OSError) -> None:
        scan.log.failed(
            source="folder",
            evidence=str(exc.filename),
            kind="unreadable",
            message=f"folder {exc.filename} could not be listed ({exc.strerror or exc}); "
            "lockfiles in it were not read",
        )

    top = Path(os.path.realpath(root))
    for folder, dirs, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        modules = here / MODULES
        if scan.installed and MODULES in dirs and modules not in skip and not modules.is_symlink():
            yield modules
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and here / d not in skip)
        for name in dirs:
            if (here / name).is_symlink():
                _linked_folder(here / name, top, scan)
        for name in sorted(files):
            if scan.listed(name):
                yield here / name


def _linked_folder(link: Path, top: Path, scan: _Scan) -> None:
    """A symbolic link to a folder is never entered; say so when that leaves something unread.

    A link into the scanned tree is read at its real place; a link to the folder itself or an
    ancestor is a loop; a link out of the tree points at files this scan does not cover.
    """
    target = Path(os.path.realpath(link))
    here = Path(os.path.realpath(link.parent))
    if target == here or target in here.parents:
        kind, what = "symlink-loop", f"links back to {target}, a loop; it was not followed"
    elif target == top or top in target.parents:
        return
    else:
        kind = "not-followed"
        what = f"links to {target}, outside the scanned folder; lockfiles there were not read"
    # a problem, not a failed input: the link is no file that went unread
    scan.log.problem(
        source="folder", evidence=str(link), kind=kind, message=f"folder link {link} {what}"
    )


def _is_project(folder: Path) -> bool:
    return _git.is_git_repo(folder) or any(
        (folder / name).is_file() for name in (*LOCKFILE_NAMES, "package.json")
    )


def _read_folder(
    root: Path,
    scan: _Scan,
    repo: str | None,
    host: str,
    *,
    skip: Collection[Path] = (),
    of_projects: bool = False,
) -> None:
    """Read the working tree.

    ``root`` is one project (it has a lockfile, a package.json or .git at its top), a folder of
    projects, each first-level folder then being a repository of its own, a single file, or
    (installed trees only) a ``node_modules`` folder such as a global install folder.
    """
    projects: dict[Path, list[Path]]
    global_modules = root.is_dir() and root.name == MODULES
    if root.is_file() or global_modules:
        projects = {root.parent: [root]}
    else:
        found = list(_walk(root, scan, skip=skip))
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
        name = repo or (str(root) if global_modules else base.name)
        where = {"repo": name, "ref": "", "surface": "host" if host else "folder", "host": host}
        relative = [p.relative_to(base).as_posix() for p in paths]
        trees = [rel for p, rel in zip(paths, relative, strict=True) if p.name == MODULES]
        if scan.inventory:
            _report_unlocked(
                scan,
                _unlocked_manifests(
                    (r for r in relative if r not in trees),
                    installed=(str(PurePosixPath(t).parent) for t in trees),
                ),
                where=where,
                source="folder",
                evidence=functools.partial(_joined, base),
            )
        covered: set[str] = set()
        contents: dict[Path, bytes | OSError] = {}
        for path, rel in zip(paths, relative, strict=True):
            if path.name == MODULES and rel in trees:
                if os.path.realpath(path) not in covered:
                    folders = scan.add_installed(path, base=base, where=where)
                    covered.update(str(f) for f in folders)
                continue
            read_as = path.name
            if not scan.reads(path.name):
                if path != root or path.name == "package.json":
                    continue
                # Named on its own, it must be read or said to be unreadable, never ignored.
                if not (scan.inventory and path.suffix.lower() == ".json"):
                    scan.log.failed(
                        source="folder",
                        evidence=str(path),
                        kind="unsupported",
                        message=f"{path} is no lockfile, SBOM or package.json this kit reads "
                        "(it goes by file names: package-lock.json, yarn.lock, pnpm-lock.yaml, "
                        "bun.lock, *.cdx.json, *.spdx.json, ...); nothing was read from it",
                        repo=where["repo"],
                        file=rel,
                        host=host,
                    )
                    continue
                read_as = "sbom.json"  # any other JSON named explicitly: an SBOM, or a problem
            _read_file(
                scan, path, {**where, "file": rel, "evidence": str(path)}, contents, name=read_as
            )


def _content(path: Path, contents: dict[Path, bytes | OSError]) -> bytes | OSError:
    """A file's bytes, read once per project (a package.json is a manifest and an input)."""
    if path not in contents:
        try:
            contents[path] = read_bytes(path)
        except OSError as exc:
            contents[path] = exc
    return contents[path]


def _read_file(
    scan: _Scan,
    path: Path,
    where: dict[str, str],
    contents: dict[Path, bytes | OSError],
    *,
    name: str | None = None,
) -> None:
    name = name or path.name
    data = _content(path, contents)
    if isinstance(data, OSError):
        scan.log.failed(
            source="folder",
            evidence=str(path),
            kind=getattr(data, "kind", "unreadable"),  # too-large, not-a-file from read_bytes
            message=f"{path} could not be read ({data.strerror or data})",
            repo=where["repo"],
            file=where["file"],
            format=name,
            host=where.get("host", ""),
        )
        return
    manifest = None
    if scan.wants_manifest(name):
        manifest_path = path.with_name("package.json")
        if manifest_path.is_file():
            read = _content(manifest_path, contents)
            manifest = None if isinstance(read, OSError) else read
    scan.add(
        name=name,
        data=data,
        digest=sha256(data),
        manifest=manifest,
        manifest_digest=sha256(manifest) if manifest is not None else "",
        where=where,
        source="folder",
    )


def _is_scanned(path: str, scan: _Scan) -> bool:
    """Whether ``scan`` collects the file at ``path`` (never under node_modules or .git)."""
    parts = PurePosixPath(path).parts
    return scan.listed(parts[-1]) and not SKIP_DIRS.intersection(parts[:-1])


def _read_git(repo_path: Path, scan: _Scan, repo: str | None) -> None:
    name = repo or repo_path.name
    try:
        refs, broken = _git.list_refs(repo_path)
    except _git.GitError as exc:
        scan.log.failed(
            source="git", evidence=str(repo_path), kind="git", message=str(exc), repo=name
        )
        return
    for ref_name, reason in broken:
        scan.log.failed(
            source="git",
            evidence=f"{repo_path}@{ref_name}",
            kind="broken-ref",
            message=f"ref {ref_name} could not be read ({reason}); what it holds was not scanned",
            repo=name,
            ref=ref_name,
        )
    if not refs:
        scan.log.problem(
            source="git",
            evidence=str(repo_path),
            kind="empty-repo",
            message=f"{repo_path} has no branches to read",
            repo=name,
        )
    # Blob ids are content addresses: a blob met at an earlier ref is not read again when
    # everything parsed from it is already known.
    digests: dict[str, str] = {}
    for ref in refs:
        try:
            tree = dict(_git.list_files(repo_path, ref.commit))
            listed = [p for p in tree if _is_scanned(p, scan)]
            wanted = [p for p in listed if scan.reads(PurePosixPath(p).name)]
            unlocked = _unlocked_manifests(listed) if scan.inventory else []
            manifests = {
                p: tree.get(str(PurePosixPath(p).with_name("package.json")), "")
                for p in wanted
                if scan.wants_manifest(PurePosixPath(p).name)
            }
            needed: set[str] = set()
            for path in wanted:
                blob, manifest_blob = tree[path], manifests.get(path, "")
                digest = digests.get(blob)
                manifest_digest = digests.get(manifest_blob) if manifest_blob else ""
                if (
                    digest is None
                    or manifest_digest is None
                    or not scan.cached(PurePosixPath(path).name, digest, manifest_digest, path)
                ):
                    needed.update(b for b in (blob, manifest_blob) if b)
            contents = _git.read_blobs(repo_path, sorted(needed))
        except _git.GitError as exc:
            scan.log.failed(
                source="git",
                evidence=f"{repo_path}@{ref.full}",
                kind="git",
                message=str(exc),
                repo=name,
                ref=ref.name,
            )
            continue
        digests.update((blob, sha256(data)) for blob, data in contents.items())
        _report_unlocked(
            scan,
            unlocked,
            where={"repo": name, "ref": ref.name},
            source="git",
            evidence=functools.partial(_at_commit, f"{repo_path}@{ref.commit[:12]}"),
        )
        for path in wanted:
            blob, manifest_blob = tree[path], manifests.get(path, "")
            where = {
                "repo": name,
                "ref": ref.name,
                "surface": ref.surface,
                "host": "",
                "file": path,
                "evidence": f"{repo_path}@{ref.commit[:12]}:{path}",
            }
            scan.add(
                name=PurePosixPath(path).name,
                data=contents.get(blob),
                digest=digests[blob],
                manifest=contents.get(manifest_blob) if manifest_blob else None,
                manifest_digest=digests[manifest_blob] if manifest_blob else "",
                where=where,
                source="git",
            )


def _scan(
    sources: PathLike | Iterable[PathLike],
    *,
    repo: str | None,
    git_refs: bool,
    host: str,
    log: EvidenceLog,
    inventory: bool,
    declared: bool,
    installed: bool,
    progress: Callable[[str, int], None] | None = None,
) -> _Scan:
    """Read the sources once for the frames asked for (the two public loaders share it)."""
    scan = _Scan(
        log, inventory=inventory, declared=declared, installed=installed, progress=progress
    )
    source = "inventory" if inventory else "declared"
    for root in log.existing(as_paths(sources), source=source):
        if root.is_dir() and root.name == MODULES and not installed:
            log.problem(
                source="folder",
                evidence=str(root),
                kind="unsupported",
                message=f"{root} is a node_modules folder: the packages installed in it are read "
                "with installed=True (ircore scan-host); lockfiles shipped inside packages are "
                "not the project's and are not read",
            )
            continue
        if git_refs and root.is_dir() and root.name != MODULES:
            if _git.is_git_repo(root):
                _read_git(root, scan, repo)
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
                _read_git(child, scan, None)
            # plain project folders beside the clones are read from their working tree
            _read_folder(root, scan, repo, host, skip=set(children), of_projects=True)
            continue
        _read_folder(root, scan, repo, host)
    return scan


def load_inventory(
    sources: PathLike | Iterable[PathLike],
    *,
    repo: str | None = None,
    git_refs: bool = False,
    host: str = "",
    installed: bool = False,
    log: EvidenceLog | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> pd.DataFrame:
    """Read every lockfile and SBOM (and, if asked, installed tree) under ``sources``.

    Lockfiles: ``package-lock.json``, ``npm-shrinkwrap.json``, ``yarn.lock``,
    ``pnpm-lock.yaml``, ``bun.lock`` (``bun.lockb`` is reported with how to convert it). SBOMs:
    ``bom.json``, ``sbom.json``, ``*.cdx.json``, ``*.spdx.json``, ``*.sbom.json``, read by content
    (CycloneDX JSON 1.2-1.6, SPDX JSON 2.2/2.3, GitHub's dependency-graph export); a file of such
    a name that is neither is a problem. Folders named ``node_modules`` and ``.git`` are never
    searched for these files: lockfiles shipped inside installed packages are not the project's.

    Parameters
    ----------
    sources
        Lockfiles or SBOMs, project folders, git repositories, folders of git repositories or
        projects, and (with ``installed``) ``node_modules`` folders.
    repo
        Name to give the rows; by default the repository (or folder) name, and for a
        ``node_modules`` folder given as a source, its path.
    git_refs
        Read git repositories from their objects at every branch and pull-request ref
        (``refs/heads``, ``refs/remotes``, ``refs/pull``) instead of the working tree; their
        installed trees are then not read (plain project folders beside them still are).
    host
        When scanning a developer machine, its name (rows get surface ``host``).
    installed
        Also read installed ``node_modules`` trees, from each package's own ``package.json``
        (``lockfile_format`` ``node_modules``, one row per package folder, nested and pnpm
        ``.pnpm`` layouts included, ``evidence`` that ``package.json``): every top-level
        ``node_modules`` under a project folder, with its workspaces' ``node_modules``. A
        ``node_modules`` folder with no ``package.json`` beside it (``/usr/lib/node_modules``)
        is read as a global install folder, every top-level package direct. A project with an
        installed tree and no lockfile is then not reported as unlocked. Without
        ``installed``, a ``node_modules`` folder given as a source is reported as a problem.
    log
        Collects every file read and every one that could not be; a fresh one when omitted.
    progress
        Called with the evidence (path or git object) and its size in bytes as each file or
        installed tree is reached, for a progress display on long scans.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema: ``name``, ``version`` (string), ``dev``, ``optional``,
        ``direct``, ``bundled`` (boolean, NA when the input does not say), ``introducer``,
        ``dependency_path``, ``install_path``, ``alias``, ``resolved``, ``origin_kind``,
        ``lockfile_format``, ``file``, ``repo``, ``ref``, ``surface``, ``host``, ``user``,
        ``source``, ``evidence`` (string), ``first_seen``, ``last_seen`` (UTC times, NA here:
        files do not say when a package was first or last present). ``file`` is the lockfile,
        SBOM or ``node_modules`` folder within the repository; ``source`` is ``folder`` or
        ``git``.
    """
    log = log if log is not None else EvidenceLog()
    scan = _scan(
        sources,
        repo=repo,
        git_refs=git_refs,
        host=host,
        log=log,
        inventory=True,
        declared=False,
        installed=installed,
        progress=progress,
    )
    return new_frame("inventory", scan.inventory_rows)


def load_declared(
    sources: PathLike | Iterable[PathLike],
    *,
    repo: str | None = None,
    git_refs: bool = False,
    host: str = "",
    log: EvidenceLog | None = None,
) -> pd.DataFrame:
    """Read every dependency range that manifests and lockfiles under ``sources`` declare.

    The sources are walked as :func:`load_inventory` walks them (files, project folders,
    folders of projects, git repositories at every ref with ``git_refs``; never inside
    ``node_modules``). Every ``package.json`` is read, workspaces' included, and the lockfiles
    that keep ranges (``package-lock.json``, ``npm-shrinkwrap.json``, ``yarn.lock``,
    ``pnpm-lock.yaml``, ``bun.lock``); see :mod:`ircore.inventory._declared` for what each
    contributes. A file that cannot be read is a problem; identical contents are parsed once.

    Parameters
    ----------
    sources, repo, git_refs, host, log
        As for :func:`load_inventory`.

    Returns
    -------
    pandas.DataFrame
        The ``declared`` schema, one row per distinct declaration of a file: ``name`` (the real
        registry name, alias targets resolved), ``spec`` (verbatim, except that an override's
        ``$name`` reference is resolved and Yarn Berry's ``npm:`` prefix on a plain range is
        dropped), ``spec_kind`` (``range``, ``tag``,
        ``git``, ``tarball``, ``file``, ``link``, ``workspace``, ``alias``, and also
        ``catalog`` for pnpm's ``catalog:`` and ``invalid`` for a spec npm would refuse),
        ``declared_by`` (the manifest's name, else its path; ``name@version`` of the depending
        package for lockfile rows; NA when a lockfile does not say), ``field``
        (``dependencies``, ``devDependencies``, ``optionalDependencies``,
        ``peerDependencies``, ``overrides``, ``resolutions``, ``pnpm.overrides`` or
        ``lockfile``), ``direct`` (boolean: True for a manifest's own declarations and a
        lockfile's root/workspace entries, NA when unknown), ``file``, ``repo``, ``ref``,
        ``surface``, ``host``, ``source`` and ``evidence`` (string).
    """
    log = log if log is not None else EvidenceLog()
    scan = _scan(
        sources,
        repo=repo,
        git_refs=git_refs,
        host=host,
        log=log,
        inventory=False,
        declared=True,
        installed=False,
    )
    return new_frame("declared", scan.declared_rows)
