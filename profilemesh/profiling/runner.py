"""`profilemesh profile`: one run_id per invocation; each table profiled with its plan; every row of
the run written in one transaction at the end (all or nothing, stored_run.py), through the bulk path.
What it reports: outcomes.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.config.read_scope import ReadScope
from profilemesh.config.settings import ProfilingSettings
from profilemesh.context import Context
from profilemesh.errors import Interrupted, UsageError, first_line
from profilemesh.profiling.bounds import bound_memory, choose_distinct
from profilemesh.profiling.buckets import BucketSpan, bucket_key
from profilemesh.profiling.columns import SKIPPED_METRIC, ProfiledColumn, profiled_column
from profilemesh.profiling.cost import CostMeter, meter_statements
from profilemesh.profiling.ctrl_c import noted
from profilemesh.profiling.distributions import profile_distributions
from profilemesh.profiling.execute import MetricValue, TableProfile, empty_profile, run_plan_by_bucket
from profilemesh.profiling.freshness import freshness_metric
from profilemesh.profiling.outcomes import ProfileReport, TableOutcome
from profilemesh.profiling.planner import Buckets, TablePlan, TimeWindow, plan_table
from profilemesh.profiling.scope import bucket_read, kept_columns, previous_window_ends, time_window
from profilemesh.profiling.selection import resolve_tables, table_selectors
from profilemesh.profiling.stored_run import write_run
from profilemesh.store.handshake import require_writable
from profilemesh.store.source import source_and_store, source_error
from profilemesh.store.tables import READ_BOUNDS
from profilemesh.warehouses import is_interrupt, warehouse_for, warehouse_of_dialect

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TableRead:
    """What one table's plans read: the table, the profiling settings, its read scope and window."""

    schema: str | None
    table: str
    settings: ProfilingSettings
    scope: ReadScope
    window: TimeWindow | None
    distinct: str  # the distinct counts the plan computes: exact, or approximate (profiling/bounds.py)
    buckets: Buckets | None = None  # a table with granularity: every statement grouped by bucket


