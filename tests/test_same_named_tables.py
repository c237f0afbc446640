"""Two tables with one name in two schemas are two tables everywhere: one run profiles both (schema
version 4 keys runs by schema and table), drift compares each with its own history, the query views
and `query` filters tell them apart, and retention deletes one without touching the other."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from profilemesh.api import (
    Context,
    detect_drift,
    migrate_apply,
    profile,
    query_drift,
    query_run,
    query_runs,
    retention,
)
from profilemesh.retention.operation import RetentionPolicy
from tests.support.stores import Store


def _two_orders_tables(store: Store, tmp_path: Path, upper: bool = False) -> Context:
    def name(text: str) -> str:
        return text.upper() if upper else text

    for schema, rows in (("sales", 30), ("staging", 4)):
        store.sql(f"CREATE SCHEMA IF NOT EXISTS {store.ident(name(schema))}")
        store.sql(f"CREATE TABLE {store.ident(name(schema))}.{store.ident(name('orders'))} (id INTEGER, amount FLOAT)")
        values = ", ".join(f"({i}, {i * 1.5})" for i in range(rows))
        store.sql(f"INSERT INTO {store.ident(name(schema))}.{store.ident(name('orders'))} VALUES {values}")
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data["drift_detection"] = {"strategy": "threshold"}
    data["profiling"] = {"tables": [f"{name('sales')}.{name('orders')}", f"{name('staging')}.{name('orders')}"]}
    path = tmp_path / "two_schemas.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _runs(store: Store, run_id: str) -> dict[str, int]:
    rows = store.sql(
        f"SELECT {store.ident('schema_name')}, {store.ident('row_count')} FROM {store.qualified('profilemesh_runs')} "
        f"WHERE {store.ident('run_id')} = {store.ph}",
        [run_id],
    )
    return {str(schema).lower(): int(count) for schema, count in rows}


def test_one_run_profiles_and_drift_tells_apart_same_named_tables(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    ctx = _two_orders_tables(store, tmp_path)

    first = profile(ctx)
    assert [(t.schema, t.table, t.status) for t in first.tables] == [
        ("sales", "orders", "completed"),
        ("staging", "orders", "completed"),
    ]
    assert _runs(store, first.run_id) == {"sales": 30, "staging": 4}
    results = store.sql(
        f"SELECT {store.ident('schema_name')}, COUNT(*) FROM {store.qualified('profilemesh_results')} "
        f"WHERE {store.ident('run_id')} = {store.ph} GROUP BY {store.ident('schema_name')}",
        [first.run_id],
    )
    assert {s for s, _ in results} == {"sales", "staging"}

    # Only staging.orders changes: drift finds it there and nowhere else.
    store.sql("DELETE FROM staging.orders WHERE id > 0")
    second = profile(ctx)
    assert _runs(store, second.run_id) == {"sales": 30, "staging": 1}
    report = detect_drift(ctx)
    row_drift = [e for e in report.events if e.metric == "row_count"]
    assert [(e.schema, e.table) for e in row_drift] == [("staging", "orders")]

    # The views and `query` keep them apart.
    sales = query_runs(ctx, table="sales.orders")
    staging = query_runs(ctx, table="orders", schema="staging")
    assert [r["row_count"] for r in sales.rows] == [30, 30]
    assert [r["row_count"] for r in staging.rows] == [1, 4]
    assert all(r["metric_count"] > 0 for r in sales.rows + staging.rows)
    assert [r["drift_event_count"] for r in sales.rows] == [0, 0]
    assert staging.rows[0]["drift_event_count"] >= 1
    assert query_drift(ctx, table="sales.orders", days=0).rows == []
    assert query_drift(ctx, table="staging.orders", days=0).rows
    run = query_run(ctx, second.run_id, table="staging.orders")
    assert {t["schema_name"] for t in run.tables} == {"staging"}

    # Retention of one of them leaves the other's runs, results and events alone.
    plan = retention(ctx, RetentionPolicy(keep_days=0, keep_runs_per_table=1, table="staging.orders"), apply=True)
    gone = {(t["schema_name"], t["table_name"]): t["runs"] for t in plan.to_dict()["tables"] if t["runs"]}
    assert gone == {("staging", "orders"): 1}
    assert _runs(store, first.run_id) == {"sales": 30}
    left = store.sql(
        f"SELECT COUNT(*) FROM {store.qualified('profilemesh_results')} WHERE {store.ident('run_id')} = {store.ph} "
        f"AND {store.ident('schema_name')} = 'sales'",
        [first.run_id],
    )
    assert left[0][0] > 0


@pytest.mark.snowflake
def test_same_named_tables_on_snowflake(sf_store: Store, tmp_path: Path) -> None:
    migrate_apply(sf_store.ctx, build_views=False)
    ctx = _two_orders_tables(sf_store, tmp_path, upper=True)
    first = profile(ctx)
    assert [(t.schema, t.status) for t in first.tables] == [("SALES", "completed"), ("STAGING", "completed")]
    assert _runs(sf_store, first.run_id) == {"sales": 30, "staging": 4}


def _at_version_3_with_rows_without_schema(store: Store) -> None:
    migrate_apply(store.ctx, target_version=3, build_views=False)
    q, at = store.qualified, "CAST('2024-05-01 00:00:00' AS TIMESTAMP)"
    c = store.ident
    store.sql(
        f"INSERT INTO {q('profilemesh_runs')} ({c('run_id')}, {c('dataset_name')}, {c('schema_name')}, "
        f"{c('profiled_at')}, {c('status')}) VALUES ('r1', 'orders', NULL, {at}, 'completed'), "
        f"('r1', 'customers', 'crm', {at}, 'completed')"
    )
    store.sql(
        f"INSERT INTO {q('profilemesh_results')} ({c('run_id')}, {c('dataset_name')}, {c('schema_name')}, "
        f"{c('column_name')}, {c('metric_name')}, {c('profiled_at')}) VALUES "
        f"('r1', 'orders', NULL, 'id', 'null_count', {at}), ('r1', 'customers', NULL, 'id', 'null_count', {at}), "
        f"('gone', 'orders', NULL, 'id', 'null_count', {at})"
    )
    store.sql(
        f"INSERT INTO {q('profilemesh_events')} ({c('event_id')}, {c('event_type')}, {c('run_id')}, "
        f"{c('schema_name')}, {c('table_name')}, {c('timestamp')}) VALUES "
        f"('e1', 'DataDriftDetected', 'r1', NULL, 'customers', {at}), "
        f"('e2', 'DataDriftDetected', NULL, NULL, 'orders', {at})"
    )


def test_upgrade_to_version_4_gives_rows_without_a_schema_their_runs_or_empty(store: Store) -> None:
    """Results and events take their run's schema; what has no run with one gets '' (documented); the
    store then validates, and one run can hold the same table name twice."""
    _at_version_3_with_rows_without_schema(store)
    migrate_apply(store.ctx, build_views=False)
    q, c = store.qualified, store.ident
    runs = store.sql(f"SELECT {c('dataset_name')}, {c('schema_name')} FROM {q('profilemesh_runs')}")
    assert sorted(runs) == [("customers", "crm"), ("orders", "")]
    results = store.sql(
        f"SELECT {c('run_id')}, {c('dataset_name')}, {c('schema_name')} FROM {q('profilemesh_results')}"
    )
    assert sorted(results) == [("gone", "orders", ""), ("r1", "customers", "crm"), ("r1", "orders", "")]
    events = store.sql(f"SELECT {c('event_id')}, {c('schema_name')} FROM {q('profilemesh_events')}")
    assert sorted(events) == [("e1", "crm"), ("e2", "")]
    from profilemesh.api import migrate_validate

    assert migrate_validate(store.ctx).problems == []
    at = "CAST('2024-05-01 00:00:00' AS TIMESTAMP)"
    store.sql(
        f"INSERT INTO {q('profilemesh_runs')} ({c('run_id')}, {c('dataset_name')}, {c('schema_name')}, "
        f"{c('profiled_at')}) VALUES ('r1', 'customers', 'staging', {at})"
    )
    with pytest.raises(Exception, match=r"(?i)duplicate|constraint|unique"):
        store.sql(
            f"INSERT INTO {q('profilemesh_runs')} ({c('run_id')}, {c('dataset_name')}, {c('schema_name')}, "
            f"{c('profiled_at')}) VALUES ('r1', 'customers', 'staging', {at})"
        )


def test_validate_reports_a_runs_table_keyed_the_old_way(store: Store) -> None:
    """A catalog check that could fail: validate names the key it found and the one it expects."""
    from profilemesh.api import migrate_validate

    migrate_apply(store.ctx, build_views=False)
    q, c = store.qualified, store.ident
    columns = store.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        f"{store.ph} AND table_name = 'profilemesh_runs' ORDER BY ordinal_position",
        [store.schema],
    )
    names = ", ".join(c(str(r[0])) for r in columns)
    store.sql(f"CREATE TABLE {q('pm_old_runs')} AS SELECT {names} FROM {q('profilemesh_runs')}")
    store.sql(f"DROP TABLE {q('profilemesh_runs')}")
    store.sql(f"ALTER TABLE {q('pm_old_runs')} RENAME TO {c('profilemesh_runs')}")
    for name in ("run_id", "dataset_name", "profiled_at"):
        store.sql(f"ALTER TABLE {q('profilemesh_runs')} ALTER COLUMN {c(name)} SET NOT NULL")
    store.sql(f"ALTER TABLE {q('profilemesh_runs')} ALTER COLUMN {c('schema_name')} SET NOT NULL")
    store.sql(f"ALTER TABLE {q('profilemesh_runs')} ADD PRIMARY KEY ({c('run_id')}, {c('dataset_name')})")
    problems = migrate_validate(store.ctx).problems
    assert any("keyed by (run_id, dataset_name), expected (run_id, schema_name, dataset_name)" in p for p in problems)
