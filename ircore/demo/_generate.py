"""Build the demo organization: real git repositories with the 2025-09-08 compromise planted.

``build_demo_org`` writes, under ``dest``:

- ``repos/<repo>/``: git repositories with a few weeks of history (August-September 2025) derived
  from the seed projects in ``seed/``, resolved once by npm, yarn 1, yarn Berry, pnpm (a v9
  workspace) and bun; some resolve malicious versions on ``main``, a feature branch, or only on a
  pull-request ref; some were fixed, some were not;
- ``hosts-src/<hostname>/``: fake home folders of two developer machines (working copies,
  installed ``node_modules`` trees, global installs, an npm cache index), and ``hosts/``: one host
  scan per machine by :func:`ircore.inventory.scan_host`, plus a Dev Machine Guard export of a
  third machine (see ``_hosts``);
- ``advisories/``: OSV records and a published ``name,version`` list;
- ``incident.yaml`` and ``sources.yaml``: the inputs an investigation starts from;
- ``truth.json``: what was planted, per repository, ref, commit and lockfile, and per machine,
  computed from the very bytes written, so tests of the pipeline can compare against it.

Everything derives from ``seed`` through seeded RNGs and fixed dates: two builds with the same
arguments produce byte-identical files and identical commit ids.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from ircore.demo import _content as content
from ircore.demo._advisories import write_advisories, write_incident, write_sources
from ircore.demo._facts import BAD, INCIDENT_NAME, UTC, WINDOW_END, WINDOW_START, iso
from ircore.demo._formats import LOCKFILES, LockFile, load_lock, manager_of
from ircore.demo._git import Commit, Person, write_repository
from ircore.demo._hosts import (
    Checkout,
    GlobalInstall,
    Install,
    Machine,
    dev_machine_guard,
    dmg_truth,
    machine_truth,
    scan_machine,
    write_machine,
)
from ircore.demo._lockfile import SEED_DIR, Hit, fix, pin_family, plant

MAIN = "refs/heads/main"


@dataclass(frozen=True)
class DemoOrg:
    """Where a built demo organization lives and what was planted in it.

    Attributes
    ----------
    root : Path
        The ``dest`` directory.
    repos_dir : Path
        Directory of git repositories (``root/repos``).
    advisories_dir : Path
        OSV records and the published CSV list (``root/advisories``).
    incident_file : Path
        ``root/incident.yaml``.
    sources_file : Path
        ``root/sources.yaml``.
    truth_file : Path
        ``root/truth.json``, the serialised ``truth``.
    hosts_dir : Path
        Host scans and the Dev Machine Guard export (``root/hosts``); the machines they were
        read from are under ``root/hosts-src``.
    truth : dict
        Per repository: refs with their commit and the malicious releases each lockfile resolves,
        every commit with the same, plus flat ``findings`` (at ref tips) and ``problems``; per
        machine (``hosts``), what its files hold of the incident.
    """

    root: Path
    repos_dir: Path
    advisories_dir: Path
    incident_file: Path
    sources_file: Path
    truth_file: Path
    hosts_dir: Path
    truth: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Plant:
    """Resolve ``name`` to its malicious version (only at ``path`` when given)."""

    name: str
    path: str | None = None


@dataclass(frozen=True)
class LockState:
    """How a project's lockfile looks at a commit, as a recipe applied to the seed lockfile.

    Attributes
    ----------
    as_of : datetime
        When it was resolved: family packages take the newest release published by then.
    plants : tuple of Plant
        Malicious releases resolved on top (only inside the window in this org).
    fixed_at : datetime or None
        When the malicious entries were moved to the newest clean release then available.
    truncate : float or None
        Commit only this fraction of the file (a broken lockfile).
    """

    as_of: datetime
    plants: tuple[Plant, ...] = ()
    fixed_at: datetime | None = None
    truncate: float | None = None


@dataclass(frozen=True)
class _Rendered:
    text: str
    hits: tuple[Hit, ...] | None  # None when the committed text does not parse


#: Files of a seed project committed as they are, besides manifests and the lockfile.
_SEED_EXTRAS = ("pnpm-workspace.yaml", ".yarnrc.yml")


@dataclass(frozen=True)
class _Seed:
    manifests: tuple[tuple[str, str], ...]  # (relative path of a package.json, text)
    lock: str
    manager: str
    extras: tuple[tuple[str, str], ...]  # (relative path, text) of other configuration files


@cache
def _seed(template: str) -> _Seed:
    base = SEED_DIR / template
    manifests = tuple(
        (p.relative_to(base).as_posix(), p.read_text(encoding="utf-8"))
        for p in sorted(base.rglob("package.json"))
    )
    manager = manager_of(json.loads(dict(manifests)["package.json"]))
    extras = tuple(
        (name, (base / name).read_text(encoding="utf-8"))
        for name in _SEED_EXTRAS
        if (base / name).is_file()
    )
    lock = (base / LOCKFILES[manager]).read_text(encoding="utf-8")
    return _Seed(manifests, lock, manager, extras)


_CARET = re.compile(r"^\^([1-9]\d*)\.(\d+)\.(\d+)$")


class _Project:
    """One project of a repository (the root, or ``server/`` and ``client/``) and its lockfile."""

    def __init__(
        self, repo: str, subdir: str, template: str, rng: random.Random, *, description: str
    ) -> None:
        self.subdir = subdir
        self.template = template
        seed = _seed(template)
        self.manager = seed.manager
        self.extras = dict(seed.extras)
        name = f"{repo}-{subdir}" if subdir else repo
        # Workspace packages get the org's scope so two monorepos do not share package names.
        scope = f"@{content.ORG}/{repo.split('-')[0]}-"
        self.manifests = {
            rel: json.loads(text.replace("@seed/", scope)) for rel, text in seed.manifests
        }
        root = self.manifests["package.json"]
        seed_name = root["name"]
        version = f"{rng.randint(0, 3)}.{rng.randint(0, 14)}.{rng.randint(0, 9)}"
        root["name"] = name
        root["version"] = version
        if "description" in root:
            root["description"] = description
        lock_text = seed.lock.replace("@seed/", scope)
        if self.manager == "npm":
            self.base_lock = self._npm_lock(lock_text, name, version, rng)
        else:
            # Where the root project's name is in the lockfile (Berry's workspace entry, bun's
            # root workspace); yarn 1 and pnpm do not record it.
            self.base_lock = lock_text.replace(
                f"{seed_name}@workspace:", f"{name}@workspace:"
            ).replace(f'"name": "{seed_name}"', f'"name": "{name}"', 1)
        # Executables named after the seed would give every repository the same command.
        for rel, manifest in self.manifests.items():
            bins = manifest.get("bin")
            if not isinstance(bins, dict):
                continue
            renamed = {(name if key.startswith("seed") else key): v for key, v in bins.items()}
            manifest["bin"] = renamed
            if self.manager == "npm":
                lock = json.loads(self.base_lock)
                folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
                if int(lock["lockfileVersion"]) >= 2 and "bin" in lock["packages"].get(folder, {}):
                    lock["packages"][folder]["bin"] = dict(renamed)
                    self.base_lock = _dump_json(lock)
        self.lock_version = load_lock(self.manager, self.base_lock, self.manifests).lockfile_version
        self._rendered: dict[LockState, _Rendered] = {}

    def _npm_lock(self, text: str, name: str, version: str, rng: random.Random) -> str:
        lock = json.loads(text)
        lock["name"] = name
        lock["version"] = version
        lock_root = lock["packages"][""] if int(lock["lockfileVersion"]) >= 2 else {}
        if lock_root:
            lock_root["name"] = name
            lock_root["version"] = version
        # Seeded variation of declared ranges: loosen a caret's minor. The locked version still
        # satisfies it, so the lockfile stays one npm could have written. (Only for npm: yarn
        # and pnpm record the declared range in the entries' keys.)
        root = self.manifests["package.json"]
        for section in ("dependencies", "devDependencies"):
            for dep, spec in list(root.get(section, {}).items()):
                match = _CARET.match(spec)
                if match and int(match[2]) > 0 and rng.random() < 0.35:
                    loose = f"^{match[1]}.{rng.randint(0, int(match[2]) - 1)}.0"
                    root[section][dep] = loose
                    if lock_root:
                        lock_root[section][dep] = loose
        return _dump_json(lock)

    @property
    def lock_path(self) -> str:
        name = LOCKFILES[self.manager]
        return f"{self.subdir}/{name}" if self.subdir else name

    def path(self, rel: str) -> str:
        return f"{self.subdir}/{rel}" if self.subdir else rel

    def view(self, state: LockState) -> LockFile:
        """The lockfile as resolved in ``state``, open for reading (never edit it)."""
        return load_lock(self.manager, self.render(state).text, self.manifests)

    def render(self, state: LockState) -> _Rendered:
        cached = self._rendered.get(state)
        if cached is not None:
            return cached
        view = load_lock(self.manager, self.base_lock, self.manifests)
        pin_family(view, state.as_of)
        for p in state.plants:
            plant(view, p.name, path=p.path)
        if state.fixed_at is not None:
            fix(view, state.fixed_at)
        text = view.dump()
        # The truth is read back from the very text committed.
        hits: tuple[Hit, ...] | None = tuple(load_lock(self.manager, text, self.manifests).hits())
        if state.truncate is not None:
            text = text[: int(len(text) * state.truncate)]
            hits = None
        rendered = _Rendered(text, hits)
        self._rendered[state] = rendered
        return rendered


def _dump_json(lock: dict[str, Any]) -> str:
    return json.dumps(lock, indent=2, ensure_ascii=False) + "\n"


@dataclass
class _Snapshot:
    files: dict[str, bytes]
    locks: dict[str, LockState]


def _t(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


class _Plan:
    """The commit graph of one repository, built by a scenario before it is written."""

    def __init__(self, name: str, template: str, scenario: str, rng: random.Random) -> None:
        self.name = name
        self.template = template
        self.scenario = scenario
        self.rng = rng
        layout = (
            {"server": "express-api", "client": "web-app"}
            if template == "fullstack"
            else {"": template}
        )
        self.commit_lockfiles = scenario != "no-lockfile"
        self.owner = rng.choice(content.PEOPLE)
        self.team = rng.choice(content.TEAMS)
        self.description = rng.choice(content.DESCRIPTIONS[template])
        self.projects = {
            sub: _Project(name, sub, tpl, rng, description=self.description)
            for sub, tpl in layout.items()
        }
        self.story = ""
        self.commits: list[Commit] = []
        self.snaps: dict[str, _Snapshot] = {}
        self.heads: dict[str, str] = {}
        self.extra_refs: dict[str, str] = {}
        self._pr_numbers: set[int] = set()

    # -- building blocks -------------------------------------------------------------------

    @property
    def manager(self) -> str:
        return next(iter(self.projects.values())).manager

    def initial_files(self) -> dict[str, bytes]:
        subs = tuple(s for s in self.projects if s)
        manager = self.manager
        files = {
            "README.md": content.readme(
                self.name, self.description, self.team, subprojects=subs, manager=manager
            ),
            "CHANGELOG.md": "# Changelog\n\n",
            ".gitignore": content.gitignore(manager)
            + ("" if self.commit_lockfiles else "package-lock.json\n"),
        }
        for project in self.projects.values():
            for rel, manifest in project.manifests.items():
                files[project.path(rel)] = json.dumps(manifest, indent=2) + "\n"
            for rel, text in project.extras.items():
                files[project.path(rel)] = text
            for rel, text in content.sources(project.template, self.name).items():
                files[project.path(rel)] = text
        return {path: text.encode() for path, text in files.items()}

    def workflow(self) -> bytes:
        subs = tuple(s for s in self.projects if s)
        return content.workflow(
            subprojects=subs, lockfile=self.commit_lockfiles, manager=self.manager
        ).encode()

    def commit(
        self,
        ref: str,
        when: datetime,
        who: Person,
        message: str,
        *,
        files: Mapping[str, bytes] | None = None,
        locks: Mapping[str, LockState] | None = None,
        base: str | None = None,
        merge: str | None = None,
    ) -> str:
        parent = self.heads.get(ref, base)
        if parent is None and self.commits:
            raise ValueError(f"{self.name}: new ref {ref} needs a base commit")
        snap = (
            _Snapshot(dict(self.snaps[parent].files), dict(self.snaps[parent].locks))
            if parent
            else _Snapshot({}, {})
        )
        for previous in (parent, merge):
            # A commit older than its parents would be a planning bug, not realism.
            if previous is not None and self._commit(previous).when >= when:
                raise ValueError(f"{self.name}: {message!r} at {when} precedes its parent")
        snap.files.update(files or {})
        snap.locks.update(locks or {})
        tree = dict(snap.files)
        if self.commit_lockfiles:
            for sub, state in snap.locks.items():
                project = self.projects[sub]
                tree[project.lock_path] = project.render(state).text.encode()
        key = f"c{len(self.commits) + 1:03d}"
        self.commits.append(Commit(key, ref, parent, when, who, message, tree, merge))
        self.snaps[key] = snap
        self.heads[ref] = key
        return key

    def _commit(self, key: str) -> Commit:
        return next(c for c in self.commits if c.key == key)

    def head(self, ref: str = MAIN) -> str:
        return self.heads[ref]

    def state(self, sub: str = "", ref: str = MAIN) -> LockState:
        return self.snaps[self.heads[ref]].locks[sub]

    def changelog(self, ref: str, when: datetime, who: Person, message: str) -> str:
        """A commit that touches no dependency (its lockfile bytes are unchanged)."""
        snap = self.snaps[self.heads[ref]]
        text = snap.files["CHANGELOG.md"] + f"- {message}\n".encode()
        return self.commit(ref, when, who, message, files={"CHANGELOG.md": text})

    def resolve(
        self, ref: str, when: datetime, who: Person, message: str, *, as_of: datetime | None = None
    ) -> str:
        """A clean re-resolution of every project (``npm update`` at ``as_of``)."""
        locks = {sub: LockState(as_of or when) for sub in self.projects}
        return self.commit(ref, when, who, message, locks=locks)

    def plant(
        self,
        ref: str,
        when: datetime,
        who: Person,
        message: str,
        plants: tuple[Plant, ...],
        *,
        sub: str = "",
        as_of: datetime | None = None,
        truncate: float | None = None,
        base: str | None = None,
    ) -> str:
        """A commit whose lockfile resolved malicious releases (at ``as_of``, inside the window)."""
        resolved = as_of or when
        if not WINDOW_START <= resolved <= WINDOW_END:
            raise ValueError(f"{self.name}: malicious versions resolved outside the window")
        state = LockState(resolved, plants, truncate=truncate)
        return self.commit(ref, when, who, message, locks={sub: state}, base=base)

    def fix(self, ref: str, when: datetime, who: Person, message: str, *, sub: str = "") -> str:
        """Move the malicious entries to the newest clean release available at ``when``."""
        state = replace(self.state(sub, ref), fixed_at=when)
        return self.commit(ref, when, who, message, locks={sub: state})

    def merge(
        self, ref: str, tip: str, fork: str, when: datetime, who: Person, message: str
    ) -> str:
        """A merge commit bringing what changed between ``fork`` and ``tip`` into ``ref``."""
        head, old = self.snaps[tip], self.snaps[fork]
        files = {p: c for p, c in head.files.items() if old.files.get(p) != c}
        locks = {s: st for s, st in head.locks.items() if old.locks.get(s) != st}
        return self.commit(ref, when, who, message, files=files, locks=locks, merge=tip)

    def pr_number(self) -> int:
        while True:
            number = self.rng.randint(3, 240)
            if number not in self._pr_numbers:
                self._pr_numbers.add(number)
                return number

    def person(self) -> Person:
        return self.rng.choice(content.PEOPLE)

    def in_window(self, lo: float = 0.0, hi: float = 1.0) -> datetime:
        span = (WINDOW_END - WINDOW_START).total_seconds()
        return WINDOW_START + timedelta(seconds=int(span * self.rng.uniform(lo, hi)))

    def after_incident(self, first_day: int = 10, last_day: int = 25) -> datetime:
        day = self.rng.randint(first_day, last_day)
        return _t(9, day, self.rng.randint(8, 18), self.rng.randint(0, 59))

    def slug(self) -> str:
        return self.rng.choice(
            ("landing-redesign", "checkout-v2", "dark-mode", "search", "billing-export", "i18n")
        )


# -- scenarios ---------------------------------------------------------------------------------

_FEATURES = (
    "feat: add health endpoint",
    "feat: structured logging",
    "fix: handle empty input",
    "refactor: split configuration loading",
    "docs: document environment variables",
    "feat: add retry with backoff",
)


def _base_history(plan: _Plan) -> None:
    rng = plan.rng
    d0 = _t(8, 1 + rng.randint(0, 13), 8 + rng.randint(0, 9), rng.randint(0, 59))
    plan.commit(
        MAIN,
        d0,
        plan.owner,
        "Initial commit",
        files=plan.initial_files(),
        locks={sub: LockState(d0) for sub in plan.projects},
    )
    d1 = d0 + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 6), minutes=rng.randint(1, 59))
    plan.commit(
        MAIN,
        d1,
        plan.owner,
        "ci: add GitHub Actions workflow",
        files={".github/workflows/ci.yml": plan.workflow()},
    )
    d2 = _t(8, 18 + rng.randint(0, 12), 9 + rng.randint(0, 8), rng.randint(0, 59))
    who = content.BOT if rng.random() < 0.4 else plan.person()
    plan.resolve(MAIN, d2, who, "chore(deps): update dependencies")
    if rng.random() < 0.75:
        d3 = _t(9, 1 + rng.randint(0, 5), 9 + rng.randint(0, 8), rng.randint(0, 59))
        plan.changelog(MAIN, d3, plan.person(), rng.choice(_FEATURES))


def _direct_fixed(plan: _Plan) -> None:
    plan.story = "chalk 5.6.1 (direct) resolved on main in the window, upgraded later that day."
    t = plan.in_window(0.1, 0.5)
    dev = plan.person()
    plan.plant(MAIN, t, dev, "chore(deps): bump chalk", (Plant("chalk"),))
    tf = t + timedelta(minutes=plan.rng.randint(110, 200))
    plan.fix(MAIN, tf, dev, "fix(deps): move chalk off compromised 5.6.1 (GHSA-2v46-p5h4-248w)")
    plan.changelog(MAIN, plan.after_incident(), plan.person(), "docs: note the chalk incident")


def _direct_unfixed(plan: _Plan) -> None:
    plan.story = "npm update on main in the window: chalk, debug, strip-ansi, ansi-regex; unfixed."
    t = plan.in_window(0.2, 0.8)
    names = ("chalk", "debug", "strip-ansi", "ansi-regex")
    plan.plant(MAIN, t, plan.person(), "chore: npm update", tuple(Plant(n) for n in names))
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _transitive_unfixed(plan: _Plan) -> None:
    plan.story = "debug 4.4.2 pulled in transitively (ioredis, nodemon) on main; unfixed."
    t = plan.in_window(0.1, 0.9)
    plan.plant(MAIN, t, plan.person(), "chore(deps): update dependencies", (Plant("debug"),))


def _transitive_reverted(plan: _Plan) -> None:
    plan.story = "debug 4.4.2 resolved on main in the window; the lockfile commit was reverted."
    before = plan.state()
    t = plan.in_window(0.3, 0.95)
    message = "chore(deps): update dependencies"
    plan.plant(MAIN, t, plan.person(), message, (Plant("debug"),))
    tr = _t(9, 9, plan.rng.randint(7, 11), plan.rng.randint(0, 59))
    plan.commit(
        MAIN,
        tr,
        plan.owner,
        f'Revert "{message}"\n\ndebug 4.4.2 is compromised (GHSA-8mgj-vmr8-frr6).',
        locks={"": before},
    )


def _dev_only_unfixed(plan: _Plan) -> None:
    plan.story = "ansi-styles 6.2.2 and debug 4.4.2 as dev-only dependencies on main; unfixed."
    t = plan.in_window(0.05, 0.9)
    plants = (Plant("ansi-styles"), Plant("debug"))
    plan.plant(MAIN, t, plan.person(), "chore(deps-dev): update dev dependencies", plants)


def _dev_only_fixed(plan: _Plan) -> None:
    plan.story = "dev-only chalk, wrap-ansi, slice-ansi in the window; fixed the same evening."
    t = plan.in_window(0.0, 0.4)
    dev = plan.person()
    plants = (Plant("chalk"), Plant("wrap-ansi"), Plant("slice-ansi"))
    plan.plant(MAIN, t, dev, "chore(deps-dev): refresh lockfile", plants)
    tf = _t(9, 8, 17, plan.rng.randint(20, 55))
    plan.fix(MAIN, tf, dev, "fix(deps): drop compromised chalk/wrap-ansi/slice-ansi releases")


def _feature_branch_and_pr(plan: _Plan) -> None:
    branch = f"refs/heads/feature/{plan.slug()}"
    plan.story = f"main clean; {branch} and its open pull request carry ansi-styles 6.2.2 (dev)."
    dev = plan.person()
    fork = plan.head()
    plan.commit(
        branch,
        _t(9, 8, 9, plan.rng.randint(0, 59)),
        dev,
        "feat: new layout",
        files={"CHANGELOG.md": plan.snaps[fork].files["CHANGELOG.md"] + b"- feat: new layout\n"},
        base=fork,
    )
    plan.plant(
        branch, plan.in_window(0.2, 0.9), dev, "chore(deps): update", (Plant("ansi-styles"),)
    )
    plan.extra_refs[f"refs/pull/{plan.pr_number()}/head"] = plan.head(branch)
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _pr_ref_only(plan: _Plan) -> None:
    number = plan.pr_number()
    ref = f"refs/pull/{number}/head"
    plan.story = f"main clean; debug 4.4.2 only on {ref} (branch deleted, PR closed unmerged)."
    dev = plan.person()
    plan.plant(
        ref,
        plan.in_window(0.1, 0.9),
        dev,
        "feat(core): verbose task logging",
        (Plant("debug"),),
        base=plan.head(),
    )
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _workspace(plan: _Plan) -> None:
    plan.story = "workspaces pull chalk 5.6.1, supports-color 10.2.1, wrap-ansi 9.0.1, ansi-styles."
    plants = tuple(Plant(n) for n in ("chalk", "supports-color", "wrap-ansi", "ansi-styles"))
    plan.plant(MAIN, plan.in_window(0.1, 0.9), plan.person(), "chore: npm update", plants)


def _lockfile_v1(plan: _Plan) -> None:
    plan.story = "lockfileVersion 1: simple-swizzle 0.2.3, nested is-arrayish 0.3.3, debug 4.4.2."
    plants = tuple(Plant(n) for n in ("simple-swizzle", "is-arrayish", "debug"))
    plan.plant(MAIN, plan.in_window(0.1, 0.9), plan.person(), "update deps", plants)


def _truncated(plan: _Plan) -> None:
    plan.story = (
        "main's latest lockfile, resolved in the window, was committed truncated: it does not "
        "parse, so what main resolves is unknown (text_mentions: what a grep still sees)."
    )
    fraction = round(plan.rng.uniform(0.35, 0.7), 3)
    plan.plant(
        MAIN,
        plan.in_window(0.2, 0.9),
        plan.person(),
        "chore: update lockfile",
        (Plant("debug"),),
        truncate=fraction,
    )


def _alias(plan: _Plan) -> None:
    plan.story = (
        "chalk 5.6.1 only under the npm alias chalk-esm; strip-ansi 7.1.1, ansi-regex 6.2.1."
    )
    plants = (Plant("chalk", "node_modules/chalk-esm"), Plant("strip-ansi"), Plant("ansi-regex"))
    plan.plant(MAIN, plan.in_window(0.1, 0.9), plan.person(), "chore(deps): bump chalk-esm", plants)


def _color_fixed_later(plan: _Plan) -> None:
    plan.story = "color 5.0.1 and color-* / chalk-template on main; fixed a week later."
    names = ("color", "color-convert", "color-string", "color-name", "chalk-template")
    dev = plan.person()
    plan.plant(
        MAIN, plan.in_window(0.3, 0.95), dev, "chore: npm update", tuple(Plant(n) for n in names)
    )
    plan.fix(MAIN, _t(9, 15, 10, plan.rng.randint(0, 59)), dev, "fix(deps): clean color releases")


def _late_commit_branch(plan: _Plan) -> None:
    branch = f"refs/heads/feature/{plan.slug()}"
    plan.story = (
        f"{branch}: lockfile resolved in the window but committed after it (debug, color-convert)."
    )
    resolved = plan.in_window(0.3, 0.9)
    committed = _t(9, 8, 18, plan.rng.randint(30, 59))
    plants = (Plant("debug"), Plant("color-convert"))
    plan.plant(
        branch,
        committed,
        plan.person(),
        "wip: palette tweaks",
        plants,
        as_of=resolved,
        base=plan.head(),
    )


def _multi_lockfile(plan: _Plan) -> None:
    plan.story = (
        "two lockfiles; client/ resolves chalk 5.6.1 and ansi-styles 6.2.2 (dev); server clean."
    )
    plants = (Plant("chalk"), Plant("ansi-styles"))
    plan.plant(
        MAIN,
        plan.in_window(0.1, 0.9),
        plan.person(),
        "chore(client): update deps",
        plants,
        sub="client",
    )


def _never(plan: _Plan) -> None:
    plan.story = "never resolved a compromised release."
    if plan.rng.random() < 0.5:
        plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _no_lockfile(plan: _Plan) -> None:
    plan.story = "no lockfile committed (package.json only): exposure cannot be read from git."


def _post_incident_update(plan: _Plan) -> None:
    plan.story = "updated the day after: clean republished versions (chalk 5.6.2), never exposed."
    when = _t(9, 9, plan.rng.randint(10, 12), plan.rng.randint(0, 59))
    plan.resolve(MAIN, when, plan.person(), "chore(deps): update dependencies")


def _dev_only_lib_fixed(plan: _Plan) -> None:
    plan.story = "dev-only debug 4.4.2 and error-ex 1.3.3 on main; fixed on 2025-09-16."
    dev = plan.person()
    plants = (Plant("debug"), Plant("error-ex"))
    plan.plant(MAIN, plan.in_window(0.05, 0.95), dev, "chore(deps-dev): update", plants)
    plan.fix(
        MAIN, _t(9, 16, 9, plan.rng.randint(0, 59)), dev, "fix(deps): clean debug and error-ex"
    )


def _bot_branch_and_pr(plan: _Plan) -> None:
    branch = "refs/heads/deps/lock-file-maintenance"
    plan.story = f"main clean; the deps bot's {branch} and its pull request carry debug 4.4.2."
    plan.plant(
        branch,
        plan.in_window(0.2, 0.6),
        content.BOT,
        "chore(deps): lock file maintenance",
        (Plant("debug"),),
        base=plan.head(),
    )
    plan.extra_refs[f"refs/pull/{plan.pr_number()}/head"] = plan.head(branch)


def _branch_fixed_then_merged(plan: _Plan) -> None:
    number = plan.pr_number()
    ref = f"refs/pull/{number}/head"
    slug = plan.slug()
    plan.story = (
        f"PR #{number} resolved chalk 5.6.1, was fixed, then merged: main's tip is clean but its "
        "history (second parent) holds the bad lockfile."
    )
    dev = plan.person()
    fork = plan.head()
    plan.plant(ref, plan.in_window(0.1, 0.6), dev, "feat: search box", (Plant("chalk"),), base=fork)
    plan.fix(ref, _t(9, 8, 16, plan.rng.randint(20, 59)), dev, "fix(deps): chalk 5.6.2")
    plan.merge(
        MAIN,
        plan.head(ref),
        fork,
        _t(9, 9, plan.rng.randint(9, 12), plan.rng.randint(0, 59)),
        plan.owner,
        f"Merge pull request #{number} from {content.ORG}/feature/{slug}",
    )


def _workspace_feature_branch(plan: _Plan) -> None:
    branch = f"refs/heads/feature/{plan.slug()}"
    plan.story = f"main clean; {branch} resolves supports-color 10.2.1 in the logger workspace."
    plan.plant(
        branch,
        plan.in_window(0.1, 0.9),
        plan.person(),
        "feat(logger): colour detection",
        (Plant("supports-color"),),
        base=plan.head(),
    )


def _yarn_classic_unfixed(plan: _Plan) -> None:
    plan.story = (
        "yarn 1: chalk 5.6.1 (one entry for ^5.2.0 and ^5.3.0), debug 4.4.2 and dev-only "
        "has-ansi 6.0.1 on main; unfixed."
    )
    plants = tuple(Plant(n) for n in ("chalk", "debug", "has-ansi"))
    plan.plant(MAIN, plan.in_window(0.1, 0.9), plan.person(), "chore(deps): yarn upgrade", plants)
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _yarn_classic_fixed(plan: _Plan) -> None:
    plan.story = (
        "yarn 1: wrap-ansi 9.0.1, strip-ansi 7.1.1 and ansi-regex 6.2.1 on main in the window; "
        "fixed two days later."
    )
    dev = plan.person()
    plants = tuple(Plant(n) for n in ("wrap-ansi", "strip-ansi", "ansi-regex"))
    plan.plant(MAIN, plan.in_window(0.2, 0.9), dev, "chore(deps): refresh yarn.lock", plants)
    plan.fix(MAIN, _t(9, 10, 11, plan.rng.randint(0, 59)), dev, "fix(deps): clean ansi releases")


def _berry_branch_and_pr(plan: _Plan) -> None:
    branch = f"refs/heads/feature/{plan.slug()}"
    plan.story = (
        f"yarn Berry: main clean; {branch} and its open pull request resolve chalk 5.6.1 and "
        "debug 4.4.2 (one entry for ioredis's and superagent's ranges)."
    )
    plants = (Plant("chalk"), Plant("debug"))
    plan.plant(
        branch,
        plan.in_window(0.2, 0.8),
        plan.person(),
        "feat: coloured logs",
        plants,
        base=plan.head(),
    )
    plan.extra_refs[f"refs/pull/{plan.pr_number()}/head"] = plan.head(branch)
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _berry_fixed(plan: _Plan) -> None:
    plan.story = "yarn Berry: debug 4.4.2 (transitive) on main in the window; debug 4.4.3 on 09-15."
    dev = plan.person()
    plan.plant(MAIN, plan.in_window(0.1, 0.9), dev, "chore(deps): yarn up", (Plant("debug"),))
    plan.fix(MAIN, _t(9, 15, 14, plan.rng.randint(0, 59)), dev, "fix(deps): debug 4.4.3")


def _pnpm_workspace_unfixed(plan: _Plan) -> None:
    plan.story = (
        "pnpm workspace: chalk 5.6.1 (cli, web, ui's chalk-template), supports-color 10.2.1 "
        "(core, and in debug's peer suffix), color 5.0.1 and color-string 2.1.1 (web); unfixed."
    )
    names = ("chalk", "supports-color", "color", "color-string")
    plan.plant(
        MAIN,
        plan.in_window(0.1, 0.9),
        plan.person(),
        "chore: pnpm update -r",
        tuple(Plant(n) for n in names),
    )


def _pnpm_pr_only(plan: _Plan) -> None:
    number = plan.pr_number()
    ref = f"refs/pull/{number}/head"
    plan.story = (
        f"pnpm workspace: main clean; debug 4.4.2 (core) and dev-only has-ansi 6.0.1 (cli) only "
        f"on {ref}."
    )
    plan.plant(
        ref,
        plan.in_window(0.1, 0.9),
        plan.person(),
        "feat(core): trace tasks",
        (Plant("debug"), Plant("has-ansi")),
        base=plan.head(),
    )
    plan.changelog(MAIN, plan.after_incident(), plan.person(), plan.rng.choice(_FEATURES))


def _bun_fixed(plan: _Plan) -> None:
    plan.story = (
        "bun: chalk 5.6.1, strip-ansi 7.1.1 and ansi-regex 6.2.1 on main in the window; moved to "
        "clean releases that evening."
    )
    dev = plan.person()
    plants = tuple(Plant(n) for n in ("chalk", "strip-ansi", "ansi-regex"))
    plan.plant(MAIN, plan.in_window(0.05, 0.6), dev, "chore(deps): bun update", plants)
    plan.fix(MAIN, _t(9, 8, 19, plan.rng.randint(0, 59)), dev, "fix(deps): bun update again")


def _bun_dev_unfixed(plan: _Plan) -> None:
    plan.story = "bun: dev-only ansi-styles 6.2.2 and debug 4.4.2 on main; unfixed."
    plants = (Plant("ansi-styles"), Plant("debug"))
    plan.plant(MAIN, plan.in_window(0.1, 0.9), plan.person(), "chore(deps): bun update", plants)


_Scenario = Callable[[_Plan], None]

#: (scenario, template), most telling first: a smaller org keeps the first ``repos`` entries.
SCENARIOS: tuple[tuple[str, str, _Scenario], ...] = (
    ("direct-fixed", "cli-tool", _direct_fixed),
    ("transitive-unfixed", "express-api", _transitive_unfixed),
    ("dev-only-unfixed", "web-app", _dev_only_unfixed),
    ("feature-branch-and-pr", "web-app", _feature_branch_and_pr),
    ("pr-ref-only", "monorepo", _pr_ref_only),
    ("workspace", "monorepo", _workspace),
    ("lockfile-v1", "legacy-v1", _lockfile_v1),
    ("truncated-lockfile", "express-api", _truncated),
    ("alias", "alias-project", _alias),
    ("never", "tiny", _never),
    ("direct-unfixed", "cli-tool", _direct_unfixed),
    ("transitive-reverted", "express-api", _transitive_reverted),
    ("dev-only-fixed", "web-app", _dev_only_fixed),
    ("color-fixed-later", "color-service", _color_fixed_later),
    ("late-commit-branch", "color-service", _late_commit_branch),
    ("multi-lockfile", "fullstack", _multi_lockfile),
    ("no-lockfile", "tiny", _no_lockfile),
    ("post-incident-update", "cli-tool", _post_incident_update),
    ("dev-only-lib-fixed", "lib-eslint-jest", _dev_only_lib_fixed),
    ("bot-branch-and-pr", "lib-eslint-jest", _bot_branch_and_pr),
    ("branch-fixed-then-merged", "web-app", _branch_fixed_then_merged),
    ("workspace-feature-branch", "monorepo", _workspace_feature_branch),
    ("yarn-classic-unfixed", "cli-yarn-classic", _yarn_classic_unfixed),
    ("yarn-classic-fixed", "cli-yarn-classic", _yarn_classic_fixed),
    ("berry-branch-and-pr", "api-yarn-berry", _berry_branch_and_pr),
    ("berry-fixed", "api-yarn-berry", _berry_fixed),
    ("pnpm-workspace-unfixed", "pnpm-monorepo", _pnpm_workspace_unfixed),
    ("pnpm-pr-only", "pnpm-monorepo", _pnpm_pr_only),
    ("bun-fixed", "bun-app", _bun_fixed),
    ("bun-dev-unfixed", "bun-app", _bun_dev_unfixed),
    ("never", "express-api", _never),
    ("never", "lib-eslint-jest", _never),
    ("never", "legacy-v1", _never),
    ("never", "cli-tool", _never),
    ("never", "express-api", _never),
    ("never", "web-app", _never),
)

_EXTRA_TEMPLATES = ("cli-tool", "express-api", "web-app", "lib-eslint-jest", "color-service")


def _lineup(seed: int, repos: int) -> list[tuple[str, str, str, _Scenario]]:
    rng = random.Random(f"{seed}:names")
    pools = {t: list(names) for t, names in content.NAME_POOLS.items()}
    for names in pools.values():
        rng.shuffle(names)
    chosen = list(SCENARIOS[:repos])
    while len(chosen) < repos:
        chosen.append(("never", rng.choice(_EXTRA_TEMPLATES), _never))
    taken: set[str] = set()
    lineup = []
    for scenario, template, build in chosen:
        pool = pools[template]
        name = pool.pop() if pool else ""
        suffix = 2
        while not name or name in taken:
            name = f"{content.NAME_POOLS[template][0]}-{suffix}"
            suffix += 1
        taken.add(name)
        lineup.append((name, template, scenario, build))
    return lineup


# -- truth -------------------------------------------------------------------------------------


def _reachable(plan: _Plan, tips: dict[str, str]) -> dict[str, list[str]]:
    by_key = {c.key: c for c in plan.commits}
    refs_of: dict[str, set[str]] = {c.key: set() for c in plan.commits}
    for ref, tip in tips.items():
        stack = [tip]
        while stack:
            key = stack.pop()
            if ref in refs_of[key]:
                continue
            refs_of[key].add(ref)
            commit = by_key[key]
            stack.extend(k for k in (commit.parent, commit.merge) if k is not None)
    return {key: sorted(refs) for key, refs in refs_of.items()}


def _lock_truth(plan: _Plan, key: str, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not plan.commit_lockfiles:
        return out
    for sub, state in plan.snaps[key].locks.items():
        project = plan.projects[sub]
        rendered = project.render(state)
        entry: dict[str, Any] = {
            "manager": project.manager,
            "lockfile_version": project.lock_version,
        }
        if rendered.hits is None:
            entry["status"] = "unparseable"
            entry["compromised"] = None
            # What a grep for tarball URLs would still see in the broken file.
            entry["text_mentions"] = sorted(
                f"{n}@{v}" for n, v in BAD.items() if f"/-/{n}-{v}.tgz" in rendered.text
            )
        else:
            entry["status"] = "parsed"
            entry["compromised"] = (
                [h.as_dict() for h in rendered.hits]
                if full
                else sorted({f"{h.name}@{h.version}" for h in rendered.hits})
            )
        out[project.lock_path] = entry
    return out


def _repo_truth(plan: _Plan, shas: dict[str, str], tips: dict[str, str]) -> dict[str, Any]:
    reach = _reachable(plan, tips)
    refs: dict[str, dict[str, Any]] = {
        ref: {"commit": shas[key], "lockfiles": _lock_truth(plan, key, full=True)}
        for ref, key in sorted(tips.items())
    }
    commits: list[dict[str, Any]] = []
    for c in plan.commits:
        commits.append(
            {
                "commit": shas[c.key],
                "parents": [shas[k] for k in (c.parent, c.merge) if k is not None],
                "date": iso(c.when),
                "author": c.author.email,
                "subject": c.message.splitlines()[0],
                "in_window": WINDOW_START <= c.when <= WINDOW_END,
                "refs": reach[c.key],
                "lockfiles": _lock_truth(plan, c.key, full=False),
            }
        )

    def exposed(lockfiles: dict[str, Any]) -> bool:
        return any(lf["compromised"] for lf in lockfiles.values())

    projects = list(plan.projects.values())
    return {
        "template": plan.template,
        "scenario": plan.scenario,
        "story": plan.story,
        "description": plan.description,
        "lockfiles": [p.lock_path for p in projects] if plan.commit_lockfiles else [],
        "manifests": sorted(p.path(rel) for p in projects for rel in p.manifests),
        "refs": refs,
        "commits": commits,
        "exposed_at_a_tip": any(exposed(r["lockfiles"]) for r in refs.values()),
        "exposed_in_history": any(exposed(c["lockfiles"]) for c in commits),
    }


def _flatten(repos: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    findings: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for repo, info in repos.items():
        for ref, ref_info in info["refs"].items():
            for lockfile, lf in ref_info["lockfiles"].items():
                row = {"repo": repo, "ref": ref, "commit": ref_info["commit"], "lockfile": lockfile}
                if lf["status"] != "parsed":
                    problems.append({**row, "kind": "truncated", "status": lf["status"]})
                    continue
                findings.extend({**row, **hit} for hit in lf["compromised"])
    return findings, problems


# -- developer machines ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Built:
    plan: _Plan
    shas: dict[str, str]


def _commit_at(plan: _Plan, at: datetime, ref: str = MAIN) -> str:
    """The commit ``ref`` pointed at, at ``at`` (following first parents back from its tip)."""
    key: str | None = plan.heads[ref]
    while key is not None and plan._commit(key).when > at:
        key = plan._commit(key).parent
    if key is None:
        raise ValueError(f"{plan.name}: {ref} did not exist at {at}")
    return key


def _lock_changes(plan: _Plan, key: str) -> list[tuple[str, LockState]]:
    """The commits up to ``key`` (first parents) that changed the root project's lockfile."""
    chain = []
    current: str | None = key
    while current is not None:
        chain.append(current)
        current = plan._commit(current).parent
    changes: list[tuple[str, LockState]] = []
    for commit in reversed(chain):
        state = plan.snaps[commit].locks[""]
        if not changes or changes[-1][1] != state:
            changes.append((commit, state))
    return changes


