"""The dbt package's integration project (integration_tests/, the dbt-utils convention), run as dbt runs
it: `dbt deps`, `dbt seed` (the store) and `dbt build` against DuckDB and the suite's PostgreSQL. Every seed, model
and test must pass; the project's tests compare the package's views and cross-warehouse macros with
expected seeds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.support.dbt_project import dbt, dbt_build, dbt_parse, profile_output
from tests.support.stores import REPO_ROOT, Store

PROJECT = REPO_ROOT / "integration_tests"


def integration_project(store: Store, root: Path) -> Path:
    """A copy of integration_tests/ at this worker's one location per warehouse (its target/ kept, so
    dbt parses it partially after the first), installing the package from this checkout."""
    project = root / f"integration-{store.kind}"
    for name in ("models", "seeds", "tests"):
        shutil.rmtree(project / name, ignore_errors=True)
    skipped = shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb")
    shutil.copytree(PROJECT, project, dirs_exist_ok=True, ignore=skipped)
    (project / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    profiles = {"profilemesh_integration_tests": {"target": "it", "outputs": {"it": profile_output(store)}}}
    (project / "profiles.yml").write_text(yaml.safe_dump(profiles))
    return project


def test_integration_project_passes(store: Store, store_pool) -> None:
    project = integration_project(store, store_pool.root)
    assert dbt(project, "deps")[0]
    manifest = dbt_parse(project)  # once: the invocations below share it
    ok, log = dbt(project, "seed", "-s", "path:seeds/store", manifest=manifest)  # the store the views read
    assert ok, log
    statuses, log = dbt_build(project, "build", manifest=manifest)
    failed = {name: status for name, status in statuses.items() if status not in ("success", "pass")}
    assert not failed, (failed, log)
    # What ran: the package's views and their own tests, the actual/expected comparisons, the macros.
    views = ("runs_v", "table_history_v", "drift_v", "latest_metrics_v", "distributions_v")
    assert {f"profilemesh_{view}" for view in views} | {f"profilemesh_{view}_as_expected" for view in views} <= set(
        statuses
    )
    assert {
        "profilemesh_history_deltas_match_row_counts",
        "sql_literal_as_expected",
        "unsupported_adapter_message_as_expected",
        "no_drift_finds_the_unaccepted_high_event",
    } <= set(statuses)

    # A `default__` variant on an adapter the package does not support: one clear compiler error.
    arguments = json.dumps({"macro_name": "type_json", "adapter_type": "sqlserver"})
    ok, log = dbt(
        project, "run-operation", "profilemesh.require_supported_adapter", "--args", arguments, manifest=manifest
    )
    assert not ok
    assert "ProfileMesh does not support the sqlserver adapter (profilemesh.type_json has no sqlserver__ variant" in log
