"""The query views as dbt models in an analytics engineer's project: `dbt run -s profilemesh` and
`dbt test -s profilemesh` pass on DuckDB, PostgreSQL and the Snowflake emulator, and the tests fail
on purposely broken data and on a purposely broken view (a test that cannot fail proves nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from profilemesh.contract import (
    DISTRIBUTION_KINDS,
    DISTRIBUTION_MODES,
    DRIFT_EVENT_TYPES,
    RUN_STATUSES,
    SEVERITIES,
    VIEW_COLUMNS,
)
from profilemesh.query.queries import HISTORY_COLUMNS, RUNS_COLUMNS
from tests.support.cli import run_cli
from tests.support.dbt_project import dbt, make_user_project
from tests.support.query_data import seed
from tests.support.stores import REPO_ROOT, Store

MODELS = REPO_ROOT / "dbt_profilemesh" / "models" / "query"


def node_statuses(project: Path, *args: str) -> dict[str, str]:
    """Each selected node's status, from dbt's structured result (not its log)."""
    from dbt.cli.main import dbtRunner

    argv = [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(project / "logs"),
            "--target-path", str(project / "target"), "--log-level", "none"]  # fmt: skip
    result = dbtRunner().invoke(argv)
    assert result.result is not None, result.exception
    return {r.node.name: str(r.status) for r in result.result.results}


def failing(statuses: dict[str, str]) -> set[str]:
    return {name for name, status in statuses.items() if status not in ("success", "pass")}


def test_view_columns_match_the_models_and_are_documented() -> None:
    spec = yaml.safe_load((MODELS / "_query_views.yml").read_text())
    declared = {m["name"]: tuple(c["name"] for c in m["columns"]) for m in spec["models"]}
    assert declared == VIEW_COLUMNS
    for model in spec["models"]:
        assert model["config"]["contract"] == {"enforced": True}
        assert all(c.get("description") and c.get("data_type") for c in model["columns"]), model["name"]
    # The tests' accepted values are the contract's (YAML cannot call the package's macros).
    accepted = {
        (model["name"], column["name"]): tuple(test["accepted_values"]["arguments"]["values"])
        for model in spec["models"]
        for column in model["columns"]
        for test in column.get("data_tests", [])
        if isinstance(test, dict) and "accepted_values" in test
    }
    points = tuple(s for s in RUN_STATUSES if s != "superseded")  # a superseded bucket is no point of a history
    assert accepted == {
        ("profilemesh_runs_v", "status"): RUN_STATUSES,
        ("profilemesh_runs_v", "max_drift_severity"): SEVERITIES,
        ("profilemesh_drift_v", "event_type"): DRIFT_EVENT_TYPES,
        ("profilemesh_drift_v", "drift_severity"): SEVERITIES,
        ("profilemesh_table_history_v", "status"): points,
        ("profilemesh_latest_metrics_v", "run_status"): RUN_STATUSES[:1],  # the newest *completed* value
        ("profilemesh_distributions_v", "kind"): DISTRIBUTION_KINDS,
        ("profilemesh_distributions_v", "mode"): DISTRIBUTION_MODES,
    }
    examples = (REPO_ROOT / "docs" / "schemas" / "QUERY_EXAMPLES.md").read_text()
    for view, columns in VIEW_COLUMNS.items():
        assert f"`{view}`" in examples
        assert all(f"`{c}`" in examples for c in columns), view


def _break_data(store: Store) -> None:
    q, ph = store.qualified, store.ph
    runs_cols = "run_id, dataset_name, schema_name, profiled_at, environment, status"
    store.sql(f"INSERT INTO {q('profilemesh_runs')} ({runs_cols}) VALUES ({', '.join([ph] * 6)})",
              ["bad-1", "orders", "sales", "2024-01-01 00:00:00", "prod", "exploded"])  # fmt: skip
    store.sql(
        f"INSERT INTO {q('profilemesh_events')} (event_id, event_type, run_id, table_name, drift_severity, "
        f"{store.ident('timestamp')}) VALUES ({', '.join([ph] * 6)})",
        ["bad-ev", "DataDriftDetected", "ghost-run", "orders", "catastrophic", "2024-01-01 00:00:00"],
    )
    store.sql(
        f"INSERT INTO {q('profilemesh_distributions')} (run_id, schema_name, dataset_name, column_name, kind, "
        f"{store.ident('position')}, profiled_at) VALUES ({', '.join([ph] * 7)})",
        ["ghost-run", "sales", "orders", "amount", "bogus", 0, "2024-01-01 00:00:00"],
    )


def _break_views(store: Store) -> None:
    """History deltas off by one, and runs_v with a duplicated key (each from a frozen copy)."""
    q = store.qualified
    store.sql(f"CREATE TABLE {q('history_copy')} AS SELECT * FROM {q('profilemesh_table_history_v')}")
    store.sql(f"CREATE TABLE {q('runs_copy')} AS SELECT * FROM {q('profilemesh_runs_v')}")
    store.sql(f"DROP VIEW {q('profilemesh_table_history_v')}")
    store.sql(f"DROP VIEW {q('profilemesh_runs_v')} CASCADE")
    columns = ", ".join("row_count_change + 1 AS row_count_change" if c == "row_count_change" else c
                        for c in HISTORY_COLUMNS)  # fmt: skip
    store.sql(f"CREATE VIEW {q('profilemesh_table_history_v')} AS SELECT {columns} FROM {q('history_copy')}")
    runs = ", ".join(RUNS_COLUMNS)
    store.sql(
        f"CREATE VIEW {q('profilemesh_runs_v')} AS SELECT {runs} FROM {q('runs_copy')} "
        f"UNION ALL SELECT {runs} FROM {q('runs_copy')} WHERE run_id = 'run-a'"
    )


def test_views_build_and_their_tests_pass_then_fail_on_broken_data(store: Store, store_pool) -> None:
    project = make_user_project(store, store_pool.root)
    assert dbt(project, "deps")[0]
    ok, log = dbt(project, "run-operation", "profilemesh_migrate")
    assert ok, log
    seed(store)
    built = node_statuses(project, "run", "-s", "profilemesh")
    assert set(VIEW_COLUMNS) <= set(built) and not failing(built), built
    good = node_statuses(project, "test", "-s", "profilemesh")
    assert len(good) >= 25 and not failing(good), failing(good)
    assert "profilemesh_history_deltas_match_row_counts" in good

    _break_data(store)
    broken = failing(node_statuses(project, "test", "-s", "profilemesh"))
    assert {
        "accepted_values_profilemesh_runs_v_status__completed__failed__superseded",
        "accepted_values_profilemesh_table_history_v_status__completed__failed",
        "accepted_values_profilemesh_drift_v_drift_severity__none__low__medium__high",
        "relationships_profilemesh_drift_v_run_id__run_id__ref_profilemesh_runs_v_",
        "relationships_profilemesh_distributions_v_run_id__run_id__ref_profilemesh_runs_v_",
    } <= broken, broken
    assert any(name.startswith("accepted_values_profilemesh_distributions_v_kind") for name in broken), broken
    assert "profilemesh_history_deltas_match_row_counts" not in broken

    _break_views(store)
    broken_views = failing(node_statuses(project, "test", "-s", "profilemesh"))
    assert "profilemesh_history_deltas_match_row_counts" in broken_views
    assert "profilemesh_unique_combination_profilemesh_runs_v_run_id__dataset_name" in broken_views


def test_cli_session_runs_and_tests_the_views(duck_at_head: Store) -> None:
    """DbtSession.run/test against the CLI's own project: the same package, selected by package name."""
    duck_store = duck_at_head
    seed(duck_store)
    session = duck_store.ctx.dbt()
    tested = session.test("package:profilemesh")
    assert tested.success and not tested.problems(), tested.describe_failure()
    _break_data(duck_store)
    tested = session.test("package:profilemesh")
    assert not tested.success
    assert "accepted_values_profilemesh_runs_v_status__completed__failed__superseded: fail" in tested.describe_failure()


