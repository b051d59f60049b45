"""Developer machines: what one machine holds, read from disk without running a package manager.

:func:`scan_host` reads a machine the way an investigator would with a file browser, and never
runs ``npm``, ``yarn``, ``pnpm``, ``bun`` or ``node``: what is on a compromised laptop is
evidence, not something to execute. It reads

* **projects** under the given roots: every folder with a lockfile or ``package.json`` is handed
  to :func:`ircore.inventory.load_inventory` (lockfiles and the installed ``node_modules``
  tree). The walk never follows a symbolic link and skips folders that hold no projects of the
  user's (``.git``, ``node_modules``, caches, ``~/Library``, the trash, Python environments);
  each skipped cache, tool, trash or environment folder is listed in the scan. The home folder
  itself is never taken as one project, even with a stray ``package.json`` in it.
* **global installs**: npm prefixes (``/usr/lib``, ``/usr/local/lib``, Homebrew, ``prefix=`` in
  ``~/.npmrc``, ``~/.npm-global``, nvm, Volta, fnm, asdf, mise), read from the
  ``node_modules/**/package.json`` files; yarn classic's global folder and pnpm's global folder,
  read from their lockfiles and installed trees.
* **the npm cache** (``~/.npm/_cacache/index-v5``): every tarball npm downloaded, with the time
  it did. cacache removes an entry by appending a deletion line (integrity ``null``) after the
  lines that recorded the download, which stay: such a download is kept as a row and noted, so
  the scan shows a version was fetched even when it is gone from every project.
* **yarn caches**: classic (``~/.cache/yarn/v6/npm-*``, name and version from the cached
  ``package.json``), Berry (``~/.yarn/berry/cache/*.zip`` and each project's
  ``.yarn/cache/*.zip``, from the file names; a zip is opened only when its name cannot say).
* **the pnpm store** (``store/v3/files/**/*-index.json``, ``store/v10/index/**``): the index
  files name the package when pnpm wrote them; otherwise the stored ``package.json`` does.

The cache readers, and the on-disk formats they read, are in :mod:`ircore.inventory._caches`.
Credentials written into a registry URL (``https://user:token@host/``) are removed from every
URL the scan records.

The scan is one JSON-serializable dict, written by ``ircore scan-host`` as
``<out>/<hostname>.json`` and read back by :func:`ircore.inventory.load_hosts`::

    {
      "format": "ircore-host-scan",
      "format_version": 1,
      "ircore_version": "0.1.0",
      "host": {"hostname": "laptop-7", "user": "alice", "platform": "darwin"},
      "scanned_at": "2025-09-09T10:00:00+00:00",
      "home": "/Users/alice",
      "roots": [{"path": "/Users/alice/src", "projects": 12,
                 "skipped": ["/Users/alice/src/.cache"]}],
      "summary": {"packages": 2041, "projects": 12, "global_packages": 310,
                  "cache_entries": 1400, "problems": 1},
      "inventory": [ {<one row of the inventory frame>}, ... ],
      "inputs": [ {<one row of the inputs frame>}, ... ],
      "problems": [ {<one row of the problems frame>}, ... ]
    }

``inventory`` rows have exactly the columns of the ``inventory`` schema (``ircore._frames``),
with ``null`` for "the input does not say" and times as ISO 8601 UTC strings. Every row has
``surface`` ``host``, ``source`` ``host-scan``, the machine's ``host`` and ``user``; what kind of
evidence it came from is in ``lockfile_format``:

* a lockfile format (``npm-lock-v3``, ``yarn-v1``, ``pnpm-v9.0``, ..., ``node_modules``): a
  project's lockfile or installed tree, read by ``load_inventory``; ``last_seen`` is the scan
  time (it was there then), ``first_seen`` is null.
* ``global-npm``, ``global-yarn``, ``global-pnpm``: a global install (``file`` says whether from
  a ``node_modules`` tree or the global folder's lockfile); ``last_seen`` the scan time.
* ``npm-cache``: a downloaded tarball in npm's cache; ``first_seen`` is the first download,
  ``last_seen`` the newest index entry for it (a later download, or its removal from the cache).
* ``yarn-cache`` (classic) and ``yarn-berry-cache``: a cached package; yarn records no time.
* ``pnpm-store-v3``, ``pnpm-store-v10``: a package in pnpm's store; the times are the earliest
  and latest ``checkedAt`` of its files, when pnpm wrote them.

``repo`` names a project for project rows and is ``(global npm)``, ``(npm cache)``,
``(yarn cache)``, ``(yarn berry cache)``, ``(pnpm store)``, ... for the others; ``evidence`` is
the absolute path on the scanned machine. ``inputs`` has one row per lockfile, global folder,
cache or store read (its ``notes`` say what was read only in part, e.g. npm cache entries that
were removed since, or registry metadata entries that are not downloads); ``problems`` one row
per thing that could not be read (an unreadable folder, a corrupt cache index line, ...).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ircore._decode import decode_text
from ircore._errors import ConfigError, InputError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike, read_bytes
from ircore.inventory._caches import (
    SOURCE,
    ScanState,
    pnpm_stores,
    read_berry_cache,
    read_npm_cache,
    read_pnpm_store,
    read_yarn_classic_cache,
    redact_url,
    walk,
    yarn_classic_caches,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "scan_host", "write_host_scan"]

FORMAT = "ircore-host-scan"
FORMAT_VERSION = 1

#: Folder names the project walk never enters: version-control data, installed trees (read
#: with their project), caches and stores (read on their own), trash and tool homes.
SKIP_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".cache",
        ".npm",
        ".yarn",
        ".pnpm-store",
        ".nvm",
        ".volta",
        ".fnm",
        ".bun",
        ".asdf",
        ".Trash",
        ".Trashes",
        "$RECYCLE.BIN",
        ".vscode",
        ".vscode-server",
        # Python environments and other toolchains: their package.json files are assets
        # shipped inside Python or JVM packages (JupyterLab extensions), not npm installs.
        "site-packages",
        "dist-packages",
        ".tox",
        ".pyenv",
        ".conda",
        ".cargo",
        ".rustup",
        ".m2",
        ".gradle",
    }
)
#: Skipped without a mention: no project of the user's can be inside.
_NEVER_PROJECTS = frozenset({".git", ".hg", ".svn", "node_modules"})
#: Skipped only directly under a root: the macOS ``~/Library`` (caches, application data).
SKIP_AT_TOP = frozenset({"Library", "AppData"})
#: Never walked when a root is ``/``: virtual file systems.
SKIP_ABSOLUTE = tuple(Path(p) for p in ("/proc", "/sys", "/dev", "/run"))
#: npm prefixes of system-wide installs (each holds ``lib/node_modules``).
SYSTEM_PREFIXES = ("/usr", "/usr/local", "/opt/homebrew", "/home/linuxbrew/.linuxbrew")


def _lockfile_names() -> frozenset[str]:
    # Imported late: ircore.inventory imports this module.
    from ircore.inventory import LOCKFILE_NAMES

    return LOCKFILE_NAMES


def _load_inventory(
    paths: Path | list[Path], *, host: str, log: EvidenceLog, repo: str | None = None
) -> pd.DataFrame:
    """Lockfiles and installed ``node_modules`` trees, read by the folder loader."""
    from ircore.inventory import load_inventory

    return load_inventory(paths, repo=repo, host=host, installed=True, log=log)


# --- projects under the roots -------------------------------------------------------------------


def _skipped(here: Path, name: str, *, top: bool, scan: ScanState) -> bool:
    path = here / name
    return (
        name in SKIP_NAMES
        or name.startswith(".Trash-")
        or (top and name in SKIP_AT_TOP)
        or path in scan.claimed
        or path in SKIP_ABSOLUTE
    )


def _read_root(root: Path, scan: ScanState, *, host: str, home: Path) -> dict[str, Any]:
    """Find the projects below ``root`` and read each; return the root's entry of the scan."""
    names = _lockfile_names()
    entry: dict[str, Any] = {"path": str(root), "projects": 0, "skipped": []}
    if root.is_file():
        _read_project([root], scan, host=host)
        entry["projects"] = 1
        return entry
    for here, dirs, files in walk(root, scan, "projects"):
        if here != root and ("pyvenv.cfg" in files or "conda-meta" in dirs):
            # A Python environment: package.json files in it ship inside Python packages
            # (JupyterLab extensions), and nothing in it was installed by npm.
            entry["skipped"].append(str(here))
            dirs[:] = []
            continue
        has_project = any(f in names or f == "package.json" for f in files)
        # The home folder and a whole-disk root are never one project, even with a stray
        # package.json (an `npm install` run in ~): only their own files are read, and the
        # walk goes on into their folders.
        if has_project and here not in (home, Path(here.anchor)):
            _read_project([here], scan, host=host)
            entry["projects"] += 1
            dirs[:] = []
            continue
        if has_project:
            own = [here / f for f in files if f in names]
            if (here / "node_modules").is_dir():
                own.append(here / "node_modules")
            _read_project(own or [here / "package.json"], scan, host=host, repo=here.name)
            entry["projects"] += 1
        kept = []
        for name in dirs:
            if not _skipped(here, name, top=here in (root, home), scan=scan):
                kept.append(name)
            elif name not in _NEVER_PROJECTS:
                entry["skipped"].append(str(here / name))
        dirs[:] = kept
    return entry