def _install(plan: _Plan, state: LockState, when: datetime) -> Install:
    project = plan.projects[""]
    return Install(project.render(state).text, project.manifests, when, project.manager)


def _checkout(built: _Built, at: datetime, *, ref: str = MAIN, install: bool) -> Checkout:
    plan = built.plan
    key = _commit_at(plan, at, ref)
    project = plan.projects[""]
    installs: tuple[Install, ...] = ()
    if install:
        # The developer ran `npm ci` a few minutes after each lockfile change they pulled.
        installs = tuple(
            _install(plan, state, plan._commit(commit).when + timedelta(minutes=7))
            for commit, state in _lock_changes(plan, key)
        )
    return Checkout(
        repo=plan.name,
        ref=ref,
        commit=built.shas[key],
        files=dict(plan._commit(key).files),
        manager=project.manager,
        lockfile=project.lock_path,
        installs=installs,
    )


def _planted(built: _Built) -> tuple[str, LockState]:
    """The first main commit whose lockfile resolves a malicious release."""
    for commit, state in _lock_changes(built.plan, built.plan.head()):
        if state.plants:
            return commit, state
    raise ValueError(f"{built.plan.name}: nothing planted on main")


def _bad_urls(install: Install) -> list[str]:
    view = load_lock(install.manager, install.lock_text, install.manifests)
    lock = json.loads(install.lock_text)
    return sorted(lock["packages"][hit.path]["resolved"] for hit in view.hits())


