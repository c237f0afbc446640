"""Unversioned ProfileMesh-era stores are adopted as version 1 and migrated, keeping every row;
the result has the same catalog as a fresh install."""

from __future__ import annotations

import json

import pytest

from profilemesh.api import describe_schema, migrate_apply, migrate_status
from profilemesh.contract import STORAGE_COLUMNS
from profilemesh.dbt.package import DbtPackage
from profilemesh.migrate.catalog import live_catalog
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli
from tests.support.legacy_stores import (
    EVENTS,
    NUMERIC_EXPECTED,
    RESULTS,
    RUNS,
    TABLE_STATE,
    create_legacy_store,
    snapshot_rows,
)
from tests.support.stores import Store, duckdb_store, postgres_store

HEAD = DbtPackage.installed().head
RUN_COLUMNS = list(STORAGE_COLUMNS["runs"][:8])  # version 1's columns, what a legacy store has
RESULT_COLUMNS = ["id", "run_id", "dataset_name", "column_name", "metric_name", "metric_value"]


@pytest.mark.parametrize("shape", ["full", "events_without_run_id", "only_runs_and_results"])
def test_legacy_store_is_adopted_and_migrated_with_data_kept(store: Store, shape: str) -> None:
    create_legacy_store(
        store, events_with_run_id=shape == "full", only_runs_and_results=shape == "only_runs_and_results"
    )
    runs_before = snapshot_rows(store, "profilemesh_runs", RUN_COLUMNS, "dataset_name")
    results_before = snapshot_rows(store, "profilemesh_results", RESULT_COLUMNS, "id")

    status = run_cli("migrate", "status", "-c", str(store.config_path), "--format", "json")
    assert status.exit_code == 1
    assert json.loads(status.stdout)["state"] == "unversioned"

    result = run_cli("migrate", "apply", "-c", str(store.config_path))
    assert result.exit_code == 0, result.stderr
    assert "adopted existing tables as version 1" in result.stdout

    ledger = read_ledger(store.target)
    assert [(a.version, a.operation, a.status) for a in ledger.attempts] == [
        (1, "adopt", "succeeded"),
        *[(v, "apply", "succeeded") for v in range(2, HEAD + 1)],
    ]

    # Every row is still there, unchanged.
    assert snapshot_rows(store, "profilemesh_runs", RUN_COLUMNS, "dataset_name") == runs_before
    assert snapshot_rows(store, "profilemesh_results", RESULT_COLUMNS, "id") == results_before
    assert len(runs_before) == len(RUNS) and len(results_before) == len(RESULTS)
    if shape != "only_runs_and_results":
        assert store.sql(f"SELECT count(*) FROM {store.qualified('profilemesh_events')}") == [(len(EVENTS),)]
        assert store.sql(f"SELECT count(*) FROM {store.qualified('profilemesh_table_state')}") == [(len(TABLE_STATE),)]

    # v2's backfill: numbers parsed from text, anything else NULL, the text kept as it was.
    numeric = dict(store.sql(f"SELECT metric_name, metric_value_numeric FROM {store.qualified('profilemesh_results')}"))
    for metric, value in NUMERIC_EXPECTED.items():
        assert numeric[metric] == pytest.approx(value)
    for metric in ("top_value", "histogram", "error", "weird", "huge", "empty"):
        assert numeric[metric] is None, metric

    assert migrate_status(store.ctx).state == "up_to_date"
    assert run_cli("migrate", "validate", "-c", str(store.config_path)).exit_code == 0


def test_adoption_refuses_an_incompatible_table_and_changes_nothing(store: Store) -> None:
    store.sql(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
    store.sql(f"CREATE TABLE {store.qualified('profilemesh_runs')} (run_id VARCHAR(36), something_else INTEGER)")
    result = run_cli("migrate", "apply", "-c", str(store.config_path))
    assert result.exit_code == 1
    assert "cannot adopt" in result.stderr and "profilemesh_runs.dataset_name is missing" in result.stderr
    assert migrate_status(store.ctx).db_version == 0
    assert read_ledger(store.target).attempts == ()


def test_adoption_respects_table_name_overrides(store: Store) -> None:
    create_legacy_store(store, only_runs_and_results=True, runs_table="legacy_runs", results_table="legacy_results")
    store.write_config(runs_table="legacy_runs", results_table="legacy_results")
    assert migrate_apply(store.ctx, build_views=False).adopted_tables == ["legacy_runs", "legacy_results"]
    assert store.sql(f"SELECT count(*) FROM {store.qualified('legacy_runs')}") == [(len(RUNS),)]
    names = {
        r[0]
        for r in store.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            + ("%s" if store.kind == "postgres" else "?"),
            [store.schema],
        )
    }
    assert "profilemesh_runs" not in names


def _catalog(store: Store) -> dict:
    code = describe_schema(store.ctx)
    with connect(store.target) as conn:
        return live_catalog(conn, code.relations, sorted(code.catalog))


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_fresh_install_and_upgraded_legacy_store_have_the_same_catalog(kind, tmp_path, request) -> None:
    def new_store(name: str) -> Store:
        directory = tmp_path / name
        directory.mkdir()
        if kind == "duckdb":
            return duckdb_store(directory)
        return postgres_store(directory, request.getfixturevalue("pg_server"), database=f"pm_catalog_{name}")

    fresh, legacy = new_store("fresh"), new_store("legacy")
    migrate_apply(fresh.ctx, build_views=False)
    create_legacy_store(legacy, events_with_run_id=True)
    migrate_apply(legacy.ctx, build_views=False)
    fresh_catalog, legacy_catalog = _catalog(fresh), _catalog(legacy)
    assert fresh_catalog == legacy_catalog
    assert fresh_catalog["results"]["columns"]["metric_value_numeric"]["family"] == "float"
