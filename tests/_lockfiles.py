"""Small, valid npm lockfiles written by the tests themselves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def lock_v3(
    deps: dict[str, str], *, dev: dict[str, str] | None = None, nested: dict[str, str] | None = None
) -> str:
    """A lockfileVersion 3 file: direct ``deps``/``dev`` and transitive ``nested`` packages."""
    dev = dev or {}
    nested = nested or {}
    packages: dict[str, dict] = {
        "": {
            "name": "app",
            "version": "1.0.0",
            "dependencies": {n: f"^{v}" for n, v in deps.items()},
            "devDependencies": {n: f"^{v}" for n, v in dev.items()},
        },
    }
    first = next(iter(deps), None)
    for name, version in {**deps, **dev, **nested}.items():
        entry: dict = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
        if name in dev:
            entry["dev"] = True
        packages[f"node_modules/{name}"] = entry
    if first and nested:
        packages[f"node_modules/{first}"]["dependencies"] = {n: f"^{v}" for n, v in nested.items()}
    return json.dumps(
        {
            "name": "app",
            "version": "1.0.0",
            "lockfileVersion": 3,
            "requires": True,
            "packages": packages,
        },
        indent=2,
    )


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2025-09-08T12:00:00Z",
        "GIT_COMMITTER_DATE": "2025-09-08T12:00:00Z",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def init_repo(repo: Path) -> None:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
