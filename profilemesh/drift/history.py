"""Reading profiled runs back for drift detection. A table's metrics are always read by
(run_id, schema, table), so the tables of one run never mix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.drift.distributions import OTHER, ColumnShape
from profilemesh.store.tables import SUPERSEDED, newest_first, scope_key, storage_table, stored_schema
from profilemesh.store.target import StorageTarget


@dataclass(frozen=True)
class TableRun:
    run_id: str
    schema: str | None
    table: str
    profiled_at: dt.datetime
    row_count: int | None
    scope: str | None = None  # what the run read (runs.scope, normalised JSON), None for a full read


@dataclass
class RunMetrics:
    run: TableRun
    numbers: dict[tuple[str, str], float] = field(default_factory=dict)  # (column, metric) -> value
    column_types: dict[str, str] = field(default_factory=dict)
    native_types: dict[str, str] = field(default_factory=dict)  # where the run recorded them (version 4 on)
    distributions: dict[str, ColumnShape] = field(default_factory=dict)  # column -> shape (version 7 on)


def completed_runs(
    conn: Connection, target: StorageTarget, *, table: str | None = None, schema: str | None = None
) -> list[TableRun]:
    """Completed table runs, oldest first (ties broken by run_id, so the order is stable)."""
    runs = storage_table(target, "runs")
    query = sa.select(
        runs.c.run_id, runs.c.schema_name, runs.c.dataset_name, runs.c.profiled_at, runs.c.row_count, runs.c.scope
    ).where(runs.c.status == "completed")
    if table is not None:
        query = query.where(runs.c.dataset_name == table)
    if schema is not None:
        query = query.where(runs.c.schema_name == schema)
    query = query.order_by(runs.c.profiled_at, runs.c.run_id)
    return [
        TableRun(
            r.run_id,
            r.schema_name,
            r.dataset_name,
            r.profiled_at,
            None if r.row_count is None else int(r.row_count),
            scope_key(r.scope),
        )
        for r in conn.execute(query)
    ]


def same_scope(runs: list[TableRun], position: int) -> tuple[list[TableRun], int]:
    """The runs up to `position` that read the table as that run did (same row filter, columns and
    sample), and its position among them: drift compares like with like, so changing what a table's
    runs read starts its history afresh."""
    scope = runs[position].scope
    kept = [run for run in runs[: position + 1] if run.scope == scope]
    return kept, len(kept) - 1


def run_exists(conn: Connection, target: StorageTarget, run_id: str) -> bool:
    runs = storage_table(target, "runs")
    return conn.execute(sa.select(sa.func.count()).select_from(runs).where(runs.c.run_id == run_id)).scalar_one() > 0


def load_metrics(conn: Connection, target: StorageTarget, run: TableRun) -> RunMetrics:
    results = storage_table(target, "results")
    schema_match = results.c.schema_name == stored_schema(run.schema)
    query = sa.select(
        results.c.column_name,
        results.c.column_type,
        results.c.column_native_type,
        results.c.metric_name,
        results.c.metric_value_numeric,
    ).where(results.c.run_id == run.run_id, results.c.dataset_name == run.table, schema_match)
    metrics = RunMetrics(run=run)
    if run.row_count is not None:
        metrics.numbers[("", "row_count")] = float(run.row_count)
    for row in conn.execute(query):
        _record_types(metrics, row)
        if row.metric_value_numeric is not None:
            metrics.numbers[(row.column_name, row.metric_name)] = float(row.metric_value_numeric)
    _load_shapes(conn, target, {run.run_id: metrics})
    return metrics


def load_history(conn: Connection, target: StorageTarget, runs: list[TableRun]) -> list[RunMetrics]:
    """The metrics of several runs of one table, in the order given, in one query per 500 runs."""
    if not runs:
        return []
    results = storage_table(target, "results")
    first = runs[0]
    schema_match = results.c.schema_name == stored_schema(first.schema)
    by_id = {run.run_id: RunMetrics(run=run) for run in runs}
    for metrics in by_id.values():
        if metrics.run.row_count is not None:
            metrics.numbers[("", "row_count")] = float(metrics.run.row_count)
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        query = sa.select(
            results.c.run_id,
            results.c.column_name,
            results.c.column_type,
            results.c.column_native_type,
            results.c.metric_name,
            results.c.metric_value_numeric,
        ).where(results.c.run_id.in_(ids[start : start + 500]), results.c.dataset_name == first.table, schema_match)
        for row in conn.execute(query):
            metrics = by_id[row.run_id]
            _record_types(metrics, row)
            if row.metric_value_numeric is not None:
                metrics.numbers[(row.column_name, row.metric_name)] = float(row.metric_value_numeric)
    _load_shapes(conn, target, by_id)
    return [by_id[run.run_id] for run in runs]


def _load_shapes(conn: Connection, target: StorageTarget, by_id: dict[str, RunMetrics]) -> None:
    """Each run's stored quantiles, value shares, segments and segment metrics (profilemesh_distributions), one query
    per 500 runs of one table; histograms are for display and not read."""
    first = next(iter(by_id.values())).run
    table = storage_table(target, "distributions")
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        query = sa.select(
            table.c.run_id, table.c.column_name, table.c.kind, table.c.label, table.c.value_numeric,
            table.c.value_text, table.c.share_percent, table.c.row_count,
        ).where(
            table.c.run_id.in_(ids[start : start + 500]),
            table.c.dataset_name == first.table,
            table.c.schema_name == stored_schema(first.schema),
            table.c.kind != "histogram",
        )  # fmt: skip
        for row in conn.execute(query):
            metrics = by_id[row.run_id]
            shape = metrics.distributions.setdefault(row.column_name, ColumnShape())
            label = OTHER if row.kind in ("other", "segment_other") else ("NULL" if row.label is None else row.label)
            if row.kind == "quantile" and row.value_numeric is not None:
                shape.quantiles[row.label] = float(row.value_numeric)
                shape.temporal = metrics.column_types.get(row.column_name, "").upper().startswith(("DATE", "TIME"))
            elif row.kind in ("top_value", "other") and row.share_percent is not None:
                shape.shares[label] = float(row.share_percent)
            elif row.kind in ("segment", "segment_other") and row.share_percent is not None:
                shape.segments[label] = (int(row.row_count or 0), float(row.share_percent))
            elif row.kind == "segment_metric" and row.value_numeric is not None and row.label and row.value_text:
                shape.segment_metrics[(row.label, row.value_text)] = (float(row.value_numeric), int(row.row_count or 0))


def _record_types(metrics: RunMetrics, row: sa.Row[Any]) -> None:
    if not row.column_name:
        return  # a table-level metric (freshness_hours, rows_added), not a column
    metrics.column_types[row.column_name] = row.column_type or ""
    if row.column_native_type:
        metrics.native_types[row.column_name] = row.column_native_type


@dataclass(frozen=True)
class LatestRun:
    run_id: str
    status: str
    error: str | None


def latest_runs(
    conn: Connection, target: StorageTarget, *, table: str | None = None, schema: str | None = None
) -> dict[tuple[str | None, str], LatestRun]:
    """Each table's latest run, whatever its status (a failed run is latest too), but a superseded one
    (a bucket profiled again: the run that replaced it is the point)."""
    runs = storage_table(target, "runs")
    position = newest_first(runs)
    ranked = sa.select(
        runs.c.run_id, runs.c.schema_name, runs.c.dataset_name, runs.c.status, runs.c.error_message, position
    ).where(runs.c.status != SUPERSEDED)
    if table is not None:
        ranked = ranked.where(runs.c.dataset_name == table)
    if schema is not None:
        ranked = ranked.where(runs.c.schema_name == schema)
    inner = ranked.subquery()
    rows = conn.execute(sa.select(inner).where(inner.c.position == 1))
    return {(r.schema_name, r.dataset_name): LatestRun(r.run_id, r.status, r.error_message) for r in rows}
