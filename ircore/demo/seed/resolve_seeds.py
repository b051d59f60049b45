"""Re-resolve the demo org's seed lockfiles with the package managers (maintainer tool, online).

Run from the repository with its virtualenv: ``.venv/bin/python ircore/demo/seed/resolve_seeds.py``
(``--only NAME`` to redo some projects, ``--no-family`` / ``--no-installed`` to skip those steps).
The generator itself never runs a package manager and never touches the network; it only reads what
this script wrote. See ``README.md``.

Each seed project's manifests (``package.json`` files, ``pnpm-workspace.yaml``, ``.yarnrc.yml``) are
copied into a temporary directory outside the repository and resolved there by the package manager
its ``packageManager`` field names (npm when there is none), as of ``BEFORE``, so the trees are what
a developer would have had the day before the incident; only the lockfile is copied back. No
install script runs: npm, pnpm, yarn and bun get ``--ignore-scripts`` (``enableScripts: false``
for yarn Berry).

npm has ``--before``; the others have no absolute date option, so they resolve through a local
"time machine" registry on loopback that forwards to the npm registry and hides every version
published after ``BEFORE`` (bun, whose lockfile would record that registry's address, uses its own
``minimumReleaseAge`` set to the age of ``BEFORE`` instead).

``family.json`` holds real npm lock entries and publish times for the clean chalk/debug-family
versions the generator pins lockfiles to (before the incident, and the republished fixes);
``family/<manager>/`` holds the same versions as each other package manager locks them (yarn's
tarball SHA-1, Berry's checksum, bun's and pnpm's entries). They are resolved through npm aliases in
extra temporary projects, without a date limit because the fixes came later.

``installed.json`` holds the ``package.json`` files, byte for byte, that ``npm ci --ignore-scripts``
unpacks for the projects the demo's developer machines have installed, and for the family
versions: the generator builds ``node_modules`` trees from them.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SEED_DIR.parents[2]))  # run as a script from anywhere

from ircore import semver  # noqa: E402
from ircore._errors import InvalidVersion  # noqa: E402

#: Resolution date of the seed trees: the day before the compromise.
BEFORE = "2025-09-07T00:00:00.000Z"
_BEFORE = datetime(2025, 9, 7, tzinfo=timezone.utc)

UPSTREAM = "https://registry.npmjs.org"
#: Where yarn 1 downloads from by default, and so what its lockfiles record.
YARN_CLASSIC_REGISTRY = "https://registry.yarnpkg.com"

#: Projects written as lockfileVersion 1 (npm 11 still accepts ``--lockfile-version 1``).
V1_PROJECTS = frozenset({"legacy-v1"})

#: npm projects whose installed ``node_modules`` the demo's developer machines carry.
INSTALLED_PROJECTS = ("cli-tool", "color-service")
#: Package managers the demo's developer machines have installed globally.
GLOBAL_TOOLS = ("pnpm@9.15.9", "yarn@1.22.22")

#: Which lockfile each package manager writes.
LOCKFILES = {
    "npm": "package-lock.json",
    "yarn-classic": "yarn.lock",
    "yarn-berry": "yarn.lock",
    "pnpm": "pnpm-lock.yaml",
    "bun": "bun.lock",
}

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


def manager_of(project: Path) -> tuple[str, str]:
    """Return (manager, version) from a project's ``packageManager`` field; npm when absent."""
    field = json.loads((project / "package.json").read_text()).get("packageManager", "")
    if not field:
        return "npm", ""
    name, version = field.split("@", 1)
    if name == "yarn":
        return ("yarn-classic" if version.startswith("1.") else "yarn-berry"), version
    if name in ("pnpm", "bun"):
        return name, version
    raise ValueError(f"{project.name}: unknown packageManager {field!r}")


# -- npm ------------------------------------------------------------------------------------------


def _npm(cwd: Path, userconfig: Path, *args: str, command: str = "install") -> None:
    # An empty user config keeps a developer's ~/.npmrc (e.g. omit-lockfile-registry-resolved)
    # from changing the shape of the committed lockfiles.
    cmd = [
        "npm",
        command,
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--omit-lockfile-registry-resolved=false",
        f"--userconfig={userconfig}",
        *args,
    ]
    if command == "install":
        cmd.insert(2, "--package-lock-only")
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


# -- the other package managers -------------------------------------------------------------------


