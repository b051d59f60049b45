"""Package-manager caches on a developer machine: the npm cache, yarn's caches, the pnpm store.

Read by :func:`ircore.inventory._host.scan_host` (its module describes the scan's format). Each
reader adds inventory rows to the scan's :class:`ScanState` and one ``inputs`` row per cache or
store; what it cannot read becomes a ``problems`` row. No reader runs a package manager: the
files are read as each tool writes them.

* npm's cache (``_cacache/index-v5``, written by ``cacache``): one bucket file per key at
  ``index-v5/<sha256 of the key>`` split ``2/2/rest``; each line is ``<sha1 of the JSON>``, a
  tab and the JSON (``key``, ``integrity``, ``time`` in ms, ``size``, ``metadata``), and a
  deletion appends an entry with integrity ``null``. A tarball download's key is
  ``make-fetch-happen:request-cache:<tarball URL>``; a key for a URL without ``/-/`` is a
  registry metadata (packument) request.
* yarn classic (``yarn/v6/npm-<name>-<version>-<hash>-integrity/node_modules/<name>``): the
  folder name cannot tell where a scope ends, so the cached ``package.json`` is read.
* yarn Berry (``<slug>-<protocol>-<version>-<10 hex>-<cache key>.zip``): ``@scope/name`` is
  slugged ``@scope-name``; a zip is opened only when its name is ambiguous or has no version.
* pnpm's store: ``v3/files/xx/<hash>-index.json`` (``name`` and ``version`` when pnpm wrote
  them, else the ``package.json`` it lists, stored by hash in ``files/``) and
  ``v10/index/xx/<hash>-<package id>.json``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson

from ircore._decode import decode_text, load_json
from ircore._errors import InputError, InvalidVersion
from ircore._log import EvidenceLog
from ircore._paths import read_bytes
from ircore.inventory._npm import _origin_kind
from ircore.semver import parse_version

__all__ = [
    "SOURCE",
    "ScanState",
    "package_from_tarball_url",
    "pnpm_stores",
    "read_berry_cache",
    "read_npm_cache",
    "read_pnpm_store",
    "read_yarn_classic_cache",
    "redact_url",
    "walk",
    "yarn_classic_caches",
]

SOURCE = "host-scan"
_MANIFEST_LIMIT = 5 * 1024 * 1024  # a package.json inside a cache zip; real ones are kilobytes


# --- the scan's state ---------------------------------------------------------------------------


@dataclass
class ScanState:
    """What one host scan has read so far: rows, counts, the log, and folders already claimed."""

    log: EvidenceLog
    #: ISO time of the scan: the last time installed and locked packages were seen.
    stamp: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    projects: int = 0
    global_packages: int = 0
    cache_entries: int = 0
    #: Folders read on their own (caches, stores, globals): the project walk leaves them out.
    claimed: set[Path] = field(default_factory=set)
    #: Paths already reported as impossible to check.
    unchecked: set[Path] = field(default_factory=set)

    def problem(self, evidence: Path | str, kind: str, message: str) -> None:
        self.log.problem(source=SOURCE, evidence=str(evidence), kind=kind, message=message)

    def failed(self, evidence: Path | str, kind: str, message: str, *, format: str = "") -> None:
        self.log.failed(
            source=SOURCE, evidence=str(evidence), kind=kind, message=message, format=format
        )

    def is_dir(self, path: Path) -> bool:
        """Whether ``path`` is a folder; one whose existence cannot be checked is a problem.

        ``Path.is_dir`` answers False for a folder inside an unreadable one, which would skip a
        cache without a word.
        """
        try:
            return stat.S_ISDIR(path.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            if path not in self.unchecked:
                self.unchecked.add(path)
                self.problem(
                    path,
                    "unreadable",
                    f"whether {path} exists could not be checked ({exc.strerror or exc}); what "
                    "it may hold was not read",
                )
            return False

    def unreadable(self, what: str) -> Callable[[OSError], None]:
        def report(exc: OSError) -> None:
            self.problem(
                exc.filename or "",
                "unreadable",
                f"folder {exc.filename} could not be listed ({exc.strerror or exc}); {what} in "
                "it were not read",
            )

        return report


def walk(top: Path, scan: ScanState, what: str) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` that never follows links and reports each folder it cannot list."""
    for folder, dirs, files in os.walk(top, onerror=scan.unreadable(what)):
        dirs.sort()
        yield Path(folder), dirs, sorted(files)


