"""ircore command line: demo, report, inventory, scan.

exit codes:
  scan             0 every input read, nothing found   1 a compromised version was found
                   3 nothing found in what could be read, but some input could not be read
  inventory        0 every input read                  3 some input could not be read
  scan-host        0 every input read                  3 some input could not be read
                   (the scan file is written either way; its problems say what was not read)
  report, demo     0 report built (the verdict is printed on stderr, whatever it is)
                   1 a report notebook failed (an earlier bundle in --out is kept)
  every command    2 usage or configuration error      130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ircore._errors import IrcoreError
from ircore._log import EvidenceLog
from ircore.analysis._blast_radius import plural, unread_inputs

EXIT_CLEAN, EXIT_FOUND, EXIT_USAGE, EXIT_UNREAD = 0, 1, 2, 3
#: ``report`` and ``demo``: the bundle could not be built (a notebook cell failed).
EXIT_BUILD_FAILED = 1
#: 128 + SIGINT, what a shell reports for a command stopped with Ctrl-C.
EXIT_INTERRUPTED = 130

#: Columns of ``scan``'s table: one row per (occurrence, advisory), so a version claimed by two
#: advisories is listed twice, once under each id.
SCAN_COLUMNS = [
    "repo",
    "ref",
    "file",
    "install_path",
    "name",
    "version",
    "dev",
    "direct",
    "introducer",
    "advisory_id",
]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in plain.to_dict("records")
    ]


def _print_rows(frame: pd.DataFrame, columns: Sequence[str], *, as_json: bool) -> None:
    if as_json:
        out = sys.stdout.buffer
        for record in _records(frame):
            out.write(orjson.dumps(record) + b"\n")
        out.flush()
    elif not frame.empty:
        print(frame[list(columns)].to_string(index=False))


def _report_problems(log: EvidenceLog) -> None:
    """One count line, then one line per problem; the count and the lines always agree."""
    inputs = log.inputs
    unread = unread_inputs(log.problems, inputs)
    read = int((inputs["status"] != "failed").sum()) if not inputs.empty else 0
    problems = plural(len(unread), "problem") if len(unread) else "no problems"
    print(f"ircore: read {read:,} of {plural(len(inputs), 'input')}; {problems}", file=sys.stderr)
    failed = set(inputs.loc[inputs["status"] == "failed", "evidence"].dropna().astype(str))
    for row in unread.itertuples(index=False):
        # NOT READ: an input whose content is unknown. PROBLEM: something else went wrong
        # (a path that does not exist, an advisory named but not found, an invalid range).
        label = "NOT READ" if str(row.evidence) in failed else "PROBLEM"
        print(f"ircore: {label} [{row.kind}] {row.evidence}: {row.message}", file=sys.stderr)


@contextlib.contextmanager
def _progress(enabled: bool | None) -> Iterator[Callable[[str, int], None] | None]:
    """A files-and-megabytes counter on stderr for long scans; off when stderr is not a TTY."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        desc="ircore: reading", unit=" files", file=sys.stderr, mininterval=0.5, leave=False
    ) as bar:
        read = 0

        def tick(evidence: str, size: int) -> None:
            nonlocal read
            read += size
            bar.set_postfix_str(f"{read / 1e6:,.1f} MB", refresh=False)
            bar.update(1)

        yield tick
        bar.refresh()  # the final count, before the bar clears its line


def _read_paths(args: argparse.Namespace, log: EvidenceLog) -> pd.DataFrame:
    """The inventory of the command's paths, as ``inventory`` and ``scan`` both read it."""
    from ircore.inventory import load_inventory

    with _progress(args.progress) as progress:
        return load_inventory(
            args.paths,
            git_refs=args.git_refs,
            installed=args.installed,
            log=log,
            progress=progress,
        )


def _cmd_inventory(args: argparse.Namespace) -> int:
    log = EvidenceLog()
    inventory = _read_paths(args, log)
    _print_rows(
        inventory,
        ["repo", "ref", "file", "name", "version", "dev", "direct", "introducer"],
        as_json=args.json,
    )
    _report_problems(log)
    return EXIT_UNREAD if not log.complete else EXIT_CLEAN


