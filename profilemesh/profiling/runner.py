"""`profilemesh profile`: one run_id per invocation; each table profiled with its plan; every row of
the run written in one transaction at the end (all or nothing), through the bulk path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.config.read_scope import ReadScope
from profilemesh.config.settings import ProfilingSettings
from profilemesh.context import Context
from profilemesh.errors import DatabaseError, Interrupted, UsageError, first_line
from profilemesh.profiling.bounds import bound_memory, choose_distinct
from profilemesh.profiling.columns import SKIPPED_METRIC, ProfiledColumn, profiled_column
from profilemesh.profiling.cost import CostMeter, meter_statements
from profilemesh.profiling.ctrl_c import noted
from profilemesh.profiling.distributions import DistributionItem, profile_distributions, stored_rows
from profilemesh.profiling.execute import MetricValue, TableProfile, run_plan
from profilemesh.profiling.freshness import freshness_metric
from profilemesh.profiling.planner import TablePlan, TimeWindow, plan_table
from profilemesh.profiling.scope import kept_columns, previous_window_ends, time_window
from profilemesh.profiling.selection import resolve_tables, table_selectors
from profilemesh.store import writes
from profilemesh.store.handshake import require_writable
from profilemesh.store.source import source_and_store, source_error
from profilemesh.store.tables import COST, NOTES, READ_BOUNDS, stored_schema
from profilemesh.warehouses import is_interrupt, warehouse_for, warehouse_of_dialect

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
    scope: dict[str, Any] | None = None  # what the run read, when not every row and column (runs.scope)
    dbt_unique_id: str | None = None  # the dbt node profiled (profile --project-dir)
    cost: dict[str, Any] | None = None  # what its statements read and cost (profiling/cost.py)
    distributions: list[DistributionItem] = field(default_factory=list, repr=False)  # profilemesh_distributions

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("statements", "profile", "distributions")}
        if self.statements:
            data["statements"] = self.statements
        return data


@dataclass(frozen=True)
class TableRead:
    """What one table's plans read: the table, the profiling settings, its read scope and window."""

    schema: str | None
    table: str
    settings: ProfilingSettings
    scope: ReadScope
    window: TimeWindow | None
    distinct: str  # the distinct counts the plan computes: exact, or approximate (profiling/bounds.py)


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


def profile(
    ctx: Context,
    *,
    tables: list[str] | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    as_of: dt.datetime | None = None,
) -> ProfileReport:
    """as_of (naive UTC): the profiled_at to record for every table instead of the clock, for
    programs that replay history (the quickstart's simulated days); the CLI never sets it."""
    config, target = ctx.config, ctx.target
    source = config.source or target.connection
    selectors = table_selectors(config.profiling, tables)
    report = ProfileReport(run_id=str(uuid.uuid4()), environment=config.environment, dry_run=dry_run, tables=[])
    with source_and_store(source, target) as (src, store):
        if not dry_run:
            require_writable(store, target, ctx.head)
            store.commit()
        try:
            bound_memory(src, config.profiling.limits)
            meter_statements(src)
            names = resolve_tables(src, selectors, source, target)
        except sa.exc.DBAPIError as exc:
            src.rollback()
            raise source_error(source, exc) from exc
        if not names:
            raise UsageError("no tables to profile: profiling.tables (or --table) matched nothing")
        since = previous_window_ends(store, target, [(schema, table, s.scope) for schema, table, s in names])
        position, name = 0, ""
        try:
            with noted() as ctrl_c, warehouse_for(source.type).interruptible():
                for position, (schema, table, selector) in enumerate(names, start=1):
                    name = f"{schema}.{table}" if schema else table
                    if progress:
                        progress(name, position, len(names))
                    settings = config.profiling
                    if selector.metrics is not None:
                        settings = dataclasses.replace(settings, metrics=selector.metrics)
                    outcome = _profile_one(
                        src,
                        schema,
                        table,
                        selector.scope,
                        settings,
                        dry_run,
                        as_of,
                        since.get((schema, table)),
                        checkpoint=ctrl_c.check,
                    )
                    ctrl_c.check()
                    outcome.dbt_unique_id = selector.dbt_unique_id
                    report.tables.append(outcome)
            if not dry_run:
                _write_run(ctx, store, report)
        except Exception as exc:
            if not is_interrupt(exc):
                raise
            raise _interrupted(report, name, position, len(names)) from exc
        except KeyboardInterrupt as exc:
            raise _interrupted(report, name, position, len(names)) from exc
    return report