def _listable(folder: Path, scan: ScanState, *, format: str, what: str) -> bool:
    """Whether ``folder`` can be listed; when not, a failed input says what was not read."""
    try:
        with os.scandir(folder):
            return True
    except OSError as exc:
        scan.failed(
            folder,
            "unreadable",
            f"{what} {folder} could not be listed ({exc.strerror or exc}); the packages it "
            "records are not in the inventory",
            format=format,
        )
        return False


def redact_url(url: str) -> str:
    """``url`` without a user name or password: a scan is shared, credentials never are."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    # Everything after the last @ is the host and port, whatever came before it.
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _read_json(path: Path, *, what: str) -> Any:
    try:
        data = read_bytes(path)
    except OSError as exc:
        raise InputError(
            "unreadable", f"{path} could not be read ({exc.strerror or exc})"
        ) from None
    return load_json(decode_text(data, what=what), what=what)


def _read_manifest(path: Path) -> tuple[str, str, dict[str, Any]]:
    """``name``, ``version`` and the whole of a ``package.json``; InputError when it lacks them."""
    manifest = _read_json(path, what=str(path))
    if not isinstance(manifest, dict):
        raise InputError("invalid", f"{path} is not a JSON object")
    name, version = manifest.get("name"), manifest.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise InputError("invalid", f"{path} does not name its package and version")
    return name, version, manifest


def _iso(ms: float | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).isoformat()


def _is_version(text: str) -> bool:
    try:
        parse_version(text)
    except InvalidVersion:
        return False
    return True


def _package_dirs(node_modules: Path, scan: ScanState) -> Iterator[os.DirEntry[str]]:
    """The package folders of one ``node_modules`` (``@scope/name`` included), sorted."""
    try:
        entries = sorted(os.scandir(node_modules), key=lambda e: e.name)
    except OSError as exc:
        scan.problem(
            node_modules,
            "unreadable",
            f"folder {node_modules} could not be listed ({exc.strerror or exc}); the packages "
            "installed in it were not read",
        )
        return
    for entry in entries:
        if entry.name.startswith("."):  # .bin, .package-lock.json, .staging
            continue
        if entry.name.startswith("@") and entry.is_dir(follow_symlinks=False):
            yield from _package_dirs(Path(entry.path), scan)
        elif entry.is_dir():
            yield entry


# --- the npm cache ------------------------------------------------------------------------------

_FETCH_KEY = "make-fetch-happen:request-cache:"


def package_from_tarball_url(url: str) -> tuple[str, str] | None:
    """``(name, version)`` from a registry tarball URL, or None when the URL does not say.

    Registries serve ``<name>/-/<basename>-<version>.tgz`` (npmjs, Verdaccio, Nexus,
    Artifactory, some writing ``<@scope/name>-<version>.tgz`` as the file name; the scope
    slash may be escaped as ``%2f``); GitHub Packages serves
    ``/download/@owner/name/<version>/<digest>``.
    """
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # a malformed host or port
        return None
    path = unquote(parts.path)
    segments = [s for s in path.split("/") if s]
    if hostname == "npm.pkg.github.com" and segments[:1] == ["download"]:
        if len(segments) >= 4 and segments[1].startswith("@") and _is_version(segments[3]):
            return f"{segments[1]}/{segments[2]}", segments[3]
        return None
    if "/-/" not in path or not path.endswith(".tgz"):
        return None
    left, _, filename = path.rpartition("/-/")
    owner = [s for s in left.split("/") if s]
    if not owner:
        return None
    if len(owner) >= 2 and owner[-2].startswith("@"):
        name = f"{owner[-2]}/{owner[-1]}"
    elif owner[-1].startswith("@"):
        return None
    else:
        name = owner[-1]
    base = name.rsplit("/", 1)[-1]
    stem = filename[: -len(".tgz")].rsplit("/", 1)[-1]
    version = stem[len(base) + 1 :] if stem.startswith(f"{base}-") else ""
    if not version or not _is_version(version):
        return None
    return name, version


@dataclass
class _CacheKey:
    """Every index line of one cache key, folded: when it was written and whether it was removed."""

    bucket: Path
    times: list[float] = field(default_factory=list)
    live_times: list[float] = field(default_factory=list)
    removed: bool = False  # the newest line is a deletion (integrity null)
    last: float = float("-inf")


def read_npm_cache(cacache: Path, scan: ScanState) -> None:
    index = cacache / "index-v5"
    if not scan.is_dir(index):
        return
    scan.claimed.add(cacache)
    if not _listable(index, scan, format="npm-cacache-index-v5", what="npm cache index"):
        return
    keys: dict[str, _CacheKey] = {}
    counts = {"packuments": 0, "other": 0, "unparsed": 0, "buckets": 0}
    others: dict[str, int] = {}  # key prefix (pacote:tarball, ...) -> entries
    for folder, _, files in walk(index, scan, "npm cache index entries"):
        for name in files:
            bucket = folder / name
            counts["buckets"] += 1
            _read_bucket(bucket, scan, keys)
    rows = []
    removed = []
    for key, seen in sorted(keys.items()):
        url = redact_url(key[len(_FETCH_KEY) :]) if key.startswith(_FETCH_KEY) else None
        package = package_from_tarball_url(url) if url else None
        if package is None:
            if url is None:
                counts["other"] += 1
                prefix = ":".join(key.split(":")[:2])
                others[prefix] = others.get(prefix, 0) + 1
            elif "/-/" in url or url.endswith(".tgz") or "/download/" in url:
                counts["unparsed"] += 1
                scan.problem(
                    seen.bucket,
                    "unsupported",
                    f"npm cache entry for {url} looks like a package download, but its URL does "
                    "not say which package and version: a downloaded version may be missing "
                    "from the inventory",
                )
            else:
                counts["packuments"] += 1
            continue
        times = seen.live_times or seen.times
        if seen.removed:
            removed.append(f"{package[0]}@{package[1]}")
        rows.append(
            {
                "name": package[0],
                "version": package[1],
                "resolved": url,
                "origin_kind": _origin_kind(url),
                "lockfile_format": "npm-cache",
                "repo": "(npm cache)",
                "file": seen.bucket.relative_to(cacache).as_posix(),
                "first_seen": _iso(min(times)) if times else None,
                "last_seen": _iso(max(seen.times)) if seen.times else None,
                "evidence": str(seen.bucket),
            }
        )
    notes = [f"{counts['buckets']} index files"]
    if counts["packuments"]:
        notes.append(
            f"{counts['packuments']} registry metadata (packument) entries skipped: they record "
            "a look-up, not a download"
        )
    if others:
        kinds = ", ".join(f"{prefix}: {n}" for prefix, n in sorted(others.items()))
        notes.append(
            f"{counts['other']} entries that are no registry request skipped (local tarballs "
            f"and other keys; {kinds})"
        )
    if removed:
        notes.append(
            f"{len(removed)} downloads since removed from the cache (a deletion entry with "
            f"integrity null), kept as rows: {', '.join(removed)}"
        )
    scan.log.input(
        source=SOURCE,
        evidence=str(index),
        status="parsed" if rows else "empty",
        format="npm-cacache-index-v5",
        packages=len(rows),
        notes="; ".join(notes),
    )
    scan.rows.extend(rows)
    scan.cache_entries += len(rows)


def _read_bucket(bucket: Path, scan: ScanState, keys: dict[str, _CacheKey]) -> None:
    """Fold one index bucket's lines into ``keys``; each corrupt line is a problem."""
    try:
        data = read_bytes(bucket)
    except OSError as exc:
        scan.problem(
            bucket,
            "unreadable",
            f"npm cache index file {bucket} could not be read "
            f"({exc.strerror or exc}); the downloads it records are not in the inventory",
        )
        return
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue  # cacache starts every line with a newline, so the first line is empty
        digest, tab, body = raw.partition(b"\t")
        where = f"{bucket}:{number}"
        # cacache writes `<sha1 of the JSON>\t<JSON>` and ignores a line whose hash does not
        # match: a write cut short, or an edit. It is reported, not read.
        if not tab or hashlib.sha1(body).hexdigest() != digest.decode("ascii", "replace"):
            scan.problem(
                where,
                "corrupt",
                f"npm cache index line {number} of {bucket} does not match its SHA-1 (a write "
                "cut short or a changed file); npm ignores it and so does ircore",
            )
            continue
        try:
            entry = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            scan.problem(
                where,
                "not-json",
                f"npm cache index line {number} of {bucket} is "
                f"not valid JSON although its hash matches: {exc}",
            )
            continue
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str):
            scan.problem(where, "invalid", f"npm cache index line {number} of {bucket} has no key")
            continue
        seen = keys.setdefault(key, _CacheKey(bucket=bucket))
        time = entry.get("time")
        stamp = (
            float(time) if isinstance(time, int | float) and not isinstance(time, bool) else None
        )
        if stamp is not None:
            seen.times.append(stamp)
        if entry.get("integrity") is None:
            # cacache's delete: an entry with integrity null shadows the ones before it.
            if stamp is None or stamp >= seen.last:
                seen.removed = True
        else:
            if stamp is not None:
                seen.live_times.append(stamp)
            if stamp is None or stamp >= seen.last:
                seen.removed = False
        if stamp is not None:
            seen.last = max(seen.last, stamp)