def _with_install_path(exposure: pd.DataFrame, inventory: pd.DataFrame) -> pd.DataFrame:
    """Add each occurrence's ``install_path`` (which ``exposure`` does not carry) from inventory.

    ``exposure`` is one row per (inventory row, advisory). Deduplicated, then joined back on
    every column it shares with ``inventory``, it gives the same rows with the install path.
    """
    if exposure.empty:
        return exposure.assign(install_path=pd.Series(dtype="string"))
    shared = [c for c in exposure.columns if c in inventory.columns]

    def keys(frame: pd.DataFrame) -> pd.DataFrame:
        # NA never equals NA in a join: compare text, with NA as its own marker.
        return pd.DataFrame({c: frame[c].astype("string").fillna("\x00") for c in shared})

    hits = exposure.drop_duplicates().reset_index(drop=True)
    left = pd.concat([keys(hits).add_prefix("k_"), hits], axis=1)
    right = pd.concat(
        [keys(inventory).add_prefix("k_"), inventory[["install_path"]].reset_index(drop=True)],
        axis=1,
    )
    joined = left.merge(right, on=[f"k_{c}" for c in shared], how="left")
    columns = [*exposure.columns, "install_path"]
    return joined[columns].sort_values(
        ["repo", "ref", "file", "install_path", "name", "version", "advisory_id"],
        ignore_index=True,
    )


def _cmd_scan(args: argparse.Namespace) -> int:
    from ircore.analysis import blast_radius_summary, match_exposure
    from ircore.threats import load_advisories

    log = EvidenceLog()
    advisories = load_advisories(args.advisories, log=log)
    inventory = _read_paths(args, log)
    exposure = match_exposure(inventory, advisories, log=log)
    _print_rows(_with_install_path(exposure, inventory), SCAN_COLUMNS, as_json=args.json)
    _report_problems(log)
    summary = blast_radius_summary(
        exposure, inventory, log.inputs, problems=log.problems, advisories=advisories
    )
    ids = int(advisories["advisory_id"].nunique())
    print(
        f"ircore: {summary['verdict']} ({plural(len(inventory), 'package entry', 'package entries')}"
        f" checked against {plural(ids, 'advisory', 'advisories')})",
        file=sys.stderr,
    )
    if not exposure.empty:
        return EXIT_FOUND
    # "Inconclusive" (nothing found, but nothing looked at either, or something unread) must
    # never look like a clean bill to a CI gate.
    return EXIT_CLEAN if summary["verdict_level"] == "clear" else EXIT_UNREAD


def _cmd_scan_host(args: argparse.Namespace) -> int:
    from ircore.inventory._host import scan_host, write_host_scan

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise IrcoreError(f"--out {out} is a file; give a folder for <hostname>.json")
    scan = scan_host(
        roots=args.root, home=args.home, hostname=args.hostname, global_dirs=args.global_dir
    )
    path = write_host_scan(scan, out)
    log = EvidenceLog(_problems=list(scan["problems"]), _inputs=list(scan["inputs"]))
    _report_problems(log)
    counts = scan["summary"]
    print(
        f"ircore: {scan['host']['hostname']}: "
        f"{plural(counts['packages'], 'package entry', 'package entries')} "
        f"({plural(counts['projects'], 'project')}, "
        f"{plural(counts['global_packages'], 'global package')}, "
        f"{plural(counts['cache_entries'], 'cache entry', 'cache entries')}); "
        f"{plural(counts['problems'], 'problem')}",
        file=sys.stderr,
    )
    print(path)
    return EXIT_UNREAD if not log.complete else EXIT_CLEAN


def _cmd_report(args: argparse.Namespace) -> int:
    from ircore._investigate import investigate
    from ircore.report import build_report, check_bundle_folder, check_parameters

    out = Path(args.out)
    parameters = {"org_name": args.org_name} if args.org_name else {}
    # Before the investigation, which can take minutes: a refusal should not wait for it.
    check_bundle_folder(out, overwrite=args.overwrite, flag="--overwrite")
    try:
        check_parameters(parameters)
    except ValueError as exc:
        raise IrcoreError(str(exc)) from None
    investigation = investigate(args.incident, args.sources)
    index = build_report(
        investigation,
        out=out,
        overwrite=args.overwrite,
        parameters=parameters,
        input_files=[Path(args.incident), Path(args.sources)],
    )
    _summarize(investigation, index)
    return EXIT_CLEAN