def _interrupted(report: ProfileReport, table: str, position: int, total: int) -> Interrupted:
    if report.dry_run:
        return Interrupted(f"interrupted while planning {table} ({position} of {total} tables); nothing to write")
    if len(report.tables) == total:
        return Interrupted(f"interrupted while writing run {report.run_id}: nothing of it was written")
    return Interrupted(
        f"interrupted while profiling {table} ({position} of {total} tables): run {report.run_id} was not "
        "written, nothing of it is stored"
    )


def _profile_one(
    conn: Connection,
    schema: str | None,
    table: str,
    scope: ReadScope,
    settings: ProfilingSettings,
    dry_run: bool,
    as_of: dt.datetime | None,
    since: Any = None,
    *,
    checkpoint: Callable[[], None] = lambda: None,
) -> TableOutcome:
    """checkpoint: raises a Ctrl-C a driver swallowed (profiling/ctrl_c.py), before and after each statement."""
    started = time.perf_counter()
    outcome = TableOutcome(
        schema=schema,
        table=table,
        status="planned" if dry_run else "completed",
        profiled_at=as_of or utc_now(),
        scope=scope.describe(),
    )
    try:
        every_column = _columns(conn, schema, table)
        columns = kept_columns(every_column, scope, schema, table)
        window = time_window(conn, schema, table, every_column, scope, since) if scope.time_column else None
        if window is not None and outcome.scope is not None:
            outcome.scope[READ_BOUNDS] = window.recorded()
        choice = choose_distinct(
            conn,
            schema,
            table,
            requested=settings.distinct,
            limits=settings.limits,
            where=scope.where,
            sample=scope.sample,
            window=window,
        )
        read = TableRead(schema, table, settings, scope, window, choice.mode)
        plan = _plan(conn, read, columns)
        outcome.query_count = plan.query_count
        outcome.column_count = len(plan.columns)
        outcome.notes = [*([choice.note] if choice.note else []), *plan.notes]
        outcome.distinct_mode = plan.distinct_mode
        if dry_run:
            outcome.statements = plan.statements(conn.dialect)
            conn.rollback()
            return outcome
        checkpoint()  # before the table's long statement, a press during the short ones is not lost
        meter = CostMeter(conn, schema, table)

        def after_statement() -> None:
            meter.statement_done()
            checkpoint()

        try:
            result = run_plan(conn, plan, after_statement)
        except sa.exc.DBAPIError as exc:
            if is_interrupt(exc):
                raise
            conn.rollback()
            result = _profile_around_failing_columns(conn, read, columns, outcome, exc, meter)
        conn.commit()
        outcome.distributions = profile_distributions(
            conn,
            plan,
            result,
            settings.distributions,
            settings.segments_for(schema, table),
            outcome.notes,
            after_statement,
        )
        outcome.cost = {**meter.figures(), "estimated_rows": choice.estimated_rows}
        outcome.row_count = result.row_count
        if window is not None and window.end is not None:
            result.metrics.append(freshness_metric(window.end, outcome.profiled_at))
        outcome.metric_count = len(result.metrics)
        outcome.profile = result
    except sa.exc.NoSuchTableError:
        conn.rollback()
        outcome.status, outcome.error = "failed", f"table {schema}.{table} does not exist"
    except sa.exc.DBAPIError as exc:
        if is_interrupt(exc):
            raise
        conn.rollback()
        outcome.status = "failed"
        outcome.error = first_line(str(exc.orig or exc))
    outcome.duration_seconds = round(time.perf_counter() - started, 6)
    return outcome


def _profile_around_failing_columns(
    conn: Connection,
    read: TableRead,
    columns: list[ProfiledColumn],
    outcome: TableOutcome,
    error: sa.exc.DBAPIError,
    meter: CostMeter,
) -> TableProfile:
    """The table's plan failed. If the table itself reads (its row count), the columns whose metrics the
    warehouse refused are found by halving (a few scans for one bad column among hundreds), and the
    table is profiled without them: each skipped column gets a `skipped` metric holding the reason, and
    a note. A table never fails because of one column (its type, or values it cannot read); when the
    table does not read, or none of its columns does, the table's error stands."""
    run_plan(conn, _plan(conn, read, []), meter.statement_done)  # raises the table's own error
    conn.rollback()
    failing = _failing_columns(conn, read, columns, meter)
    if len(failing) == len(columns):
        raise error
    kept = [c for c in columns if c.name not in failing]
    result = run_plan(conn, _plan(conn, read, kept), meter.statement_done)
    result.column_count = len(columns)
    for column in columns:
        if column.name in failing:
            reason = failing[column.name]
            result.metrics.append(
                MetricValue(column.name, column.type_name, SKIPPED_METRIC, reason, None, column.native_type)
            )
            outcome.notes.append(f"column {column.name} ({column.type_name}) skipped: {reason}")
    return result


