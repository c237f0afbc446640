"""The query views' definitions in SQLAlchemy Core, over the storage tables themselves.

Used for a store one version behind, where the views (built for the current version) cannot exist
yet. Columns a version-1 store lacks (events.run_id in some deployments, events.schema_name,
results.metric_value_numeric, runs.error_message, runs.duration_seconds) and a version-2 store
lacks (events.accepted_at, accepted_by, accepted_reason), and a version-5 store runs.dbt_unique_id, read as NULL, and a
missing events table reads as no events. The results must match the dbt views; a test runs both
over the same rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.contract import DISTRIBUTIONS_VIEW, DRIFT_EVENT_TYPES, SEVERITIES, STORAGE_COLUMNS, VIEW_COLUMNS
from profilemesh.query.relations import Relations
from profilemesh.store.tables import SUPERSEDED
from profilemesh.store.target import StorageTarget

_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "profiled_at": sa.DateTime(),
    "timestamp": sa.DateTime(),
    "accepted_at": sa.DateTime(),
    "row_count": sa.BigInteger(),
    "column_count": sa.Integer(),
    "id": sa.Integer(),
    "duration_seconds": sa.Double(),
    "metric_value_numeric": sa.Double(),
    "baseline_value": sa.Double(),
    "current_value": sa.Double(),
    "change_percent": sa.Double(),
    "position": sa.Integer(),
    "value_numeric": sa.Double(),
    "value_upper": sa.Double(),
    "share_percent": sa.Double(),
}


class _Columns:
    """A storage table's columns as expressions: the real column when present, else a typed NULL. A
    table the store lacks (some version-1 stores have no events table) is an empty one."""

    def __init__(self, name: str, schema: str, present: set[str]):
        self.table = sa.table(name, *(sa.column(c) for c in sorted(present)), schema=schema)
        self.exists = bool(present)
        self._present = present

    def __getitem__(self, name: str) -> sa.ColumnElement[Any]:
        if name in self._present:
            return self.table.c[name]
        return sa.cast(sa.null(), _TYPES.get(name, sa.String()))


def _storage(conn: Connection, target: StorageTarget, table: str) -> _Columns:
    """The columns the store's table has, of those it has at head (reflected: older stores vary)."""
    name, schema = target.table_name(table), target.schema
    inspector = sa.inspect(conn)
    if not inspector.has_table(name, schema=schema):
        return _Columns(name, schema, set())
    present = {c["name"].lower() for c in inspector.get_columns(name, schema=schema)} & set(STORAGE_COLUMNS[table])
    return _Columns(name, schema, present)


