"""Writers and migrations: `profile` started while a migration holds the lock waits (PostgreSQL) or
fails with one clear "store busy" line (DuckDB); a run is all or nothing, even when the writer is
killed with SIGKILL between its inserts and its commit (the test launcher, tests/support/faults.py)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import duckdb
import pytest

from profilemesh.api import migrate_apply
from profilemesh.dbt.package import DbtPackage
from profilemesh.store.ledger import read_ledger
from profilemesh.store.locks import migration_lock
from tests.support.cli import run_cli, spawn_cli
from tests.support.faults import CRASH_ENV, PAUSE_ENV
from tests.support.snowflake_emulator import wait_for
from tests.support.stores import Store
from tests.support.writes import contents, profile_config

pytestmark = pytest.mark.slow  # writers and migrations in processes of their own


def lock_holder(store: Store):
    return migration_lock(store.target).holder(include_shared=True)


def test_profile_killed_before_commit_leaves_no_partial_run(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    config = str(profile_config(store, tmp_path))
    assert run_cli("profile", "-c", config).exit_code == 0  # one complete run already stored
    before = contents(store)
    assert before["profilemesh_runs"][0] == 1 and before["profilemesh_results"][0] > 10

    writer = spawn_cli("profile", "-c", config, env={CRASH_ENV: "profile:before_commit", "TMPDIR": str(tmp_path)})
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGKILL, stderr  # killed after its inserts, before its commit

    assert contents(store) == before  # not one row of the killed run
    if store.kind == "postgres":
        assert lock_holder(store) is None  # its session (and shared lock) ended with it
    again = run_cli("profile", "-c", config)
    assert again.exit_code == 0, again.stderr
    after = contents(store)
    assert after["profilemesh_runs"][0] == 2
    assert after["profilemesh_results"][0] == 2 * before["profilemesh_results"][0]


def _migration_paused_at_first_step(store: Store, seconds: float):
    """`migrate apply` from version 1, sleeping `seconds` inside migration 2 while it holds the lock."""
    migrate_apply(store.ctx, target_version=1)
    return spawn_cli(
        "migrate", "apply", "-c", str(store.config_path), "--lock-timeout", "60", env={PAUSE_ENV: f"step:2:1:{seconds}"}
    )


def test_profile_waits_for_a_migration_in_progress_on_postgres(pg_store: Store, tmp_path: Path) -> None:
    config = str(profile_config(pg_store, tmp_path))
    migration = _migration_paused_at_first_step(pg_store, 6)
    assert wait_for(lambda: read_ledger(pg_store.target).unresolved, timeout=60)  # its attempt has started
    assert lock_holder(pg_store).holder.startswith("profilemesh migrate")  # and holds the lock
    status = run_cli("migrate", "status", "-c", str(pg_store.config_path), "--format", "json")
    assert status.exit_code == 1 and json.loads(status.stdout)["state"] == "in_progress"  # running, not crashed

    started = time.monotonic()
    writer = run_cli("profile", "-c", config)
    waited = time.monotonic() - started
    assert migration.wait(timeout=120) == 0, migration.communicate()[1]
    # The writer waited for the migration, then wrote to the store the migration left (at head).
    assert writer.exit_code == 0, writer.stderr
    assert waited >= 2
    assert read_ledger(pg_store.target).current_version == DbtPackage.installed().head
    assert pg_store.sql(f"SELECT count(*) FROM {pg_store.qualified('profilemesh_runs')}") == [(1,)]


def test_profile_fails_clearly_while_a_migration_holds_the_duckdb_file(duck_store: Store, tmp_path: Path) -> None:
    config = str(profile_config(duck_store, tmp_path))
    migration = _migration_paused_at_first_step(duck_store, 6)

    def held() -> bool:
        try:
            duckdb.connect(duck_store.target.connection.filepath, read_only=True).close()
        except duckdb.Error as exc:
            return "lock" in str(exc)
        return False

    assert wait_for(held, timeout=60, interval=0.2)
    writer = run_cli("profile", "-c", config)
    assert writer.exit_code == 3
    assert writer.stderr.startswith("error: store busy:") and writer.stderr.count("\n") == 1, writer.stderr
    assert migration.wait(timeout=120) == 0, migration.communicate()[1]
    assert run_cli("profile", "-c", config).exit_code == 0  # after the migration: writes normally
    assert duck_store.sql(f"SELECT count(*) FROM {duck_store.qualified('profilemesh_runs')}") == [(1,)]