def _machines(
    by_scenario: dict[str, _Built],
) -> tuple[list[Machine], list[tuple[str, datetime, list[tuple[str, str, LockFile]]]]]:
    """The two scanned machines and the Dev Machine Guard one, from the repos that exist."""
    have = by_scenario.get
    priya = Machine(
        "mbp-priya", "priya", "darwin", "Users/priya", _t(9, 9, 9, 12, 31),
        global_prefix=".nvm/versions/node/v20.17.0", global_tools=("pnpm@9.15.9",),
    )  # fmt: skip
    if built := have("direct-unfixed"):
        priya.checkouts.append(("code", _checkout(built, priya.scanned_at, install=True)))
    if built := have("pnpm-workspace-unfixed"):
        priya.checkouts.append(("code", _checkout(built, priya.scanned_at, install=False)))
    if built := have("direct-fixed"):
        commit, state = _planted(built)
        when = built.plan._commit(commit).when + timedelta(minutes=10)
        manifest = dict(built.plan.projects[""].manifests["package.json"])
        priya.global_installs.append(GlobalInstall(manifest, _install(built.plan, state, when)))

    jonas = Machine(
        "ws-jonas", "jonas", "linux", "home/jonas", _t(9, 9, 10, 47, 5),
        global_prefix=".npm-global", global_tools=("yarn@1.22.22",),
        npmrc="prefix=${HOME}/.npm-global\n",
    )  # fmt: skip
    if built := have("direct-fixed"):
        checkout = _checkout(built, jonas.scanned_at, install=True)
        jonas.checkouts.append(("src", checkout))
        # After reinstalling from the fixed lockfile he deleted the compromised tarballs from
        # the npm cache: the index keeps the download and the deletion.
        fixed_at = checkout.installs[-1].when + timedelta(minutes=13)
        bad = [u for i in checkout.installs for u in _bad_urls(i)]
        jonas.removed = tuple((url, fixed_at) for url in sorted(set(bad)))
    if built := have("color-fixed-later"):
        jonas.checkouts.append(("src", _checkout(built, jonas.scanned_at, install=True)))

    sam_at = _t(9, 9, 8, 30, 0)
    projects: list[tuple[str, str, LockFile]] = []
    for scenario, ref in (("bun-dev-unfixed", MAIN), ("pnpm-pr-only", None)):
        built = have(scenario)
        if built is None:
            continue
        plan = built.plan
        ref = ref or next(r for r in plan.heads if r.startswith("refs/pull/"))
        state = plan.snaps[_commit_at(plan, sam_at, ref)].locks[""]
        project = plan.projects[""]
        projects.append((f"/Users/sam/work/{plan.name}", project.manager, project.view(state)))
    return [priya, jonas], [("mbp-sam", sam_at, projects)]


