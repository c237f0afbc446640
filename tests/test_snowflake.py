"""Snowflake, against the fakesnow emulator (or a real account when SNOWFLAKE_ACCOUNT, _USER, _PASSWORD
and _DATABASE are set). The same engine runs here without transactional DDL: every step is probed,
progress is committed step by step, and the migration lock is a lease row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilemesh.api import describe_schema, migrate_apply, migrate_repair, migrate_status, migrate_validate
from profilemesh.dbt.package import DbtPackage
from profilemesh.errors import CheckFailed, MigrationFailed
from profilemesh.migrate.catalog import live_catalog
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli, spawn_cli
from tests.support.legacy_stores import NUMERIC_EXPECTED, RESULTS, RUNS, create_legacy_store, snapshot_rows
from tests.support.migrations import BROKEN_STEPS, add_migration
from tests.support.snowflake_emulator import snowflake_store
from tests.support.stores import Store
from tests.test_checksums_and_repair import BASELINE


def apply(store: Store, **kwargs):
    return migrate_apply(store.ctx, build_views=False, **kwargs)


pytestmark = pytest.mark.snowflake
HEAD = DbtPackage.installed().head


def test_empty_store_to_head_then_no_op_and_valid(sf_store: Store) -> None:
    config = str(sf_store.config_path)
    assert run_cli("migrate", "status", "-c", config).exit_code == 1
    result = run_cli("migrate", "apply", "-c", config)
    assert result.exit_code == 0, result.stderr
    attempts = read_ledger(sf_store.target).attempts
    assert [(a.version, a.status, a.dialect) for a in attempts] == [
        (v, "succeeded", "snowflake") for v in range(1, HEAD + 1)
    ]
    assert apply(sf_store).applied == []
    assert run_cli("migrate", "status", "-c", config).exit_code == 0
    report = migrate_validate(sf_store.ctx)
    assert report.problems == [], report.problems
    types = dict(
        sf_store.sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [sf_store.schema, "PROFILEMESH_EVENTS"],
        )
    )
    assert types["METADATA"] == "VARIANT" and types["TIMESTAMP"] == "TIMESTAMP_NTZ"


def test_dry_run_changes_nothing(sf_store: Store) -> None:
    result = run_cli("migrate", "apply", "--dry-run", "-c", str(sf_store.config_path))
    assert result.exit_code == 0, result.stderr
    assert "TIMESTAMP_NTZ" in result.stdout and "VARIANT" in result.stdout
    assert "CREATE INDEX" not in result.stdout  # Snowflake standard tables have no indexes
    assert "BEGIN" not in result.stdout  # DDL auto-commits there: no pretend transactions
    assert not read_ledger(sf_store.target).exists


def test_legacy_store_is_adopted_with_data_kept(sf_store: Store) -> None:
    create_legacy_store(sf_store, events_with_run_id=False)
    runs_before = snapshot_rows(sf_store, "profilemesh_runs", ["run_id", "dataset_name", "row_count"], "dataset_name")
    assert migrate_status(sf_store.ctx).state == "unversioned"
    result = apply(sf_store)
    assert result.adopted_tables
    assert (
        snapshot_rows(sf_store, "profilemesh_runs", ["run_id", "dataset_name", "row_count"], "dataset_name")
        == runs_before
    )
    assert len(runs_before) == len(RUNS)
    numeric = dict(
        sf_store.sql(f"SELECT metric_name, metric_value_numeric FROM {sf_store.qualified('profilemesh_results')}")
    )
    assert len(numeric) == len(RESULTS)
    for metric, value in NUMERIC_EXPECTED.items():
        assert numeric[metric] == pytest.approx(value)
    assert numeric["top_value"] is None and numeric["histogram"] is None


def test_fresh_and_upgraded_legacy_catalogs_match(tmp_path: Path, snowflake_endpoint) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fresh = snowflake_store(tmp_path / "a", snowflake_endpoint, fresh=True)
    legacy = snowflake_store(tmp_path / "b", snowflake_endpoint, fresh=True)
    apply(fresh)
    create_legacy_store(legacy)
    apply(legacy)

    def catalog(store: Store) -> dict:
        code = describe_schema(store.ctx)
        with connect(store.target) as conn:
            return live_catalog(conn, code.relations, sorted(code.catalog))

    assert catalog(fresh) == catalog(legacy)


def test_edited_migration_detected_and_crlf_accepted(sf_store: Store, package_copy: Path) -> None:
    package, store = package_copy, sf_store.with_package(package_copy)
    apply(store, target_version=1)
    original = (package / BASELINE).read_bytes()
    (package / BASELINE).write_bytes(original.replace(b"'varchar(50)'", b"'varchar(51)'"))
    assert any("was edited" in p for p in migrate_validate(store.ctx).problems)
    (package / BASELINE).write_bytes(original.replace(b"\n", b"\r\n"))
    assert migrate_validate(store.ctx).problems == []


def test_failed_step_leaves_partial_effect_and_repair_rolls_it_back(sf_store: Store, package_copy: Path) -> None:
    """Without transactional DDL the first step of a failed migration stays applied: the ledger says
    how far it got, finishing it fails again, and repair --rollback undoes it."""
    package, store = package_copy, sf_store.with_package(package_copy)
    apply(store)
    add_migration(package, "broken", BROKEN_STEPS)
    with pytest.raises(MigrationFailed, match="failed at step broken_backfill"):
        apply(store, lock_timeout=5)
    failed = read_ledger(sf_store.target).attempts[-1]
    assert (failed.status, failed.steps_completed, failed.failed_step) == ("failed", 1, "broken_backfill")
    columns = {
        r[0]
        for r in sf_store.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [sf_store.schema, "PROFILEMESH_RUNS"],
        )
    }
    assert "NOTE" in columns  # the step before the failure took effect

    with pytest.raises(CheckFailed, match="repair"):
        apply(store, lock_timeout=5)
    with pytest.raises(MigrationFailed):
        migrate_repair(store.ctx, lock_timeout=5)  # finishing runs into the same error
    result = migrate_repair(store.ctx, rollback=True, lock_timeout=5)
    assert result.outcome == "rolled_back" and result.effective_steps == ["add_note"]
    assert len(result.resolved_attempts) == 2  # the failed apply and the failed repair
    assert migrate_status(store.ctx).state == "behind"


def _lease(store: Store, holder: str, expires_in_seconds: int) -> None:
    lock = store.qualified("profilemesh_migration_lock")
    store.sql(
        f"UPDATE {lock} SET holder = %s, token = 'someone-else', acquired_at = sysdate(), "
        f"expires_at = dateadd(second, {int(expires_in_seconds)}, sysdate()) WHERE lock_name = 'migrate'",
        [holder],
    )


def test_lease_contract_busy_while_held_takeover_after_expiry(sf_store: Store) -> None:
    apply(sf_store, target_version=1)  # creates the lease table, released afterwards
    lock = sf_store.qualified("profilemesh_migration_lock")
    assert sf_store.sql(f"SELECT holder, token FROM {lock}") == [(None, None)]

    _lease(sf_store, "ops@elsewhere:42", 600)
    status = run_cli("migrate", "status", "-c", str(sf_store.config_path), "--format", "json")
    assert json.loads(status.stdout)["lock_holder"]["holder"] == "ops@elsewhere:42"
    busy = run_cli("migrate", "apply", "-c", str(sf_store.config_path), "--lock-timeout", "1")
    assert busy.exit_code == 3
    assert "store busy: the migration lease is held by ops@elsewhere:42" in busy.stderr
    assert migrate_status(sf_store.ctx).db_version == 1

    _lease(sf_store, "ops@elsewhere:42", -1)  # its TTL ran out: the next apply takes over
    assert apply(sf_store, lock_timeout=5).to_version == HEAD
    assert sf_store.sql(f"SELECT holder, token FROM {lock}") == [(None, None)]


@pytest.mark.slow  # processes started together
def test_concurrent_applies_apply_each_migration_once(sf_store: Store) -> None:
    processes = [
        spawn_cli("migrate", "apply", "-c", str(sf_store.config_path), "--lock-timeout", "120") for _ in range(3)
    ]
    outcomes = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    attempts = read_ledger(sf_store.target).attempts
    assert sorted(a.version for a in attempts) == list(range(1, HEAD + 1))
    assert all(a.status == "succeeded" for a in attempts)
