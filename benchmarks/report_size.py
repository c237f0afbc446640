"""`profilemesh report` on a big history: render time and file size (docs/benchmarks.md, "Report").

    python benchmarks/report_size.py [--tables 1000] [--runs 100000] [--results-per-run 50] [--days 0]
        [--repeat 3] [--keep FILE]

A DuckDB store is migrated with the real `profilemesh migrate apply`, then filled set-based in SQL
(stores.fill_store: `runs` runs over the last 365 days, one table each, round-robin over `tables`;
`results-per-run` metrics per run over results-per-run / 5 columns; drift events on a fifth of the
runs). The time is the library call `profilemesh.api.report` (connection, reading, building, writing
the file), the median of `--repeat` after one warm-up; the size is the file it wrote. A benchmark,
not a test: targets are under 10 s and under 20 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import stores
from harness import machine_info, measure

from profilemesh.api import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--results-per-run", type=int, default=50)
    parser.add_argument("--days", type=int, default=0, help="the report's window (0: all history)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="copy the last report written here")
    args = parser.parse_args(argv)

    directory = Path(tempfile.mkdtemp(prefix="pm-report-bench-"))
    try:
        started = time.perf_counter()
        store = stores.new_migrated_store("duckdb", directory / "store", None)
        stores.fill_store(store, runs=args.runs, results_per_run=args.results_per_run, tables=args.tables)
        built = time.perf_counter() - started
        output = directory / "report.html"
        ctx = store.ctx
        results = []

        def render() -> None:
            results.append(report(ctx, str(output), days=args.days))

        timing = measure(render, repeat=args.repeat, warmup=1)
        last = results[-1]
        if args.keep:
            shutil.copyfile(output, args.keep)
        print(machine_info())
        print(
            f"store: {args.tables:,} tables, {args.runs:,} runs, {args.runs * args.results_per_run:,} results "
            f"(migrated and filled in {built:.0f} s); report window: "
            f"{'all history' if args.days == 0 else f'{args.days} days'}"
        )
        print(
            f"report: {last.tables:,} tables, {last.runs:,} runs, {last.drift_events:,} drift events; "
            f"render median {timing.median:.2f} s (runs: {', '.join(f'{t:.2f}' for t in timing.runs)}); "
            f"file {last.bytes / 1_000_000:.1f} MB"
        )
        ok = timing.median < 10 and last.bytes < 20_000_000
        print(f"targets (< 10 s, < 20 MB): {'met' if ok else 'missed'}")
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
