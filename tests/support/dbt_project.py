"""A dbt project of a user's, installing the ProfileMesh package through packages.yml, and dbt run in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.support.stores import REPO_ROOT, Store


def profile_output(store: Store) -> dict:
    """A dbt profile output on the store's connection."""
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


def make_user_project(store: Store, root: Path) -> Path:
    """An analytics engineer's project that installs the package from this checkout, with its profile on
    `store`. One location per worker and warehouse (under `root`), its target/ kept between tests: the
    profile names the worker's one store location, so dbt parses the project partially after the first."""
    project = root / f"analytics-{store.kind}"
    shutil.rmtree(project / "models", ignore_errors=True)
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
        yaml.safe_dump({"analytics": {"target": "dev", "outputs": {"dev": profile_output(store)}}})
    )
    # A model reading ProfileMesh's sources directly takes the package's gate as its own pre-hook (the
    # documented way); one reading a query view is held back by the view's own gate.
    (project / "models" / "latest_runs.sql").write_text(
        '{{ config(pre_hook="{{ profilemesh.check_storage_version() }}") }}\n'
        "select run_id, dataset_name from {{ source('profilemesh', 'runs') }}\n"
    )
    (project / "models" / "runs_report.sql").write_text(
        "select count(*) as runs from {{ ref('profilemesh_runs_v') }}\n"
    )
    (project / "models" / "unrelated.sql").write_text("select 1 as x\n")
    return project


def dbt(project: Path, *args: str, manifest=None):
    """One dbt invocation in the project: (success, the log's messages). `manifest` (dbt_parse's) skips
    loading and checking the saved parse again."""
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def collect(event) -> None:
        if event.info.level in ("info", "warn", "error"):
            messages.append(event.info.msg)

    argv = [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(project / "logs")]
    if args[0] != "deps":
        argv += ["--target-path", str(project / "target")]
    result = dbtRunner(manifest=manifest, callbacks=[collect]).invoke(argv)
    if result.exception is not None:
        messages.append(str(result.exception))
    return result.success, "\n".join(str(m) for m in messages)


def dbt_parse(project: Path):
    """The project's parsed manifest, for the invocations that follow (dbtRunner(manifest=...))."""
    from dbt.cli.main import dbtRunner

    argv = ["parse", "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(project / "logs")]
    result = dbtRunner().invoke([*argv, "--target-path", str(project / "target"), "--quiet"])
    assert result.success, result.exception
    return result.result


def dbt_build(project: Path, *args: str, manifest=None) -> tuple[dict[str, str], str]:
    """One dbt invocation: each selected node's status (dbt's structured result) and the log's messages."""
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def collect(event) -> None:
        if event.info.level in ("info", "warn", "error"):
            messages.append(f"{event.info.level}: {event.info.msg}")

    argv = [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(project / "logs"),
            "--target-path", str(project / "target")]  # fmt: skip
    result = dbtRunner(manifest=manifest, callbacks=[collect]).invoke(argv)
    assert result.result is not None, result.exception
    return {r.node.name: str(r.status) for r in result.result.results}, "\n".join(messages)
