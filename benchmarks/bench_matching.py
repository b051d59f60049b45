"""Advisories at scale: load 200,000 OSV records from a zip, match them against 1,000,000 rows.

Run on demand: ``.venv/bin/python benchmarks/bench_matching.py [--records N] [--rows N]``.

The records are generated in the shape of the real MAL- records in ``../shared/corpus`` (an id,
aliases, a summary, ``affected`` with exact ``versions`` or SEMVER ``ranges`` events, and the
``malicious-packages-origins`` block), one JSON member each in an ``all.zip``-style archive in a
temporary folder. The inventory is a frame of the ``inventory`` schema whose (name, version)
pairs are drawn from a few tens of thousands of distinct pairs, as in a large organization: some
names are also named by advisories, so the matcher has real work. Matching is done on distinct
pairs and joined back (DESIGN.md), so its cost follows the distinct pairs, not the rows.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd

from ircore import EvidenceLog, conform, load_advisories, match_exposure


def _record(i: int, rng: random.Random) -> dict[str, object]:
    name = f"pkg-{i % 60_000}" if i % 3 else f"@scope{i % 97}/lib-{i % 40_000}"
    major = rng.randrange(0, 12)
    if i % 2:
        affected = {"versions": [f"{major}.{rng.randrange(10)}.{rng.randrange(10)}"]}
    else:
        affected = {
            "ranges": [
                {
                    "type": "SEMVER",
                    "events": [{"introduced": f"{major}.0.0"}, {"fixed": f"{major}.4.0"}],
                }
            ]
        }
    return {
        "schema_version": "1.5.0",
        "id": f"MAL-2099-{i}",
        "aliases": [f"GHSA-bench-{i:06d}"] if i % 5 == 0 else [],
        "summary": f"Malicious code in {name} (npm)",
        "details": "Generated for the benchmark.",
        "published": "2025-09-08T13:00:00Z",
        "modified": "2025-09-09T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": name},
                **affected,
                "database_specific": {"cwes": [{"cweId": "CWE-506"}]},
            }
        ],
        "database_specific": {
            "malicious-packages-origins": [
                {"source": "bench", "import_time": "2025-09-08T14:00:00Z", "id": f"b-{i}"}
            ]
        },
    }


def _zip(path: Path, records: int) -> Path:
    rng = random.Random(7)
    archive = path / "all.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for i in range(records):
            out.writestr(f"MAL-2099-{i}.json", json.dumps(_record(i, rng)))
    return archive


def _inventory(rows: int, distinct: int) -> pd.DataFrame:
    rng = random.Random(11)
    pairs = []
    for i in range(distinct):
        name = f"pkg-{rng.randrange(120_000)}" if i % 4 else f"@scope{i % 97}/lib-{i % 40_000}"
        pairs.append((name, f"{rng.randrange(12)}.{rng.randrange(10)}.{rng.randrange(10)}"))
    picks = [pairs[rng.randrange(distinct)] for _ in range(rows)]
    frame = pd.DataFrame(
        {
            "name": [p[0] for p in picks],
            "version": [p[1] for p in picks],
            "repo": [f"repo-{i % 5000}" for i in range(rows)],
            "ref": "main",
            "surface": "default_branch",
            "file": "package-lock.json",
            "origin_kind": "registry",
            "source": "bench",
            "evidence": "bench",
        }
    )
    return conform(frame, "inventory")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=40_000, help="distinct (name, version)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ircore-bench-") as tmp:
        start = time.perf_counter()
        archive = _zip(Path(tmp), args.records)
        print(
            f"generated {args.records:,} records: {archive.stat().st_size / 1e6:.1f} MB zip "
            f"in {time.perf_counter() - start:.1f} s"
        )
        log = EvidenceLog()
        start = time.perf_counter()
        advisories = load_advisories(archive, log=log)
        took = time.perf_counter() - start
        print(
            f"load_advisories: {len(advisories):,} rows in {took:.1f} s "
            f"({args.records / took:,.0f} records/s); problems: {len(log.problems)}"
        )
    start = time.perf_counter()
    inventory = _inventory(args.rows, args.distinct)
    print(
        f"inventory: {len(inventory):,} rows, "
        f"{len(inventory[['name', 'version']].drop_duplicates()):,} distinct pairs "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )
    start = time.perf_counter()
    exposure = match_exposure(inventory, advisories)
    took = time.perf_counter() - start
    print(f"match_exposure: {len(exposure):,} exposure rows in {took:.1f} s")
    print(f"peak memory: {_peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
