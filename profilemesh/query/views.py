"""Names and columns of the query views: a public contract (BI tools bind to them).

The views are dbt models in `dbt_profilemesh/models/query/`; a test checks these lists against the
models' documented columns. A breaking change goes through a new view name, never in place.
"""

from __future__ import annotations

RUNS_VIEW = "profilemesh_runs_v"
DRIFT_VIEW = "profilemesh_drift_v"
HISTORY_VIEW = "profilemesh_table_history_v"
METRICS_VIEW = "profilemesh_column_metrics_v"
LATEST_METRICS_VIEW = "profilemesh_latest_metrics_v"  # for dashboards; the CLI does not read it
INFO_VIEW = "profilemesh_views_info"

DRIFT_EVENT_TYPES = ("DataDriftDetected", "SchemaChangeDetected")
SEVERITIES = ("none", "low", "medium", "high")
STATUSES = ("completed", "failed")

RUNS_COLUMNS = (
    "run_id",
    "dataset_name",
    "schema_name",
    "environment",
    "status",
    "profiled_at",
    "row_count",
    "column_count",
    "error_message",
    "duration_seconds",
    "metric_count",
    "drift_event_count",
    "max_drift_severity",
)
DRIFT_COLUMNS = (
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
    "detected_at",
    "environment",
    "profiled_at",
    "metadata",
)
HISTORY_COLUMNS = (
    "run_id",
    "schema_name",
    "dataset_name",
    "environment",
    "status",
    "profiled_at",
    "row_count",
    "column_count",
    "previous_run_id",
    "previous_profiled_at",
    "previous_row_count",
    "row_count_change",
    "row_count_change_percent",
    "column_count_change",
    "drift_event_count",
    "max_drift_severity",
)
METRICS_COLUMNS = (
    "result_id",
    "run_id",
    "schema_name",
    "dataset_name",
    "column_name",
    "column_type",
    "metric_name",
    "metric_value",
    "metric_value_numeric",
    "profiled_at",
    "environment",
    "run_status",
)
INFO_COLUMNS = ("schema_version", "package_version", "package_fingerprint")

VIEW_COLUMNS = {
    RUNS_VIEW: RUNS_COLUMNS,
    DRIFT_VIEW: DRIFT_COLUMNS,
    HISTORY_VIEW: HISTORY_COLUMNS,
    METRICS_VIEW: METRICS_COLUMNS,
    LATEST_METRICS_VIEW: METRICS_COLUMNS,
    INFO_VIEW: INFO_COLUMNS,
}
