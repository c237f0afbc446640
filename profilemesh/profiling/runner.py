"""`profilemesh profile`: one run_id per invocation; each table profiled with its plan; every row of
the run written in one transaction at the end (all or nothing), through the bulk path."""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh import testhooks
from profilemesh.config import Config, ConnectionConfig
from profilemesh.connection import StorageTarget, create_engine, resolve_storage
from profilemesh.errors import DatabaseError, UsageError
from profilemesh.migrate.ledger import database_error
from profilemesh.profiling.columns import profiled_column
from profilemesh.profiling.execute import TableProfile, run_plan
from profilemesh.profiling.planner import TablePlan, plan_table
from profilemesh.profiling.settings import TableSelector
from profilemesh.storage import tables as storage_tables
from profilemesh.storage.bulk import insert_rows
from profilemesh.storage.handshake import require_writable
from profilemesh.storage.table_state import upsert_table_state

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class TableOutcome:
    schema: str | None
    table: str
    status: str  # completed | failed | planned
    profiled_at: dt.datetime
    row_count: int | None = None
    column_count: int | None = None
    metric_count: int = 0
    query_count: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    distinct_mode: str = "exact"
    notes: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    profile: TableProfile | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("statements", "profile")}
        if self.statements:
            data["statements"] = self.statements
        return data


@dataclass
class ProfileReport:
    run_id: str
    environment: str
    dry_run: bool
    tables: list[TableOutcome]

    @property
    def failed(self) -> list[TableOutcome]:
        return [t for t in self.tables if t.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "environment": self.environment,
            "dry_run": self.dry_run,
            "tables": [t.to_dict() for t in self.tables],
        }


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def profile(
    config: Config,
    *,
    tables: list[str] | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    as_of: dt.datetime | None = None,
) -> ProfileReport:
    """as_of (naive UTC): the profiled_at to record for every table instead of the clock, for
    programs that replay history (the quickstart's simulated days); the CLI never sets it."""
    target = resolve_storage(config)
    source = config.source or target.connection
    selectors = _selectors(config, tables)
    report = ProfileReport(run_id=str(uuid.uuid4()), environment=config.environment, dry_run=dry_run, tables=[])
    with _connections(source, target) as (src, store):
        if not dry_run:
            require_writable(store, target)
            store.commit()
        names = resolve_tables(src, selectors, source, target)
        if not names:
            raise UsageError("no tables to profile: profiling.tables (or --table) matched nothing")
        for position, (schema, table) in enumerate(names, start=1):
            if progress:
                progress(f"{schema}.{table}" if schema else table, position, len(names))
            report.tables.append(_profile_one(src, schema, table, config, dry_run, as_of))
        if not dry_run:
            _write_run(store, target, report)
    return report


def _selectors(config: Config, tables: list[str] | None) -> list[TableSelector]:
    if tables:
        selected = []
        for name in tables:
            schema, _, table = name.rpartition(".")
            selected.append(TableSelector(schema=schema or None, table=table))
        return selected
    return list(config.profiling.tables)


@contextlib.contextmanager
def _connections(source: ConnectionConfig, target: StorageTarget) -> Iterator[tuple[Connection, Connection]]:
    """One connection when source and storage are the same DuckDB file (one writer per file)."""
    same_file = source.type == "duckdb" and _same_database(source, target.connection)
    store_engine = create_engine(target.connection)
    source_engine = store_engine if same_file else create_engine(source, read_only=source.type == "duckdb")
    try:
        with store_engine.connect() as store:
            if same_file:
                yield store, store
            else:
                with source_engine.connect() as src:
                    yield src, store
    except sa.exc.DBAPIError as exc:
        raise database_error(target, exc) from exc
    finally:
        store_engine.dispose()
        source_engine.dispose()


