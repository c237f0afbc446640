"""`profilemesh monitor`: a metadata pass. The warehouse's catalog is read once for every watched
schema (no table is scanned), and each watched table gets a runs row (its row count by the catalog)
and table-level results: `rows_added` since the previous pass and `freshness_hours` (hours since the
table last changed), all in one run written in one transaction. `drift` grades them as it grades a
profile run (docs/guides/MONITORING.md)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.config.freshness import FRESHNESS_METRIC, lag_hours
from profilemesh.config.monitor import MonitorSettings
from profilemesh.context import Context
from profilemesh.errors import UsageError
from profilemesh.monitor.passes import PreviousPass, previous_passes, tables_of_run
from profilemesh.store import writes
from profilemesh.store.handshake import require_writable
from profilemesh.store.source import source_and_store, source_error
from profilemesh.store.tables import METADATA_PASS, READ_BOUNDS, stored_schema
from profilemesh.store.target import StorageTarget
from profilemesh.warehouses import ConnectionConfig
from profilemesh.warehouses.catalog_stats import TableStats, catalog_reader, catalog_stats, schema_names

ROWS_ADDED = "rows_added"


@dataclass
class TableReading:
    """One table in one metadata pass."""

    schema: str
    table: str
    status: str  # completed | failed (the table was dropped since the previous pass)
    row_count: int | None = None
    rows_added: int | None = None
    freshness_hours: float | None = None
    changed: bool | None = None  # since the previous pass (None on the first pass)
    error: str | None = None
    read: dict[str, Any] = field(default_factory=dict)  # recorded in runs.scope.read for the next pass

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "read"}


@dataclass
class MonitorReport:
    run_id: str
    environment: str
    source: str  # the catalog read (pg_stat_user_tables, duckdb_tables, information_schema.tables)
    schemas: list[str]
    profiled_at: dt.datetime
    seconds: float = 0.0  # the catalog query
    tables: list[TableReading] = field(default_factory=list)

    @property
    def failed(self) -> list[TableReading]:
        return [t for t in self.tables if t.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "environment": self.environment,
            "source": self.source,
            "schemas": self.schemas,
            "seconds": self.seconds,
            "tables": [t.to_dict() for t in self.tables],
        }


def monitor(
    ctx: Context,
    *,
    schemas: list[str] | None = None,
    tables: list[str] | None = None,
    exclude: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> MonitorReport:
    """One metadata pass over the config's `monitor` section (`schemas`, `tables`, `exclude` replace
    its globs when given). as_of (naive UTC): the pass's time instead of the clock, for programs that
    replay history and tests that fix the clock."""
    config, target = ctx.config, ctx.target
    settings = _settings(config.monitor, schemas, tables, exclude)
    if not settings.schemas:
        raise UsageError("nothing to monitor: set monitor.schemas in the config, or pass --schema GLOB")
    source = config.source or target.connection
    reader = catalog_reader(source.type)
    now = as_of or utc_now()
    report = MonitorReport(str(uuid.uuid4()), config.environment, reader.source, [], now)
    with source_and_store(source, target) as (src, store):
        require_writable(store, target, ctx.head)
        store.commit()
        started = time.perf_counter()
        try:
            report.schemas = _matched_schemas(schema_names(src, source.type), settings)
            found = catalog_stats(src, source.type, report.schemas)
        except sa.exc.DBAPIError as exc:
            src.rollback()
            raise source_error(source, exc) from exc
        src.rollback()
        report.seconds = round(time.perf_counter() - started, 6)
        own = _own_tables(source, target)
        watched = [s for s in found if settings.watches(s.schema, s.table) and not own(s)]
        if not watched:
            globs = ", ".join(settings.tables)
            raise UsageError(
                f"monitor: no table in schema(s) {', '.join(report.schemas)} matches tables [{globs}] minus exclude"
            )
        previous = previous_passes(store, target, [(s.schema, s.table) for s in watched], reader.source)
        report.tables = [_reading(stats, previous.get((stats.schema, stats.table)), now) for stats in watched]
        report.tables += _dropped(store, target, previous, watched, settings)
        _write(ctx, store, report)
    return report


def _settings(
    configured: MonitorSettings, schemas: list[str] | None, tables: list[str] | None, exclude: list[str] | None
) -> MonitorSettings:
    return replace(
        configured,
        schemas=tuple(schemas) if schemas else configured.schemas,
        tables=tuple(tables) if tables else configured.tables,
        exclude=tuple(exclude) if exclude else configured.exclude,
    )


def _matched_schemas(present: list[str], settings: MonitorSettings) -> list[str]:
    """The source's schemas that the globs name (ignoring case); a glob that names none is a usage
    error listing what is there."""
    for glob in settings.schemas:
        if not any(fnmatch.fnmatchcase(s.lower(), glob.lower()) for s in present):
            shown = ", ".join(sorted(present)[:20])
            raise UsageError(f"monitor: schema glob {glob} matched no schema in the source (schemas there: {shown})")
    return sorted(s for s in present if settings.watches_schema(s))


def _own_tables(source: ConnectionConfig, target: StorageTarget) -> Callable[[TableStats], bool]:
    """Whether a table is ProfileMesh's own (in the storage schema of the same database): never watched."""
    names = set(target.storage.table_names.values())
    schema = target.schema if source.same_database(target.connection) else None

    def own(stats: TableStats) -> bool:
        return stats.schema == schema and (stats.table in names or stats.table.startswith("profilemesh_"))

    return own


