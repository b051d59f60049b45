"""Re-resolve the demo org's seed lockfiles with npm (maintainer tool, needs the npm registry).

Run from anywhere: ``python ircore/demo/seed/resolve_seeds.py``. The generator itself never runs
npm and never touches the network; it only reads what this script wrote. See ``README.md``.

Each seed project's ``package.json`` files (and workspace manifests) are copied into a temporary
directory outside the repository, resolved there with ``npm install --package-lock-only
--ignore-scripts`` as of ``BEFORE`` (so the trees are what a developer would have had the day before
the incident), and only the resulting ``package-lock.json`` is copied back. No install scripts run.

``family.json`` holds real lock entries and publish times for the clean chalk/debug-family versions
the generator pins to (before the incident and the republished fixes); they are resolved through
npm aliases in one extra temporary project, without ``--before`` because the fixes came later.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent

#: Resolution date of the seed trees: the day before the compromise.
BEFORE = "2025-09-07T00:00:00.000Z"

#: Projects written as lockfileVersion 1 (npm 11 still accepts ``--lockfile-version 1``).
V1_PROJECTS = frozenset({"legacy-v1"})

#: Clean versions of the incident's packages that the generator may pin a lockfile to.
FAMILY: dict[str, list[str]] = {
    "chalk": ["5.3.0", "5.4.1", "5.5.0", "5.6.0", "5.6.2"],
    "debug": ["4.3.7", "4.4.0", "4.4.1", "4.4.3"],
    "ansi-styles": ["6.2.1", "6.2.3"],
    "supports-color": ["10.0.0", "10.1.0", "10.2.0", "10.2.2"],
    "strip-ansi": ["7.1.0", "7.1.2"],
    "ansi-regex": ["6.1.0", "6.2.0", "6.2.2"],
    "wrap-ansi": ["9.0.0", "9.0.2"],
    "color-convert": ["3.1.0", "3.1.2"],
    "color-name": ["2.0.0", "2.0.2"],
    "color-string": ["2.1.0", "2.1.2"],
    "color": ["5.0.0", "5.0.2"],
    "is-arrayish": ["0.3.2", "0.3.4"],
    "simple-swizzle": ["0.2.2", "0.2.4"],
    "error-ex": ["1.3.2", "1.3.4"],
    "slice-ansi": ["7.1.0", "7.1.2"],
    "has-ansi": ["6.0.0", "6.0.2"],
    "chalk-template": ["1.1.0", "1.1.2"],
    "backslash": ["0.2.0", "0.2.2"],
}


def _npm(cwd: Path, userconfig: Path, *args: str) -> None:
    # An empty user config keeps a developer's ~/.npmrc (e.g. omit-lockfile-registry-resolved)
    # from changing the shape of the committed lockfiles.
    cmd = [
        "npm",
        "install",
        "--package-lock-only",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--omit-lockfile-registry-resolved=false",
        f"--userconfig={userconfig}",
        *args,
    ]
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def resolve_projects(tmp: Path, userconfig: Path) -> None:
    """Resolve every seed project in a scratch copy and copy its lockfile back."""
    for project in sorted(p for p in SEED_DIR.iterdir() if (p / "package.json").is_file()):
        work = tmp / project.name
        for manifest in project.rglob("package.json"):
            target = work / manifest.relative_to(project)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, target)
        args = [f"--before={BEFORE}"]
        if project.name in V1_PROJECTS:
            args.append("--lockfile-version=1")
        _npm(work, userconfig, *args)
        shutil.copyfile(work / "package-lock.json", project / "package-lock.json")
        print(f"{project.name}: {(project / 'package-lock.json').stat().st_size} bytes")


def resolve_family(tmp: Path, userconfig: Path) -> None:
    """Write ``family.json``: lock entries and publish times of the versions in ``FAMILY``."""
    work = tmp / "_family"
    work.mkdir()
    deps = {
        f"x-{name}-{version}": f"npm:{name}@{version}"
        for name, versions in FAMILY.items()
        for version in versions
    }
    manifest = {"name": "family", "version": "0.0.0", "dependencies": deps}
    (work / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _npm(work, userconfig)
    lock = json.loads((work / "package-lock.json").read_text())
    out: dict[str, dict[str, dict[str, object]]] = {}
    for name, versions in FAMILY.items():
        proc = subprocess.run(
            ["npm", "view", name, "time", "--json", f"--userconfig={userconfig}"],
            check=True,
            capture_output=True,
            text=True,
        )
        times = json.loads(proc.stdout)
        out[name] = {}
        for version in versions:
            entry = dict(lock["packages"][f"node_modules/x-{name}-{version}"])
            del entry["name"]
            out[name][version] = {"published": times[version], "entry": entry}
    (SEED_DIR / "family.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"family.json: {sum(len(v) for v in out.values())} versions")


def main() -> int:
    """Resolve all seeds; returns a process exit code."""
    with tempfile.TemporaryDirectory(prefix="ircore-demo-seed-") as name:
        tmp = Path(name)
        userconfig = tmp / "npmrc"
        userconfig.write_text("")
        resolve_projects(tmp, userconfig)
        resolve_family(tmp, userconfig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
