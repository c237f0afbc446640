"""Known rows for the query tests, inserted with plain SQL (independent of the producers), and a
plain-Python model of what each query must return."""

from __future__ import annotations

import datetime as dt
from typing import Any

from profilemesh.contract import DRIFT_EVENT_TYPES, SEVERITIES, STORAGE_COLUMNS
from tests.support.stores import Store

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def ago(hours: float = 0, days: float = 0) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours, days=days)


T1, T2, T3, OLD = ago(hours=25), ago(hours=49), ago(hours=73), ago(days=45)
RUN_COLUMNS = STORAGE_COLUMNS["runs"][:10]  # the order of the tuples below (runs.scope, from v4, stays NULL)
RUNS: list[tuple] = [
    ("run-a", "orders", "sales", T3, "prod", "completed", 100, 3, None, 1.5),
    ("run-a", "customers", "sales", T3, "prod", "completed", 0, 2, None, 0.0),
    ("run-b", "orders", "sales", T2, "prod", "completed", 150, 3, None, 2.0),
    ("run-b", "kunden_ü", "vertrieb", T2, "dev", "completed", 7, 1, None, None),
    ("run-c", "orders", "sales", T1, "prod", "failed", None, None, 'boom, "quoted"\nsecond line', 0.25),
    ("run-d", "orders", "sales", T1, "prod", "completed", 120, 4, None, 3.0),
    ("run-e", "orders", "other", T2, "staging", "completed", 9, 1, None, 0.5),
    ("run-old", "orders", "sales", OLD, "prod", "completed", 50, 3, None, 1.0),
]
# Paging: 23 runs of one table sharing 3 timestamps (ties), and run ids that do not sort by time.
PAGING_RUNS: list[tuple] = [
    (f"page-{(i * 7) % 23:02d}", "ticks", "paging", ago(hours=2 + i % 3), "prod", "completed", i, 1, None, None)
    for i in range(23)
]
RESULT_COLUMNS = ("run_id", "dataset_name", "schema_name", "column_name", "column_type", "metric_name",
                  "metric_value", "metric_value_numeric", "profiled_at")  # fmt: skip
RESULTS: list[tuple] = [
    ("run-a", "orders", "sales", "amount", "DOUBLE", "mean", "12.5", 12.5, T3),
    ("run-a", "orders", "sales", "amount", "DOUBLE", "null_count", "0", 0.0, T3),
    ("run-a", "orders", "sales", "status", "VARCHAR", "top_value", 'shipped, "fast"', None, T3),
    ("run-a", "orders", "sales", "amount", "DOUBLE", "histogram", '{"bins": [1, 2]}', None, T3),
    ("run-a", "customers", "sales", "name", "VARCHAR", "distinct_count", "0", 0.0, T3),
    ("run-d", "orders", "sales", "amount", "DOUBLE", "mean", "13", 13.0, T1),
    ("run-b", "kunden_ü", "vertrieb", "straße", "VARCHAR", "top_value", "Grüße 👋", None, T2),
]
DISTRIBUTION_COLUMNS = ("run_id", "schema_name", "dataset_name", "column_name", "kind", "position", "label",
                        "value_numeric", "value_upper", "value_text", "share_percent", "row_count", "mode",
                        "profiled_at")  # fmt: skip
