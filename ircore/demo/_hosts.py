"""Developer machines of the demo org: fake home folders, their host scans, a Dev Machine Guard export.

Three developers worked on the org's repositories during the incident:

- ``mbp-priya`` (macOS) has a clone of a CLI whose ``main`` resolved chalk 5.6.1 and debug 4.4.2,
  installed (``node_modules`` holds the malicious releases), a pnpm workspace clone whose lockfile
  resolves chalk 5.6.1, and another CLI installed globally under nvm while its lockfile was
  compromised;
- ``ws-jonas`` (Linux) installed a CLI while ``main`` resolved chalk 5.6.1, reinstalled after the
  fix and removed the compromised tarballs from the npm cache: only the cache index still shows
  the download (and its deletion); his clone of the colour service still has color 5.0.1 installed;
- ``mbp-sam`` (macOS) is known only through a StepSecurity Dev Machine Guard JSON export, listing
  a bun project and a pnpm workspace checked out at a pull request that resolves debug 4.4.2.

The first two get a fake home under ``hosts-src/<hostname>/`` (working copies with their lockfiles,
``node_modules`` trees of real ``package.json`` files from ``seed/installed.json``, global
installs, an npm ``_cacache`` index) and are scanned with :func:`ircore.inventory.scan_host`; the
scan is written to ``hosts/<hostname>.json`` as it would read on the machine itself: paths under
the fake root are shown as the machine's own (``/Users/priya/...``), and the scan's time, user and
platform are the machine's. The third machine's export is written straight to ``hosts/``.

A malicious release's ``package.json`` is the clean release's below it with the version changed
(the tarballs are gone from the registry). Cache entries carry the lockfiles' integrities and
invented sizes. Everything is derived from the repositories' plans and fixed dates, so two builds
write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import cache, cmp_to_key
from pathlib import Path, PurePosixPath
from typing import Any

from ircore import semver
from ircore.demo._facts import BAD, UTC, iso
from ircore.demo._formats import LockFile, load_lock
from ircore.demo._lockfile import SEED_DIR, family, tarball_url

#: Where the installed package.json files come from (``resolve_seeds.py`` writes it).
INSTALLED_FILE = SEED_DIR / "installed.json"
_FETCH_KEY = "make-fetch-happen:request-cache:"


@dataclass(frozen=True)
class Install:
    """A lockfile a machine installed from, and when."""

    lock_text: str
    manifests: dict[str, dict[str, Any]]
    when: datetime
    manager: str = "npm"


@dataclass(frozen=True)
class Checkout:
    """A working copy on a machine: the files of one commit, and what was installed from it."""

    repo: str
    ref: str
    commit: str
    files: dict[str, bytes]
    manager: str
    lockfile: str
    installs: tuple[Install, ...] = ()  # oldest first; node_modules holds the last one


@dataclass(frozen=True)
class GlobalInstall:
    """A package installed globally, with its dependencies nested under it."""

    manifest: dict[str, Any]
    install: Install


@dataclass
class Machine:
    """One developer machine to write and scan."""

    hostname: str
    user: str
    platform: str
    home: str  # relative to the fake root: "Users/priya", "home/jonas"
    scanned_at: datetime
    checkouts: list[tuple[str, Checkout]] = field(default_factory=list)  # (folder under home, …)
    global_prefix: str = ""  # npm prefix under home, holding lib/node_modules
    global_tools: tuple[str, ...] = ()  # name@version of real tools installed globally
    global_installs: list[GlobalInstall] = field(default_factory=list)
    npmrc: str = ""
    removed: tuple[tuple[str, datetime], ...] = ()  # (tarball URL, when) deleted from the cache


# -- package.json files ---------------------------------------------------------------------------


@cache
def _installed() -> dict[str, str]:
    return dict(json.loads(INSTALLED_FILE.read_text(encoding="utf-8")))


def manifest_text(name: str, version: str) -> str:
    """Return the ``package.json`` npm unpacked for ``name@version``.

    Parameters
    ----------
    name, version : str
        An installed release.

    Returns
    -------
    str
        The file's text as published; for a malicious release, the clean release below it with
        its ``version`` changed.

    Raises
    ------
    KeyError
        If ``seed/installed.json`` has no such release (re-run ``resolve_seeds.py``).
    """
    texts = _installed()
    key = f"{name}@{version}"
    if key in texts:
        return texts[key]
    if BAD.get(name) == version:
        below = [
            v
            for v in family().get(name, {})
            if f"{name}@{v}" in texts and semver.compare_versions(v, version) < 0
        ]
        if below:
            previous = max(below, key=cmp_to_key(semver.compare_versions))
            text = texts[f"{name}@{previous}"]
            old = f'"version": "{previous}"'
            if old in text:
                return text.replace(old, f'"version": "{version}"', 1)
    raise KeyError(f"no package.json for {key} in {INSTALLED_FILE.name}")


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _npm_packages(install: Install) -> dict[str, dict[str, Any]]:
    """The ``packages`` of an npm v2/v3 lockfile, without the root and workspace folders."""
    lock = json.loads(install.lock_text)
    if int(lock.get("lockfileVersion", 1)) < 2:
        raise ValueError("host trees are built from lockfileVersion 2 or 3")
    return {
        path: entry
        for path, entry in lock["packages"].items()
        if "node_modules/" in path and not entry.get("link")
    }


def write_tree(root: Path, install: Install) -> None:
    """Write ``root/node_modules`` as ``npm ci`` would have left it for ``install``.

    Parameters
    ----------
    root : Path
        The project folder (or a global package's folder).
    install : Install
        The npm lockfile installed.
    """
    lock = json.loads(install.lock_text)
    packages = _npm_packages(install)
    for path, entry in packages.items():
        name = entry.get("name", path.rsplit("node_modules/", 1)[-1])
        _write(root / path / "package.json", manifest_text(name, entry["version"]))
    # npm's hidden lockfile: what it installed, so the next install can skip the tree walk.
    hidden = {
        "name": lock.get("name", ""),
        "version": lock.get("version", ""),
        "lockfileVersion": 3,
        "requires": True,
        "packages": packages,
    }
    _write(root / "node_modules" / ".package-lock.json", json.dumps(hidden, indent=2) + "\n")


# -- the npm cache ----------------------------------------------------------------------------


def _size(url: str) -> int:
    # The tarballs' sizes are not in the lockfile; a stable made-up size stands in.
    return 2_000 + int(hashlib.sha1(url.encode()).hexdigest()[:6], 16) % 60_000


def _cache_line(entry: dict[str, Any]) -> str:
    body = json.dumps(entry, separators=(",", ":"))
    return "\n" + hashlib.sha1(body.encode()).hexdigest() + "\t" + body


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def write_npm_cache(
    cacache: Path,
    downloads: Iterable[tuple[str, str, datetime]],
    removed: Iterable[tuple[str, datetime]] = (),
) -> None:
    """Write a ``_cacache/index-v5`` index as npm's cacache writes it.

    Parameters
    ----------
    cacache : Path
        The ``_cacache`` folder.
    downloads : iterable of (url, integrity, time)
        Tarballs fetched; each gets one index line (the first fetch: later installs hit the cache).
    removed : iterable of (url, time)
        Entries deleted later: cacache appends a line with integrity ``null``.
    """
    lines: dict[str, list[tuple[datetime, str]]] = {}
    first: dict[str, tuple[str, datetime]] = {}
    for url, integrity, when in downloads:
        if url not in first or when < first[url][1]:
            first[url] = (integrity, when)
    for url, (integrity, when) in sorted(first.items()):
        ms = int(when.timestamp() * 1000)
        entry = {
            "key": _FETCH_KEY + url,
            "integrity": integrity,
            "time": ms + 41,
            "size": _size(url),
            "metadata": {
                "time": ms,
                "url": url,
                "reqHeaders": {},
                "resHeaders": {
                    "content-type": "application/octet-stream",
                    "date": _http_date(when),
                },
                "options": {"compress": True},
            },
        }
        lines.setdefault(url, []).append((when, _cache_line(entry)))
    for url, when in removed:
        entry = {"key": _FETCH_KEY + url, "integrity": None, "time": int(when.timestamp() * 1000)}
        lines.setdefault(url, []).append((when, _cache_line(entry)))
    for url, entries in lines.items():
        digest = hashlib.sha256((_FETCH_KEY + url).encode()).hexdigest()
        bucket = cacache / "index-v5" / digest[:2] / digest[2:4] / digest[4:]
        _write(bucket, "".join(line for _, line in sorted(entries)))


def _downloads(install: Install) -> list[tuple[str, str, datetime]]:
    out = []
    for path, entry in _npm_packages(install).items():
        name = entry.get("name", path.rsplit("node_modules/", 1)[-1])
        url = entry.get("resolved") or tarball_url(name, entry["version"])
        out.append((url, entry["integrity"], install.when))
    return out


# -- machines ---------------------------------------------------------------------------------


def write_machine(root: Path, machine: Machine) -> list[Path]:
    """Write a machine's fake home under ``root``; return the global install folders.

    Parameters
    ----------
    root : Path
        The machine's fake file-system root (``hosts-src/<hostname>``).
    machine : Machine
        What to write.
    """
    home = root / machine.home
    downloads: list[tuple[str, str, datetime]] = []
    for folder, checkout in machine.checkouts:
        project = home / folder / checkout.repo
        for rel, data in sorted(checkout.files.items()):
            _write(project / rel, data)
        if checkout.installs:
            write_tree(project, checkout.installs[-1])
        for install in checkout.installs:
            downloads.extend(_downloads(install))
    globals_: list[Path] = []
    if machine.global_prefix:
        modules = home / machine.global_prefix / "lib" / "node_modules"
        globals_.append(home / machine.global_prefix)
        for tool in machine.global_tools:
            name, _, version = tool.rpartition("@")
            _write(modules / name / "package.json", manifest_text(name, version))
        for item in machine.global_installs:
            folder = modules / item.manifest["name"]
            _write(folder / "package.json", json.dumps(item.manifest, indent=2) + "\n")
            write_tree(folder, item.install)
            downloads.extend(_downloads(item.install))
    if machine.npmrc:
        _write(home / ".npmrc", machine.npmrc)
    if downloads:
        write_npm_cache(home / ".npm" / "_cacache", downloads, machine.removed)
    return globals_


def _rewrite(value: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_rewrite(v, replace) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, replace) for k, v in value.items()}
    return value


def as_on_machine(scan: dict[str, Any], root: Path, machine: Machine) -> dict[str, Any]:
    """Return a scan of ``root`` as it reads when run on the machine itself.

    The fake root's path is removed from every string (``<root>/Users/priya`` becomes
    ``/Users/priya``); the scan time, the user and the platform become the machine's, so the
    file does not depend on where or when the demo was built.
    """
    prefix = str(root)
    stamp = scan["scanned_at"]
    when = machine.scanned_at.isoformat()
    real_user = scan["host"]["user"]

    def replace(text: str) -> str:
        if text == stamp:
            return when
        return text.replace(prefix, "") if prefix in text else text

    out: dict[str, Any] = _rewrite(scan, replace)
    out["host"] = {**out["host"], "user": machine.user, "platform": machine.platform}
    for row in out.get("inventory", []):
        if row.get("user") == real_user:
            row["user"] = machine.user
    return out


def scan_machine(root: Path, machine: Machine, globals_: list[Path]) -> dict[str, Any]:
    """Scan a written machine with :func:`ircore.inventory.scan_host`, as seen on the machine."""
    from ircore.inventory import scan_host

    home = root / machine.home
    scan = scan_host(roots=[home], home=home, hostname=machine.hostname, global_dirs=globals_)
    return as_on_machine(scan, root, machine)


def dev_machine_guard(
    hostname: str,
    user_identity: str,
    scanned_at: datetime,
    projects: list[tuple[str, str, LockFile]],
) -> dict[str, Any]:
    """A Dev Machine Guard JSON export (community form) listing ``projects``.

    Parameters
    ----------
    hostname, user_identity : str
        The device and its user.
    scanned_at : datetime
        When the agent ran.
    projects : list of (path on the machine, package manager, lockfile view)
        Each project's packages are the registry releases its lockfile resolves.
    """
    node_projects = []
    for path, manager, view in projects:
        packages = sorted({(e.name, view.version(e)) for e in view.entries.values()})
        node_projects.append(
            {
                "path": path,
                "package_manager": manager.split("-")[0],
                "packages": [{"name": n, "version": v} for n, v in packages],
            }
        )
    serial = hashlib.sha1(hostname.encode()).hexdigest()[:10].upper()
    return {
        "agent_version": "1.4.0",
        "scan_timestamp": int(scanned_at.timestamp()),
        "scan_timestamp_iso": iso(scanned_at),
        "device": {
            "hostname": hostname,
            "serial_number": f"C02{serial}",
            "os_version": "15.6.1",
            "platform": "darwin",
            "user_identity": user_identity,
        },
        "node_package_managers": [
            {"name": "npm", "version": "10.8.2", "path": "/opt/homebrew/bin/npm"},
            {"name": "pnpm", "version": "9.15.9", "path": "/opt/homebrew/bin/pnpm"},
            {
                "name": "bun",
                "version": "1.2.21",
                "path": f"/Users/{hostname.split('-')[-1]}/.bun/bin/bun",
            },
        ],
        "node_projects": node_projects,
        "node_packages": [],
        "python_packages": [],
        "python_projects": [],
        "ide_extensions": [],
        "mcp_configs": [],
        "ai_agents_and_tools": [],
        "summary": {
            "node_projects_count": len(node_projects),
            "node_packages_count": sum(len(p["packages"]) for p in node_projects),
        },
    }


# -- truth --------------------------------------------------------------------------------------


def _on_machine(path: Path, root: Path) -> str:
    return "/" + path.relative_to(root).as_posix()


def machine_truth(root: Path, machine: Machine, globals_: list[Path]) -> dict[str, Any]:
    """What a written machine holds of the incident, read back from the files written.

    Returns
    -------
    dict
        ``installed``: malicious ``package.json`` files in project and global ``node_modules``
        trees (``kind`` project or global); ``lockfiles``: malicious releases the working copies'
        lockfiles resolve; ``npm_cache``: malicious tarballs in the cache index, with the first
        download time and whether a deletion entry follows.
    """
    home = root / machine.home
    installed = []
    global_roots = [g / "lib" / "node_modules" for g in globals_]
    for dirpath, dirnames, filenames in os.walk(home):
        dirnames.sort()
        here = Path(dirpath)
        # A package folder sits in a node_modules folder, or in a @scope folder inside one.
        owner = here.parent.parent if here.parent.name.startswith("@") else here.parent
        if "package.json" not in filenames or owner.name != "node_modules":
            continue
        data = json.loads((here / "package.json").read_text(encoding="utf-8"))
        if BAD.get(data.get("name", "")) != data.get("version"):
            continue
        kind = "global" if any(here.is_relative_to(g) for g in global_roots) else "project"
        installed.append(
            {
                "kind": kind,
                "name": data["name"],
                "version": data["version"],
                "path": _on_machine(here, root),
            }
        )
    lockfiles = []
    for folder, checkout in machine.checkouts:
        project = home / folder / checkout.repo
        text = (project / checkout.lockfile).read_text(encoding="utf-8")
        manifests = {
            rel: json.loads(data)
            for rel, data in checkout.files.items()
            if PurePosixPath(rel).name == "package.json"
        }
        for hit in load_lock(checkout.manager, text, manifests).hits():
            lockfiles.append(
                {
                    "repo": checkout.repo,
                    "file": _on_machine(project / checkout.lockfile, root),
                    **hit.as_dict(),
                }
            )
    cache_rows = []
    index = home / ".npm" / "_cacache" / "index-v5"
    for bucket in sorted(index.rglob("*")) if index.is_dir() else []:
        if not bucket.is_file():
            continue
        entries = [
            json.loads(line.split("\t", 1)[1])
            for line in bucket.read_text(encoding="utf-8").split("\n")
            if line
        ]
        url = entries[0]["key"][len(_FETCH_KEY) :]
        name, _, rest = url.split("https://registry.npmjs.org/", 1)[1].partition("/-/")
        version = rest[len(name.rsplit("/", 1)[-1]) + 1 : -len(".tgz")]
        if BAD.get(name) != version:
            continue
        live = [e for e in entries if e["integrity"] is not None]
        cache_rows.append(
            {
                "name": name,
                "version": version,
                "path": _on_machine(bucket, root),
                "first_seen": iso(datetime.fromtimestamp(min(e["time"] for e in live) / 1000, UTC)),
                "removed": entries[-1]["integrity"] is None,
            }
        )
    return {
        "installed": sorted(installed, key=lambda r: r["path"]),
        "lockfiles": sorted(lockfiles, key=lambda r: (r["file"], r["path"])),
        "npm_cache": sorted(cache_rows, key=lambda r: (r["name"], r["version"])),
    }


def dmg_truth(export: dict[str, Any]) -> list[dict[str, Any]]:
    """The malicious releases a Dev Machine Guard export lists, per project path."""
    return [
        {"path": project["path"], "name": p["name"], "version": p["version"]}
        for project in export["node_projects"]
        for p in project["packages"]
        if BAD.get(p["name"]) == p["version"]
    ]


__all__ = [
    "Checkout",
    "GlobalInstall",
    "Install",
    "Machine",
    "dev_machine_guard",
    "dmg_truth",
    "machine_truth",
    "manifest_text",
    "scan_machine",
    "write_machine",
]