def _failing_columns(
    conn: Connection, read: TableRead, columns: list[ProfiledColumn], meter: CostMeter
) -> dict[str, str]:
    """Column name -> the warehouse's error, for the columns whose own plan fails (halving the set)."""
    try:
        run_plan(conn, _plan(conn, read, columns), meter.statement_done)
        conn.rollback()
        return {}
    except sa.exc.DBAPIError as exc:
        if is_interrupt(exc):
            raise
        conn.rollback()
        if len(columns) == 1:
            return {columns[0].name: first_line(str(exc.orig or exc))}
    middle = len(columns) // 2
    return {
        **_failing_columns(conn, read, columns[:middle], meter),
        **_failing_columns(conn, read, columns[middle:], meter),
    }


def _columns(conn: Connection, schema: str | None, table: str) -> list[ProfiledColumn]:
    listed = warehouse_of_dialect(conn.dialect.name).table_columns(conn, schema, table)
    return [profiled_column(c.name, c.type, c.native_type) for c in listed]


def _plan(conn: Connection, read: TableRead, columns: list[ProfiledColumn]) -> TablePlan:
    warehouse = warehouse_of_dialect(conn.dialect.name)
    settings = read.settings
    return plan_table(
        read.schema,
        read.table,
        columns,
        settings.metrics,
        warehouse=warehouse,
        distinct=read.distinct,
        approx_available=read.distinct == "approximate" and warehouse.approx_distinct_available(conn),
        where=read.scope.where,
        sample=read.scope.sample,
        window=read.window,
    )


def _recorded_scope(outcome: TableOutcome) -> str | None:
    """runs.scope: what the table's run read (the config's scope and window bounds), what it cost and
    what it noted (COST and NOTES: facts of this run, never part of what makes two runs comparable)."""
    recorded = {**(outcome.scope or {})}
    if outcome.cost:
        recorded[COST] = outcome.cost
    if outcome.notes:
        recorded[NOTES] = outcome.notes
    return json.dumps(recorded, sort_keys=True) if recorded else None


def _write_run(ctx: Context, conn: Connection, report: ProfileReport) -> None:
    """Every row of the run in one transaction: a run is all or nothing."""
    target = ctx.target
    runs, results = [], []
    for outcome in report.tables:
        runs.append(
            {
                "run_id": report.run_id,
                "dataset_name": outcome.table,
                "schema_name": stored_schema(outcome.schema),
                "profiled_at": outcome.profiled_at,
                "environment": report.environment,
                "status": outcome.status,
                "row_count": outcome.row_count,
                "column_count": outcome.column_count,
                "error_message": outcome.error,
                "duration_seconds": outcome.duration_seconds,
                "scope": _recorded_scope(outcome),
                "dbt_unique_id": outcome.dbt_unique_id,
            }
        )
        for m in outcome.profile.metrics if outcome.profile else ():
            results.append(
                {
                    "run_id": report.run_id,
                    "dataset_name": outcome.table,
                    "schema_name": stored_schema(outcome.schema),
                    "column_name": m.column_name,
                    "column_type": m.column_type,
                    "column_native_type": m.column_native_type,
                    "metric_name": m.metric_name,
                    "metric_value": m.text,
                    "metric_value_numeric": m.number,
                    "profiled_at": outcome.profiled_at,
                }
            )
    if not target.warehouse.held_while_connected:
        # In the writing transaction: no migration runs until it ends. A DuckDB store needs no second look:
        # this connection has held its file since the check at the run's start.
        require_writable(conn, target, ctx.head)
    try:
        writes.insert(conn, target, "runs", runs)
        writes.insert(conn, target, "results", results)
        for outcome in report.tables:
            rows = stored_rows(
                report.run_id, stored_schema(outcome.schema), outcome.table, outcome.profiled_at, outcome.distributions
            )
            writes.insert(conn, target, "distributions", rows)
        for outcome in report.tables:
            if outcome.status == "completed":
                writes.upsert(
                    conn,
                    target,
                    "table_state",
                    ["schema_name", "table_name"],
                    {
                        "schema_name": stored_schema(outcome.schema),
                        "table_name": outcome.table,
                        "last_run_id": report.run_id,
                        "last_profiled_at": outcome.profiled_at,
                        "row_count": outcome.row_count or 0,
                    },
                )
        ctx.hooks.before_commit("profile")
        conn.commit()
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        raise DatabaseError(
            f"writing run {report.run_id} failed, nothing was written: {first_line(str(exc.orig or exc))}"
        ) from exc