DISTRIBUTIONS: list[tuple] = [
    ("run-a", "sales", "orders", "amount", "quantile", 3, "p50", 12.0, None, "12.0", None, None, "exact", T3),
    ("run-a", "sales", "orders", "amount", "quantile", 0, "p1", 1.5, None, "1.5", None, None, "exact", T3),
    ("run-a", "sales", "orders", "amount", "histogram", 0, None, 1.5, 20.0, None, 100.0, 100, "exact", T3),
    ("run-a", "sales", "orders", "status", "top_value", 0, 'shipped, "fast"', None, None, None, 60.0, 60, "exact", T3),
    ("run-a", "sales", "orders", "status", "top_value", 1, "open", None, None, None, 30.0, 30, "exact", T3),
    ("run-a", "sales", "orders", "status", "other", 0, None, None, None, None, 10.0, 10, "exact", T3),
    ("run-d", "sales", "orders", "amount", "quantile", 3, "p50", 13.0, None, "13.0", None, None, "approximate", T1),
    ("run-d", "sales", "orders", "region", "segment", 0, "nord", None, None, None, 75.0, 90, "exact", T1),
    ("run-d", "sales", "orders", "region", "segment", 1, None, None, None, None, 25.0, 30, "exact", T1),
    ("run-d", "sales", "orders", "region", "segment_other", 0, None, None, None, None, 0.0, 0, "exact", T1),
]  # fmt: skip
# The order of the tuples below: id and type, then the run (v2's columns), then the rest as stored.
EVENT_COLUMNS = ("event_id", "event_type", "run_id", "schema_name", *STORAGE_COLUMNS["events"][2:11])
EVENTS: list[tuple] = [
    ("ev-1", "DataDriftDetected", "run-b", "sales", "orders", "amount", "mean", 12.5, 15.0, 20.0, "medium", T2,
     '{"strategy": "threshold"}'),
    ("ev-2", "SchemaChangeDetected", "run-d", "sales", "orders", "notes", None, None, None, None, "low", T1, None),
    ("ev-3", "ProfilingCompleted", "run-b", "sales", "orders", None, None, None, None, None, None, T2, None),
    ("ev-4", "DataDriftDetected", "run-d", "sales", "orders", "amount", "null_percent", 0.0, 0.0, 0.0, "high", T1,
     None),
    ("ev-5", "DataDriftDetected", None, None, "orders", "amount", "max", 1.0, 2.0, 100.0, "low", T2, None),
    ("ev-old", "DataDriftDetected", "run-old", "sales", "orders", "amount", "mean", 1.0, 2.0, 100.0, "low", OLD,
     None),
    ("ev-6", "profiling_error", "run-c", "sales", "orders", None, None, None, None, None, None, T1, None),
]  # fmt: skip
PAGING_EVENTS: list[tuple] = [
    (f"tick-{(i * 5) % 17:02d}", "DataDriftDetected", f"page-{i:02d}", "paging", "ticks", "c", "mean", 1.0, 2.0,
     100.0, "low", ago(hours=2 + i % 2), None)
    for i in range(17)
]  # fmt: skip
DRIFT_TYPES = DRIFT_EVENT_TYPES


def insert(store: Store, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    names = ", ".join(store.ident(c) for c in columns)
    marks = ", ".join([store.ph] * len(columns))
    for row in rows:
        store.sql(f"INSERT INTO {store.qualified(table)} ({names}) VALUES ({marks})", list(row))


def seed(store: Store) -> None:
    insert(store, "profilemesh_runs", RUN_COLUMNS, RUNS + PAGING_RUNS)
    insert(store, "profilemesh_results", RESULT_COLUMNS, RESULTS)
    insert(store, "profilemesh_events", EVENT_COLUMNS, EVENTS + PAGING_EVENTS)
    insert(store, "profilemesh_distributions", DISTRIBUTION_COLUMNS, DISTRIBUTIONS)


# --- the model: what the views must say about these rows ---


def runs_model() -> list[dict[str, Any]]:
    rows = []
    events = [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in EVENTS + PAGING_EVENTS]
    rank = {name: position for position, name in enumerate(SEVERITIES)}
    for run in RUNS + PAGING_RUNS:
        row = dict(zip(RUN_COLUMNS, run, strict=True))
        drift = [
            e
            for e in events
            if e["event_type"] in DRIFT_TYPES
            and e["run_id"] == row["run_id"]
            and e["table_name"] == row["dataset_name"]
        ]
        row["metric_count"] = sum(1 for r in RESULTS if r[0] == row["run_id"] and r[1] == row["dataset_name"])
        row["drift_event_count"] = len(drift)
        row["max_drift_severity"] = max((e["drift_severity"] for e in drift), key=rank.get, default=None)
        rows.append(row)
    return rows


def runs_order(row: dict[str, Any]) -> tuple:
    return (-row["profiled_at"].timestamp(), row["run_id"], row["dataset_name"])


def drift_model() -> list[dict[str, Any]]:
    return [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in EVENTS + PAGING_EVENTS if e[1] in DRIFT_TYPES]