def resolve_tables(
    conn: Connection, selectors: list[TableSelector], source: ConnectionConfig, target: StorageTarget
) -> list[tuple[str | None, str]]:
    """Selectors -> (schema, table), globs expanded against the catalog. A glob never matches
    ProfileMesh's own relations: the storage tables and anything named profilemesh_* (ledger, lock,
    views) in the storage schema of the same database."""
    inspector = sa.inspect(conn)
    s = target.storage
    own_names = {s.runs_table, s.results_table, s.events_table, s.table_state_table}

    def is_own(schema: str | None, name: str) -> bool:
        return (
            _same_database(source, target.connection)
            and schema == target.schema
            and (name in own_names or name.startswith("profilemesh_"))
        )

    found: list[tuple[str | None, str]] = []
    for selector in selectors:
        schema = selector.schema or source.schema
        if selector.is_pattern:
            candidates = [*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)]
            # A table whose name holds glob characters (`t[1]`, `a*b`) still matches itself.
            matches = sorted(n for n in candidates if n == selector.table or fnmatch.fnmatchcase(n, selector.table))
        else:
            matches = [selector.table]
        for name in matches:
            key = (schema, name)
            if key not in found and not (selector.is_pattern and is_own(schema, name)):
                found.append(key)
    return found


def _same_database(a: ConnectionConfig, b: ConnectionConfig) -> bool:
    keys = ("type", "host", "port", "database", "filepath", "account")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _profile_one(
    conn: Connection, schema: str | None, table: str, config: Config, dry_run: bool, as_of: dt.datetime | None
) -> TableOutcome:
    started = time.perf_counter()
    outcome = TableOutcome(
        schema=schema, table=table, status="planned" if dry_run else "completed", profiled_at=as_of or utc_now()
    )
    try:
        plan = _plan(conn, schema, table, config)
        outcome.query_count = plan.query_count
        outcome.column_count = len(plan.columns)
        outcome.notes = plan.notes
        outcome.distinct_mode = plan.distinct_mode
        if dry_run:
            outcome.statements = plan.statements(conn.dialect)
            conn.rollback()
            return outcome
        result = run_plan(conn, plan)
        conn.commit()
        outcome.row_count = result.row_count
        outcome.metric_count = len(result.metrics)
        outcome.profile = result
    except sa.exc.NoSuchTableError:
        conn.rollback()
        outcome.status, outcome.error = "failed", f"table {schema}.{table} does not exist"
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        outcome.status = "failed"
        outcome.error = " ".join(str(exc.orig or exc).strip().splitlines()[:1])[:2000]
    outcome.duration_seconds = round(time.perf_counter() - started, 6)
    return outcome


def _plan(conn: Connection, schema: str | None, table: str, config: Config) -> TablePlan:
    inspector = sa.inspect(conn)
    columns = [profiled_column(c["name"], c["type"]) for c in inspector.get_columns(table, schema=schema)]
    hll = False
    if config.profiling.distinct == "approximate" and conn.dialect.name == "postgresql":
        hll = bool(conn.execute(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'hll'")).scalar())
    return plan_table(
        schema,
        table,
        columns,
        config.profiling.metrics,
        dialect_name=conn.dialect.name,
        distinct=config.profiling.distinct,
        hll_available=hll,
    )


def _write_run(conn: Connection, target: StorageTarget, report: ProfileReport) -> None:
    """Every row of the run in one transaction: a run is all or nothing."""
    run_rows, result_rows = [], []
    for outcome in report.tables:
        run_rows.append(
            (
                report.run_id,
                outcome.table,
                outcome.schema,
                outcome.profiled_at,
                report.environment,
                outcome.status,
                outcome.row_count,
                outcome.column_count,
                outcome.error,
                outcome.duration_seconds,
            )
        )
        for m in outcome.profile.metrics if outcome.profile else ():
            result_rows.append(
                (
                    report.run_id,
                    outcome.table,
                    outcome.schema,
                    m.column_name,
                    m.column_type,
                    m.metric_name,
                    m.text,
                    m.number,
                    outcome.profiled_at,
                )
            )
    require_writable(conn, target)  # in the writing transaction: no migration runs until it ends
    try:
        insert_rows(conn, storage_tables.runs(target), storage_tables.RUN_COLUMNS, run_rows)
        insert_rows(conn, storage_tables.results(target), storage_tables.RESULT_COLUMNS, result_rows)
        for outcome in report.tables:
            if outcome.status == "completed":
                upsert_table_state(
                    conn,
                    target,
                    schema_name=outcome.schema or "",
                    table_name=outcome.table,
                    run_id=report.run_id,
                    profiled_at=outcome.profiled_at,
                    row_count=outcome.row_count or 0,
                )
        testhooks.reached("profile:before_commit")
        conn.commit()
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        raise DatabaseError(
            f"writing run {report.run_id} failed, nothing was written: "
            f"{' '.join(str(exc.orig or exc).strip().splitlines()[:1])}"
        ) from exc
