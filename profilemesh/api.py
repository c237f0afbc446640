"""ProfileMesh's programmatic API: every command the CLI has, as a function that takes a Context first
and returns a typed result (dataclasses), as alembic's commands do. The CLI only parses arguments,
renders these results and maps errors to exit codes; tests and other programs call these directly.

    from profilemesh.api import Context, migrate_apply, profile, detect_drift, query_drift

    ctx = Context.load("profilemesh.yml")
    migrate_apply(ctx)
    profile(ctx)
    detect_drift(ctx)
    for event in query_drift(ctx, severity="high").rows: ...

Errors are ProfileMeshError subclasses (profilemesh.errors) carrying their exit code. Each function
imports its feature when called, so `import profilemesh.api` stays cheap for the quick commands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from profilemesh.config.settings import split_table_name
from profilemesh.context import Context
from profilemesh.store.locks import DEFAULT_LOCK_TIMEOUT, DEFAULT_STALE_AFTER

if TYPE_CHECKING:
    from profilemesh.alerts.runner import AlertReport
    from profilemesh.drift.accept import Acceptance
    from profilemesh.drift.backtest import BacktestReport
    from profilemesh.drift.detector import DriftReport
    from profilemesh.migrate.results import (
        ApplyResult,
        CodeCatalog,
        MigrationStatus,
        RepairResult,
        UnlockResult,
        ValidationReport,
    )
    from profilemesh.monitor.runner import MonitorReport
    from profilemesh.profiling.outcomes import ProfileReport
    from profilemesh.query.queries import Page, RunDetails, TableHistory
    from profilemesh.report.build import ReportResult
    from profilemesh.retention.operation import RetentionPolicy, RetentionReport
    from profilemesh.store.ledger import Attempt

__all__ = [
    "Context",
    "alert",
    "describe_schema",
    "detect_drift",
    "drift_accept",
    "drift_backtest",
    "migrate_apply",
    "migrate_history",
    "migrate_repair",
    "migrate_status",
    "migrate_unlock",
    "migrate_validate",
    "monitor",
    "profile",
    "query_drift",
    "query_run",
    "query_runs",
    "query_table",
    "report",
    "retention",
]


# --- the storage schema ------------------------------------------------------------------------------


def migrate_status(ctx: Context) -> MigrationStatus:
    """Schema version, pending migrations, last attempt, lock holder; `exit_code` 0 only when up to date."""
    from profilemesh.migrate.status import migration_status

    return migration_status(ctx)


def migrate_history(ctx: Context) -> list[Attempt]:
    """Every attempt the ledger recorded, oldest first."""
    from profilemesh.migrate.status import history

    return history(ctx)


def migrate_apply(
    ctx: Context,
    *,
    target_version: int | None = None,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    build_views: bool = True,
    grant_read: Sequence[str] = (),
) -> ApplyResult:
    """Apply pending migrations (to head, or target_version), then build the query views at head and let
    each role in grant_read read them (PostgreSQL, Snowflake)."""
    from profilemesh.migrate.apply import apply

    return apply(
        ctx,
        target_version=target_version,
        dry_run=dry_run,
        lock_timeout=lock_timeout,
        build_views=build_views,
        grant_read=grant_read,
    )


def migrate_repair(
    ctx: Context, *, rollback: bool = False, dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> RepairResult:
    """Finish (or with rollback undo) a failed or interrupted migration attempt."""
    from profilemesh.migrate.apply import repair

    return repair(ctx, rollback=rollback, dry_run=dry_run, lock_timeout=lock_timeout)


def migrate_validate(ctx: Context) -> ValidationReport:
    """The live catalog and the recorded checksums against the code; every problem listed."""
    from profilemesh.migrate.validate import validate

    return validate(ctx)


def describe_schema(ctx: Context, version: int | None = None) -> CodeCatalog:
    """The code's migrations and the catalog they define at `version` (default head)."""
    from profilemesh.migrate.validate import describe

    return describe(ctx, version)


def migrate_unlock(
    ctx: Context, *, force: bool = False, if_stale: bool = False, stale_after: float = DEFAULT_STALE_AFTER
) -> UnlockResult:
    """Show the migration lock's holder; release it when stale (or with force)."""
    from profilemesh.migrate.unlock import unlock

    return unlock(ctx, force=force, if_stale=if_stale, stale_after=stale_after)


# --- producing data ----------------------------------------------------------------------------------


def profile(
    ctx: Context,
    *,
    tables: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    as_of: dt.datetime | None = None,
    since: dt.date | None = None,
) -> ProfileReport:
    """Profile the configured tables (or `tables`, `[schema.]name`) into one run.

    as_of (naive UTC): the profiled_at to record instead of the clock, for programs that replay
    history (the quickstart's simulated days). since: backfill every bucket of the tables with
    `granularity` from this date to the newest complete bucket (`profile --since`)."""
    from profilemesh.profiling.runner import profile as run_profile

    return run_profile(
        ctx, tables=list(tables) if tables else None, dry_run=dry_run, progress=progress, as_of=as_of, since=since
    )


def monitor(
    ctx: Context,
    *,
    schemas: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    as_of: dt.datetime | None = None,
) -> MonitorReport:
    """One metadata pass: each watched table's row count, rows added and freshness from the warehouse's
    catalog (one query, no table scanned), stored as one run. `schemas`, `tables`, `exclude` (globs)
    replace the config's `monitor` globs; as_of (naive UTC) the clock."""
    from profilemesh.monitor.runner import monitor as run_monitor

    return run_monitor(
        ctx,
        schemas=list(schemas) if schemas else None,
        tables=list(tables) if tables else None,
        exclude=list(exclude) if exclude else None,
        as_of=as_of,
    )


