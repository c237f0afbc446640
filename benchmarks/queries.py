"""Section 3 (queries) and the query half of section 5 (growth): `profilemesh query` end to end against
the same SQL run by the database's own client, CLI cold start against bare Python, and the plans.

    python benchmarks/queries.py [--runs 100000] [--results-per-run 100] [--repeat 3] [--quick]
        [--postgres-dsn DSN]

The store is migrated with the real `profilemesh migrate apply` (so the query views are the real
ones), then filled set-based in SQL. The native SQL is exactly what the library sends: the CLI's
statements are captured in-process (SQLAlchemy `before_execute`) and rendered with literal values.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import stores
from harness import markdown_table, met, postgres, print_section, ratio, section_parser

from profilemesh.query import queries
from profilemesh.query.reader import open_reader

TABLES_PER_1000_RUNS = 1  # so one table's history stays the same length as the store grows


@dataclass(frozen=True)
class Case:
    label: str
    args: tuple[str, ...]  # after `profilemesh query`
    call: Callable[..., object]  # the library call the subcommand makes, on a Reader
    filters: tuple[str, ...]  # what the plan check expects to be served


def cases(runs: int) -> list[Case]:
    last = f"run-{runs - 1:09d}"
    table = f"table_{(runs - 1) % tables_for(runs):09d}"
    return [
        Case("runs", ("runs",), lambda r: queries.list_runs(r), ("profiled_at",)),
        Case(
            "runs --table",
            ("runs", "--table", table),
            lambda r: queries.list_runs(r, table=table),
            ("dataset_name", "profiled_at"),
        ),
        Case("drift", ("drift",), lambda r: queries.list_drift(r), ("timestamp",)),
        Case(
            "drift --table",
            ("drift", "--table", table),
            lambda r: queries.list_drift(r, table=table),
            ("table_name", "timestamp"),
        ),
        Case("run --run-id", ("run", "--run-id", last), lambda r: queries.run_details(r, last), ("run_id",)),
        Case(
            "table --table", ("table", "--table", table), lambda r: queries.table_history(r, table), ("dataset_name",)
        ),
    ]


def tables_for(runs: int) -> int:
    return max(1, runs * TABLES_PER_1000_RUNS // 1000)


def build_store(kind: str, directory: Path, dsn: str | None, *, runs: int, results_per_run: int) -> stores.BenchStore:
    store = stores.new_migrated_store(kind, directory, dsn)
    stores.fill_store(store, runs=runs, results_per_run=results_per_run, tables=tables_for(runs))
    return store


@contextlib.contextmanager
def capturing(conn: sa.Connection) -> Iterator[list[str]]:
    """Every statement the connection executes from here on, rendered with literal values."""
    captured: list[str] = []

    def hook(_conn, element, _multiparams, params, _options) -> None:
        if isinstance(element, sa.sql.ClauseElement) and not isinstance(element, sa.sql.elements.TextClause):
            compiled = element.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            captured.append(str(compiled))

    sa.event.listen(conn, "before_execute", hook)
    try:
        yield captured
    finally:
        sa.event.remove(conn, "before_execute", hook)


def library_sql(store: stores.BenchStore, case: Case) -> tuple[list[str], float]:
    """The statements the subcommand's library call sends, and its in-process time (connection included)."""
    started = time.perf_counter()
    with open_reader(store.ctx) as reader, capturing(reader.conn) as captured:
        case.call(reader)
    return captured, time.perf_counter() - started


def plan_check(store: stores.BenchStore, statements: list[str]) -> tuple[str, str]:
    """How each storage table is read by the statements (index or seq scan on PostgreSQL; on DuckDB the
    filters pushed into the scan, which is where its zone maps prune), and the tables read in full."""
    engine = store.engine()
    reads: list[tuple[str, str, bool]] = []
    try:
        with engine.connect() as conn:
            for statement in statements:
                if store.kind == "postgres":
                    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}".replace("%", "%%")).scalar()
                    reads += _pg_reads(plan[0]["Plan"])
                else:
                    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}").fetchall()[0][1]
                    reads += _duck_reads(json.loads(plan)[0])
    finally:
        engine.dispose()
    described = "; ".join(dict.fromkeys(f"{table}: {how}" for table, how, _ in reads))
    full = sorted({table for table, _, whole in reads if whole})
    return described, ("full scan of " + ", ".join(full)) if full else "served"