def _has_content(path: Path) -> bool:
    return path.exists() and not (path.is_dir() and not any(path.iterdir()))


def _is_demo_org(folder: Path) -> bool:
    # Only an org that `ircore demo` generated is deleted and rebuilt; never a folder of
    # someone's repositories given by mistake as --workdir.
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(truth, dict) and truth.get("generator") == "ircore.demo"


def _cmd_demo(args: argparse.Namespace) -> int:
    from ircore.report import check_bundle_folder

    out = Path(args.out)
    workdir = Path(args.workdir) if args.workdir else out.parent / f"{out.name}-org"
    # Both refusals come before anything is built or deleted.
    check_bundle_folder(out, overwrite=True, flag="--overwrite")
    if _has_content(workdir) and not _is_demo_org(workdir):
        raise IrcoreError(
            f"{workdir} exists and is not a demo organization built by `ircore demo`; "
            "not touching it: choose another --workdir"
        )

    from ircore._investigate import investigate
    from ircore.report import build_report

    print(f"ircore: building the demo organization in {workdir}", file=sys.stderr)
    org = _rebuild_demo_org(workdir, seed=args.seed)
    investigation = investigate(workdir / org.incident_file.name, workdir / org.sources_file.name)
    print(f"ircore: writing the report bundle in {out}", file=sys.stderr)
    index = build_report(
        investigation,
        out=out,
        overwrite=True,
        parameters={"org_name": str(org.truth.get("org") or "all repositories")},
        input_files=[workdir / org.incident_file.name, workdir / org.sources_file.name],
    )
    _summarize(investigation, index)
    return EXIT_CLEAN


