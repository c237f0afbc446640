"""Every ProfileMesh benchmark in one run, written to one markdown file (docs/benchmarks.md).

    python benchmarks/run_all.py [--quick] [--only N,N] [--rows N] [--postgres-dsn DSN] [--out docs/benchmarks.md]

Without --postgres-dsn a throwaway PostgreSQL cluster is started (and removed afterwards); PostgreSQL
server binaries must be installed (or PROFILEMESH_PG_BINDIR set). Sections:

1. profiling (benchmarks/profile_plans.py)   2. writes (writes.py)   3. queries (queries.py)
4. migrations (migrations.py)                5. how cost grows (profiling and queries at three sizes)
6. the quick commands' cold start (cold_start.py)
7. drift quality on real data sets (drift_quality.py: incidents caught, alarms on quiet days)
8. an incremental run against a full profile (incremental.py)
10. a metadata pass over 500 tables against the bare catalog query (monitor.py)
11. what distributions add to a table's exact profile (distributions.py)

Every figure is a median after a warm-up, shown next to its floor from the same run. `--quick` runs
tiny sizes to check that the scripts work: it is never a timing, and it writes to stdout unless --out
is given (the file then says so at the top). `--only 3,4` runs those sections alone (with the findings
and the targets of what ran), to stdout unless --out is given: the test suite runs the quick sections
in two such halves, side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cold_start
import distributions
import drift_quality
import incremental
import migrations
import monitor
import profile_plans
import queries
import stores
import writes
from harness import REPO_ROOT, machine_info, markdown_table, postgres

# What these benchmarks found and what was changed because of them (kept with the generator, so a
# rerun keeps the record; the figures above it are from the run itself).
FINDINGS = """## What the measurements changed

- **CLI start-up.** Every command imported the quickstart's demo (SQLAlchemy, DuckDB, the profiler)
  when the command group loaded: `profilemesh --version` took ~0.8 s against ~0.3 s after making it
  lazy. A test keeps the command group free of database drivers and dbt.
- **The v2 backfill on PostgreSQL.** The safe numeric cast wrote its digit caps as `{1,250}` inside the
  regex; PostgreSQL's regex engine expands those bounds, and the cast ran ~20x slower (3.5 s against
  0.17 s for 200k values). The caps are now checked apart, only on text long enough to break them:
  the same results, and the adoption tests pass unchanged.
- **The backfill probe.** Before each step the engine asks whether it is already in effect; for the
  backfill it counted every pending row (a full scan with the cast). It now asks whether one exists
  (`LIMIT 1`), which answers at the first row of a fresh store.
- **`query runs` on PostgreSQL.** `profilemesh_runs_v` joined the runs to aggregates over the whole
  results and events tables, so every page aggregated the whole history (EXPLAIN: seq scan of
  results; 1.1 s for a page at 2M results). On PostgreSQL the view now computes the counts with
  correlated subqueries, which the planner evaluates by index only for the rows a page returns
  (0.05 s, identical rows), and has no WITH clause: PostgreSQL does not flatten a view whose query
  has one, and then evaluated the subqueries for every row in the date window before the LIMIT
  (0.31 s against 0.055 s at 2M results). DuckDB keeps the join form: it pushes the filters into it,
  but computes a decorrelated subquery over the whole table.
