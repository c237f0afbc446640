"""Checksums catch edited migrations (but not CRLF checkouts); failed and interrupted attempts are
recorded, block apply, and `repair` converges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilemesh.api import migrate_apply, migrate_repair, migrate_status, migrate_validate
from profilemesh.errors import CheckFailed, UsageError
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli
from tests.support.migrations import BROKEN_STEPS, HEAD, NEXT, TWO_COLUMNS_STEPS, add_migration
from tests.support.stores import Store

BASELINE = Path("dbt_profilemesh/macros/migrations/V0001__baseline.sql")


def columns_of(store: Store, table: str) -> set[str]:
    ph = "%s" if store.kind == "postgres" else "?"
    rows = store.sql(
        f"SELECT column_name FROM information_schema.columns WHERE table_schema = {ph} AND table_name = {ph}",
        [store.schema, table],
    )
    return {r[0] for r in rows}


def test_edited_migration_fails_validate_and_apply_but_crlf_checkout_passes(store: Store, package_copy: Path) -> None:
    package = package_copy
    ctx = store.with_package(package).ctx
    migrate_apply(ctx, target_version=1, build_views=False)
    original = (package / BASELINE).read_bytes()

    (package / BASELINE).write_bytes(original.replace(b"'varchar(50)'", b"'varchar(60)'"))
    report = migrate_validate(ctx)
    assert not report.valid
    assert any("migration 1" in p and "was edited after it was applied" in p for p in report.problems)
    with pytest.raises(CheckFailed, match="migration 1 was edited"):
        migrate_apply(ctx, build_views=False)

    crlf = original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert crlf != original
    (package / BASELINE).write_bytes(b"\xef\xbb\xbf" + crlf)  # and a BOM, as some editors add
    assert migrate_validate(ctx).problems == []
    assert migrate_apply(ctx, build_views=False).to_version == HEAD


def test_failed_migration_is_recorded_blocks_apply_and_repair_rolls_back(
    store_at_head: Store, package_copy: Path
) -> None:
    store, package = store_at_head, package_copy
    ctx = store.with_package(package).ctx
    broken = add_migration(package, "broken", BROKEN_STEPS)
    env = {"PROFILEMESH_PACKAGE_DIR": str(package)}
    config = str(store.config_path)

    failed = run_cli("migrate", "apply", "-c", config, env=env)
    assert failed.exit_code == 3
    assert f"migration {NEXT} failed at step broken_backfill" in failed.stderr
    assert "no_such_column" in failed.stderr and failed.stderr.count("\n") == 1
    last = read_ledger(store.target).attempts[-1]
    assert (last.version, last.status, last.failed_step) == (NEXT, "failed", "broken_backfill")
    assert last.error_message and "no_such_column" in last.error_message
    assert "note" not in columns_of(store, "profilemesh_runs")  # the transaction took step 1 back too

    status = run_cli("migrate", "status", "-c", config, "--format", "json", env=env)
    assert status.exit_code == 1
    assert json.loads(status.stdout)["state"] == "failed_attempt"

    refused = run_cli("migrate", "apply", "-c", config, env=env)
    assert refused.exit_code == 1
    assert "run `profilemesh migrate repair`" in refused.stderr

    repaired = run_cli("migrate", "repair", "-c", config, env=env)
    assert repaired.exit_code == 0, repaired.stderr
    assert f"rolled back version {NEXT} (0 of 2 steps had taken effect)" in repaired.stdout
    attempts = read_ledger(store.target).attempts
    assert attempts[-1].operation == "repair" and attempts[-1].status == "rolled_back"
    assert attempts[-2].resolved_by == attempts[-1].attempt_id
    assert migrate_status(ctx).state == "behind"

    broken.unlink()
    add_migration(package, "two_columns", TWO_COLUMNS_STEPS)
    assert migrate_apply(ctx, build_views=False).to_version == NEXT
    assert {"note", "owner"} <= columns_of(store, "profilemesh_runs")
    assert run_cli("migrate", "repair", "-c", config, env=env).stdout.startswith("nothing to repair")


def _interrupted_attempt(store: Store, package: Path) -> None:
    """The state a crash leaves on a warehouse without transactional DDL: a 'started' row for the next
    version and its first step in place (store at head before)."""
    add_migration(package, "two_columns", TWO_COLUMNS_STEPS)
    store.sql(
        f"INSERT INTO {store.qualified('profilemesh_schema_version')} (attempt_id, version, checksum, operation, "
        "status, started_at, steps_total, steps_completed) "
        f"VALUES (100, {NEXT}, 'pm1:00000000000000000000000000000000', 'apply', 'started', '2026-01-01 00:00:00', 2, 1)"
    )
    store.sql(f"ALTER TABLE {store.qualified('profilemesh_runs')} ADD COLUMN note TEXT")


def test_repair_finishes_an_interrupted_attempt(store_at_head: Store, package_copy: Path) -> None:
    store, package = store_at_head, package_copy
    ctx = store.with_package(package).ctx
    _interrupted_attempt(store, package)
    with pytest.raises(CheckFailed, match="did not finish"):
        migrate_apply(ctx)

    result = migrate_repair(ctx)
    assert result.outcome == "succeeded" and result.effective_steps == ["add_note"]
    assert [a.action for a in result.actions] == ["already in place", "applied"]
    assert {"note", "owner"} <= columns_of(store, "profilemesh_runs")
    status = migrate_status(ctx)
    assert (status.db_version, status.state) == (NEXT, "up_to_date")
    assert migrate_validate(ctx).problems == []


def test_repair_rollback_undoes_the_steps_that_took_effect(store_at_head: Store, package_copy: Path) -> None:
    store, package = store_at_head, package_copy
    ctx = store.with_package(package).ctx
    _interrupted_attempt(store, package)
    plan = migrate_repair(ctx, rollback=True, dry_run=True)
    assert any("DROP COLUMN" in s for s in plan.statements)
    assert "note" in columns_of(store, "profilemesh_runs")  # the dry run changed nothing

    result = migrate_repair(ctx, rollback=True)
    assert result.outcome == "rolled_back"
    assert "note" not in columns_of(store, "profilemesh_runs")
    assert migrate_status(ctx).db_version == HEAD
    assert migrate_apply(ctx).to_version == NEXT


def test_apply_failure_outside_an_attempt_records_nothing(store: Store, package_copy: Path) -> None:
    add_migration(package_copy, "gap", TWO_COLUMNS_STEPS, version=NEXT + 2)
    with pytest.raises(UsageError, match="without gaps"):
        migrate_apply(store.with_package(package_copy).ctx)
    assert read_ledger(store.target).attempts == ()