def detect_drift(
    ctx: Context,
    *,
    table: str | None = None,
    current: str | None = None,
    baseline: str | None = None,
    write: bool = True,
    detected_at: dt.datetime | None = None,
) -> DriftReport:
    """Compare each table's latest run (or run `current`) with its baseline; record each drift once.

    detected_at (naive UTC): the events' timestamp instead of the clock, for programs that replay history."""
    from profilemesh.drift.detector import detect

    return detect(ctx, table=table, current=current, baseline=baseline, write=write, detected_at=detected_at)


def drift_accept(
    ctx: Context, event_id: str, *, reason: str | None = None, by: str | None = None, at: dt.datetime | None = None
) -> Acceptance:
    """Record that drift event `event_id` (or a unique prefix of 8+ characters) is an expected change:
    from its run on, the calibrated strategy takes the new level as the baseline. `by` defaults to the
    operating-system user, `at` (naive UTC) to the clock. Accepting twice writes nothing."""
    from profilemesh.drift.accept import accept

    return accept(ctx, event_id, reason=reason, by=by, at=at)


def drift_backtest(
    ctx: Context,
    *,
    overrides: dict[str, Any] | None = None,
    table: str | None = None,
    since: dt.date | None = None,
) -> BacktestReport:
    """What the calibrated strategy (the config's settings, then `overrides`: runs_per_false_alarm,
    history_window, warmup_runs, seasonality) would have raised on each table's stored history,
    counted from `since`; writes nothing."""
    from profilemesh.drift.backtest import backtest

    return backtest(ctx, overrides=overrides, table=table, since=since)


def retention(
    ctx: Context,
    policy: RetentionPolicy,
    *,
    apply: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> RetentionReport:
    """Plan (default) or apply a retention policy; an apply holds the migration lock while it deletes."""
    from profilemesh.retention.operation import run_retention

    return run_retention(ctx, policy, apply=apply, lock_timeout=lock_timeout, progress=progress)


def alert(
    ctx: Context,
    *,
    dry_run: bool = False,
    destinations: Sequence[str] = (),
    sleep: Callable[[float], None] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> AlertReport:
    """Send each drift event not yet delivered to the configured destinations (`alerts` in the config;
    or only those named), one message per table and run, and record every delivery in the store.
    dry_run: what would be sent; sends and writes nothing. sleep: how to wait between retries.
    lock_timeout: how long to wait for another `alert` run on the store to finish (StoreBusy after)."""
    import time

    from profilemesh.alerts.runner import send_alerts

    return send_alerts(
        ctx, dry_run=dry_run, destinations=tuple(destinations), sleep=sleep or time.sleep, lock_timeout=lock_timeout
    )


# --- reading ----------------------------------------------------------------------------------------


def query_runs(
    ctx: Context,
    *,
    schema: str | None = None,
    table: str | None = None,
    status: str | None = None,
    environment: str | None = None,
    dbt_node: str | None = None,
    days: int = 30,
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> Page:
    """Profiling runs, newest first (one row per run and table), one page of them. `table` may be
    `schema.name`; `dbt_node` is a dbt unique id (`model.shop.orders`)."""
    from profilemesh.query.queries import list_runs
    from profilemesh.query.reader import open_reader

    schema, table = split_table_name(table, schema)
    with open_reader(ctx) as reader:
        return list_runs(
            reader,
            schema=schema,
            table=table,
            status=status,
            environment=environment,
            dbt_node=dbt_node,
            days=days,
            limit=limit,
            offset=offset,
            now=now,
        )


def query_drift(
    ctx: Context,
    *,
    schema: str | None = None,
    table: str | None = None,
    severity: str | None = None,
    days: int = 30,
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> Page:
    """Drift events (never lifecycle events), newest first, one page of them. `table` may be `schema.name`."""
    from profilemesh.query.queries import list_drift
    from profilemesh.query.reader import open_reader

    schema, table = split_table_name(table, schema)
    with open_reader(ctx) as reader:
        return list_drift(
            reader, schema=schema, table=table, severity=severity, days=days, limit=limit, offset=offset, now=now
        )


def query_run(ctx: Context, run_id: str, *, table: str | None = None, schema: str | None = None) -> RunDetails:
    """One run's tables (or `[schema.]table`) and every column's metrics; CheckFailed when there is no such run."""
    from profilemesh.query.queries import run_details
    from profilemesh.query.reader import open_reader

    schema, table = split_table_name(table, schema)
    with open_reader(ctx) as reader:
        return run_details(reader, run_id, table=table, schema=schema)


def query_table(
    ctx: Context, table: str, *, schema: str | None = None, days: int = 30, now: dt.datetime | None = None
) -> TableHistory:
    """One table's (`[schema.]name`) runs, oldest first, with the change per run."""
    from profilemesh.query.queries import table_history
    from profilemesh.query.reader import open_reader

    schema, name = split_table_name(table, schema)
    with open_reader(ctx) as reader:
        return table_history(reader, name or table, schema=schema, days=days, now=now)


def report(
    ctx: Context,
    output: str = "report.html",
    *,
    tables: Sequence[str] = (),
    days: int = 30,
    now: dt.datetime | None = None,
) -> ReportResult:
    """Write one self-contained HTML page (plotly.js inlined, nothing fetched when viewed): the runs and
    what they cost, each table's health, its columns' metric trends with drift marked, its schema
    changes. `tables`: `[schema.]name`s (default every table with runs in the window); `days` 0: all."""
    from profilemesh.query.reader import open_reader
    from profilemesh.report.build import write_report

    with open_reader(ctx) as reader:
        return write_report(
            reader.conn,
            reader.relations,
            output,
            store=ctx.target.describe(),
            tables=tables,
            days=days,
            now=now,
            warning=reader.warning,
        )