# --- yarn caches --------------------------------------------------------------------------------


def yarn_classic_caches(home: Path, scan: ScanState) -> list[Path]:
    roots = (
        home / ".cache" / "yarn",
        home / "Library" / "Caches" / "Yarn",
        home / "AppData" / "Local" / "Yarn" / "Cache",
    )
    return [
        v
        for root in roots
        if scan.is_dir(root)
        for v in sorted(root.glob("v[0-9]*"))
        if scan.is_dir(v)
    ]


def read_yarn_classic_cache(cache: Path, scan: ScanState) -> None:
    scan.claimed.add(cache)
    rows = []
    try:
        entries = sorted(
            (e for e in os.scandir(cache) if e.name.startswith("npm-") and e.is_dir()),
            key=lambda e: e.name,
        )
    except OSError as exc:
        scan.failed(
            cache,
            "unreadable",
            f"yarn cache {cache} could not be listed "
            f"({exc.strerror or exc}); the packages it holds are not in the inventory",
            format="yarn-cache",
        )
        return
    for entry in entries:
        folder = Path(entry.path)
        packages = (
            list(_package_dirs(folder / "node_modules", scan))
            if (folder / "node_modules").is_dir()
            else []
        )
        if not packages:
            # A folder being written, or emptied by hand: its name alone is ambiguous.
            scan.problem(
                folder,
                "invalid",
                f"yarn cache folder {folder} holds no "
                "node_modules/<package>/package.json; its package was not identified",
            )
            continue
        for package in packages:
            manifest_path = Path(package.path) / "package.json"
            try:
                name, version, _ = _read_manifest(manifest_path)
            except InputError as exc:
                scan.problem(manifest_path, exc.kind, exc.message)
                continue
            resolved, origin = _yarn_remote(Path(package.path) / ".yarn-metadata.json")
            rows.append(
                {
                    "name": name,
                    "version": version,
                    "resolved": resolved,
                    "origin_kind": origin,
                    "lockfile_format": "yarn-cache",
                    "repo": "(yarn cache)",
                    "file": folder.relative_to(cache).as_posix(),
                    "evidence": str(manifest_path),
                }
            )
    scan.log.input(
        source=SOURCE,
        evidence=str(cache),
        status="parsed" if rows else "empty",
        format="yarn-cache",
        packages=len(rows),
        notes="yarn classic does not record when it cached a package",
    )
    scan.rows.extend(rows)
    scan.cache_entries += len(rows)


