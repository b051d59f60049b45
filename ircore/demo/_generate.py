"""Build the demo organization: real git repositories with the 2025-09-08 compromise planted.

``build_demo_org`` writes, under ``dest``:

- ``repos/<repo>/``: git repositories with a few weeks of history (August-September 2025) derived
  from the npm-resolved seed projects in ``seed/``; some resolve malicious versions on ``main``, a
  feature branch, or only on a pull-request ref; some were fixed, some were not;
- ``advisories/``: OSV records and a published ``name,version`` list;
- ``incident.yaml`` and ``sources.yaml``: the inputs an investigation starts from;
- ``truth.json``: what was planted, per repository, ref, commit and lockfile, computed from the
  very bytes committed, so tests of the pipeline can compare against it.

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
from ircore.demo._git import Commit, Person, write_repository
from ircore.demo._lockfile import SEED_DIR, Hit, LockView, dump, fix, pin_family, plant, scan

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
    truth : dict
        Per repository: refs with their commit and the malicious releases each lockfile resolves,
        every commit with the same, plus flat ``findings`` (at ref tips) and ``problems``.
    """

    root: Path
    repos_dir: Path
    advisories_dir: Path
    incident_file: Path
    sources_file: Path
    truth_file: Path
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


@dataclass(frozen=True)
class _Seed:
    manifests: tuple[tuple[str, str], ...]  # (relative path of a package.json, text)
    lock: str


@cache
def _seed(template: str) -> _Seed:
    base = SEED_DIR / template
    manifests = tuple(
        (p.relative_to(base).as_posix(), p.read_text(encoding="utf-8"))
        for p in sorted(base.rglob("package.json"))
    )
    return _Seed(manifests, (base / "package-lock.json").read_text(encoding="utf-8"))


_CARET = re.compile(r"^\^([1-9]\d*)\.(\d+)\.(\d+)$")


class _Project:
    """One npm project of a repository (the root, or ``server/`` and ``client/``)."""

    def __init__(
        self, repo: str, subdir: str, template: str, rng: random.Random, *, description: str
    ) -> None:
        self.subdir = subdir
        self.template = template
        seed = _seed(template)
        name = f"{repo}-{subdir}" if subdir else repo
        # Workspace packages get the org's scope so two monorepos do not share package names.
        scope = f"@{content.ORG}/{repo.split('-')[0]}-"
        self.manifests = {
            rel: json.loads(text.replace("@seed/", scope)) for rel, text in seed.manifests
        }
        lock = json.loads(seed.lock.replace("@seed/", scope))
        self.lock_version = int(lock["lockfileVersion"])
        version = f"{rng.randint(0, 3)}.{rng.randint(0, 14)}.{rng.randint(0, 9)}"
        root = self.manifests["package.json"]
        root["name"] = name
        root["version"] = version
        lock["name"] = name
        lock["version"] = version
        lock_root = lock["packages"][""] if self.lock_version >= 2 else {}
        if lock_root:
            lock_root["name"] = name
            lock_root["version"] = version
        if "description" in root:
            root["description"] = description
        # Executables named after the seed would give every repository the same command.
        for rel, manifest in self.manifests.items():
            bins = manifest.get("bin")
            if not isinstance(bins, dict):
                continue
            renamed = {(name if key.startswith("seed") else key): v for key, v in bins.items()}
            manifest["bin"] = renamed
            folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
            if self.lock_version >= 2 and "bin" in lock["packages"].get(folder, {}):
                lock["packages"][folder]["bin"] = dict(renamed)
        # Seeded variation of declared ranges: loosen a caret's minor. The locked version still
        # satisfies it, so the lockfile stays one npm could have written.
        for section in ("dependencies", "devDependencies"):
            for dep, spec in list(root.get(section, {}).items()):
                match = _CARET.match(spec)
                if match and int(match[2]) > 0 and rng.random() < 0.35:
                    loose = f"^{match[1]}.{rng.randint(0, int(match[2]) - 1)}.0"
                    root[section][dep] = loose
                    if lock_root:
                        lock_root[section][dep] = loose
        self.base_lock = dump(lock)
        self._rendered: dict[LockState, _Rendered] = {}

    @property
    def lock_path(self) -> str:
        return f"{self.subdir}/package-lock.json" if self.subdir else "package-lock.json"

    def path(self, rel: str) -> str:
        return f"{self.subdir}/{rel}" if self.subdir else rel

    def render(self, state: LockState) -> _Rendered:
        cached = self._rendered.get(state)
        if cached is not None:
            return cached
        lock = json.loads(self.base_lock)
        manifest = self.manifests["package.json"]
        view = LockView(lock, manifest)
        pin_family(view, state.as_of)
        for p in state.plants:
            plant(view, p.name, path=p.path)
        if state.fixed_at is not None:
            fix(view, state.fixed_at)
        text = dump(lock)
        hits: tuple[Hit, ...] | None = tuple(scan(lock, manifest))
        if state.truncate is not None:
            text = text[: int(len(text) * state.truncate)]
            hits = None
        rendered = _Rendered(text, hits)
        self._rendered[state] = rendered
        return rendered


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

    def initial_files(self) -> dict[str, bytes]:
        subs = tuple(s for s in self.projects if s)
        files = {
            "README.md": content.readme(self.name, self.description, self.team, subprojects=subs),
            "CHANGELOG.md": "# Changelog\n\n",
            ".gitignore": content.GITIGNORE
            + ("" if self.commit_lockfiles else "package-lock.json\n"),
        }
        for project in self.projects.values():
            for rel, manifest in project.manifests.items():
                files[project.path(rel)] = json.dumps(manifest, indent=2) + "\n"
            for rel, text in content.sources(project.template, self.name).items():
                files[project.path(rel)] = text
        return {path: text.encode() for path, text in files.items()}

    def workflow(self) -> bytes:
        subs = tuple(s for s in self.projects if s)
        return content.workflow(subprojects=subs, lockfile=self.commit_lockfiles).encode()

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
        entry: dict[str, Any] = {"lockfile_version": project.lock_version}
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


# -- entry point -------------------------------------------------------------------------------


def build_demo_org(dest: Path, *, seed: int = 20250908, repos: int = 28) -> DemoOrg:
    """Build the demo organization under ``dest``.

    Parameters
    ----------
    dest : Path
        Output directory; created if missing, and must be empty if it exists.
    seed : int, default 20250908
        Seed of every random choice (names, dates, versions, which scenario gets which repo).
    repos : int, default 28
        Number of repositories. The first 22 scenarios cover every planted case (branch-only,
        PR-ref-only, monorepo, v1 lockfile, alias, truncated lockfile...); fewer repos keep a
        prefix of them, more add clean repositories.

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
    for index, (name, template, scenario, build) in enumerate(_lineup(seed, repos)):
        plan = _Plan(name, template, scenario, random.Random(f"{seed}:{index}:{name}"))
        _base_history(plan)
        build(plan)
        tips = {**plan.heads, **plan.extra_refs}
        shas = write_repository(repos_dir / name, plan.commits, plan.extra_refs)
        truth_repos[name] = _repo_truth(plan, shas, tips)

    advisory_files = write_advisories(advisories_dir)
    incident_file = dest / "incident.yaml"
    sources_file = dest / "sources.yaml"
    write_incident(incident_file)
    write_sources(sources_file, advisory_files, repos_dir)

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
        },
        "findings": findings,
        "problems": problems,
        "repos": truth_repos,
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
        truth=truth,
    )
