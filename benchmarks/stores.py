"""Benchmark stores: ProfileMesh stores on DuckDB and PostgreSQL (config file, real `migrate apply`),
filled set-based in SQL, and the two ways of running a statement from outside (our CLI, the database's
own client) as subprocesses.

The database's own client: `psql` for PostgreSQL; DuckDB ships no CLI binary in this environment, so its
client is the `duckdb` Python module run as `python -c` (its start-up, like psql's, is counted).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml
from harness import REPO_ROOT, Timing, measure

from profilemesh.api import Context
from profilemesh.store.target import StorageTarget

SCHEMA = "profilemesh"
WARMUP = 1  # untimed runs before the timed ones; quick mode (never a timing) sets 0
BIN = Path(sys.executable).parent
PSQL = next((str(p) for p in (Path("/usr/lib/postgresql/15/bin/psql"), Path("/usr/bin/psql")) if p.exists()), "psql")
DUCKDB_CLIENT = (
    "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')\n"
    "for s in sys.argv[3:]:\n    con.execute(s)\n    con.fetchall() if con.description else None"
)


@dataclass
class BenchStore:
    kind: str  # "duckdb" or "postgres"
    config_path: Path
    dsn: str | None = None  # postgres: the database's DSN
    path: Path | None = None  # duckdb: the file

    @property
    def ctx(self) -> Context:
        return Context.load(self.config_path)

    @property
    def target(self) -> StorageTarget:
        return self.ctx.target

    @property
    def label(self) -> str:
        return "DuckDB" if self.kind == "duckdb" else "PostgreSQL"

    def engine(self) -> sa.Engine:
        if self.kind == "duckdb":
            return sa.create_engine(f"duckdb:///{self.path}", poolclass=sa.pool.NullPool)
        return sa.create_engine(self.dsn.replace("postgresql://", "postgresql+psycopg2://"), poolclass=sa.pool.NullPool)

    def execute(self, *statements: str) -> None:
        """Run statements in one transaction (engine disposed afterwards: DuckDB's file lock)."""
        engine = self.engine()
        try:
            with engine.begin() as conn:
                cursor = conn.connection.cursor()  # no parameters: `%` in the SQL is a modulo, not a placeholder
                for statement in statements:
                    cursor.execute(statement)
        finally:
            engine.dispose()

    def scalar(self, statement: str) -> object:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                cursor = conn.connection.cursor()
                cursor.execute(statement)
                return cursor.fetchone()[0]
        finally:
            engine.dispose()

    def table(self, name: str) -> str:
        return f'"{SCHEMA}"."{name}"'

    def native_argv(self, statements: list[str], *, read_only: bool = True) -> list[str]:
        """The database's own client running `statements` in one session, results fetched and discarded."""
        if self.kind == "postgres":
            argv = [PSQL, "-X", "-q", "-A", "-t", "-o", os.devnull, "-v", "ON_ERROR_STOP=1", "-d", self.dsn]
            for statement in statements:
                argv += ["-c", statement]
            return argv
        return [sys.executable, "-c", DUCKDB_CLIENT, str(self.path), "ro" if read_only else "rw", *statements]

    def cli_argv(self, *args: str) -> list[str]:
        return [str(BIN / "profilemesh"), *args[:2], "-c", str(self.config_path), *args[2:]]


def _write_config(directory: Path, connection: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profilemesh.yml"
    path.write_text(yaml.safe_dump({"environment": "bench", "storage": {"connection": connection}}, sort_keys=False))
    return path


def new_duckdb_store(directory: Path) -> BenchStore:
    path = directory / "store.duckdb"
    config = _write_config(directory, {"type": "duckdb", "filepath": str(path), "schema": SCHEMA})
    return BenchStore("duckdb", config, path=path)


def new_postgres_store(directory: Path, server_dsn: str, *, template: str | None = None) -> BenchStore:
    """A fresh database on the server (a copy of `template` when given)."""
    url = sa.engine.make_url(server_dsn)
    database = f"pmbench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        admin.dispose()
    config = _write_config(
        directory,
        {
            "type": "postgres",
            "host": url.host,
            "port": url.port or 5432,
            "database": database,
            "username": url.username,
            "password": url.password or "",
            "schema": SCHEMA,
        },
    )
    dsn = url.set(database=database).render_as_string(hide_password=False)
    return BenchStore("postgres", config, dsn=dsn)


def copy_store(store: BenchStore, directory: Path, server_dsn: str | None) -> BenchStore:
    """An independent copy of a store (a file copy on DuckDB, a template database on PostgreSQL)."""
    if store.kind == "duckdb":
        copy = new_duckdb_store(directory)
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.path, copy.path)
        return copy
    return new_postgres_store(directory, server_dsn or "", template=sa.engine.make_url(store.dsn).database)


def drop_store(store: BenchStore, server_dsn: str | None) -> None:
    if store.kind == "duckdb":
        if store.path is not None:
            store.path.unlink(missing_ok=True)
        return
    admin = sa.create_engine(
        sa.engine.make_url(server_dsn or "").set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(store.dsn).database}" WITH (FORCE)')
    finally:
        admin.dispose()


def run(argv: list[str], *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure stops the benchmark with its output."""
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def migrate(store: BenchStore, *extra: str) -> None:
    run(store.cli_argv("migrate", "apply", *extra))


_MIGRATED: dict[tuple[str, str | None], BenchStore] = {}


def new_migrated_store(kind: str, directory: Path, server_dsn: str | None) -> BenchStore:
    """An empty store at head with its query views. The first one per engine is made by the real
    `profilemesh migrate apply`; the rest are copies of it (dbt starts once per engine per run)."""
    key = (kind, server_dsn if kind == "postgres" else None)
    if key not in _MIGRATED:
        template_dir = Path(tempfile.mkdtemp(prefix="pm-bench-template-"))
        template = new_duckdb_store(template_dir) if kind == "duckdb" else new_postgres_store(template_dir, server_dsn)
        migrate(template)
        _MIGRATED[key] = template
    return copy_store(_MIGRATED[key], directory, server_dsn)


def drop_templates() -> None:
    """Remove the migrated stores `new_migrated_store` copies from (at the end of a run)."""
    for (_, server_dsn), template in list(_MIGRATED.items()):
        drop_store(template, server_dsn)
        shutil.rmtree(template.config_path.parent, ignore_errors=True)
    _MIGRATED.clear()


def median(run_once: Callable[[], object], repeat: int) -> float:
    """harness.measure's median, with this run's warm-up count."""
    return measure(run_once, repeat=repeat, warmup=WARMUP).median


def timed(run_once: Callable[[], object], *, setup: Callable[[], object] | None = None, repeat: int = 3) -> Timing:
    """Median wall time after one warm-up, like harness.measure, with an untimed setup before each run."""
    runs = []
    for index in range(repeat + WARMUP):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run_once()
        if index >= WARMUP:
            runs.append(time.perf_counter() - started)
    runs.sort()
    middle = len(runs) // 2
    median = runs[middle] if len(runs) % 2 else (runs[middle - 1] + runs[middle]) / 2
    return Timing(median, tuple(runs))


def fill_store(store: BenchStore, *, runs: int, results_per_run: int, tables: int, events_per_run: float = 0.2) -> None:
    """Set-based history: `runs` runs spread evenly over the last 365 days across `tables` tables, each with
    `results_per_run` metric rows, and drift events for a fraction of runs. Deterministic."""
    span = 365 * 86400
    events = max(1, int(runs * events_per_run))
    pg = store.kind == "postgres"

    def series(n: int) -> str:
        return f"generate_series(0::bigint, {n} - 1) AS g(i)" if pg else f"range(0, {n}) AS g(i)"

    def text(expr: str) -> str:
        return f"({expr})::text" if pg else f"CAST({expr} AS VARCHAR)"

    def padded(prefix: str, expr: str) -> str:
        return f"'{prefix}' || lpad({text(expr)}, 9, '0')"

    def at(run: str) -> str:  # the run's profiled_at: evenly spaced, the newest now
        now = "(now() at time zone 'utc')" if pg else "(get_current_timestamp() at time zone 'UTC')"
        offset = f"({runs} - 1 - {run}) * {span} / {runs}"
        return f"{now} - " + (f"make_interval(secs => {offset})" if pg else f"to_seconds(CAST({offset} AS BIGINT))")

    def pick(options: list[str], index: str) -> str:
        values = ", ".join(f"'{o}'" for o in options)
        return f"(ARRAY[{values}])[{index} + 1]" if pg else f"[{values}][{index} + 1]"

    def about(run: str) -> str:  # dataset_name, schema_name of a run
        return f"{padded('table_', f'{run} % {tables}')}, 'schema_' || {text(f'{run} % {tables} % 3')}"

    store.execute(
        f"INSERT INTO {store.table('profilemesh_runs')} (run_id, dataset_name, schema_name, profiled_at, environment,"
        f" status, row_count, column_count, error_message, duration_seconds)"
        f" SELECT {padded('run-', 'i')}, {about('i')}, {at('i')}, {pick(['prod', 'dev'], 'i % 2')},"
        f" CASE WHEN i % 25 = 0 THEN 'failed' ELSE 'completed' END, (i % 1000) * 997, 20, NULL, 1.5"
        f" FROM {series(runs)}",
    )
    run = f"(i / {results_per_run})" if pg else f"(i // {results_per_run})"
    store.execute(
        f"INSERT INTO {store.table('profilemesh_results')} (run_id, dataset_name, schema_name, column_name,"
        f" column_type, metric_name, metric_value, metric_value_numeric, profiled_at)"
        f" SELECT {padded('run-', run)}, {about(run)}, 'col_' || {text(f'i % {results_per_run} / 5')}, 'DOUBLE',"
        f" {pick(['mean', 'min', 'max', 'null_count', 'distinct_count'], 'i % 5')}, {text('i % 1000')}, i % 1000,"
        f" {at(run)} FROM {series(runs * results_per_run)}",
    )
    run = f"(i * {max(1, runs // events)})"
    store.execute(
        f"INSERT INTO {store.table('profilemesh_events')} (event_id, event_type, run_id, table_name, schema_name,"
        f" column_name, metric_name, baseline_value, current_value, change_percent, drift_severity, timestamp)"
        f" SELECT {padded('ev-', 'i')}, CASE WHEN i % 10 = 0 THEN 'ProfilingCompleted' ELSE 'DataDriftDetected' END,"
        f" {padded('run-', run)}, {about(run)},"
        f" 'col_1', 'mean', 10, 15, 50, {pick(['low', 'medium', 'high'], 'i % 3')}, {at(run)} FROM {series(events)}",
    )
    if pg:
        store.execute(
            *(f"ANALYZE {store.table(t)}" for t in ("profilemesh_runs", "profilemesh_results", "profilemesh_events"))
        )