def _read_project(
    paths: list[Path], scan: ScanState, *, host: str, repo: str | None = None
) -> None:
    """One project: a folder, or (for the home folder) the files at its top."""
    rows = _frame_rows(_load_inventory(paths, host=host, log=scan.log, repo=repo))
    for row in rows:
        row["last_seen"] = scan.stamp
    scan.rows.extend(rows)
    scan.projects += 1
    folder = paths[0] if paths[0].is_dir() and paths[0].name != "node_modules" else paths[0].parent
    berry = folder / ".yarn" / "cache"
    if scan.is_dir(berry):
        read_berry_cache(berry, scan, repo=folder.name)


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in plain.to_dict("records")]


# --- global installs ----------------------------------------------------------------------------


def _npmrc_settings(home: Path, scan: ScanState) -> dict[str, str]:
    """``key=value`` lines of ``~/.npmrc``; ``~`` and ``${HOME}`` expanded against ``home``."""
    path = home / ".npmrc"
    if not path.is_file():
        return {}
    try:
        text = decode_text(read_bytes(path), what=str(path), empty_kind=None)
    except (OSError, InputError) as exc:
        message = exc.message if isinstance(exc, InputError) else (exc.strerror or str(exc))
        scan.problem(
            path,
            "unreadable",
            f"{path} could not be read ({message}); a global "
            "prefix or cache folder it may set was not looked for",
        )
        return {}
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip().strip("\"'").replace("${HOME}", str(home))
        if value.startswith("~/") or value == "~":
            value = str(home) + value[1:]
        settings[key.strip()] = value
    return settings


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _default_globals(
    home: Path, npmrc: dict[str, str], scan: ScanState, *, system: bool
) -> list[Path]:
    """Global install folders that exist on the machine, in a stable order.

    ``system``: also the machine-wide prefixes (``/usr/lib/node_modules``...), only when the
    home folder is this machine's own: a mounted disk's home must not pick up the analyst's.
    """
    prefixes = [Path(p) for p in SYSTEM_PREFIXES] if system else []
    if "prefix" in npmrc and Path(npmrc["prefix"]).is_absolute():
        prefixes.append(Path(npmrc["prefix"]))
    prefixes.append(home / ".npm-global")
    patterns = (
        ".nvm/versions/node/*",
        ".volta/tools/image/node/*",
        ".volta/tools/image/packages/*",
        ".volta/tools/image/packages/@*/*",
        ".local/share/fnm/node-versions/*/installation",
        ".fnm/node-versions/*/installation",
        "Library/Application Support/fnm/node-versions/*/installation",
        ".asdf/installs/nodejs/*",
        ".local/share/mise/installs/node/*",
    )
    for pattern in patterns:
        # glob says nothing of a folder it cannot list: check the fixed part first.
        if scan.is_dir(home / pattern.split("/*")[0]):
            prefixes.extend(sorted(home.glob(pattern)))
    found = [p / "lib" / "node_modules" for p in prefixes]
    found.append(home / "AppData" / "Roaming" / "npm" / "node_modules")  # Windows prefix
    # yarn classic's and pnpm's global folders are projects of their own, with a lockfile.
    found.append(home / ".config" / "yarn" / "global")
    found.append(home / "AppData" / "Local" / "Yarn" / "Data" / "global")
    for pnpm_home in (".local/share/pnpm", "Library/pnpm", "AppData/Local/pnpm"):
        if scan.is_dir(home / pnpm_home / "global"):
            found.extend(sorted((home / pnpm_home).glob("global/*")))
    unique: dict[Path, Path] = {}
    for path in found:
        if scan.is_dir(path):
            unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _global_kind(path: Path) -> tuple[str, Path]:
    """What a global folder is, and the folder to read: a lockfile project or a node_modules."""
    if (path / "pnpm-lock.yaml").is_file():
        return "global-pnpm", path
    if (path / "yarn.lock").is_file():
        return "global-yarn", path
    if path.name != "node_modules":
        for inner in (path / "lib" / "node_modules", path / "node_modules"):
            if inner.is_dir():
                return "global-npm", inner
    return "global-npm", path