@pytest.mark.snowflake
def test_views_build_and_pass_their_tests_on_snowflake(sf_store: Store, store_pool) -> None:
    project = make_user_project(sf_store, store_pool.root)
    assert dbt(project, "deps")[0]
    ok, log = dbt(project, "run-operation", "profilemesh_migrate")
    assert ok, log
    seed(sf_store)
    built = node_statuses(project, "run", "-s", "profilemesh")
    assert set(VIEW_COLUMNS) <= set(built) and not failing(built), built
    tested = node_statuses(project, "test", "-s", "profilemesh")
    assert len(tested) >= 25 and not failing(tested), failing(tested)
    _break_data(sf_store)
    broken = failing(node_statuses(project, "test", "-s", "profilemesh"))
    assert "accepted_values_profilemesh_runs_v_status__completed__failed__superseded" in broken
    assert "relationships_profilemesh_drift_v_run_id__run_id__ref_profilemesh_runs_v_" in broken


@pytest.mark.snowflake
def test_query_cli_on_snowflake(sf_store: Store) -> None:
    config = str(sf_store.config_path)
    applied = run_cli("migrate", "apply", "-c", config)
    assert applied.exit_code == 0 and "query views built: " in applied.stdout, applied.stderr
    seed(sf_store)
    runs = run_cli("query", "runs", "-c", config, "--format", "json")
    assert runs.exit_code == 0, runs.stderr
    assert runs.stderr == ""
    rows = json.loads(runs.stdout)["rows"]
    assert rows[0]["profiled_at"].endswith("Z") and {r["run_id"] for r in rows} >= {"run-a", "run-d"}
    history = run_cli("query", "table", "-c", config, "--table", "orders", "--schema", "sales", "--format", "json")
    assert [r["run_id"] for r in json.loads(history.stdout)["rows"]] == ["run-a", "run-b", "run-c", "run-d"]
