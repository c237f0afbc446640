"""SQLAlchemy Core handles on the storage tables (names from the config; quoting by the dialect).
These name columns for reads and writes only; the tables' definitions live in the dbt package."""

from __future__ import annotations

import sqlalchemy as sa

from profilemesh.connection import StorageTarget

RUN_COLUMNS = (
    "run_id",
    "dataset_name",
    "schema_name",
    "profiled_at",
    "environment",
    "status",
    "row_count",
    "column_count",
    "error_message",
    "duration_seconds",
)
RESULT_COLUMNS = (
    "run_id",
    "dataset_name",
    "schema_name",
    "column_name",
    "column_type",
    "metric_name",
    "metric_value",
    "metric_value_numeric",
    "profiled_at",
)
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "run_id",
    "schema_name",
    "table_name",
    "column_name",
    "metric_name",
    "baseline_value",
    "current_value",
    "change_percent",
    "drift_severity",
    "timestamp",
    "metadata",
    "created_at",
)
TABLE_STATE_COLUMNS = ("schema_name", "table_name", "last_run_id", "last_profiled_at", "row_count")


def _table(name: str, columns: tuple[str, ...], schema: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns), schema=schema)


def runs(target: StorageTarget) -> sa.TableClause:
    return _table(target.storage.runs_table, RUN_COLUMNS, target.schema)


def results(target: StorageTarget) -> sa.TableClause:
    return _table(target.storage.results_table, RESULT_COLUMNS, target.schema)


def events(target: StorageTarget) -> sa.TableClause:
    return _table(target.storage.events_table, EVENT_COLUMNS, target.schema)


def table_state(target: StorageTarget) -> sa.TableClause:
    return _table(target.storage.table_state_table, TABLE_STATE_COLUMNS, target.schema)
