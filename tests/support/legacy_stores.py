"""ProfileMesh-era stores as deployed before versioning (shared/seed/NOTES.md), with known rows.

This is test data standing in for existing users' warehouses; the product's own DDL lives only in
the dbt package.
"""

from __future__ import annotations

from tests.support.stores import Store

RUNS = [
    ("run-1", "orders", "sales", "2024-01-01 10:00:00", "prod", "completed", 100, 3),
    ("run-1", "customers", "sales", "2024-01-01 10:00:00", "prod", "completed", 0, 2),
    ("run-2", "orders", "sales", "2024-01-02 10:00:00", "prod", "failed", None, None),
]
RESULTS = [
    # (run_id, dataset, schema, column, type, metric, value)
    ("run-1", "orders", "sales", "amount", "DOUBLE", "mean", "12.5"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "null_count", "0"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "min", "-3e2"),
    ("run-1", "orders", "sales", "status", "VARCHAR", "top_value", "shipped"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "histogram", '{"bins": [1, 2, 3]}'),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "max", " 42 "),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "error", "it's broken; -- really"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "weird", "NaN"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "huge", "1e999"),
    ("run-1", "orders", "sales", "amount", "DOUBLE", "empty", None),
]
NUMERIC_EXPECTED = {"mean": 12.5, "null_count": 0.0, "min": -300.0, "max": 42.0}
EVENTS = [
    (
        "ev-1",
        "DataDriftDetected",
        "orders",
        "amount",
        "mean",
        10.0,
        12.5,
        25.0,
        "medium",
        "2024-01-02 10:00:00",
        '{"strategy": "threshold"}',
    ),
    ("ev-2", "ProfilingCompleted", "orders", None, None, None, None, None, None, "2024-01-02 10:00:00", None),
]
TABLE_STATE = [
    ("sales", "orders", "run-1", None, None, "profile", "changed", "2024-01-01 10:00:00", 0, 100, 2048, None)
]


def _types(store: Store) -> dict[str, str]:
    if store.kind == "snowflake":
        return {
            "float": "FLOAT",
            "ts": "TIMESTAMP_NTZ",
            "text": "TEXT",
            "now": "SYSDATE()",
            "json": "VARIANT",
            "json_in": "PARSE_JSON(%s)",
        }
    if store.kind == "postgres":
        return {
            "float": "FLOAT",
            "ts": "TIMESTAMP",
            "text": "TEXT",
            "now": "CURRENT_TIMESTAMP",
            "json": "TEXT",
            "json_in": "%s",
        }
    return {
        "float": "DOUBLE",
        "ts": "TIMESTAMP",
        "text": "TEXT",
        "now": "CURRENT_TIMESTAMP",
        "json": "TEXT",
        "json_in": "?",
    }


def create_legacy_store(
    store: Store,
    *,
    events_with_run_id: bool = True,
    only_runs_and_results: bool = False,
    runs_table: str = "profilemesh_runs",
    results_table: str = "profilemesh_results",
) -> None:
    t = _types(store)
    q = store.qualified
    store.sql(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
    store.sql(f"""CREATE TABLE {q(runs_table)} (
        run_id VARCHAR(36) NOT NULL, dataset_name VARCHAR(255) NOT NULL, schema_name VARCHAR(255),
        profiled_at {t["ts"]} NOT NULL, environment VARCHAR(50), status VARCHAR(20), row_count INTEGER,
        column_count INTEGER, PRIMARY KEY (run_id, dataset_name))""")
    if store.kind == "snowflake":
        id_column = "id INTEGER AUTOINCREMENT NOT NULL"
    elif store.kind == "duckdb":
        store.sql(f'CREATE SEQUENCE "{store.schema}".legacy_results_seq')
        id_column = f"id INTEGER DEFAULT nextval('{store.schema}.legacy_results_seq') NOT NULL"
    else:
        id_column = "id SERIAL NOT NULL"
    store.sql(f"""CREATE TABLE {q(results_table)} (
        {id_column}, run_id VARCHAR(36) NOT NULL, dataset_name VARCHAR(255) NOT NULL,
        schema_name VARCHAR(255), column_name VARCHAR(255) NOT NULL, column_type VARCHAR(100),
        metric_name VARCHAR(100) NOT NULL, metric_value {t["text"]}, profiled_at {t["ts"]} NOT NULL,
        PRIMARY KEY (id))""")
    ph = store.ph
    for row in RUNS:
        store.sql(f"INSERT INTO {q(runs_table)} VALUES ({', '.join([ph] * 8)})", list(row))
    for row in RESULTS:
        store.sql(
            f"INSERT INTO {q(results_table)} (run_id, dataset_name, schema_name, column_name, column_type, "
            f"metric_name, metric_value, profiled_at) VALUES ({', '.join([ph] * 7)}, '2024-01-01 10:00:00')",
            list(row),
        )
    if only_runs_and_results:
        return
    run_id_column = "run_id VARCHAR(36)," if events_with_run_id else ""
    store.sql(f"""CREATE TABLE {q("profilemesh_events")} (
        event_id VARCHAR(36) NOT NULL, event_type VARCHAR(100) NOT NULL, {run_id_column}
        table_name VARCHAR(255), column_name VARCHAR(255), metric_name VARCHAR(100),
        baseline_value {t["float"]}, current_value {t["float"]}, change_percent {t["float"]},
        drift_severity VARCHAR(20), timestamp {t["ts"]} NOT NULL, metadata {t["json"]},
        created_at {t["ts"]} DEFAULT {t["now"]}, PRIMARY KEY (event_id))""")
    store.sql(f"""CREATE TABLE {q("profilemesh_table_state")} (
        schema_name VARCHAR(255), table_name VARCHAR(255) NOT NULL, last_run_id VARCHAR(36),
        snapshot_id VARCHAR(255), change_token VARCHAR(255), decision VARCHAR(50), decision_reason VARCHAR(255),
        last_profiled_at {t["ts"]}, staleness_score INTEGER, row_count BIGINT, bytes_scanned BIGINT,
        metadata {t["text"]}, PRIMARY KEY (schema_name, table_name))""")
    for row in EVENTS:
        store.sql(
            f"INSERT INTO {q('profilemesh_events')} (event_id, event_type, table_name, column_name, "
            f"metric_name, baseline_value, current_value, change_percent, drift_severity, timestamp, metadata) "
            f"SELECT {', '.join([ph] * 10)}, {t['json_in']}",
            list(row),
        )
    for row in TABLE_STATE:
        store.sql(f"INSERT INTO {q('profilemesh_table_state')} VALUES ({', '.join([ph] * 12)})", list(row))


def snapshot_rows(store: Store, table: str, columns: list[str], order_by: str) -> list[tuple]:
    cols = ", ".join(store.ident(c) for c in columns)
    return store.sql(f"SELECT {cols} FROM {store.qualified(table)} ORDER BY {store.ident(order_by)}")
