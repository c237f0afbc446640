"""Concurrent `migrate apply` processes: each migration is applied exactly once."""

from __future__ import annotations

import pytest

from profilemesh.api import migrate_validate
from profilemesh.contract import PG_ADVISORY_LOCK_CLASS
from profilemesh.dbt.package import DbtPackage
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli, spawn_cli
from tests.support.stores import Store

HEAD = DbtPackage.installed().head
pytestmark = pytest.mark.slow  # processes started together


def _run_together(store: Store, count: int, lock_timeout: str) -> list[tuple[int, str, str]]:
    """`count` CLI processes started at once; (exit code, stdout, stderr) of each."""
    processes = [
        spawn_cli("migrate", "apply", "-c", str(store.config_path), "--lock-timeout", lock_timeout)
        for _ in range(count)
    ]
    return [(p.wait(timeout=600), *p.communicate()) for p in processes]


def _assert_each_version_applied_once(store: Store, outcomes: list[tuple[int, str, str]] | None = None) -> None:
    attempts = read_ledger(store.target).attempts
    assert [(a.attempt_id, a.version) for a in attempts] == [(v, v) for v in range(1, HEAD + 1)], attempts
    assert all(a.status == "succeeded" and a.checksum and a.checksum.startswith("pm1:") for a in attempts)
    if outcomes is not None:
        # Exactly one process applied each version; every other one found nothing to do.
        for version in range(1, HEAD + 1):
            appliers = [out for _, out, _ in outcomes if f"applied version {version}:" in out]
            assert len(appliers) == 1, outcomes
        assert all(f"storage is at version {HEAD} (head {HEAD})" in out for code, out, _ in outcomes if code == 0)


def test_sixteen_concurrent_applies_on_postgres_apply_each_migration_once(pg_store: Store) -> None:
    # As after any earlier command on this store, the processes start from dbt's saved parse (a dry run
    # saves it and changes nothing), so they reach the lock together rather than after a full parse each.
    dry_run = spawn_cli("migrate", "apply", "--dry-run", "-c", str(pg_store.config_path))
    assert dry_run.wait(timeout=300) == 0, dry_run.communicate()
    assert read_ledger(pg_store.target).attempts == ()
    outcomes = _run_together(pg_store, 16, "300")
    assert [code for code, _, _ in outcomes] == [0] * 16, [err for _, _, err in outcomes]
    _assert_each_version_applied_once(pg_store, outcomes)
    assert migrate_validate(pg_store.ctx).problems == []


def test_concurrent_applies_on_duckdb_wait_for_the_file_or_report_busy(duck_store: Store) -> None:
    outcomes = _run_together(duck_store, 3, "120")
    # The file lock serialises them: the first applies, the others wait and find nothing to do.
    assert [code for code, _, _ in outcomes] == [0] * 3, outcomes
    _assert_each_version_applied_once(duck_store, outcomes)
    assert migrate_validate(duck_store.ctx).problems == []  # the file is intact


def test_concurrent_applies_on_duckdb_with_a_short_timeout_apply_once_or_fail_busy(duck_store: Store) -> None:
    outcomes = _run_together(duck_store, 3, "0.5")
    for code, _, stderr in outcomes:
        assert code == 0 or (code == 3 and stderr.startswith("error: store busy:") and "waited 0.5 s" in stderr), (
            outcomes
        )
    assert 0 in [code for code, _, _ in outcomes]
    assert sum("applied version 1:" in out for _, out, _ in outcomes) == 1
    attempts = read_ledger(duck_store.target).attempts
    assert [(a.version, a.status) for a in attempts] == [(v, "succeeded") for v in range(1, HEAD + 1)]
    assert migrate_validate(duck_store.ctx).problems == []


def test_duckdb_busy_file_fails_within_the_lock_timeout(duck_store: Store) -> None:
    import time

    import duckdb

    holder = duckdb.connect(duck_store.target.connection.filepath)  # another process-like holder
    try:
        started = time.monotonic()
        process = spawn_cli("migrate", "apply", "-c", str(duck_store.config_path), "--lock-timeout", "2")
        code = process.wait(timeout=120)
        elapsed = time.monotonic() - started
        stderr = process.communicate()[1]
    finally:
        holder.close()
    assert code == 3
    assert "store busy" in stderr and "waited 2 s" in stderr
    assert elapsed >= 2
    assert stderr.count("\n") == 1


def test_postgres_lock_held_elsewhere_makes_apply_wait_then_report_the_holder(pg_store: Store) -> None:
    import json

    holder = pg_store.pg.connect(pg_store.database, application_name="someone else")
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s)), pg_backend_pid()",
            [PG_ADVISORY_LOCK_CLASS, f"{pg_store.schema}.profilemesh_schema_version"],
        )
        acquired, pid = cur.fetchone()
    assert acquired
    try:
        status = run_cli("migrate", "status", "-c", str(pg_store.config_path), "--format", "json")
        assert json.loads(status.stdout)["lock_holder"]["backend_pid"] == pid
        busy = run_cli("migrate", "apply", "-c", str(pg_store.config_path), "--lock-timeout", "1")
        assert busy.exit_code == 3
        assert f"store busy: the migration lock is held by pid {pid} (someone else" in busy.stderr
    finally:
        holder.close()  # the session ends, so does its lock: no stale lock after a crash
    assert run_cli("migrate", "apply", "-c", str(pg_store.config_path), "--lock-timeout", "5").exit_code == 0
    _assert_each_version_applied_once(pg_store)