def _yarn_remote(path: Path) -> tuple[str | None, str | None]:
    """``resolved`` and origin kind from yarn classic's ``.yarn-metadata.json``, when readable."""
    try:
        remote = _read_json(path, what=str(path)).get("remote") or {}
    except (InputError, AttributeError):
        return None, None
    resolved = remote.get("resolved") if isinstance(remote, dict) else None
    if not isinstance(resolved, str) or not resolved:
        return None, None
    return redact_url(resolved), _origin_kind(resolved.split("#", 1)[0])


# Berry's cache file: <slugified ident>-<protocol>-<semver>-<10 hex of the locator hash>-<cache
# key>.zip; the slug writes `@scope/name` as `@scope-name`, and the version is left out when the
# reference is not a plain semver.
_BERRY_NPM = re.compile(
    r"^(?P<slug>.+?)-npm-(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)"
    r"-[0-9a-f]{10}-[0-9a-z]+\.zip$"
)
_BERRY_NPM_NO_VERSION = re.compile(r"^(?P<slug>.+?)-npm-[0-9a-f]{10}-[0-9a-z]+\.zip$")
# Berry's other protocols: patched, git, tarball URL, local and workspace packages. A patched
# package's npm original sits beside it in the cache; the others are not registry releases.
_BERRY_OTHER = re.compile(
    r"-(?P<protocol>patch|git|github|http|https|exotic|file|link|portal|exec|workspace|virtual)"
    r"-(?:.+-)?[0-9a-f]{10}-[0-9a-z]+\.zip$"
)


