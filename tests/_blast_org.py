"""Evidence for the blast-radius and triage tests: a small org written here, and the demo org.

The small org is real git repositories and a developer-machine folder, read by the real loaders
(``load_inventory``, ``load_declared``, ``load_advisories``, ``match_exposure``). For the demo,
the investigation's own ``declared`` frame is used once ``investigate`` fills it; until then
``load_declared`` reads the demo repositories the same way.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ircore import EvidenceLog, investigate, load_advisories, load_inventory, match_exposure
from ircore._investigation import Incident, Investigation
from ircore.demo import DemoOrg, build_demo_org
from ircore.inventory import load_declared
from tests._lockfiles import commit_files, git, init_repo

REGISTRY = "https://registry.npmjs.org"
INTEGRITY = "sha512-" + "A" * 86 + "=="


def entry(name: str, version: str, **extra: Any) -> dict[str, Any]:
    """One ``packages`` entry of a v3 lockfile."""
    base = name.split("/")[-1]
    return {
        "version": version,
        "resolved": f"{REGISTRY}/{name}/-/{base}-{version}.tgz",
        "integrity": INTEGRITY,
        **extra,
    }


def lockfile(root: dict[str, Any], packages: dict[str, dict[str, Any]]) -> str:
    """A package-lock.json v3 with the root project ``root`` and ``packages`` by install path."""
    return json.dumps(
        {
            "name": root.get("name", "app"),
            "version": "1.0.0",
            "lockfileVersion": 3,
            "requires": True,
            "packages": {"": {"version": "1.0.0", **root}, **packages},
        },
        indent=2,
    )


def manifest(name: str, **fields: dict[str, str]) -> str:
    return json.dumps({"name": name, "version": "1.0.0", **fields}, indent=2)


@dataclass
class SmallOrg:
    root: Path
    laptop: Path
    investigation: Investigation


def build_small_org(root: Path) -> SmallOrg:
    """Five repositories and one developer machine, each a different kind of exposure.

    - ``api``: ``express > debug@4.4.2`` (production) and ``chalk@5.6.1`` (direct, dev) on main.
    - ``web``: safe on main; ``chalk@5.6.1`` through ``lint-staged`` on ``feature/colors`` and on
      pull request 7 only.
    - ``tools``: ``debug@4.3.4`` pinned, but ``package.json`` declares ``^4.3.1`` (latent only);
      ``chalk`` declared through an alias ``npm:chalk@^5.0.0`` pinned at 5.3.0 (latent too).
    - ``odd``: declares ``chalk`` as ``=>5.0.0``, a range npm cannot read; pinned at 5.3.0.
    - ``docs``: its lockfile is truncated (inconclusive); ``~4.3.1`` admits no bad version.
    - ``lint``: ``chalk@5.6.1`` through ``eslint-formatter`` on main, dev-only.
    - ``clean``: nothing compromised, nothing latent, every input read.
    - ``laptop-1``: a side project with ``chalk@5.6.1`` installed (developer machine).

    Advisories: a published list (chalk 5.6.1, debug 4.4.2, and debug 4.5.0-beta.1, a
    prerelease a caret range does not admit) and an OSV record for debug 4.4.2.
    """
    org = root / "org"
    api = org / "api"
    init_repo(api)
    commit_files(
        api,
        {
            "package.json": manifest(
                "api",
                dependencies={"express": "^4.21.0"},
                devDependencies={"chalk": "^5.3.0"},
            ),
            "package-lock.json": lockfile(
                {
                    "name": "api",
                    "dependencies": {"express": "^4.21.0"},
                    "devDependencies": {"chalk": "^5.3.0"},
                },
                {
                    "node_modules/express": entry(
                        "express", "4.21.2", dependencies={"debug": "^4.3.4"}
                    ),
                    "node_modules/debug": entry("debug", "4.4.2", dependencies={"ms": "^2.1.3"}),
                    "node_modules/ms": entry("ms", "2.1.3"),
                    "node_modules/chalk": entry("chalk", "5.6.1", dev=True),
                },
            ),
        },
        "api",
    )

    web = org / "web"
    init_repo(web)

    def web_lock(chalk: str) -> dict[str, str]:
        return {
            "package.json": manifest("web", devDependencies={"lint-staged": "^15.2.0"}),
            "package-lock.json": lockfile(
                {"name": "web", "devDependencies": {"lint-staged": "^15.2.0"}},
                {
                    "node_modules/lint-staged": entry(
                        "lint-staged", "15.2.10", dev=True, dependencies={"chalk": "~5.6.0"}
                    ),
                    "node_modules/chalk": entry("chalk", chalk, dev=True),
                },
            ),
        }

    commit_files(web, web_lock("5.6.0"), "web")
    git(web, "checkout", "-q", "-b", "feature/colors")
    feature = commit_files(web, web_lock("5.6.1"), "bump chalk")
    git(web, "update-ref", "refs/pull/7/head", feature)
    git(web, "checkout", "-q", "main")

    tools = org / "tools"
    init_repo(tools)
    commit_files(
        tools,
        {
            "package.json": manifest(
                "tools", dependencies={"debug": "^4.3.1", "colors": "npm:chalk@^5.0.0"}
            ),
            "package-lock.json": lockfile(
                {
                    "name": "tools",
                    "dependencies": {"debug": "^4.3.1", "colors": "npm:chalk@^5.0.0"},
                },
                {
                    "node_modules/debug": entry("debug", "4.3.4"),
                    "node_modules/colors": {
                        **entry("chalk", "5.3.0"),
                        "name": "chalk",
                    },
                },
            ),
        },
        "tools",
    )

    odd = org / "odd"
    init_repo(odd)
    commit_files(
        odd,
        {
            "package.json": manifest("odd", dependencies={"chalk": "=>5.0.0"}),
            "package-lock.json": lockfile(
                {"name": "odd", "dependencies": {"chalk": "=>5.0.0"}},
                {"node_modules/chalk": entry("chalk", "5.3.0")},
            ),
        },
        "odd",
    )

    docs = org / "docs"
    init_repo(docs)
    whole = lockfile(
        {"name": "docs", "dependencies": {"debug": "~4.3.1"}},
        {"node_modules/debug": entry("debug", "4.3.4")},
    )
    commit_files(
        docs,
        {
            "package.json": manifest("docs", dependencies={"debug": "~4.3.1"}),
            "package-lock.json": whole[: len(whole) // 2],
        },
        "docs",
    )

    lint = org / "lint"
    init_repo(lint)
    commit_files(
        lint,
        {
            "package.json": manifest("lint", devDependencies={"eslint-formatter": "^2.0.0"}),
            "package-lock.json": lockfile(
                {"name": "lint", "devDependencies": {"eslint-formatter": "^2.0.0"}},
                {
                    "node_modules/eslint-formatter": entry(
                        "eslint-formatter", "2.1.0", dev=True, dependencies={"chalk": "5.6.1"}
                    ),
                    "node_modules/chalk": entry("chalk", "5.6.1", dev=True),
                },
            ),
        },
        "lint",
    )

    clean = org / "clean"
    init_repo(clean)
    commit_files(
        clean,
        {
            "package.json": manifest("clean", dependencies={"ms": "^2.1.0"}),
            "package-lock.json": lockfile(
                {"name": "clean", "dependencies": {"ms": "^2.1.0"}},
                {"node_modules/ms": entry("ms", "2.1.3")},
            ),
        },
        "clean",
    )

    laptop = root / "laptop-1" / "side-project"
    laptop.mkdir(parents=True)
    (laptop / "package.json").write_text(manifest("side-project", dependencies={"chalk": "5.6.1"}))
    (laptop / "package-lock.json").write_text(
        lockfile(
            {"name": "side-project", "dependencies": {"chalk": "5.6.1"}},
            {"node_modules/chalk": entry("chalk", "5.6.1")},
        )
    )

    feeds = root / "advisories"
    feeds.mkdir()
    (feeds / "compromised.csv").write_text(
        "name,version\nchalk,5.6.1\ndebug,4.4.2\ndebug,4.5.0-beta.1\n"
    )
    (feeds / "MAL-2025-0001.json").write_text(
        json.dumps(
            {
                "schema_version": "1.5.0",
                "id": "MAL-2025-0001",
                "modified": "2025-09-09T00:00:00Z",
                "published": "2025-09-08T20:00:00Z",
                "summary": "Malicious code in debug (npm)",
                "affected": [
                    {"package": {"ecosystem": "npm", "name": "debug"}, "versions": ["4.4.2"]}
                ],
            }
        )
    )
    log = EvidenceLog()
    advisories = load_advisories(feeds, log=log)
    inventory = pd.concat(
        [
            load_inventory(org, git_refs=True, log=log),
            load_inventory(laptop, host="laptop-1", log=log),
        ],
        ignore_index=True,
    )
    exposure = match_exposure(inventory, advisories, log=log)
    declared = pd.concat(
        [
            load_declared(org, git_refs=True, log=log),
            load_declared(laptop, host="laptop-1", log=log),
        ],
        ignore_index=True,
    )
    inv = Investigation(
        incident=Incident(name="small org", packages={"chalk": ["5.6.1"], "debug": ["4.4.2"]}),
        advisories=advisories,
        inventory=inventory,
        exposure=exposure,
        problems=log.problems,
        inputs=log.inputs,
    )
    inv = with_declared(inv, declared)
    return SmallOrg(root=org, laptop=laptop, investigation=inv)


def with_declared(inv: Investigation, declared: pd.DataFrame) -> Investigation:
    """``inv`` with its ``declared`` frame replaced."""
    return dataclasses.replace(inv, declared=declared)


# -- the demo org, built once per test session -------------------------------------------------

_DEMO: dict[str, tuple[DemoOrg, Investigation]] = {}


def demo_investigation(factory: pytest.TempPathFactory) -> tuple[DemoOrg, Investigation]:
    """The demo org and its investigation, with declared ranges; built once per session."""
    if "demo" not in _DEMO:
        org = build_demo_org(factory.mktemp("blast-demo") / "org")
        inv = investigate(org.incident_file, org.sources_file)
        declared = getattr(inv, "declared", None)
        if declared is None or declared.empty:
            declared = load_declared(org.repos_dir, git_refs=True)
        _DEMO["demo"] = (org, with_declared(inv, declared))
    return _DEMO["demo"]


def short_ref(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/")