def _rebuild_demo_org(workdir: Path, *, seed: int) -> Any:
    """Build the demo org beside ``workdir``, then swap it in: Ctrl-C leaves the old one whole.

    A half-built org would have no ``truth.json`` and be refused as "not a demo org" next time.
    The org holds no absolute path (sources.yaml is relative, git repos are relocatable), so
    it can be built elsewhere and moved.
    """
    from ircore.demo import build_demo_org
    from ircore.report._render import _sibling_folder

    workdir = workdir.resolve()
    workdir.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling_folder(workdir, "building")
    try:
        org = build_demo_org(staging, seed=seed)
        aside = _sibling_folder(workdir, "replaced") if workdir.exists() else None
        if aside is not None:
            os.rename(workdir, aside / workdir.name)
        os.rename(staging, workdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return org


def _summarize(investigation: Any, index: Path) -> None:
    from ircore.analysis import blast_radius_summary

    summary = blast_radius_summary(
        investigation.exposure,
        investigation.inventory,
        investigation.inputs,
        problems=investigation.problems,
        advisories=investigation.advisories,
    )
    # The report was built (exit 0) whatever it found; the verdict is what the reader needs.
    print(f"ircore: {summary['verdict']}", file=sys.stderr)
    print(index)


class _VersionAction(argparse.Action):
    """``--version``, resolved only when asked: it needs the report module, which is slow to load."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from ircore.report._render import kit_version

        print(f"ircore {kit_version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ircore", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the demo org and its report, offline")
    demo.add_argument(
        "--out",
        default="reports/demo",
        help="report bundle folder (an earlier bundle there is replaced)",
    )
    demo.add_argument(
        "--workdir", help="where the demo org's repositories go (default: <out>-org beside --out)"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=20250908,
        help="seed of every random choice in the demo org (names, dates, versions, which repo "
        "gets which scenario); the same seed builds the same org (default: %(default)s)",
    )
    demo.set_defaults(run=_cmd_demo)

    report = commands.add_parser("report", help="investigate and write an HTML report bundle")
    report.add_argument("--incident", required=True, help="incident spec (YAML)")
    report.add_argument("--sources", required=True, help="sources config (YAML)")
    report.add_argument("--out", required=True, help="report bundle folder")
    report.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier bundle in --out (refused if it holds files the bundle did "
        "not write)",
    )
    report.add_argument(
        "--org-name", help="the organization's name, shown at the root of the charts"
    )
    report.set_defaults(run=_cmd_report)

    for name, helptext in (
        ("inventory", "list the packages lockfiles resolve"),
        ("scan", "find compromised versions in lockfiles"),
    ):
        cmd = commands.add_parser(name, help=helptext)
        cmd.add_argument("paths", nargs="+", help="lockfiles, projects, repos, folders of repos")
        cmd.add_argument(
            "--git-refs",
            action="store_true",
            help="read git repos at every branch and PR ref instead of the work tree",
        )
        cmd.add_argument(
            "--installed",
            action="store_true",
            help="also read installed node_modules trees (each package's own package.json)",
        )
        cmd.add_argument("--json", action="store_true", help="print one JSON object per row")
        cmd.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show files read so far on stderr (default: when stderr is a terminal)",
        )
        if name == "scan":
            cmd.description = (
                "Print one row per (occurrence, advisory): a package version installed at one "
                "place (repo, ref, lockfile, install path) and claimed by two advisories is "
                "listed twice."
            )
            cmd.add_argument(
                "--advisories",
                action="append",
                required=True,
                metavar="PATH",
                help="an OSV file, folder or zip, or a name,version list; repeat for more",
            )
        cmd.set_defaults(run=_cmd_scan if name == "scan" else _cmd_inventory)

    host = commands.add_parser(
        "scan-host",
        help="read this machine's projects, global installs and package caches into "
        "<out>/<hostname>.json",
        description="Read a developer machine from disk, without running npm, yarn, pnpm or "
        "node: projects under --root (lockfiles and node_modules), global installs, the npm "
        "cache (downloads, even of versions since removed), yarn caches and the pnpm store. "
        "Read the result with `ircore.inventory.load_hosts`.",
    )
    host.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="PATH",
        help="a folder to search for projects (e.g. ~/src, or the home folder); repeat for more",
    )
    host.add_argument(
        "--home",
        metavar="PATH",
        help="the home folder whose caches and global installs are read (default: yours)",
    )
    host.add_argument(
        "--hostname", metavar="NAME", help="the machine's name in the scan (default: this one's)"
    )
    host.add_argument(
        "--global-dir",
        action="append",
        metavar="PATH",
        help="a global install folder (npm prefix, global node_modules, yarn or pnpm global "
        "folder) to read instead of the default ones; repeat for more",
    )
    host.add_argument(
        "--out", required=True, metavar="DIR", help="folder <hostname>.json is written to"
    )
    host.set_defaults(run=_cmd_scan_host)
    return parser


def _interrupted_in_kernel(exc: BaseException) -> bool:
    # Ctrl-C reaches the kernel too (same process group): the cell then fails with
    # KeyboardInterrupt, which papermill reports as an execution error.
    return getattr(exc, "ename", None) == "KeyboardInterrupt"


def _interrupted(args: argparse.Namespace) -> int:
    kept = " (nothing in --out was replaced)" if "out" in args else ""
    print(f"ircore: interrupted{kept}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _log_to_stderr() -> None:
    """Library warnings (an API retrying) as ircore's own lines, like every other on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("ircore: %(message)s"))
    root = logging.getLogger("ircore")
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _log_to_stderr()
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return _interrupted(args)
    except (IrcoreError, FileExistsError) as exc:
        print(f"ircore: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if type(exc).__name__ != "PapermillExecutionError":
            raise
        if _interrupted_in_kernel(exc):
            return _interrupted(args)
        # The cell's traceback is in the executed notebook; one line is enough here.
        where = getattr(exc, "cell_index", "?")
        print(
            f"ircore: the report could not be built: cell {where} failed with "
            f"{getattr(exc, 'ename', 'an error')}: {getattr(exc, 'evalue', exc)}",
            file=sys.stderr,
        )
        for note in getattr(exc, "__notes__", []):
            print(note, file=sys.stderr)
        return EXIT_BUILD_FAILED


if __name__ == "__main__":
    sys.exit(main())
