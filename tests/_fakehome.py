"""Real on-disk developer homes for the host-scan tests: the files npm, yarn and pnpm write.

Every structure follows the tool's own on-disk format: cacache index buckets at
``index-v5/<sha256(key) as 2/2/rest>`` whose lines are ``\\n<sha1(json)>\\t<json>``, yarn classic
cache folders with the package inside ``node_modules/<name>``, Berry zips named
``<slug>-npm-<version>-<10 hex>-<cache key>.zip``, pnpm index files and content by hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

REGISTRY = "https://registry.npmjs.org"
FETCH = "make-fetch-happen:request-cache:"
T0 = 1757336400000  # 2025-09-08T13:00:00Z in ms, the day of the chalk/debug compromise


def index_line(entry: dict[str, Any]) -> str:
    """One cacache index line, as cacache appends it: newline, SHA-1 of the JSON, tab, JSON."""
    body = json.dumps(entry, separators=(",", ":"))
    return f"\n{hashlib.sha1(body.encode()).hexdigest()}\t{body}"


def bucket_path(cacache: Path, key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return cacache / "index-v5" / digest[:2] / digest[2:4] / digest[4:]


def cache_download(
    cacache: Path, url: str, *, times: tuple[int, ...] = (T0,), removed_at: int | None = None
) -> Path:
    """Index entries of a tarball fetched at ``times`` (ms), then deleted at ``removed_at``."""
    key = FETCH + url
    path = bucket_path(cacache, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for time in times:
            out.write(
                index_line(
                    {
                        "key": key,
                        "integrity": "sha512-" + base64.b64encode(url.encode()).decode(),
                        "time": time,
                        "size": 12345,
                        "metadata": {"url": url, "reqHeaders": {}, "resHeaders": {}},
                    }
                )
            )
        if removed_at is not None:
            out.write(index_line({"key": key, "integrity": None, "time": removed_at}))
    return path


def package_json(folder: Path, name: str, version: str, **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "package.json"
    path.write_text(json.dumps({"name": name, "version": version, **extra}, indent=2))
    return path


def yarn_classic_entry(cache: Path, name: str, version: str, *, resolved: str = "") -> Path:
    """``v6/npm-<slug>-<version>-<sha1>-integrity/node_modules/<name>/package.json``."""
    slug = name.replace("/", "-")
    sha = hashlib.sha1(f"{name}@{version}".encode()).hexdigest()
    folder = cache / f"npm-{slug}-{version}-{sha}-integrity" / "node_modules" / name
    package_json(folder, name, version)
    if resolved:
        metadata = {"manifest": {"name": name}, "remote": {"resolved": resolved, "type": "tarball"}}
        (folder / ".yarn-metadata.json").write_text(json.dumps(metadata))
    return folder / "package.json"


def berry_zip(cache: Path, filename: str, members: dict[str, dict[str, Any]] | None) -> Path:
    """A Berry cache file; ``members=None`` writes bytes that are no zip (never to be opened)."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / filename
    if members is None:
        path.write_bytes(b"not a zip: only the file name may be read\n")
        return path
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, json.dumps(content))
    return path


def pnpm_content(store: Path, data: bytes) -> str:
    """Store ``data`` by its SHA-512 as pnpm does; return its integrity string."""
    digest = hashlib.sha512(data)
    path = store / "files" / digest.hexdigest()[:2] / digest.hexdigest()[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def pnpm_index(path: Path, index: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index))
    return path