def _tool_package(manager: str, version: str) -> tuple[str, str]:
    """npm package that ships the manager, and its entry point inside ``node_modules``."""
    if manager == "pnpm":
        return f"pnpm@{version}", "pnpm/bin/pnpm.cjs"
    if manager == "yarn-classic":
        return f"yarn@{version}", "yarn/bin/yarn.js"
    if manager == "yarn-berry":
        return f"@yarnpkg/cli-dist@{version}", "@yarnpkg/cli-dist/bin/yarn.js"
    machine = {"x86_64": "x64", "amd64": "x64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = {"linux": "linux", "darwin": "darwin"}[sys.platform]
    # The platform package ships bun's binary itself: no install script has to fetch it.
    return f"@oven/bun-{system}-{machine}@{version}", f"@oven/bun-{system}-{machine}/bin/bun"


def install_tools(
    tmp: Path, userconfig: Path, wanted: set[tuple[str, str]]
) -> dict[str, tuple[str, Path]]:
    """Install the package managers the seeds name (``--ignore-scripts``): manager -> (version, path)."""
    tools = tmp / "_tools"
    tools.mkdir(exist_ok=True)
    (tools / "package.json").write_text('{"name": "tools", "version": "0.0.0"}\n')
    specs = {m: (v, *_tool_package(m, v)) for m, v in sorted(wanted)}
    if len({m for m, _ in wanted}) != len(wanted):
        raise ValueError(f"seeds ask for several versions of one package manager: {wanted}")
    if specs:
        subprocess.run(
            [
                *("npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-save"),
                f"--userconfig={userconfig}",
                *sorted({spec for _, spec, _ in specs.values()}),
            ],
            cwd=tools,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return {m: (v, tools / "node_modules" / entry) for m, (v, _, entry) in specs.items()}


class _Handler(BaseHTTPRequestHandler):
    server: _TimeMachine

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urllib.parse.unquote(self.path.split("?", 1)[0])
        if "/-/" in path:
            self._forward(UPSTREAM + urllib.parse.quote(path, safe="/@"))
            return
        name = path.strip("/")
        request = urllib.request.Request(
            f"{UPSTREAM}/{name.replace('/', '%2f')}", headers={"accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                doc = json.load(response)
        except urllib.error.HTTPError as exc:
            self.send_error(exc.code)
            return
        body = json.dumps(self.server.as_of_before(doc)).encode()
        self._send(body, "application/json")

    def _forward(self, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            self.send_error(exc.code)
            return
        self._send(body, "application/octet-stream")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _stable(version: str) -> bool:
    try:
        return not semver.parse_version(version).prerelease
    except InvalidVersion:  # packuments keep a few pre-semver versions such as 3.0.0alpha4
        return False


class _TimeMachine(ThreadingHTTPServer):
    """A loopback registry serving packuments as they were at ``BEFORE``.

    Versions published later are removed, ``latest`` becomes the highest remaining stable version
    (what ``npm --before`` picks), and tarball URLs point at ``tarballs``: this server for
    managers that omit tarball URLs of their configured registry from the lockfile (pnpm, Berry),
    yarn 1's default registry for yarn 1, which records the URL it downloaded.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.tarballs = self.url

    def as_of_before(self, doc: dict[str, Any]) -> dict[str, Any]:
        times = doc.get("time", {})
        kept = {
            version: manifest
            for version, manifest in doc.get("versions", {}).items()
            if version in times
            and datetime.fromisoformat(times[version].replace("Z", "+00:00")) <= _BEFORE
        }
        for manifest in kept.values():
            tarball = manifest.get("dist", {}).get("tarball", "")
            if tarball.startswith(UPSTREAM):
                manifest["dist"]["tarball"] = self.tarballs + tarball[len(UPSTREAM) :]
        tags = {
            tag: v for tag, v in doc.get("dist-tags", {}).items() if v in kept and tag != "latest"
        }
        stable = [v for v in kept if _stable(v)]
        if stable:
            tags["latest"] = max(stable, key=functools.cmp_to_key(semver.compare_versions))
        return {
            **doc,
            "versions": kept,
            "time": {k: t for k, t in times.items() if k in kept or k == "created"},
            "dist-tags": tags,
        }


@contextmanager
def time_machine() -> Iterator[_TimeMachine]:
    """Serve the registry as of ``BEFORE`` on loopback for the duration of the block."""
    server = _TimeMachine()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _isolated_env(home: Path) -> dict[str, str]:
    # A scratch HOME keeps the developer's ~/.npmrc, ~/.yarnrc and caches out of the lockfiles.
    home.mkdir(parents=True, exist_ok=True)
    # Network settings stay: a proxy or a company CA is how this machine reaches the registry.
    network = {
        k: v
        for k, v in os.environ.items()
        if k.lower().endswith("_proxy")
        or k in ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    return {
        **network,
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "YARN_ENABLE_TELEMETRY": "0",
        "YARN_ENABLE_SCRIPTS": "false",
        "YARN_ENABLE_GLOBAL_CACHE": "false",
        "COREPACK_ENABLE_STRICT": "0",
        "CI": "1",
    }


def run_manager(
    manager: str, tool: Path, work: Path, home: Path, registry: _TimeMachine | None
) -> None:
    """Resolve the project in ``work`` with ``manager``; ``registry`` None resolves as of today."""
    env = _isolated_env(home)
    if manager == "pnpm":
        cmd = ["node", str(tool), "install", "--lockfile-only", "--ignore-scripts"]
        cmd += ["--config.manage-package-manager-versions=false", "--reporter=append-only"]
        if registry is not None:
            cmd.append(f"--registry={registry.url}/")
    elif manager == "yarn-classic":
        cmd = ["node", str(tool), "install", "--ignore-scripts", "--non-interactive"]
        cmd += ["--no-progress", "--cache-folder", str(home / "yarn-cache")]
        if registry is not None:
            cmd += ["--registry", f"{registry.url}/"]
    elif manager == "yarn-berry":
        cmd = ["node", str(tool), "install", "--mode=update-lockfile"]
        if registry is not None:
            env["YARN_NPM_REGISTRY_SERVER"] = registry.url
            env["YARN_UNSAFE_HTTP_WHITELIST"] = "127.0.0.1"
    else:
        cmd = [str(tool), "install", "--lockfile-only", "--ignore-scripts", "--no-progress"]
        env["BUN_INSTALL_CACHE_DIR"] = str(home / "bun-cache")
        if registry is not None:
            # bun records a non-default registry in bun.lock, so it filters by age itself.
            age = int((datetime.now(timezone.utc) - _BEFORE).total_seconds())
            (work / "bunfig.toml").write_text(f"[install]\nminimumReleaseAge = {age}\n")
    if registry is not None:
        registry.tarballs = YARN_CLASSIC_REGISTRY if manager == "yarn-classic" else registry.url
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {work}:\n{proc.stdout}\n{proc.stderr}")
    lockfile = work / LOCKFILES[manager]
    if registry is not None and registry.url in lockfile.read_text():
        raise RuntimeError(f"{lockfile} records the loopback registry {registry.url}")


def _copy_manifests(project: Path, work: Path) -> None:
    for rel in sorted(project.rglob("*")):
        if rel.name in ("package.json", "pnpm-workspace.yaml", ".yarnrc.yml"):
            target = work / rel.relative_to(project)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rel, target)


def resolve_projects(
    tmp: Path,
    userconfig: Path,
    only: set[str],
    tools: dict[str, tuple[str, Path]],
    registry: _TimeMachine,
) -> None:
    """Resolve every seed project in a scratch copy and copy its lockfile back."""
    for project in sorted(p for p in SEED_DIR.iterdir() if (p / "package.json").is_file()):
        if only and project.name not in only:
            continue
        manager, _ = manager_of(project)
        work = tmp / project.name
        _copy_manifests(project, work)
        if manager == "npm":
            args = [f"--before={BEFORE}"]
            if project.name in V1_PROJECTS:
                args.append("--lockfile-version=1")
            _npm(work, userconfig, *args)
        else:
            run_manager(manager, tools[manager][1], work, tmp / f"_home-{project.name}", registry)
        name = LOCKFILES[manager]
        shutil.copyfile(work / name, project / name)
        print(f"{project.name}: {manager} {(project / name).stat().st_size} bytes")


# -- family ---------------------------------------------------------------------------------------


def _family_manifest() -> dict[str, Any]:
    deps = {
        f"x-{name}-{version}": f"npm:{name}@{version}"
        for name, versions in FAMILY.items()
        for version in versions
    }
    return {"name": "family", "version": "0.0.0", "private": True, "dependencies": deps}


def family_project(tmp: Path, userconfig: Path) -> Path:
    """Resolve the family versions with npm in a scratch project (aliases ``x-<name>-<version>``)."""
    work = tmp / "_family"
    if not (work / "package-lock.json").is_file():
        work.mkdir()
        (work / "package.json").write_text(json.dumps(_family_manifest(), indent=2) + "\n")
        _npm(work, userconfig)
    return work


def resolve_family(tmp: Path, userconfig: Path) -> None:
    """Write ``family.json``: lock entries and publish times of the versions in ``FAMILY``."""
    lock = json.loads((family_project(tmp, userconfig) / "package-lock.json").read_text())
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


def resolve_family_formats(tmp: Path, tools: dict[str, tuple[str, Path]]) -> None:
    """Lock the family versions with every other package manager into ``family/<manager>/``."""
    for manager, (version, tool) in sorted(tools.items()):
        work = tmp / f"_family-{manager}"
        work.mkdir()
        manifest = _family_manifest()
        if manager.startswith("yarn"):
            manifest["packageManager"] = f"yarn@{version}"
        (work / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if manager == "yarn-berry":
            (work / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
        run_manager(manager, tool, work, tmp / f"_home-family-{manager}", None)
        target = SEED_DIR / "family" / manager
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "package.json", target / "package.json")
        shutil.copyfile(work / LOCKFILES[manager], target / LOCKFILES[manager])
        print(f"family/{manager}: {(target / LOCKFILES[manager]).stat().st_size} bytes")


# -- installed package.json files -----------------------------------------------------------------


def _installed_manifests(root: Path) -> dict[str, str]:
    """``name@version`` -> text of every package folder's package.json under ``root/node_modules``."""
    out: dict[str, str] = {}
    for manifest in sorted((root / "node_modules").rglob("package.json")):
        folder = manifest.parent
        # A package folder sits right in a node_modules folder (or in its @scope folder); other
        # package.json files inside a package (dist/esm/package.json) are not packages.
        parent = folder.parent.parent if folder.parent.name.startswith("@") else folder.parent
        if parent.name != "node_modules":
            continue
        text = manifest.read_text(encoding="utf-8")
        data = json.loads(text)
        out[f"{data['name']}@{data['version']}"] = text
    return out


def collect_installed(tmp: Path, userconfig: Path) -> None:
    """Write ``installed.json``: the package.json files ``npm ci`` unpacks for the host trees."""
    texts: dict[str, str] = {}
    for name in INSTALLED_PROJECTS:
        work = tmp / f"_installed-{name}"
        work.mkdir()
        shutil.copyfile(SEED_DIR / name / "package.json", work / "package.json")
        shutil.copyfile(SEED_DIR / name / "package-lock.json", work / "package-lock.json")
        _npm(work, userconfig, command="ci")
        texts.update(_installed_manifests(work))
    family = family_project(tmp, userconfig)
    _npm(family, userconfig, command="ci")
    texts.update(_installed_manifests(family))
    tools = tmp / "_installed-tools"
    tools.mkdir()
    (tools / "package.json").write_text('{"name": "tools", "version": "0.0.0"}\n')
    subprocess.run(
        [
            *("npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-save"),
            f"--userconfig={userconfig}",
            *GLOBAL_TOOLS,
        ],
        cwd=tools,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for tool in GLOBAL_TOOLS:
        # Only the tool's own package.json: pnpm bundles its dependencies under dist/.
        text = (tools / "node_modules" / tool.rpartition("@")[0] / "package.json").read_text()
        texts[tool] = text
    ordered = dict(sorted(texts.items()))
    (SEED_DIR / "installed.json").write_text(json.dumps(ordered, indent=1) + "\n")
    print(f"installed.json: {len(ordered)} package.json files")


def main(argv: list[str] | None = None) -> int:
    """Resolve the seeds; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="seed project(s) to redo")
    parser.add_argument("--no-family", action="store_true", help="keep family.json and family/")
    parser.add_argument("--no-installed", action="store_true", help="keep installed.json")
    args = parser.parse_args(argv)
    only = set(args.only)
    projects = [p for p in SEED_DIR.iterdir() if (p / "package.json").is_file()]
    wanted = {manager_of(p) for p in projects if not only or p.name in only}
    if not args.no_family:
        wanted |= {m for p in projects if (m := manager_of(p))[0] != "npm"}
    wanted = {m for m in wanted if m[0] != "npm"}
    with tempfile.TemporaryDirectory(prefix="ircore-demo-seed-") as name:
        tmp = Path(name)
        userconfig = tmp / "npmrc"
        userconfig.write_text("")
        tools = install_tools(tmp, userconfig, wanted)
        with time_machine() as registry:
            resolve_projects(tmp, userconfig, only, tools, registry)
        if not args.no_family:
            resolve_family(tmp, userconfig)
            resolve_family_formats(tmp, tools)
        if not args.no_installed:
            collect_installed(tmp, userconfig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