def _pg_reads(node: dict) -> list[tuple[str, str, bool]]:
    reads = []
    relation = node.get("Relation Name", "")
    if relation.startswith("profilemesh_"):
        table = relation.removeprefix("profilemesh_")
        if "Index Name" in node:
            reads.append(
                (table, f"{node['Node Type'].lower()} {node['Index Name'].removeprefix('profilemesh_')}", False)
            )
        else:
            reads.append((table, f"{node['Node Type'].lower()}", node["Node Type"] == "Seq Scan"))
    for child in node.get("Plans", []):
        reads += _pg_reads(child)
    return reads


def _duck_reads(node: dict) -> list[tuple[str, str, bool]]:
    reads = []
    info = node.get("extra_info", {})
    relation = str(info.get("Table", "")).rsplit(".", 1)[-1]
    if relation.startswith("profilemesh_"):
        filters = info.get("Filters", "")
        text = " AND ".join(filters) if isinstance(filters, list) else str(filters)
        columns = sorted(set(re.findall(r"\b([a-z_]+) (?:=|>=|<=|>|<|IN)", text)))
        how = f"scan filtered on {', '.join(columns)}" if columns else "full scan"
        reads.append((relation.removeprefix("profilemesh_"), how, not columns))
    for child in node.get("children", []):
        reads += _duck_reads(child)
    return reads


def time_cli(store: stores.BenchStore, args: tuple[str, ...], repeat: int) -> float:
    argv = store.cli_argv("query", *args)
    return stores.median(lambda: stores.run(argv), repeat)


def time_native(store: stores.BenchStore, statements: list[str], repeat: int) -> float:
    argv = store.native_argv(statements)
    return stores.median(lambda: stores.run(argv), repeat)


def cold_start(repeat: int) -> list[list[object]]:
    bare = stores.median(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat)
    rows = [["python -c pass", bare, "", ""]]
    for args in (("--version",), ("query", "runs", "--help"), ("migrate", "status", "--help")):
        argv = [str(stores.BIN / "profilemesh"), *args]
        seconds = stores.median(lambda argv=argv: stores.run(argv), repeat)
        rows.append([f"profilemesh {' '.join(args)}", seconds, f"+{seconds - bare:.3f} s", met(seconds - bare <= 0.5)])
    return rows


def query_table(store: stores.BenchStore, runs: int, repeat: int) -> tuple[list[list[object]], list[list[object]]]:
    """Per subcommand: CLI and native seconds, their ratio, the library's in-process time; and the plans."""
    rows, plans = [], []
    for case in cases(runs):
        statements, _ = library_sql(store, case)
        library = stores.median(lambda case=case: library_sql(store, case), repeat)
        cli = time_cli(store, case.args, repeat)
        native = time_native(store, statements, repeat)
        rows.append([f"query {case.label}", len(statements), native, cli, library, ratio(cli, native)])
        rows[-1].append(met(cli <= 1.5 * native))
        plans.append([f"query {case.label}", ", ".join(case.filters), *plan_check(store, statements)])
    return rows, plans


