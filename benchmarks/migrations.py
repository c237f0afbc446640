"""Section 4 (migrations): v1 -> head on a ProfileMesh-era store holding many results rows, through
`profilemesh migrate apply` and through the same SQL run by hand; `migrate status` latency and imports.

    python benchmarks/migrations.py [--results 10000000] [--repeat 1] [--quick] [--postgres-dsn DSN]

The legacy store is built the way tests/legacy_stores.py builds one (the tables as deployed before
versioning), filled set-based, then copied (a file copy on DuckDB, a template database on PostgreSQL)
so that every attempt starts from the same store. "By hand" runs exactly the SQL that
`migrate apply --dry-run` prints for that copy (the ledger writes included) through the database's own
client (psql; the duckdb Python module on DuckDB). `apply` also probes each step before running it and
rebuilds the query views with dbt afterwards; the by-hand figure does neither.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import stores
from harness import markdown_table, met, postgres, print_section, ratio, section_parser

from profilemesh.dbt.package import DbtPackage

RUNS_PER_MILLION_RESULTS = 10_000  # 100 metrics per run, like the query store
HEAD = DbtPackage.installed().head


def _legacy_ddl(kind: str) -> list[str]:
    pg = kind == "postgres"
    ts, double = ("TIMESTAMP", "FLOAT") if pg else ("TIMESTAMP", "DOUBLE")
    now = "CURRENT_TIMESTAMP"
    schema = stores.SCHEMA
    ids = "id SERIAL NOT NULL" if pg else f"id INTEGER DEFAULT nextval('{schema}.legacy_results_seq') NOT NULL"
    return [
        f'CREATE SCHEMA IF NOT EXISTS "{schema}"',
        *([] if pg else [f'CREATE SEQUENCE "{schema}".legacy_results_seq']),
        f'CREATE TABLE "{schema}".profilemesh_runs (run_id VARCHAR(36) NOT NULL, dataset_name VARCHAR(255) NOT NULL,'
        f" schema_name VARCHAR(255), profiled_at {ts} NOT NULL, environment VARCHAR(50), status VARCHAR(20),"
        " row_count INTEGER, column_count INTEGER, PRIMARY KEY (run_id, dataset_name))",
        f'CREATE TABLE "{schema}".profilemesh_results ({ids}, run_id VARCHAR(36) NOT NULL,'
        " dataset_name VARCHAR(255) NOT NULL, schema_name VARCHAR(255), column_name VARCHAR(255) NOT NULL,"
        f" column_type VARCHAR(100), metric_name VARCHAR(100) NOT NULL, metric_value TEXT, profiled_at {ts} NOT NULL,"
        " PRIMARY KEY (id))",
        f'CREATE TABLE "{schema}".profilemesh_events (event_id VARCHAR(36) NOT NULL, event_type VARCHAR(100) NOT NULL,'
        " table_name VARCHAR(255), column_name VARCHAR(255), metric_name VARCHAR(100),"
        f" baseline_value {double}, current_value {double}, change_percent {double}, drift_severity VARCHAR(20),"
        f" timestamp {ts} NOT NULL, metadata TEXT, created_at {ts} DEFAULT {now}, PRIMARY KEY (event_id))",
        f'CREATE TABLE "{schema}".profilemesh_table_state (schema_name VARCHAR(255), table_name VARCHAR(255) NOT NULL,'
        " last_run_id VARCHAR(36), snapshot_id VARCHAR(255), change_token VARCHAR(255), decision VARCHAR(50),"
        f" decision_reason VARCHAR(255), last_profiled_at {ts}, staleness_score INTEGER, row_count BIGINT,"
        " bytes_scanned BIGINT, metadata TEXT, PRIMARY KEY (schema_name, table_name))",
    ]


def build_legacy_store(kind: str, directory: Path, dsn: str | None, *, results: int) -> stores.BenchStore:
    """An unversioned ProfileMesh-era store: results' metric values are text, 1 in 5 not a number."""
    store = stores.new_duckdb_store(directory) if kind == "duckdb" else stores.new_postgres_store(directory, dsn or "")
    store.execute(*_legacy_ddl(kind))
    pg = kind == "postgres"
    runs = max(1, results * RUNS_PER_MILLION_RESULTS // 1_000_000)
    per_run = max(1, results // runs)
    series = (lambda n: f"generate_series(0::bigint, {n} - 1) AS g(i)") if pg else (lambda n: f"range(0, {n}) AS g(i)")
    text = (lambda e: f"({e})::text") if pg else (lambda e: f"CAST({e} AS VARCHAR)")
    run = f"(i / {per_run})" if pg else f"(i // {per_run})"
    at = "TIMESTAMP '2024-01-01'" + (" + make_interval(secs => i)" if pg else " + to_seconds(i)")
    value = (
        f"CASE WHEN i % 5 = 4 THEN 'shipped' WHEN i % 5 = 3 THEN {text('i % 997')} || '.25'"
        f" ELSE {text('i % 100000')} END"
    )
    table = f"'table_' || {text(f'{run} % 100')}"
    store.execute(
        f"INSERT INTO {store.table('profilemesh_runs')} SELECT 'run-' || {text('i')}, 'table_' || {text('i % 100')},"
        f" 'sales', {at}, 'prod', 'completed', i % 1000, 20 FROM {series(runs)}",
        f"INSERT INTO {store.table('profilemesh_results')} (run_id, dataset_name, schema_name, column_name,"
        f" column_type, metric_name, metric_value, profiled_at) SELECT 'run-' || {text(run)}, {table}, 'sales',"
        f" 'col_' || {text(f'i % {per_run} / 5')}, 'DOUBLE', 'metric_' || {text('i % 5')}, {value}, {at}"
        f" FROM {series(per_run * runs)}",
        f"INSERT INTO {store.table('profilemesh_events')} (event_id, event_type, table_name, column_name, metric_name,"
        f" baseline_value, current_value, change_percent, drift_severity, timestamp) SELECT 'ev-' || {text('i')},"
        f" 'DataDriftDetected', 'table_' || {text('i % 100')}, 'col_1', 'mean', 10, 15, 50, 'low', {at}"
        f" FROM {series(max(1, runs // 5))}",
    )
    if pg:
        store.execute(*(f"ANALYZE {store.table(t)}" for t in ("profilemesh_runs", "profilemesh_results")))
    return store


def apply_once(legacy: stores.BenchStore, directory: Path, dsn: str | None) -> tuple[float, float, stores.BenchStore]:
    """`migrate apply` on a fresh copy: wall seconds, the engine's own execution_ms for the versions after
    the adopted v1 (in seconds), and the migrated copy (the caller drops it)."""
    copy = stores.copy_store(legacy, directory, dsn)
    started = time.perf_counter()
    stores.migrate(copy)
    seconds = time.perf_counter() - started
    engine_ms = copy.scalar(f"SELECT sum(execution_ms) FROM {copy.table('profilemesh_schema_version')}"
                            " WHERE version >= 2 AND status = 'succeeded'")  # fmt: skip
    return seconds, float(engine_ms or 0) / 1000, copy


def by_hand_once(legacy: stores.BenchStore, directory: Path, dsn: str | None) -> float:
    """The SQL `migrate apply --dry-run` prints for a fresh copy, run there by the database's own client."""
    copy = stores.copy_store(legacy, directory, dsn)
    try:
        script = stores.run(copy.cli_argv("migrate", "apply", "--dry-run")).stdout
        argv = copy.native_argv([script], read_only=False)
        started = time.perf_counter()
        stores.run(argv)
        seconds = time.perf_counter() - started
        version = copy.scalar(f"SELECT max(version) FROM {copy.table('profilemesh_schema_version')}"
                              " WHERE status = 'succeeded'")  # fmt: skip
        assert version == HEAD, version  # the script took the store to head
        return seconds
    finally:
        stores.drop_store(copy, dsn)


def _median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


STATUS_IMPORTS = (
    "import sys\nfrom profilemesh.cli.main import main\ncode = main(['migrate', 'status', '-c', sys.argv[1]])\n"
    "print('DBT_MODULES', sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')))\n"
)


def status_rows(store: stores.BenchStore, repeat: int) -> tuple[list[list[object]], bool, float]:
    """`migrate status` against bare Python, and whether it imported dbt."""
    bare = stores.median(lambda: stores.run([sys.executable, "-c", "pass"]), repeat)
    argv = store.cli_argv("migrate", "status")
    status = stores.median(lambda: stores.run(argv), repeat)
    probe = stores.run([sys.executable, "-c", STATUS_IMPORTS, str(store.config_path)]).stdout
    no_dbt = "DBT_MODULES []" in probe
    rows = [
        [f"{store.label}: python -c pass", bare, ""],
        [f"{store.label}: profilemesh migrate status", status, f"+{status - bare:.3f} s"],
    ]
    return rows, no_dbt, status - bare


def migrations_report(*, results: int, repeat: int, postgres_dsn: str, quick: bool = False) -> tuple[str, list]:
    """Markdown for section 4, and the targets rows ([target, figure, met/missed])."""
    table, status_table, targets = [], [], []
    with tempfile.TemporaryDirectory(prefix="pm-bench-migrations-") as tmp:
        for kind in ("duckdb", "postgres"):
            started = time.perf_counter()
            legacy = build_legacy_store(kind, Path(tmp) / f"{kind}-legacy", postgres_dsn, results=results)
            built = time.perf_counter() - started
            applies = [apply_once(legacy, Path(tmp) / f"{kind}-apply-{i}", postgres_dsn) for i in range(repeat)]
            for _, _, copy in applies[1:]:
                stores.drop_store(copy, postgres_dsn)
            migrated = applies[0][2]  # for `migrate status`
            hands = [by_hand_once(legacy, Path(tmp) / f"{kind}-hand-{i}", postgres_dsn) for i in range(repeat)]
            apply_s, engine_s, hand_s = (
                _median([a[0] for a in applies]),
                _median([a[1] for a in applies]),
                _median(hands),
            )
            table.append(
                [legacy.label, f"{results:,}", f"{built:.0f}", hand_s, apply_s, engine_s, ratio(apply_s, hand_s)]
            )
            reason = (
                f"the migration's steps took {engine_s:.2f} s inside apply; the rest is dbt (start-up, parse, "
                "step probes) and rebuilding the query views, which the by-hand SQL does not do"
            )
            ok = apply_s <= 1.2 * hand_s
            targets.append([f"migrations, {legacy.label}: apply ≤ 1.2x by hand", ratio(apply_s, hand_s), met(ok),
                            "" if ok else reason])  # fmt: skip
            rows, no_dbt, above = status_rows(migrated, 1 if quick else max(3, repeat))
            status_table += rows
            reason = "" if above <= 0.5 else (
                "imports SQLAlchemy and the driver and opens a connection; measured under the machine's load "
                "(see the load average above)"
            )  # fmt: skip
            targets.append([f"migrate status, {legacy.label}: ≤ +0.5 s over bare Python", f"+{above:.3f} s",
                            met(above <= 0.5), reason])  # fmt: skip
            targets.append([f"migrate status, {legacy.label}: never imports dbt", "no dbt module loaded" if no_dbt
                             else "dbt imported", met(no_dbt), ""])  # fmt: skip
            for store in (migrated, legacy):
                stores.drop_store(store, postgres_dsn)
    note = (
        f"v1 -> head on an unversioned ProfileMesh-era store (adopted as v1, then migrated); each attempt on a fresh "
        f"copy, median of {repeat}. `apply` = the whole command (dbt start-up, step probes, the migration, the "
        "query views' rebuild); `engine` = the ledger's execution_ms for v2 (the steps alone)."
    )
    headers = ["engine", "results rows", "store built s", "by hand s", "apply s", "engine s", "apply / by hand"]
    text = "\n\n".join(
        [
            note,
            markdown_table(headers, table),
            markdown_table(["command", "median s", "above bare Python"], status_table),
        ]
    )
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=1)
    parser.add_argument("--results", type=int, default=10_000_000)
    args = parser.parse_args()
    results, repeat = (1_000, 1) if args.quick else (args.results, args.repeat)
    with postgres(args.postgres_dsn) as dsn:
        text, targets = migrations_report(results=results, repeat=repeat, postgres_dsn=dsn, quick=args.quick)
    print_section(text, targets)


if __name__ == "__main__":
    main()
