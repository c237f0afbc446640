"""The package inside an analytics engineer's own dbt project: installed through packages.yml,
migrated with `dbt run-operation profilemesh_migrate`, and guarded by the on-run-start version gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from profilemesh.dbt.package import DbtPackage
from profilemesh.store.ledger import read_ledger
from tests.support.stores import REPO_ROOT, Store

HEAD = DbtPackage.installed().head


def _profile_output(store: Store) -> dict:
    c = store.target.connection
    if store.kind == "snowflake":
        return {
            "type": "snowflake",
            "account": c.account,
            "user": c.username,
            "password": c.password,
            "database": c.database,
            "schema": c.schema,
            "threads": 1,
            **c.extra_params,
        }
    if store.kind == "duckdb":
        return {"type": "duckdb", "path": c.filepath, "schema": c.schema, "keep_open": False, "threads": 1}
    return {
        "type": "postgres",
        "host": c.host,
        "port": c.port,
        "user": c.username,
        "password": c.password,
        "dbname": c.database,
        "schema": c.schema,
        "threads": 1,
    }


@pytest.fixture
def user_project(store: Store, tmp_path: Path) -> Path:
    return make_user_project(store, tmp_path)


def make_user_project(store: Store, tmp_path: Path) -> Path:
    project = tmp_path / "analytics"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "analytics",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "analytics",
                "model-paths": ["models"],
            }
        )
    )
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    (project / "profiles.yml").write_text(
        yaml.safe_dump({"analytics": {"target": "dev", "outputs": {"dev": _profile_output(store)}}})
    )
    (project / "models" / "latest_runs.sql").write_text(
        "select run_id, dataset_name from {{ source('profilemesh', 'runs') }}\n"
    )
    (project / "models" / "unrelated.sql").write_text("select 1 as x\n")
    return project


def dbt(project: Path, *args: str):
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def collect(event) -> None:
        if event.info.level in ("info", "warn", "error"):
            messages.append(event.info.msg)

    argv = [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(project / "logs")]
    if args[0] != "deps":
        argv += ["--target-path", str(project / "target")]
    result = dbtRunner(callbacks=[collect]).invoke(argv)
    if result.exception is not None:
        messages.append(str(result.exception))
    return result.success, "\n".join(str(m) for m in messages)


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
def test_version_gate_and_run_operation_on_snowflake(sf_store: Store, tmp_path: Path) -> None:
    project = make_user_project(sf_store, tmp_path)
    assert dbt(project, "deps")[0]
    ok, log = dbt(project, "run", "-s", "latest_runs")
    assert not ok and f"ProfileMesh version check: no ProfileMesh storage in schema {sf_store.schema}" in log
    ok, log = dbt(project, "run-operation", "profilemesh_migrate")
    assert ok, log
    assert read_ledger(sf_store.target).current_version == HEAD
    ok, log = dbt(project, "run", "-s", "latest_runs")
    assert ok, log