def _severity_rank(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.case({name: rank for rank, name in enumerate(SEVERITIES)}, value=column)


def _severity_from_rank(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.case({rank: name for rank, name in enumerate(SEVERITIES)}, value=column)


def relations(conn: Connection, target: StorageTarget) -> Relations:
    """The four views over the store's storage tables, as they are at version head - 1 (or 1)."""
    runs = _storage(conn, target, "runs")
    results = _storage(conn, target, "results")
    events = _storage(conn, target, "events")
    drift = _drift(runs, events)
    runs_view = _runs(runs, results, drift)
    return Relations(
        runs=runs_view,
        drift=drift,
        history=_history(runs_view),
        metrics=_metrics(runs, results),
        distributions=_distributions(runs, _storage(conn, target, "distributions")),
    )


def _drift(runs: _Columns, events: _Columns) -> sa.Subquery:
    columns = [
        events["event_id"].label("event_id"),
        events["event_type"].label("event_type"),
        events["run_id"].label("run_id"),
        sa.func.coalesce(events["schema_name"], runs["schema_name"]).label("schema_name"),
        events["table_name"].label("table_name"),
        events["column_name"].label("column_name"),
        events["metric_name"].label("metric_name"),
        events["baseline_value"].label("baseline_value"),
        events["current_value"].label("current_value"),
        events["change_percent"].label("change_percent"),
        events["drift_severity"].label("drift_severity"),
        events["timestamp"].label("detected_at"),
        runs["environment"].label("environment"),
        runs["profiled_at"].label("profiled_at"),
        sa.cast(events["metadata"], sa.Text()).label("metadata"),
        events["accepted_at"].label("accepted_at"),
        events["accepted_by"].label("accepted_by"),
        events["accepted_reason"].label("accepted_reason"),
    ]
    if not events.exists:
        return sa.select(*columns).where(sa.false()).subquery("drift")
    joined = events.table.outerjoin(
        runs.table, sa.and_(runs["run_id"] == events["run_id"], runs["dataset_name"] == events["table_name"])
    )
    query = sa.select(*columns).select_from(joined).where(events["event_type"].in_(DRIFT_EVENT_TYPES))
    return query.subquery("drift")


def _runs(runs: _Columns, results: _Columns, drift: sa.Subquery) -> sa.Subquery:
    metrics = (
        sa.select(
            results["run_id"].label("run_id"),
            results["dataset_name"].label("dataset_name"),
            sa.func.count().label("metric_count"),
        )
        .group_by(results["run_id"], results["dataset_name"])
        .subquery("metrics")
    )
    drift_counts = (
        sa.select(
            drift.c.run_id,
            drift.c.table_name,
            sa.func.count().label("drift_event_count"),
            sa.func.max(_severity_rank(drift.c.drift_severity)).label("severity_rank"),
        )
        .where(drift.c.run_id.is_not(None))
        .group_by(drift.c.run_id, drift.c.table_name)
        .subquery("drift_counts")
    )
    joined = runs.table.outerjoin(
        metrics, sa.and_(metrics.c.run_id == runs["run_id"], metrics.c.dataset_name == runs["dataset_name"])
    ).outerjoin(
        drift_counts,
        sa.and_(drift_counts.c.run_id == runs["run_id"], drift_counts.c.table_name == runs["dataset_name"]),
    )
    query = sa.select(
        *(runs[c].label(c) for c in ("run_id", "dataset_name", "schema_name", "environment", "status")),
        *(runs[c].label(c) for c in ("profiled_at", "row_count", "column_count", "error_message", "duration_seconds")),
        runs["scope"].label("scope"),
        runs["dbt_unique_id"].label("dbt_unique_id"),
        sa.func.coalesce(metrics.c.metric_count, 0).label("metric_count"),
        sa.func.coalesce(drift_counts.c.drift_event_count, 0).label("drift_event_count"),
        _severity_from_rank(drift_counts.c.severity_rank).label("max_drift_severity"),
    ).select_from(joined)
    return query.subquery("runs_v")


def _history(runs: sa.Subquery) -> sa.Subquery:
    def previous(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.lag(column).over(
            partition_by=[runs.c.schema_name, runs.c.dataset_name], order_by=[runs.c.profiled_at, runs.c.run_id]
        )

    ordered = (
        sa.select(
            *(runs.c[c] for c in ("run_id", "schema_name", "dataset_name", "environment", "status", "profiled_at")),
            runs.c.row_count,
            runs.c.column_count,
            runs.c.drift_event_count,
            runs.c.max_drift_severity,
            previous(runs.c.run_id).label("previous_run_id"),
            previous(runs.c.profiled_at).label("previous_profiled_at"),
            previous(runs.c.row_count).label("previous_row_count"),
            previous(runs.c.column_count).label("previous_column_count"),
        )
        .where(runs.c.status != SUPERSEDED)
        .subquery("ordered")
    )
    o = ordered.c
    change = o.row_count - o.previous_row_count
    query = sa.select(
        *(o[c] for c in ("run_id", "schema_name", "dataset_name", "environment", "status", "profiled_at")),
        o.row_count,
        o.column_count,
        o.previous_run_id,
        o.previous_profiled_at,
        o.previous_row_count,
        change.label("row_count_change"),
        sa.cast(100.0 * change / sa.func.nullif(o.previous_row_count, 0), sa.Double()).label(
            "row_count_change_percent"
        ),
        (o.column_count - o.previous_column_count).label("column_count_change"),
        o.drift_event_count,
        o.max_drift_severity,
    )
    return query.subquery("history")


def _metrics(runs: _Columns, results: _Columns) -> sa.Subquery:
    joined = results.table.outerjoin(
        runs.table, sa.and_(runs["run_id"] == results["run_id"], runs["dataset_name"] == results["dataset_name"])
    )
    query = sa.select(
        results["id"].label("result_id"),
        results["run_id"].label("run_id"),
        sa.func.coalesce(results["schema_name"], runs["schema_name"]).label("schema_name"),
        *(results[c].label(c) for c in ("dataset_name", "column_name", "column_type", "column_native_type")),
        *(results[c].label(c) for c in ("metric_name", "metric_value")),
        results["metric_value_numeric"].label("metric_value_numeric"),
        results["profiled_at"].label("profiled_at"),
        runs["environment"].label("environment"),
        runs["status"].label("run_status"),
    ).select_from(joined)
    return query.subquery("metrics_v")


def _distributions(runs: _Columns, distributions: _Columns) -> sa.Subquery:
    """profilemesh_distributions_v; a store before version 7 has no distributions: no rows."""
    stored = [c for c in VIEW_COLUMNS[DISTRIBUTIONS_VIEW] if c not in ("environment", "run_status")]
    if not distributions.exists:
        empty = [sa.cast(sa.null(), _TYPES.get(c, sa.String())).label(c) for c in VIEW_COLUMNS[DISTRIBUTIONS_VIEW]]
        return sa.select(*empty).where(sa.false()).subquery("distributions_v")
    joined = distributions.table.outerjoin(
        runs.table,
        sa.and_(
            runs["run_id"] == distributions["run_id"],
            runs["schema_name"] == distributions["schema_name"],
            runs["dataset_name"] == distributions["dataset_name"],
        ),
    )
    query = sa.select(
        *(distributions[c].label(c) for c in stored),
        runs["environment"].label("environment"),
        runs["status"].label("run_status"),
    ).select_from(joined)
    return query.subquery("distributions_v")
