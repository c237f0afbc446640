"""The package inside an analytics engineer's own dbt project: installed through packages.yml,
migrated with `dbt run-operation profilemesh_migrate`, and guarded by the version gate that runs before
each ProfileMesh model (a store behind fails those models only; the user's other models build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilemesh.dbt.package import DbtPackage
from profilemesh.store.ledger import read_ledger
from tests.support.dbt_project import dbt, make_user_project
from tests.support.stores import Store
from tests.test_query_views_dbt import node_statuses

HEAD = DbtPackage.installed().head


@pytest.fixture
def user_project(store: Store, store_pool) -> Path:
    return make_user_project(store, store_pool.root)


def test_package_installs_migrates_and_gates_runs_in_a_user_project(store: Store, user_project: Path) -> None:
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
