"""A profile run's rows, written in one transaction: runs, results, distributions, the superseded
buckets and each table's state. All or nothing."""

from __future__ import annotations

import json

from sqlalchemy.engine import Connection

from profilemesh.context import Context
from profilemesh.profiling.distributions import stored_rows
from profilemesh.profiling.outcomes import ProfileReport, TableOutcome
from profilemesh.profiling.supersede import BucketPoint, supersede_buckets
from profilemesh.store import writes
from profilemesh.store.handshake import require_writable
from profilemesh.store.tables import COST, NOTES, stored_schema


def write_run(ctx: Context, conn: Connection, report: ProfileReport) -> None:
    """Every row of the run in one transaction: a run is all or nothing."""
    target = ctx.target
    runs, results = [], []
    written = [outcome for outcome in report.tables if outcome.status != "up_to_date"]
    for outcome in written:
        runs.append(
            {
                "run_id": outcome.run_id or report.run_id,
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
                    "run_id": outcome.run_id or report.run_id,
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
    with writes.all_or_nothing(conn, f"writing run {report.run_id} failed, nothing was written"):
        writes.insert(conn, target, "runs", runs)
        writes.insert(conn, target, "results", results)
        points = [
            BucketPoint(o.run_id, o.schema, o.table, o.profiled_at, o.scope or {})
            for o in written
            if o.run_id and o.status == "completed"
        ]
        supersede_buckets(conn, target, points)
        distributions = [
            row
            for outcome in written
            for row in stored_rows(
                outcome.run_id or report.run_id,
                stored_schema(outcome.schema),
                outcome.table,
                outcome.profiled_at,
                outcome.distributions,
            )
        ]
        writes.insert(conn, target, "distributions", distributions)
        # Each table's newest completed point (the buckets of a table come oldest first).
        latest = {(o.schema, o.table): o for o in written if o.status == "completed"}
        for outcome in latest.values():
            writes.upsert(
                conn,
                target,
                "table_state",
                ["schema_name", "table_name"],
                {
                    "schema_name": stored_schema(outcome.schema),
                    "table_name": outcome.table,
                    "last_run_id": outcome.run_id or report.run_id,
                    "last_profiled_at": outcome.profiled_at,
                    "row_count": outcome.row_count or 0,
                },
            )
        ctx.hooks.before_commit("profile")


def _recorded_scope(outcome: TableOutcome) -> str | None:
    """runs.scope: what the table's run read (the config's scope and window bounds), what it cost and
    what it noted (COST and NOTES: facts of this run, never part of what makes two runs comparable)."""
    recorded = {**(outcome.scope or {})}
    if outcome.cost:
        recorded[COST] = outcome.cost
    if outcome.notes:
        recorded[NOTES] = outcome.notes
    return json.dumps(recorded, sort_keys=True) if recorded else None
