"""The package inside an analytics engineer's own dbt project: installed through packages.yml,
migrated with `dbt run-operation profilemesh_migrate`, and guarded by the version gate that runs before
each ProfileMesh model (a store behind fails those models only; the user's other models build)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from profilemesh.api import Context, profile, query_runs
from profilemesh.api import detect_drift as detect
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.project import DbtSelection
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli
from tests.support.dbt_project import dbt, make_user_project
from tests.support.dbt_project import dbt_build as build
from tests.support.stores import Store, profiling_context
from tests.test_drift import ROWS, load_day
from tests.test_query_views_dbt import node_statuses

HEAD = DbtPackage.installed().head


@pytest.fixture
def user_project(store: Store, store_pool) -> Path:
    return make_user_project(store, store_pool.root)


def test_package_installs_migrates_and_gates_runs_in_a_user_project(store: Store, user_project: Path) -> None:
    tests = {"version": 2, "models": [{"name": "unrelated", "data_tests": [declared("profilemesh.no_drift")]}]}
    (user_project / "models" / "schema.yml").write_text(yaml.safe_dump(tests))
    ok, log = dbt(user_project, "deps")
    assert ok, log

    ok, log = dbt(user_project, "run", "-s", "latest_runs")
    assert not ok
    gate = (
        f"ProfileMesh version check: no ProfileMesh storage in schema {store.schema}: run `profilemesh migrate apply`"
    )
    assert gate in log

    ok, log = dbt(user_project, "run", "-s", "unrelated")  # models that do not read ProfileMesh are not gated
    assert ok, log
    # ProfileMesh's generic tests on a store that does not exist yet: no history, so they pass with a warning.
    ok, log = dbt(user_project, "test", "-s", "unrelated")
    assert ok, log
    assert f"ProfileMesh no_drift: no ProfileMesh history for table {store.schema}.unrelated yet" in log
    # A whole `dbt run`: ProfileMesh's views fail their gate and what reads them is skipped; the rest builds.
    statuses = node_statuses(user_project, "run")
    views = {name: status for name, status in statuses.items() if name.startswith("profilemesh_")}
    assert set(views.values()) == {"error", "skipped"}, views  # gated, or skipped behind a gated view
    assert statuses["runs_report"] == "skipped" and statuses["latest_runs"] == "error"  # its own pre-hook
    assert statuses["unrelated"] == "success"

    ok, log = dbt(user_project, "run", "-s", "latest_runs", "--vars", json.dumps({"profilemesh_version_check": False}))
    assert "ProfileMesh version check" not in log  # gate off: dbt gets as far as the missing table

    ok, log = dbt(user_project, "run-operation", "profilemesh_migrate", "--args", json.dumps({"target_version": 1}))
    assert ok, log
    assert read_ledger(store.target).current_version == 1
    ok, log = dbt(user_project, "run", "-s", "latest_runs")
    assert not ok and f"ProfileMesh version check: storage is at version 1, ProfileMesh needs {HEAD}" in log

    ok, log = dbt(user_project, "run-operation", "profilemesh_migrate")
    assert ok, log
    attempts = read_ledger(store.target).attempts
    assert [a.version for a in attempts] == list(range(1, HEAD + 1))
    assert all(a.profilemesh_version and a.profilemesh_version.startswith("dbt-package") for a in attempts)

    ok, log = dbt(user_project, "run", "-s", "latest_runs")
    assert ok, log


def test_run_operation_dry_run_from_a_user_project_changes_nothing(store: Store, user_project: Path) -> None:
    assert dbt(user_project, "deps")[0]
    ok, log = dbt(user_project, "run-operation", "profilemesh_migrate", "--args", "{dry_run: true}")
    assert ok, log
    assert "planned version 1" in log
    if store.kind == "postgres":
        assert not read_ledger(store.target).exists


@pytest.mark.snowflake
def test_version_gate_and_run_operation_on_snowflake(sf_store: Store, store_pool) -> None:
    project = make_user_project(sf_store, store_pool.root)
    assert dbt(project, "deps")[0]
    ok, log = dbt(project, "run", "-s", "latest_runs")
    assert not ok and f"ProfileMesh version check: no ProfileMesh storage in schema {sf_store.schema}" in log
    ok, log = dbt(project, "run-operation", "profilemesh_migrate")
    assert ok, log
    assert read_ledger(sf_store.target).current_version == HEAD
    ok, log = dbt(project, "run", "-s", "latest_runs")
    assert ok, log


def declared(test: str, config: dict | None = None, **arguments: object) -> dict:
    """A generic test as a schema.yml declares it (dbt 1.10+: its arguments under `arguments`)."""
    return {test: {"arguments": arguments, **({"config": config} if config else {})}}


# The user's schema.yml: ProfileMesh's generic tests on a model it profiles (orders, a view over a daily
# load, tagged `daily`, with its ProfileMesh settings in its meta) and on one it has never profiled
# (unrelated). `where`, `severity` and `store_failures` are dbt's.
SCHEMA_YML = {
    "version": 2,
    "sources": [{"name": "shop", "schema": "src", "tables": [{"name": "orders"}]}],
    "models": [
        {
            "name": "orders",
            "config": {
                "tags": ["daily"],
                "meta": {
                    "profilemesh": {
                        "exclude_columns": ["bucket"],
                        "metrics": ["count", "null_count", "null_percent", "mean", "stddev", "min", "max"],
                        "owner": "team-shop",
                    }
                },
            },
            "data_tests": [
                declared("profilemesh.no_drift", {"store_failures": True}, min_severity="medium"),
                declared("profilemesh.no_drift", {"severity": "warn"}, within_hours=24, min_severity="high"),
                declared("profilemesh.no_drift", {"where": "column_name = 'value'"}),
                declared("profilemesh.fresh", max_age_hours=24),
                # The same table as ProfileMesh profiled it under another schema, two days ago.
                declared("profilemesh.fresh", {"severity": "warn"}, max_age_hours=24, schema_name="src"),
                declared("profilemesh.row_count_between", min_value=3000, max_value=10000),
            ],
            "columns": [
                {
                    "name": "value",
                    "data_tests": [declared("profilemesh.metric_between", metric="mean", min_value=50, max_value=150)],
                },
                {
                    "name": "category",
                    "data_tests": [declared("profilemesh.metric_between", metric="null_percent", max_value=5)],
                },
            ],
        },
        {
            "name": "unrelated",
            "data_tests": [declared("profilemesh.no_drift"), declared("profilemesh.fresh", max_age_hours=1)],
        },
    ],
}


def test_generic_tests_pass_on_a_clean_day_and_fail_after_injected_drift(
    store_at_head: Store, store_pool, tmp_path: Path
) -> None:
    store = store_at_head
    project = make_user_project(store, store_pool.root)
    (project / "models" / "orders.sql").write_text("select * from {{ source('shop', 'orders') }}\n")
    (project / "models" / "schema.yml").write_text(yaml.safe_dump(SCHEMA_YML, sort_keys=False))
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')

    def load(day: int, **incident: float) -> None:  # a day's load under the model's view (PostgreSQL binds them)
        store.sql(f"DROP VIEW IF EXISTS {store.qualified('orders')}")
        load_day(store, "orders", day, **incident)
        store.sql(f'CREATE VIEW {store.qualified("orders")} AS SELECT * FROM "src"."orders"')

    load(1)
    # profilemesh.yml names no source (the project's own profile reads the models) and says otherwise
    # about orders' columns than the model's meta: the meta applies, and the conflict is reported.
    config = yaml.safe_load(store.config_path.read_text()) | {
        "profiling": {"tables": [{"schema": store.schema, "table": "orders", "exclude_columns": ["id"]}]},
        "drift_detection": {"strategy": "threshold"},
    }
    (tmp_path / "profilemesh.yml").write_text(yaml.safe_dump(config))
    daily = ("profile", "-c", str(tmp_path / "profilemesh.yml"), "--project-dir", str(project), "-s", "tag:daily")
    daily += ("--profiles-dir", str(project), "--format", "json")
    assert dbt(project, "deps")[0]
    ctx = Context.load(tmp_path / "profilemesh.yml").with_dbt_project(
        DbtSelection(project, ("tag:daily",), profiles_dir=project)
    )
    selected = ("build", "-s", "orders", "unrelated")

    # Nothing profiled yet: every test passes, each with a warning that names its table.
    statuses, log = build(project, *selected)
    assert set(statuses.values()) == {"success", "pass"}, statuses
    assert f"ProfileMesh no_drift: no ProfileMesh history for table {store.schema}.orders" in log
    assert f"ProfileMesh fresh: no ProfileMesh history for table {store.schema}.unrelated" in log

    # Two ordinary days: no drift, fresh, row count and metrics within their bounds. src.orders was
    # last profiled two days ago: the `fresh` test that names it warns.
    two_days_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=48)
    profile(profiling_context(store, tmp_path, [{"schema": "src", "table": "orders"}]), as_of=two_days_ago)
    # `profilemesh profile --project-dir . -s tag:daily`: exactly the tagged model, with its unique id.
    result = run_cli(*daily)
    assert result.exit_code == 0, result.stderr
    conflict = (
        f"warning: {store.schema}.orders (model.analytics.orders): exclude_columns is [id] in profilemesh.yml "
        "and [bucket] in the dbt project; the dbt project's value applies"
    )
    assert conflict in result.stderr.splitlines(), result.stderr
    tables = json.loads(result.stdout)["tables"]
    assert [(t["schema"], t["table"], t["dbt_unique_id"]) for t in tables] == [
        (store.schema, "orders", "model.analytics.orders")
    ]
    load(2)
    profile(ctx)
    runs = query_runs(ctx, dbt_node="model.analytics.orders").rows
    assert [(r["schema_name"], r["dataset_name"]) for r in runs] == [(store.schema, "orders")] * 2
    assert query_runs(ctx, dbt_node="model.analytics.unrelated").rows == []
    results = f"SELECT DISTINCT column_name FROM {store.qualified('profilemesh_results')} WHERE schema_name = "
    columns = {c for (c,) in store.sql(results + f"'{store.schema}'")}
    assert {"id", "value", "category"} <= columns and "bucket" not in columns  # the meta's exclude_columns
    metrics = {m for (m,) in store.sql(results.replace("column_name", "metric_name") + f"'{store.schema}'")}
    assert metrics == {"count", "null_count", "null_percent", "mean", "stddev", "min", "max"}  # the meta's metrics
    assert detect(ctx).events == []
    statuses, log = build(project, *selected)
    expected = dict.fromkeys(statuses, "pass") | {"orders": "success", "unrelated": "success"}
    assert statuses == expected | {"profilemesh_fresh_orders_24__src": "warn"}, statuses
    assert "ProfileMesh fresh failed: table src.orders, metric profiled_at, event StaleProfile" in log, log
    assert f"no ProfileMesh history for table {store.schema}.orders" not in log
    assert f"no ProfileMesh history for table {store.schema}.unrelated" in log  # still never profiled

    # A bad load: half the rows and a null spike in `category`. The drift tests, the row count and the
    # null_percent bound fail (or warn, as configured), naming what drifted; `where` keeps to `value`.
    load(3, null_rate=0.20, rows=ROWS // 2)
    profile(ctx)
    assert detect(ctx).events
    statuses, log = build(project, *selected)
    assert statuses == expected | {
        "profilemesh_fresh_orders_24__src": "warn",
        "profilemesh_no_drift_orders_medium": "fail",
        "profilemesh_no_drift_orders_high__24": "warn",
        "profilemesh_row_count_between_orders_10000__3000": "fail",
        "profilemesh_metric_between_orders_category__5__null_percent": "fail",
    }, statuses
    assert (
        f"ProfileMesh no_drift failed: table {store.schema}.orders, column category, metric null_percent, "
        "event DataDriftDetected, severity high" in log
    ), log
    assert f"ProfileMesh no_drift failed: table {store.schema}.orders, metric row_count, event DataDriftDetected" in log
    assert (
        f"ProfileMesh metric_between failed: table {store.schema}.orders, column category, metric null_percent, "
        "event MetricOutOfBounds, observed 20" in log
    ), log
    assert (
        f"ProfileMesh row_count_between failed: table {store.schema}.orders, metric row_count, "
        f"event RowCountOutOfBounds, observed {ROWS // 2}" in log
    ), log
    # store_failures keeps the failing rows, one per drift event (halving the rows moves `id` too).
    audit = f'"{store.schema}_dbt_test__audit"."profilemesh_no_drift_orders_medium"'
    stored = store.sql(f"SELECT table_name, column_name, metric_name, event_type, severity FROM {audit}")
    assert {("orders", "category", "null_percent"), ("orders", None, "row_count")} <= {row[:3] for row in stored}
    assert {row[3:] for row in stored} == {("DataDriftDetected", "high")}, stored