def profile(
    ctx: Context,
    *,
    tables: list[str] | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    as_of: dt.datetime | None = None,
    since: dt.date | None = None,
) -> ProfileReport:
    """as_of (naive UTC): the profiled_at to record for every table instead of the clock, for
    programs that replay history (the quickstart's simulated days); the CLI never sets it. For a
    table with granularity it is the "now" that decides which buckets are complete.

    since: backfill every bucket of the tables with granularity from this date (`profile --since`)."""
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
        if since is not None and not any(s.scope.bucketed for _, _, s in names):
            raise UsageError("--since backfills tables profiled by bucket: none of these tables sets granularity")
        previous = previous_window_ends(store, target, [(schema, table, s.scope) for schema, table, s in names])
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
                    outcomes = _profile_one(
                        src,
                        schema,
                        table,
                        selector.scope,
                        settings,
                        dry_run,
                        as_of,
                        previous.get((schema, table)),
                        checkpoint=ctrl_c.check,
                        backfill=since,
                        run_id=report.run_id,
                    )
                    ctrl_c.check()
                    for outcome in outcomes:
                        outcome.dbt_unique_id = selector.dbt_unique_id
                    report.tables.extend(outcomes)
            if not dry_run:
                write_run(ctx, store, report)
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
    if len({(t.schema, t.table) for t in report.tables}) == total:
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
    backfill: dt.date | None = None,
    run_id: str = "",
) -> list[TableOutcome]:
    """The table's outcome: one, or one per bucket for a table with granularity. since: where the
    previous run's window ended (a bucketed table: its newest bucket's label); backfill: --since.
    checkpoint: raises a Ctrl-C a driver swallowed (profiling/ctrl_c.py), before and after each statement."""
    started = time.perf_counter()
    now = as_of or utc_now()
    outcome = TableOutcome(
        schema=schema,
        table=table,
        status="planned" if dry_run else "completed",
        profiled_at=now,
        scope=scope.describe(),
    )
    span: BucketSpan | None = None
    try:
        every_column = _columns(conn, schema, table)
        columns = kept_columns(every_column, scope, schema, table)
        window, buckets = None, None
        if scope.bucketed:
            span = bucket_read(conn, schema, table, every_column, scope, now=now, backfill=backfill, previous=since)
            if not span.buckets:
                outcome.status = "planned" if dry_run else "up_to_date"
                outcome.notes.append(
                    f"no complete {scope.granularity} to profile (newest profiled: {since or 'none'}; "
                    "the current one waits until it is complete)"
                )
                conn.rollback()
                return [outcome]
            window, buckets = span.window, span.grouping
            newest = span.buckets[-1]  # a failed read is recorded at its newest bucket's time
            outcome.profiled_at = newest.profiled_at
            if outcome.scope is not None:
                outcome.scope[READ_BOUNDS] = {**newest.recorded(), "start": window.recorded()["after"]}
            first = span.buckets[0].label
            outcome.notes.append(f"{len(span.buckets)} {scope.granularity} bucket(s): {first} to {newest.label}")
        elif scope.time_column:
            window = time_window(conn, schema, table, every_column, scope, since)
        if window is not None and span is None and outcome.scope is not None:
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
        read = TableRead(schema, table, settings, scope, window, choice.mode, buckets)
        plan = _plan(conn, read, columns)
        outcome.query_count = plan.query_count
        outcome.column_count = len(plan.columns)
        outcome.notes = [*([choice.note] if choice.note else []), *outcome.notes, *plan.notes]
        outcome.distinct_mode = plan.distinct_mode
        if dry_run:
            outcome.statements = plan.statements(conn.dialect)
            conn.rollback()
            return [outcome]
        checkpoint()  # before the table's long statement, a press during the short ones is not lost
        meter = CostMeter(conn, schema, table)

        def after_statement() -> None:
            meter.statement_done()
            checkpoint()

        try:
            results = run_plan_by_bucket(conn, plan, after_statement)
        except sa.exc.DBAPIError as exc:
            if is_interrupt(exc):
                raise
            conn.rollback()
            results = _profile_around_failing_columns(conn, read, columns, outcome, exc, meter)
        conn.commit()
        if span is not None:
            points = _bucket_outcomes(conn, read, plan, span, results, outcome, now, run_id, after_statement)
            points[-1].cost = {**meter.figures(), "estimated_rows": choice.estimated_rows, "buckets": len(points)}
            points[-1].duration_seconds = round(time.perf_counter() - started, 6)  # the newest: the read's
            return points
        result = results[None]
        segment_by, segment_metrics = settings.segments_for(schema, table)
        outcome.distributions = profile_distributions(
            conn,
            plan,
            result,
            settings.distributions,
            segment_by,
            outcome.notes,
            after_statement,
            segment_metrics,
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
    return [outcome]


def _bucket_outcomes(
    conn: Connection,
    read: TableRead,
    plan: TablePlan,
    span: BucketSpan,
    results: dict[Any, TableProfile],
    outcome: TableOutcome,
    now: dt.datetime,
    run_id: str,
    after_statement: Callable[[], None],
) -> list[TableOutcome]:
    """One outcome per bucket, oldest first: its own run (run id, profiled_at at the bucket's start,
    runs.scope.read its bounds), from the grouped statements' rows; a bucket without rows is a point of
    0 rows. Its distributions are read per bucket (two statements each). The newest bucket carries the
    read's cost, duration and the table's freshness (hours from its newest row to now)."""
    by_bucket = {bucket_key(key): profile for key, profile in results.items()}
    column = span.grouping.column
    outcomes = []
    for bucket in span.buckets:
        profile = by_bucket.get(bucket.local) or empty_profile(plan)
        point = dataclasses.replace(
            outcome,
            run_id=bucket.run_id(run_id, read.schema, read.table),
            bucket=bucket.label,
            profiled_at=bucket.profiled_at,
            scope={**(outcome.scope or {}), READ_BOUNDS: bucket.recorded()},
            notes=list(outcome.notes),
            row_count=profile.row_count,
            profile=profile,
            duration_seconds=None,
        )
        if profile.row_count:
            one_bucket = dataclasses.replace(read, window=bucket.window(column), buckets=None)
            bucket_plan = _plan(conn, one_bucket, plan.columns)
            segment_by, segment_metrics = read.settings.segments_for(read.schema, read.table)
            point.distributions = profile_distributions(
                conn,
                bucket_plan,
                profile,
                read.settings.distributions,
                segment_by,
                point.notes,
                after_statement,
                segment_metrics,
            )
        outcomes.append(point)
    newest = outcomes[-1]
    if span.newest_row is not None and newest.profile is not None:
        newest.profile.metrics.append(freshness_metric(span.newest_row, now))
    for point in outcomes:
        point.metric_count = len(point.profile.metrics) if point.profile else 0
    return outcomes


def _profile_around_failing_columns(
    conn: Connection,
    read: TableRead,
    columns: list[ProfiledColumn],
    outcome: TableOutcome,
    error: sa.exc.DBAPIError,
    meter: CostMeter,
) -> dict[Any, TableProfile]:
    """The table's plan failed. If the table itself reads (its row count), the columns whose metrics the
    warehouse refused are found by halving (a few scans for one bad column among hundreds), and the
    table is profiled without them: each skipped column gets a `skipped` metric holding the reason, and
    a note. A table never fails because of one column (its type, or values it cannot read); when the
    table does not read, or none of its columns does, the table's error stands."""
    run_plan_by_bucket(conn, _plan(conn, read, []), meter.statement_done)  # raises the table's own error
    conn.rollback()
    failing = _failing_columns(conn, read, columns, meter)
    if len(failing) == len(columns):
        raise error
    kept = [c for c in columns if c.name not in failing]
    results = run_plan_by_bucket(conn, _plan(conn, read, kept), meter.statement_done)
    for column in columns:
        if column.name in failing:
            reason = failing[column.name]
            for result in results.values():
                result.column_count = len(columns)
                result.metrics.append(
                    MetricValue(column.name, column.type_name, SKIPPED_METRIC, reason, None, column.native_type)
                )
            outcome.notes.append(f"column {column.name} ({column.type_name}) skipped: {reason}")
    return results


def _failing_columns(
    conn: Connection, read: TableRead, columns: list[ProfiledColumn], meter: CostMeter
) -> dict[str, str]:
    """Column name -> the warehouse's error, for the columns whose own plan fails (halving the set)."""
    try:
        run_plan_by_bucket(conn, _plan(conn, read, columns), meter.statement_done)
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
        buckets=read.buckets,
    )