def _zip_packages(path: Path) -> list[str]:
    """Package names a Berry cache zip holds (``node_modules/<name>/``), from its directory."""
    with zipfile.ZipFile(path) as archive:
        names = set()
        for member in archive.namelist():
            parts = PurePosixPath(member).parts
            if len(parts) >= 3 and parts[0] == "node_modules":
                scoped = parts[1].startswith("@") and len(parts) >= 4
                names.add(f"{parts[1]}/{parts[2]}" if scoped else parts[1])
    return sorted(names)


def _zip_manifest(path: Path, name: str) -> tuple[str, str]:
    member = f"node_modules/{name}/package.json"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        if info.file_size > _MANIFEST_LIMIT:
            raise InputError("unsupported", f"{path}!{member} is {info.file_size} bytes")
        manifest = load_json(
            decode_text(archive.read(info), what=f"{path}!{member}"), what=f"{path}!{member}"
        )
    name_, version = manifest.get("name"), manifest.get("version")
    if not isinstance(name_, str) or not isinstance(version, str):
        raise InputError("invalid", f"{path}!{member} does not name its package and version")
    return name_, version


def _berry_name(slug: str, path: Path) -> str:
    """The package name a slug stands for; the zip is opened only for an ambiguous scoped slug."""
    if not slug.startswith("@"):
        return slug
    if slug.count("-") == 1:
        return "@" + slug[1:].replace("-", "/")
    # `@a-b-c` is `@a/b-c` or `@a-b/c`: the zip's own directory says which.
    candidates = [n for n in _zip_packages(path) if n.replace("/", "-") == slug]
    if len(candidates) != 1:
        raise InputError(
            "invalid",
            f"{path.name}: the zip holds no single package named like {slug!r} "
            f"(found {candidates or 'none'})",
        )
    return candidates[0]