def _read_global(path: Path, scan: ScanState, *, host: str) -> None:
    """One global install folder; its rows keep ``file`` (``yarn.lock``, ``node_modules``)."""
    kind, folder = _global_kind(path)
    scan.claimed.add(path)
    scan.claimed.add(folder)
    # A node_modules folder with no package.json beside it is read as a global install folder:
    # every top-level package direct, none a dev dependency.
    rows = _frame_rows(_load_inventory(folder, host=host, log=scan.log))
    label = {"global-npm": "(global npm)", "global-yarn": "(global yarn)"}.get(
        kind, "(global pnpm)"
    )
    for row in rows:
        row.update(repo=label, lockfile_format=kind, last_seen=scan.stamp)
    scan.rows.extend(rows)
    scan.global_packages += len(rows)


# --- the scan -----------------------------------------------------------------------------------


def _user_of(home: Path) -> str:
    """The owner of the home folder (who the evidence belongs to), else who runs the scan."""
    try:
        import pwd

        return pwd.getpwuid(home.stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        try:
            return getpass.getuser()
        except (OSError, KeyError):
            return home.name


def _kit_version() -> str:
    from ircore.report._render import kit_version

    return kit_version()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in plain.to_dict("records")
    ]


def scan_host(
    *,
    roots: Sequence[PathLike] = (),
    home: PathLike | None = None,
    hostname: str | None = None,
    global_dirs: Sequence[PathLike] | None = None,
) -> dict[str, Any]:
    """Read one machine's projects, global installs and package caches, without running them.

    Parameters
    ----------
    roots
        Folders to search for projects (a home folder, ``~/src``), or lockfiles. Symbolic
        links are never followed; caches, ``.git``, ``node_modules`` and the trash are skipped.
    home
        The home folder whose caches, stores and global installs are read; the current user's
        when omitted. It may belong to another user or to a mounted disk image.
    hostname
        The machine's name in the rows; this machine's name when omitted.
    global_dirs
        Global install folders to read instead of the default ones: npm prefixes (holding
        ``lib/node_modules``), global ``node_modules`` folders, yarn's or pnpm's global folder.
        When omitted: the system prefixes, ``prefix=`` from ``~/.npmrc`` and the Node version
        managers' folders under ``home`` that exist.

    Returns
    -------
    dict
        The host scan described in this module's docstring: ``format``, ``format_version``,
        ``ircore_version``, ``host``, ``scanned_at``, ``home``, ``roots``, ``summary``,
        ``inventory``, ``inputs`` and ``problems``; JSON-serializable as it is.
    """
    scanned_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    home_path = Path(home) if home is not None else Path.home()
    home_path = home_path.absolute()
    own_home = home is None or _same_folder(home_path, Path.home())
    if not own_home and not hostname:
        raise ConfigError(
            f"{home_path} is not this machine's home folder: name the machine it belongs to "
            "(--hostname), or its scan would be filed under this one"
        )
    hostname = hostname or socket.gethostname()
    user = _user_of(home_path)
    stamp = scanned_at.isoformat()
    scan = ScanState(log=EvidenceLog(), stamp=stamp)
    has_home = scan.is_dir(home_path)
    if not has_home and home_path not in scan.unchecked:
        scan.problem(
            home_path,
            "missing",
            f"home folder {home_path} does not exist; its caches and global installs were not read",
        )

    npmrc = _npmrc_settings(home_path, scan) if has_home else {}
    if global_dirs is None:
        globals_ = _default_globals(home_path, npmrc, scan, system=own_home) if has_home else []
    else:
        globals_ = list(scan.log.existing((Path(p).absolute() for p in global_dirs), source=SOURCE))
    for folder in globals_:
        _read_global(folder, scan, host=hostname)

    if has_home:
        caches = [home_path / ".npm" / "_cacache", home_path / "AppData/Local/npm-cache/_cacache"]
        if "cache" in npmrc and Path(npmrc["cache"]).is_absolute():
            caches.insert(0, Path(npmrc["cache"]) / "_cacache")
        seen: set[Path] = set()
        for cacache in caches:
            if scan.is_dir(cacache) and cacache.resolve() not in seen:
                seen.add(cacache.resolve())
                read_npm_cache(cacache, scan)
        for cache in yarn_classic_caches(home_path, scan):
            read_yarn_classic_cache(cache, scan)
        berry = home_path / ".yarn" / "berry" / "cache"
        if scan.is_dir(berry):
            read_berry_cache(berry, scan, repo="(yarn berry cache)")
        for store in pnpm_stores(home_path, scan):
            read_pnpm_store(store, scan)

    root_entries = []
    unique_roots = dict.fromkeys(Path(r).absolute() for r in roots)
    for root in scan.log.existing(unique_roots, source=SOURCE):
        root_entries.append(_read_root(root, scan, host=hostname, home=home_path))

    for row in scan.rows:
        row.update(host=hostname, user=user, surface="host", source=SOURCE)
        if isinstance(row.get("resolved"), str):
            row["resolved"] = redact_url(row["resolved"])
    inventory = new_frame("inventory", scan.rows)
    problems = scan.log.problems
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ircore_version": _kit_version(),
        "host": {"hostname": hostname, "user": user, "platform": sys.platform},
        "scanned_at": stamp,
        "home": str(home_path),
        "roots": root_entries,
        "summary": {
            "packages": len(inventory),
            "projects": scan.projects,
            "global_packages": scan.global_packages,
            "cache_entries": scan.cache_entries,
            "problems": len(problems),
        },
        "inventory": _records(inventory),
        "inputs": _records(scan.log.inputs),
        "problems": _records(problems),
    }


def safe_filename(hostname: str) -> str:
    """A file name for a host: letters, digits, ``.``, ``_`` and ``-`` only, never ``.``/``..``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", hostname).strip(".")
    return name or "host"


def write_host_scan(scan: dict[str, Any], out: PathLike) -> Path:
    """Write ``scan`` as ``<out>/<hostname>.json`` atomically: a reader sees the old or the new."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{safe_filename(str(scan['host']['hostname']))}.json"
    data = orjson.dumps(scan) + b"\n"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
