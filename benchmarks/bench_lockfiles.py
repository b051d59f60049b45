"""Parser throughput on the real lockfiles of ../shared/corpus: lockfiles/s and MB/s.

Run on demand: ``make bench`` (or ``python benchmarks/bench_lockfiles.py [--seconds N]``).
Each file is parsed repeatedly for about ``--seconds``; the figures are per file and overall.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ircore.inventory import PARSERS

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "lockfiles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent per file")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.rglob("*") if p.name in PARSERS)
    if not files:
        raise SystemExit(f"no lockfiles this version reads under {args.corpus}")
    total_files = total_bytes = 0
    total_time = 0.0
    print(f"{'file':60} {'KB':>7} {'rows':>6} {'files/s':>8} {'MB/s':>7}")
    for path in files:
        data = path.read_bytes()
        manifest = path.with_name("package.json")
        manifest_data = manifest.read_bytes() if manifest.is_file() else None
        parse = PARSERS[path.name]
        runs, start = 0, time.perf_counter()
        while True:
            _, rows, _ = parse(data, manifest_data)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.seconds:
                break
        total_files += runs
        total_bytes += runs * len(data)
        total_time += elapsed
        name = str(path.relative_to(args.corpus))
        print(
            f"{name:60} {len(data) / 1024:7.0f} {len(rows):6d} {runs / elapsed:8.1f} "
            f"{runs * len(data) / elapsed / 1e6:7.1f}"
        )
    print(
        f"{'overall':60} {'':7} {'':6} {total_files / total_time:8.1f} "
        f"{total_bytes / total_time / 1e6:7.1f}"
    )


if __name__ == "__main__":
    main()