- **`migrate status` and every `query` command** read the ledger's columns by reflection, ~0.4 s on
  DuckDB (duckdb_engine's catalog queries); an empty `SELECT` gives them in milliseconds.
- **The bulk writer** renders its CSV in one `writerows` call (None is already an empty field).
- **DuckDB's approximate distinct counts.** `approx_count_distinct` was up to 8% off exact (its
  HyperLogLog has few registers; duckdb/duckdb#20916), and hashing the values first did not help. Our
  own HyperLogLog, written in SQL (2^14 registers per column, one `GROUP BY`, the estimate computed in
  the same statement), was within 1.3% at 1M x 50 in half the time of exact counting (0.51 s against
  0.98 s) — slower than `approx_count_distinct` (0.06 s), which is why approximate mode on DuckDB is
  not 5x faster than exact (see section 1's targets).
- **dbt's parse, once per machine.** Every command that runs dbt parsed the whole package again in a
  fresh private directory (~1.8 s). dbt's partial-parse file is now kept between processes
  (`profilemesh/dbt/parse_cache.py`): `migrate validate` 4.9 s -> 3.1 s, and it shortens `apply` in
  section 4. A no-op `apply` no longer rebuilds the query views when this package built them for this
  version (not measured here: section 4 applies a real migration).
- **Not changed:** an index on `runs(profiled_at)` would serve `query runs`' date filter (today a seq
  scan of runs, which grows with the number of runs; see section 5). It needs a third migration,
  which moves the query layer's one-version-behind window (a v1 store would then be refused), so it
  is left as a decision for a schema release rather than made here.
"""


# Every section, in the order a run takes them: writes, queries and migrations before the profiling
# sections, the longest; 10 after 8, which builds the stores' templates. The document lists them by number.
SECTIONS = (
    "8. Incremental profiling",
    "10. Metadata monitoring",
    "7. Drift quality on real data",
    "6. Cold start of the quick commands",
    "2. Writes",
    "3. Queries",
    "4. Migrations",
    "1. Profiling",
    "5. How cost grows",
    "11. Distributions' cost",
)


def section_number(title: str) -> int:
    return int(title.split(".")[0])


def section_numbers(text: str) -> set[int]:
    """`--only 1,4,7`: the sections to run, each one that exists."""
    known = {section_number(title) for title in SECTIONS}
    try:
        numbers = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"section numbers, comma-separated: {text!r}") from None
    if not numbers or numbers - known:
        raise argparse.ArgumentTypeError(f"no such section: {sorted(numbers - known) or text!r}; sections: "
                                         + ", ".join(str(n) for n in sorted(known)))  # fmt: skip
    return numbers


@dataclass(frozen=True)
class Sizes:
    profile_rows: int
    widths: list[int]
    profile_growth: list[int]
    growth_columns: int
    write_rows: int
    runs: int
    results_per_run: int
    query_growth: list[int]
    growth_results_per_run: int
    migration_results: int
    repeat: int
    migration_repeat: int


def sizes(args: argparse.Namespace) -> Sizes:
    if args.quick:
        return Sizes(2_000, [10], [1_000, 2_000, 4_000], 10, 500, 200, 10, [100, 200, 400], 10, 2_000, 1, 1)
    return Sizes(
        profile_rows=args.rows,
        widths=[int(w) for w in args.widths.split(",")],
        profile_growth=[int(s) for s in args.profile_growth.split(",")],
        growth_columns=10,
        write_rows=100_000,
        runs=args.runs,
        results_per_run=100,
        query_growth=[int(s) for s in args.query_growth.split(",")],
        growth_results_per_run=10,
        migration_results=args.migration_results,
        repeat=args.repeat,
        migration_repeat=1,
    )


class Report:
    """The markdown document, rewritten after every section so that a long run shows its progress.
    Sections appear in their numbered order whatever order they ran in."""

    def __init__(self, out: Path | None, header: str) -> None:
        self.out, self.head, self.sections, self.tail, self.targets = out, [header], {}, [], []

    @property
    def parts(self) -> list[str]:
        numbered = sorted(self.sections, key=section_number)  # 10 after 9, not after 1
        return self.head + [self.sections[k] for k in numbered] + self.tail

    def add(self, text: str, *, at_end: bool = False) -> None:
        (self.tail if at_end else self.head).append(text)
        self.flush()

    def flush(self) -> None:
        if self.out is not None:
            self.out.write_text("\n\n".join(self.parts) + "\n", encoding="utf-8")

    def section(self, title: str, run: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            body = run()
        except Exception as exc:  # one failed section must not lose the others: say so in the document
            body = f"**This section failed:** `{type(exc).__name__}: {str(exc)[:500]}`"
            self.targets.append([title, "section failed", "missed", str(exc)[:200]])
        self.sections[title] = f"## {title}\n\n_{time.perf_counter() - started:.0f} s to run._\n\n{body}"
        self.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the scripts, never a timing")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the profiled tables (up to 10M)")
    parser.add_argument("--widths", default="10,50,200", help="profiled table widths, comma-separated")
    parser.add_argument("--profile-growth", default="100000,1000000,10000000", help="rows for section 5")
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the query store (100 results each)")
    parser.add_argument("--query-growth", default="10000,100000,1000000", help="runs for section 5 (10 results each)")
    parser.add_argument("--migration-results", type=int, default=10_000_000, help="results rows in the v1 store")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions after the warm-up")
    parser.add_argument("--postgres-dsn", default=None, help="default: a throwaway cluster of our own")
    parser.add_argument("--out", type=Path, default=None, help="default: docs/benchmarks.md (--quick, --only: stdout)")
    parser.add_argument("--only", type=section_numbers, default=None, metavar="N,N",
                        help="these sections alone (numbers, comma-separated); never docs/benchmarks.md")  # fmt: skip
    args = parser.parse_args(argv)
    partial = args.quick or args.only is not None
    out = args.out if args.out is not None or partial else REPO_ROOT / "docs" / "benchmarks.md"
    size = sizes(args)
    if args.quick:
        stores.WARMUP = 0
    command = "python benchmarks/run_all.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    started = dt.datetime.now(dt.UTC)
    header = "\n\n".join(
        [
            "# Benchmarks",
            "**Quick mode: tiny sizes that check the scripts work. These figures are not timings.**"
            if args.quick
            else "Measured in one run on the machine below. Every figure is a median after a warm-up and stands "
            "next to its floor from the same run: on a shared machine the ratios mean more than the seconds.",
            f"- Command: `{command}`\n- Started: {started:%Y-%m-%d %H:%M} UTC; load average at start "
            f"{os.getloadavg()[0]:.1f}\n{machine_info()}",
        ]
    )
    report = Report(out, header)
    with postgres(args.postgres_dsn) as dsn:
        report.add(f"- PostgreSQL: {_pg_version(dsn)}" + ("" if args.postgres_dsn else " (a throwaway local cluster)"))
        try:
            run_sections(report, size, dsn, args.quick, args.only)
        finally:
            stores.drop_templates()
    report.add(FINDINGS.rstrip(), at_end=True)
    report.add(targets_summary(report), at_end=True)
    finished = dt.datetime.now(dt.UTC)
    report.add(f"_Finished {finished:%Y-%m-%d %H:%M} UTC ({(finished - started).total_seconds() / 60:.0f} min); "
               f"load average at the end {os.getloadavg()[0]:.1f}._", at_end=True)  # fmt: skip
    if out is None:
        print("\n\n".join(report.parts))
    else:
        print(f"wrote {out}")
    return 0


def run_sections(report: Report, s: Sizes, dsn: str, quick: bool, only: set[int] | None = None) -> None:
    def profiling() -> str:
        text = profile_plans.profiling_report(
            rows=s.profile_rows, widths=s.widths, repeat=s.repeat, postgres_dsn=dsn, quick=quick
        )
        report.targets.append(["profiling: every target", "see the table at the end of section 1", "—", ""])
        return text

    def write_section() -> str:
        text, targets = writes.writes_report(rows=s.write_rows, repeat=s.repeat, postgres_dsn=dsn, quick=quick)
        report.targets += targets
        return text

    def query_section() -> str:
        text, targets = queries.queries_report(
            runs=s.runs, results_per_run=s.results_per_run, repeat=s.repeat, postgres_dsn=dsn, quick=quick
        )
        report.targets += targets
        return text

    def migration_section() -> str:
        text, targets = migrations.migrations_report(
            results=s.migration_results, repeat=s.migration_repeat, postgres_dsn=dsn, quick=quick
        )
        report.targets += targets
        return text

    def growth() -> str:
        profile = profile_plans.profiling_growth(
            sizes=s.profile_growth, columns=s.growth_columns, repeat=s.repeat, postgres_dsn=dsn
        )
        query = queries.queries_growth(
            sizes=s.query_growth, results_per_run=s.growth_results_per_run, repeat=s.repeat, postgres_dsn=dsn
        )
        return f"### Profiling, by rows\n\n{profile}\n\n### Queries, by runs in the store\n\n{query}"

    def cold_start_section() -> str:
        text, targets = cold_start.cold_start_report(repeat=max(s.repeat, 5) if not quick else 1,
                                                     runs=50 if quick else 300)  # fmt: skip
        report.targets += targets
        return text

    def drift_quality_section() -> str:
        text, targets = drift_quality.quality_report(quick=quick, days=120)
        report.targets += targets
        return text

    def incremental_section() -> str:
        rows = 20_000 if quick else 10_000_000
        text, targets = incremental.incremental_report(rows=rows, repeat=1 if quick else s.repeat, dsn=dsn)
        report.targets += targets
        return text

    def monitor_section() -> str:
        text, targets = monitor.monitor_report(tables=20 if quick else 500, repeat=1 if quick else 5, dsn=dsn)
        report.targets += targets
        return text

    def distributions_section() -> str:
        # --quick: 2,000 rows x 10 columns, once (the script's own --quick is 20,000 x 14).
        rows, width = (2_000, 10) if quick else (s.profile_rows, 50)
        text, targets = distributions.report(rows=rows, width=width, repeat=1 if quick else s.repeat, postgres_dsn=dsn)
        report.targets += targets
        return text

    run = {8: incremental_section, 10: monitor_section, 7: drift_quality_section, 6: cold_start_section,
           2: write_section, 3: query_section, 4: migration_section, 1: profiling, 5: growth,
           11: distributions_section}  # fmt: skip
    for title in SECTIONS:
        if only is None or section_number(title) in only:
            report.section(title, run[section_number(title)])


def targets_summary(report: Report) -> str:
    met = sum(1 for row in report.targets if row[2] == "met")
    missed = sum(1 for row in report.targets if row[2] == "missed")
    return (
        f"## Targets\n\n{met} met, {missed} missed (the profiling targets are in section 1's own table). "
        "A missed target keeps its figure and the measured reason; targets are never adjusted.\n\n"
        + markdown_table(["target", "measured", "result", "why, when missed"], report.targets)
    )


def _pg_version(dsn: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