def read_berry_cache(cache: Path, scan: ScanState, *, repo: str) -> None:
    scan.claimed.add(cache)
    rows = []
    other: dict[str, int] = {}
    try:
        files = sorted(e.name for e in os.scandir(cache) if e.name.endswith(".zip") and e.is_file())
    except OSError as exc:
        scan.failed(
            cache,
            "unreadable",
            f"yarn cache {cache} could not be listed "
            f"({exc.strerror or exc}); the packages it holds are not in the inventory",
            format="yarn-berry-cache",
        )
        return
    for filename in files:
        path = cache / filename
        match = _BERRY_NPM.match(filename)
        try:
            if match:
                name, version = _berry_name(match["slug"], path), match["version"]
            elif bare := _BERRY_NPM_NO_VERSION.match(filename):
                # npm: reference that is no plain semver: only the zip's package.json says.
                slug = bare["slug"]
                name = _berry_name(slug, path)
                name, version = _zip_manifest(path, name)
            elif "-npm-" not in filename and (kind := _BERRY_OTHER.search(filename)):
                other[kind["protocol"]] = other.get(kind["protocol"], 0) + 1
                continue
            else:
                scan.problem(
                    path,
                    "unsupported",
                    f"{filename} is not named like a yarn Berry "
                    "cache file; its package was not identified",
                )
                continue
        except (InputError, OSError, zipfile.BadZipFile, KeyError) as exc:
            message = exc.message if isinstance(exc, InputError) else str(exc)
            scan.problem(
                path,
                "unreadable",
                f"yarn Berry cache file {path} could not be identified: {message}",
            )
            continue
        rows.append(
            {
                "name": name,
                "version": version,
                "origin_kind": "registry",  # the npm: protocol
                "lockfile_format": "yarn-berry-cache",
                "repo": repo,
                "file": filename,
                "evidence": str(path),
            }
        )
    notes = ["yarn Berry does not record when it cached a package"]
    if other:
        kinds = ", ".join(f"{n} {p}:" for p, n in sorted(other.items()))
        notes.append(f"cache files of other protocols not read as registry packages: {kinds}")
    scan.log.input(
        source=SOURCE,
        evidence=str(cache),
        status="parsed" if rows else "empty",
        format="yarn-berry-cache",
        packages=len(rows),
        notes="; ".join(notes),
    )
    scan.rows.extend(rows)
    scan.cache_entries += len(rows)


# --- the pnpm store -----------------------------------------------------------------------------


def pnpm_stores(home: Path, scan: ScanState) -> list[Path]:
    roots = (
        home / ".local" / "share" / "pnpm" / "store",
        home / "Library" / "pnpm" / "store",
        home / "AppData" / "Local" / "pnpm" / "store",
        home / ".pnpm-store",
    )
    return [
        v
        for root in roots
        if scan.is_dir(root)
        for v in sorted(root.glob("v[0-9]*"))
        if scan.is_dir(v)
    ]


# v10 index files: <hex>-<package id, with / \ : * ? " < > | written as +>.json (.mpk from v11)
_PNPM_INDEX_NAME = re.compile(r"^[0-9a-f]+-(?P<id>.+)\.(?:json|mpk)$")


def _pnpm_id(filename: str) -> tuple[str, str] | None:
    """``(name, version)`` from a v10 index file name's package id, when it is ``name@version``."""
    match = _PNPM_INDEX_NAME.match(filename)
    if not match:
        return None
    name_part, at, version = match["id"].rpartition("@")
    if not at or not name_part or not _is_version(version):
        return None
    segments = name_part.split("+")
    # A registry host may lead the id (registry.npmjs.org+name@1.0.0); a name has at most two
    # segments, the first a scope.
    if len(segments) >= 2 and segments[-2].startswith("@"):
        return f"{segments[-2]}/{segments[-1]}", version
    return segments[-1], version