def _reading(stats: TableStats, before: PreviousPass | None, now: dt.datetime) -> TableReading:
    """The table's figures in this pass, against the previous pass. A change is seen by the catalog's
    change time where it has one (Snowflake LAST_ALTERED), else by a counter moving between passes
    (PostgreSQL's insert, update and delete counters; DuckDB's row count)."""
    reading = TableReading(stats.schema, stats.table, "completed", row_count=stats.row_count)
    counter = stats.changes if stats.changes is not None else stats.row_count
    reading.read = {"counter": counter, "inserted": stats.inserted}
    if stats.last_altered is not None:
        reading.read["unchanged_since"] = stats.last_altered.isoformat()
        reading.freshness_hours = lag_hours(stats.last_altered, now)
    if before is None:
        return reading
    earlier = before.read
    if stats.last_altered is not None:
        reading.changed = earlier.get("unchanged_since") != reading.read["unchanged_since"]
    else:
        moved = counter is None or earlier.get("counter") is None or counter != earlier.get("counter")
        reading.changed = moved
        # Unchanged since: this pass when the counter moved (the change came after the previous pass),
        # else what the previous pass knew, else the previous pass itself.
        since = now if moved else _time(earlier.get("unchanged_since")) or before.profiled_at
        reading.read["unchanged_since"] = since.isoformat()
        reading.freshness_hours = lag_hours(since, now)
    inserted, was_inserted = stats.inserted, earlier.get("inserted")
    if inserted is not None and isinstance(was_inserted, int) and inserted >= was_inserted:
        reading.rows_added = inserted - was_inserted  # PostgreSQL: rows inserted, whatever was deleted
    elif stats.row_count is not None and before.row_count is not None:
        reading.rows_added = stats.row_count - before.row_count  # the net change
    return reading


def _time(text: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _dropped(
    store: Connection,
    target: StorageTarget,
    previous: dict[tuple[str, str], PreviousPass],
    watched: list[TableStats],
    settings: MonitorSettings,
) -> list[TableReading]:
    """The tables the last pass completed that the catalog no longer lists (while the config still
    watches them; their schema may be gone too): failed, once, naming when they were last seen."""
    if not previous:
        return []
    last = max(previous.values(), key=lambda p: (p.profiled_at, p.run_id))
    present = {(s.schema, s.table) for s in watched}
    gone = []
    for schema, table in tables_of_run(store, target, last.run_id):
        if (schema, table) in present or not (settings.watches_schema(schema) and settings.watches(schema, table)):
            continue
        seen = last.profiled_at.isoformat(sep=" ", timespec="seconds")
        error = f"table {schema}.{table} no longer exists (the previous pass saw it at {seen})"
        gone.append(TableReading(schema, table, "failed", error=error))
    return gone


def _write(ctx: Context, conn: Connection, report: MonitorReport) -> None:
    """The pass as one run, in one transaction: a runs row per table (the pass's catalog time shared
    evenly), its figures as table-level results (column_name '')."""
    target = ctx.target
    share = round(report.seconds / max(len(report.tables), 1), 6)
    runs, results = [], []
    for reading in report.tables:
        scope = {METADATA_PASS: report.source, READ_BOUNDS: reading.read}
        runs.append(
            {
                "run_id": report.run_id,
                "dataset_name": reading.table,
                "schema_name": stored_schema(reading.schema),
                "profiled_at": report.profiled_at,
                "environment": report.environment,
                "status": reading.status,
                "row_count": reading.row_count,
                "column_count": None,
                "error_message": reading.error,
                "duration_seconds": share,
                "scope": json.dumps(scope, sort_keys=True),
            }
        )
        for metric, value in ((ROWS_ADDED, reading.rows_added), (FRESHNESS_METRIC, reading.freshness_hours)):
            if value is not None:
                results.append(
                    {
                        "run_id": report.run_id,
                        "dataset_name": reading.table,
                        "schema_name": stored_schema(reading.schema),
                        "column_name": "",
                        "column_type": None,
                        "column_native_type": None,
                        "metric_name": metric,
                        "metric_value": str(value),
                        "metric_value_numeric": float(value),
                        "profiled_at": report.profiled_at,
                    }
                )
    require_writable(conn, target, ctx.head)  # in the writing transaction: no migration runs until it ends
    with writes.all_or_nothing(conn, f"writing run {report.run_id} failed, nothing was written"):
        writes.insert(conn, target, "runs", runs)
        writes.insert(conn, target, "results", results)
        ctx.hooks.before_commit("monitor")