def queries_report(
    *, runs: int, results_per_run: int, repeat: int, postgres_dsn: str, quick: bool = False
) -> tuple[str, list[list[object]]]:
    """Markdown for section 3 (per engine: subcommands CLI vs native, the plans; cold start), and the
    targets rows ([target, measured, met/missed, reason when missed])."""
    parts, targets = [], []
    parts.append(
        f"Store: {runs:,} runs, {runs * results_per_run:,} results, {tables_for(runs):,} tables, history spread "
        f"over 365 days; median of {repeat} after a warm-up. Native client: `psql` on PostgreSQL; on DuckDB the "
        "`duckdb` Python module run as `python -c` (no DuckDB CLI binary here). Both are separate processes, "
        "so start-up counts on both sides. *Library in-process* is the same call inside one Python process "
        "(connection and ledger check included): the CLI minus its process start."
    )
    starts = cold_start(repeat)
    bare, cli_start = starts[0][1], starts[1][1]
    with tempfile.TemporaryDirectory(prefix="pm-bench-queries-") as tmp:
        for kind in ("duckdb", "postgres"):
            started = time.perf_counter()
            store = build_store(kind, Path(tmp) / kind, postgres_dsn, runs=runs, results_per_run=results_per_run)
            built = time.perf_counter() - started
            rows, plans = query_table(store, runs, repeat)
            parts.append(f"### {store.label} (store migrated and filled in {built:.0f} s)")
            headers = ["subcommand", "statements", "native s", "CLI s", "library in-process s", "CLI / native"]
            parts.append(markdown_table([*headers, "target ≤1.5x"], rows))
            parts.append(f"Plans on {store.label} (storage tables only):")
            parts.append(markdown_table(["subcommand", "filters", "how each storage table is read", "verdict"], plans))
            client = "psql, which starts in milliseconds," if kind == "postgres" else "python with the duckdb module"
            for row in rows:
                label, native, library = row[0], row[2], row[4]
                reason = (
                    ""
                    if row[-1] == "met"
                    else f"CLI start-up {cli_start:.2f} s (`profilemesh --version`; bare Python {bare:.2f} s) + "
                    f"library {library:.2f} s (connection, ledger and view checks, the SQL) against {client} "
                    f"running the SQL alone ({native:.2f} s)"
                )
                targets.append([f"{store.label}: {label} ≤ 1.5x native", row[5], row[-1], reason])
            for plan in plans:
                ok = plan[-1] == "served"
                what = "index" if kind == "postgres" else "filter pushed into the scan (zone maps)"
                targets.append([f"{store.label}: {plan[0]} filters served by {what}", plan[-1], met(ok),
                                "" if ok else f"plan: {plan[2]}"])  # fmt: skip
            stores.drop_store(store, postgres_dsn)
    parts.append("### CLI cold start")
    parts.append(markdown_table(["command", "median s", "above bare Python", "target ≤ +0.5 s"], starts))
    for row in starts[1:]:
        targets.append([f"cold start: {row[0]} ≤ +0.5 s over bare Python", row[2], row[3], ""])
    return "\n\n".join(parts), targets


def queries_growth(*, sizes: list[int], results_per_run: int, repeat: int, postgres_dsn: str) -> str:
    """Markdown for section 5: each subcommand's CLI latency at each store size (one table's history
    stays the same length: tables grow with runs)."""
    parts = []
    with tempfile.TemporaryDirectory(prefix="pm-bench-growth-") as tmp:
        for kind in ("duckdb", "postgres"):
            columns: dict[str, list[object]] = {}
            for size in sizes:
                store = build_store(kind, Path(tmp) / f"{kind}-{size}", postgres_dsn, runs=size,
                                    results_per_run=results_per_run)  # fmt: skip
                for case in cases(size):
                    library = stores.median(lambda store=store, case=case: library_sql(store, case), repeat)
                    columns.setdefault(case.label, [f"query {case.label}"]).append(library)
                stores.drop_store(store, postgres_dsn)
            label = "DuckDB" if kind == "duckdb" else "PostgreSQL"
            parts.append(f"{label}: seconds in-process (the library call, connection included), by runs in the store:")
            rows = [[*row, ratio(row[-1], row[1])] for row in columns.values()]
            headers = ["subcommand", *(f"{s:,} runs" for s in sizes), f"{sizes[-1]:,} / {sizes[0]:,}"]
            parts.append(markdown_table(headers, rows))
    return "\n\n".join(parts)


def main() -> None:
    parser = section_parser(__doc__, repeat=3)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--results-per-run", type=int, default=100)
    args = parser.parse_args()
    runs, repeat = (200, 1) if args.quick else (args.runs, args.repeat)
    with postgres(args.postgres_dsn) as dsn:
        text, targets = queries_report(runs=runs, results_per_run=args.results_per_run, repeat=repeat, postgres_dsn=dsn)
        stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    main()