def _build_hosts(dest: Path, by_scenario: dict[str, _Built]) -> tuple[Path, dict[str, Any]]:
    hosts_dir = dest / "hosts"
    hosts_dir.mkdir(parents=True, exist_ok=True)
    machines, guarded = _machines(by_scenario)
    truth: dict[str, Any] = {}
    for machine in machines:
        root = dest / "hosts-src" / machine.hostname
        globals_ = write_machine(root, machine)
        scan = scan_machine(root, machine, globals_)
        out = hosts_dir / f"{machine.hostname}.json"
        out.write_text(json.dumps(scan, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        truth[machine.hostname] = {
            "kind": "host-scan",
            "file": out.relative_to(dest).as_posix(),
            "source": (root).relative_to(dest).as_posix(),
            "user": machine.user,
            "platform": machine.platform,
            "home": "/" + machine.home,
            "scanned_at": iso(machine.scanned_at),
            "checkouts": [
                {
                    "repo": c.repo,
                    "ref": c.ref,
                    "commit": c.commit,
                    "path": f"/{machine.home}/{folder}/{c.repo}",
                    "installed": bool(c.installs),
                }
                for folder, c in machine.checkouts
            ],
            **machine_truth(root, machine, globals_),
        }
    for hostname, when, projects in guarded:
        export = dev_machine_guard(hostname, "sam.okafor@larkspur.example", when, projects)
        out = hosts_dir / f"{hostname}.json"
        out.write_text(json.dumps(export, indent=2) + "\n", encoding="utf-8")
        written = json.loads(out.read_text(encoding="utf-8"))
        truth[hostname] = {
            "kind": "dev-machine-guard",
            "file": out.relative_to(dest).as_posix(),
            "user": written["device"]["user_identity"],
            "scanned_at": iso(when),
            "projects": [p["path"] for p in written["node_projects"]],
            "findings": dmg_truth(written),
        }
    return hosts_dir, truth


# -- entry point -------------------------------------------------------------------------------


def build_demo_org(dest: Path, *, seed: int = 20250908, repos: int = 36) -> DemoOrg:
    """Build the demo organization under ``dest``.

    Parameters
    ----------
    dest : Path
        Output directory; created if missing, and must be empty if it exists.
    seed : int, default 20250908
        Seed of every random choice (names, dates, versions, which scenario gets which repo).
    repos : int, default 36
        Number of repositories. The first 30 scenarios cover every planted case (branch-only,
        PR-ref-only, monorepo, v1 lockfile, alias, truncated lockfile, then yarn 1, yarn Berry,
        a pnpm workspace and bun); fewer repos keep a prefix of them, more add clean
        repositories.

    Returns
    -------
    DemoOrg
        Paths of what was written and the ``truth`` of what was planted.

    Raises
    ------
    FileExistsError
        If ``dest`` exists and is not empty.
    ValueError
        If ``repos`` is smaller than 1.
    """
    if repos < 1:
        raise ValueError("repos must be at least 1")
    dest = Path(dest).resolve()  # git runs with -C, so relative paths would resolve twice
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    repos_dir = dest / "repos"
    advisories_dir = dest / "advisories"

    truth_repos: dict[str, Any] = {}
    by_scenario: dict[str, _Built] = {}
    for index, (name, template, scenario, build) in enumerate(_lineup(seed, repos)):
        plan = _Plan(name, template, scenario, random.Random(f"{seed}:{index}:{name}"))
        _base_history(plan)
        build(plan)
        tips = {**plan.heads, **plan.extra_refs}
        shas = write_repository(repos_dir / name, plan.commits, plan.extra_refs)
        truth_repos[name] = _repo_truth(plan, shas, tips)
        by_scenario.setdefault(scenario, _Built(plan, shas))
    hosts_dir, truth_hosts = _build_hosts(dest, by_scenario)

    advisory_files = write_advisories(advisories_dir)
    incident_file = dest / "incident.yaml"
    sources_file = dest / "sources.yaml"
    write_incident(incident_file)
    write_sources(sources_file, advisory_files, repos_dir, hosts_dir)

    findings, problems = _flatten(truth_repos)
    truth = {
        "generator": "ircore.demo",
        "seed": seed,
        "org": content.ORG,
        "incident": INCIDENT_NAME,
        "window": {"start": iso(WINDOW_START), "end": iso(WINDOW_END)},
        "compromised": {name: [version] for name, version in sorted(BAD.items())},
        "summary": {
            "repos": len(truth_repos),
            "exposed_at_a_tip": sorted(r for r, i in truth_repos.items() if i["exposed_at_a_tip"]),
            "exposed_in_history_only": sorted(
                r
                for r, i in truth_repos.items()
                if i["exposed_in_history"] and not i["exposed_at_a_tip"]
            ),
            "with_problems": sorted({p["repo"] for p in problems}),
            "managers": sorted(
                {
                    lf["manager"]
                    for i in truth_repos.values()
                    for r in i["refs"].values()
                    for lf in r["lockfiles"].values()
                }
            ),
            "hosts": len(truth_hosts),
            "hosts_exposed": sorted(h for h, i in truth_hosts.items() if _host_exposed(i)),
        },
        "findings": findings,
        "problems": problems,
        "repos": truth_repos,
        "hosts": truth_hosts,
    }
    truth_file = dest / "truth.json"
    truth_file.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return DemoOrg(
        root=dest,
        repos_dir=repos_dir,
        advisories_dir=advisories_dir,
        incident_file=incident_file,
        sources_file=sources_file,
        truth_file=truth_file,
        hosts_dir=hosts_dir,
        truth=truth,
    )


def _host_exposed(info: dict[str, Any]) -> bool:
    if info["kind"] == "dev-machine-guard":
        return bool(info["findings"])
    return bool(info["installed"] or info["lockfiles"] or info["npm_cache"])
