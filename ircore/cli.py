"""``ircore`` command line: demo, report, inventory, scan.

Exit codes of ``scan`` (and ``inventory``): 0 nothing found and every input read; 1 a
compromised version was found; 3 an input could not be read (nothing found in what was read,
which is not the same as "not affected"); 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ircore._errors import IrcoreError
from ircore._log import EvidenceLog

EXIT_CLEAN, EXIT_FOUND, EXIT_USAGE, EXIT_UNREAD = 0, 1, 2, 3


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
    problems = log.problems
    inputs = log.inputs
    read = int((inputs["status"] != "failed").sum()) if not inputs.empty else 0
    print(f"ircore: read {read} of {len(inputs)} inputs", file=sys.stderr)
    for row in problems.itertuples(index=False):
        print(f"ircore: NOT READ [{row.kind}] {row.evidence}: {row.message}", file=sys.stderr)


def _cmd_inventory(args: argparse.Namespace) -> int:
    from ircore.inventory import load_inventory

    log = EvidenceLog()
    inventory = load_inventory(args.paths, git_refs=args.git_refs, log=log)
    _print_rows(
        inventory,
        ["repo", "ref", "file", "name", "version", "dev", "direct", "introducer"],
        as_json=args.json,
    )
    _report_problems(log)
    return EXIT_UNREAD if not log.complete else EXIT_CLEAN


def _cmd_scan(args: argparse.Namespace) -> int:
    from ircore.analysis import blast_radius_summary, match_exposure
    from ircore.inventory import load_inventory
    from ircore.threats import load_advisories

    log = EvidenceLog()
    advisories = load_advisories(args.advisories, log=log)
    inventory = load_inventory(args.paths, git_refs=args.git_refs, log=log)
    exposure = match_exposure(inventory, advisories, log=log)
    _print_rows(
        exposure,
        ["repo", "ref", "file", "name", "version", "dev", "direct", "introducer", "advisory_id"],
        as_json=args.json,
    )
    _report_problems(log)
    summary = blast_radius_summary(exposure, inventory, log.inputs, problems=log.problems)
    print(
        f"ircore: {summary['verdict']} ({len(inventory)} package entries checked against "
        f"{advisories['advisory_id'].nunique()} advisories)",
        file=sys.stderr,
    )
    if not exposure.empty:
        return EXIT_FOUND
    return EXIT_UNREAD if not log.complete else EXIT_CLEAN


def _cmd_report(args: argparse.Namespace) -> int:
    from ircore._investigate import investigate
    from ircore.report import build_report

    investigation = investigate(args.incident, args.sources)
    index = build_report(
        investigation,
        out=Path(args.out),
        overwrite=args.overwrite,
        input_files=[Path(args.incident), Path(args.sources)],
    )
    _summarize(investigation, index)
    return EXIT_CLEAN


def _cmd_demo(args: argparse.Namespace) -> int:
    from ircore._investigate import investigate
    from ircore.demo import build_demo_org
    from ircore.report import build_report

    out = Path(args.out)
    workdir = Path(args.workdir) if args.workdir else out.parent / f"{out.name}-org"
    print(f"ircore: building the demo organization in {workdir}", file=sys.stderr)
    if workdir.exists():  # the demo org is generated, never edited by hand: rebuild it
        shutil.rmtree(workdir)
    org = build_demo_org(workdir, seed=args.seed)
    investigation = investigate(org.incident_file, org.sources_file)
    index = build_report(
        investigation, out=out, overwrite=True, input_files=[org.incident_file, org.sources_file]
    )
    _summarize(investigation, index)
    return EXIT_CLEAN


def _summarize(investigation: Any, index: Path) -> None:
    from ircore.analysis import blast_radius_summary

    summary = blast_radius_summary(
        investigation.exposure,
        investigation.inventory,
        investigation.inputs,
        problems=investigation.problems,
    )
    print(f"ircore: {summary['verdict']}", file=sys.stderr)
    print(index)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ircore", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the demo org and its report, offline")
    demo.add_argument("--out", default="reports/demo", help="report bundle folder")
    demo.add_argument("--workdir", help="where the demo org's repositories go")
    demo.add_argument("--seed", type=int, default=20250908)
    demo.set_defaults(run=_cmd_demo)

    report = commands.add_parser("report", help="investigate and write an HTML report bundle")
    report.add_argument("--incident", required=True, help="incident spec (YAML)")
    report.add_argument("--sources", required=True, help="sources config (YAML)")
    report.add_argument("--out", required=True, help="report bundle folder")
    report.add_argument(
        "--overwrite", action="store_true", help="replace an earlier bundle in --out"
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
        cmd.add_argument("--json", action="store_true", help="print one JSON object per row")
        if name == "scan":
            cmd.add_argument(
                "--advisories",
                nargs="+",
                required=True,
                help="OSV files/folders/zips and name,version lists",
            )
        cmd.set_defaults(run=_cmd_scan if name == "scan" else _cmd_inventory)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (IrcoreError, FileExistsError) as exc:
        print(f"ircore: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
