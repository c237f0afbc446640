"""What a run reads of a table (profiling.tables[].where, columns, sample, time_column and window):
the columns kept, an incremental run's window, and where the previous run's window ended. The SQL
itself is the planner's (planner.py); the settings are the config's (config/settings.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config.read_scope import ReadScope
from profilemesh.errors import UsageError
from profilemesh.profiling.buckets import BucketSpan, bucket_span
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.planner import TimeWindow, latest_time_statement
from profilemesh.store.tables import READ_BOUNDS, scope_key, storage_table, stored_schema, stored_scope
from profilemesh.store.target import StorageTarget
from profilemesh.warehouses import warehouse_of_dialect


def kept_columns(
    columns: list[ProfiledColumn], scope: ReadScope, schema: str | None, table: str
) -> list[ProfiledColumn]:
    """The table's columns that the scope reads (`columns` / `exclude_columns` globs)."""
    kept = [c for c in columns if scope.keeps(c.name)]
    if columns and not kept:
        name = f"{schema}.{table}" if schema else table
        globs = ", ".join(scope.columns) if scope.columns else "*"
        raise UsageError(f"table {name}: columns [{globs}] minus exclude_columns leave no column to profile")
    return kept


def time_window(
    conn: Connection, schema: str | None, table: str, columns: list[ProfiledColumn], scope: ReadScope, since: Any
) -> TimeWindow:
    """The window an incremental run reads: after `since` (the previous run's end, for since_last_run)
    or the last span before the newest row, through the newest row's time now."""
    name = f"{schema}.{table}" if schema else table
    column, end = _newest_time(conn, schema, table, columns, scope)
    window = scope.window
    last = window.last if window else None
    if window is not None and last is not None and _is_date(end) and last % dt.timedelta(days=1):
        # A date minus 6 hours is the same date: the window would be empty on every run, silently.
        raise UsageError(
            f"table {name}: time_column {column.name} holds dates, so window `{window.text}` "
            "must be whole days (for example `last: 1 day`)"
        )
    start = since if last is None else (None if end is None else end - last)
    return TimeWindow(column.name, start, end)


def bucket_read(
    conn: Connection,
    schema: str | None,
    table: str,
    columns: list[ProfiledColumn],
    scope: ReadScope,
    *,
    now: dt.datetime,
    backfill: dt.date | None,
    previous: str | None,
) -> BucketSpan:
    """The buckets a run of a table with `granularity` profiles (profiling/buckets.py)."""
    name = f"{schema}.{table}" if schema else table
    column, newest = _newest_time(conn, schema, table, columns, scope)
    return bucket_span(scope, name, column, newest, now=now, since=backfill, previous=previous)


def _newest_time(
    conn: Connection, schema: str | None, table: str, columns: list[ProfiledColumn], scope: ReadScope
) -> tuple[ProfiledColumn, Any]:
    """The time column (a usage error when it is missing or not temporal) and its newest value now."""
    name = f"{schema}.{table}" if schema else table
    wanted = (scope.time_column or "").lower()
    column = next((c for c in columns if c.name.lower() == wanted), None)
    if column is None:
        raise UsageError(f"table {name}: time_column {scope.time_column} is not a column of it")
    if column.family != "temporal":
        raise UsageError(f"table {name}: time_column {column.name} is {column.type_name}, not a date or time")
    warehouse = warehouse_of_dialect(conn.dialect.name)
    end = conn.execute(
        latest_time_statement(schema, table, column.name, warehouse=warehouse, where=scope.where)
    ).scalar()
    # SQLite keeps times as text, and an untyped max() returns it so: read it as the time it is.
    return column, parse_time(end) if isinstance(end, str) else end


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def parse_time(text: str | None) -> dt.date | dt.datetime | None:
    """A window bound as recorded (ISO 8601): a date, or a timestamp with its zone when it had one."""
    if not text:
        return None
    return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)


def previous_window_ends(
    store: Connection, target: StorageTarget, names: list[tuple[str | None, str, ReadScope]]
) -> dict[tuple[str | None, str], Any]:
    """For each table read `since_last_run`: where the newest completed run that read it the same way
    ended its window (None for its first run, which reads everything up to now); for a table with
    `granularity`, the label of the newest bucket profiled (its runs' profiled_at is their bucket's)."""
    incremental = {
        (schema, table): scope_key(json.dumps(scope.describe()))
        for schema, table, scope in names
        if scope.window is not None and scope.window.last is None
    }
    bucketed = {(schema, table) for schema, table, scope in names if scope.bucketed}
    if not incremental:
        return {}
    runs = storage_table(target, "runs")
    query = (
        sa.select(runs.c.schema_name, runs.c.dataset_name, runs.c.scope)
        .where(runs.c.status == "completed", runs.c.dataset_name.in_(sorted({t for _, t in incremental})))
        .order_by(runs.c.profiled_at.desc(), runs.c.run_id.desc())
    )
    ends: dict[tuple[str | None, str], Any] = {}
    for row in store.execute(query):
        for (schema, table), key in incremental.items():
            if (schema, table) in ends or row.dataset_name != table or row.schema_name != stored_schema(schema):
                continue
            recorded = stored_scope(row.scope)
            if recorded is not None and scope_key(row.scope) == key:
                read = recorded.get(READ_BOUNDS) or {}
                bucket = (schema, table) in bucketed
                ends[(schema, table)] = read.get("bucket") if bucket else parse_time(read.get("through"))
    store.rollback()
    return ends