def _stored_manifest(store: Path, index: dict[str, Any]) -> tuple[str, str] | None:
    """Name and version from the ``package.json`` pnpm stored by content hash, if it is there."""
    files = index.get("files")
    entry = files.get("package.json") if isinstance(files, dict) else None
    integrity = entry.get("integrity") if isinstance(entry, dict) else None
    if not isinstance(integrity, str) or "-" not in integrity:
        return None
    try:
        hexdigest = base64.b64decode(integrity.split("-", 1)[1], validate=True).hex()
    except (binascii.Error, ValueError):
        return None
    mode = entry.get("mode") if isinstance(entry, dict) else None
    executable = isinstance(mode, int) and mode & 0o111
    path = store / "files" / hexdigest[:2] / (hexdigest[2:] + ("-exec" if executable else ""))
    try:
        name, version, _ = _read_manifest(path)
    except InputError:
        return None
    return name, version


def read_pnpm_store(store: Path, scan: ScanState) -> None:
    scan.claimed.add(store.parent)
    version_dir = store.name  # v3, v10, ...
    fmt = f"pnpm-store-{version_dir}"
    rows = []
    from_name = unnamed = msgpack = 0
    # v10 keeps index files in index/; before, they sat among the content files in files/.
    tops = [store / "index"] if (store / "index").is_dir() else [store / "files"]
    tops = [d for d in tops if d.is_dir()]
    if not all(_listable(t, scan, format=fmt, what="pnpm store") for t in tops):
        return
    for top in tops:
        for folder, _, files in walk(top, scan, "pnpm store index files"):
            for filename in files:
                if top.name == "files" and not filename.endswith("-index.json"):
                    continue  # package content, addressed by hash
                path = folder / filename
                first = last = None
                index: Any = None
                if filename.endswith(".mpk"):
                    msgpack += 1  # pnpm 11's MessagePack index: its name says what it is
                else:
                    try:
                        index = _read_json(path, what=str(path))
                    except InputError as exc:
                        scan.problem(path, exc.kind, exc.message)
                        continue
                    if not isinstance(index, dict):
                        scan.problem(path, "invalid", f"{path} is not a pnpm index (no object)")
                        continue
                package = None
                if index is not None:
                    name, version = index.get("name"), index.get("version")
                    if isinstance(name, str) and isinstance(version, str) and name and version:
                        package = (name, version)
                    first, last = _checked_at(index)
                if package is None and (package := _pnpm_id(filename)) is not None:
                    from_name += 1
                if package is None and index is not None:
                    package = _stored_manifest(store, index)
                if package is None:
                    unnamed += 1
                    scan.problem(
                        path,
                        "partial",
                        f"pnpm store index {path} names no package, and the package.json it "
                        "lists is not in the store: a stored package was not identified",
                    )
                    continue
                rows.append(
                    {
                        "name": package[0],
                        "version": package[1],
                        "lockfile_format": fmt,
                        "repo": "(pnpm store)",
                        "file": path.relative_to(store).as_posix(),
                        "first_seen": first,
                        "last_seen": last,
                        "evidence": str(path),
                    }
                )
    notes = []
    if from_name:
        notes.append(f"{from_name} packages named from the index file name only")
    if msgpack:
        notes.append(f"{msgpack} MessagePack index files read by their names, not opened")
    if unnamed:
        notes.append(f"{unnamed} index files name no package")
    scan.log.input(
        source=SOURCE,
        evidence=str(store),
        status="parsed" if rows else "empty",
        format=fmt,
        packages=len(rows),
        notes="; ".join(notes),
    )
    scan.rows.extend(rows)
    scan.cache_entries += len(rows)


def _checked_at(index: dict[str, Any]) -> tuple[str | None, str | None]:
    """Earliest and latest ``checkedAt`` (ms) of an index's files: when pnpm stored them."""
    files = index.get("files")
    if not isinstance(files, dict):
        return None, None
    stamps = [
        float(f["checkedAt"])
        for f in files.values()
        if isinstance(f, dict) and isinstance(f.get("checkedAt"), int | float)
    ]
    return (_iso(min(stamps)), _iso(max(stamps))) if stamps else (None, None)
