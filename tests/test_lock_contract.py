"""The migration lock's contract on every warehouse (after golang-migrate's and sqitch's lock tests):
a second holder waits, then fails "store busy" no sooner than its timeout; after a release the next
one gets the lock; a holder killed with SIGKILL leaves no stuck lock (PostgreSQL: released with the
session; DuckDB: with the process; Snowflake: the lease expires after its TTL); and `migrate unlock`
shows the holder and releases only what is stale, unless forced."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from profilemesh.api import migrate_apply, migrate_repair
from profilemesh.contract import PG_ADVISORY_LOCK_CLASS
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.workdir import LOCK_TTL_ENV
from profilemesh.errors import StoreBusy
from profilemesh.store.ledger import read_ledger
from profilemesh.store.locks import LockHolder, migration_lock
from tests.support.cli import run_cli, spawn_cli
from tests.support.faults import CRASH_ENV, PAUSE_ENV
from tests.support.snowflake_emulator import wait_for
from tests.support.stores import PG_PASSWORD, PG_SUPERUSER, Store, postgres_store

HEAD = DbtPackage.installed().head
TAKE_PG_LOCK = f"SELECT pg_advisory_lock({PG_ADVISORY_LOCK_CLASS}, hashtext(%s))"
pytestmark = pytest.mark.slow  # holders in other processes and sessions, waits of whole timeouts


def lock_holder(store: Store) -> LockHolder | None:
    return migration_lock(store.target).holder()


def apply(store: Store, **kwargs):
    return migrate_apply(store.ctx, build_views=False, **kwargs)


def _pg_holder(store: Store, application: str):
    conn = store.pg.connect(store.database, application_name=application)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(TAKE_PG_LOCK, [f"{store.schema}.profilemesh_schema_version"])
        cur.execute("SELECT pg_backend_pid()")
        return conn, cur.fetchone()[0]


def _unlock(store: Store, *flags: str) -> tuple[int, dict]:
    result = run_cli("migrate", "unlock", "-c", str(store.config_path), "--format", "json", *flags)
    assert result.stderr == "", result.stderr
    return result.exit_code, json.loads(result.stdout)


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_postgres_waits_its_timeout_then_the_next_holder_gets_the_lock(pg_store: Store, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = postgres_store(tmp_path / "other", pg_store.pg, database="pm_lock_other")  # same schema, another db
    holder, pid = _pg_holder(pg_store, "profilemesh migrate ops@box:4242")
    try:
        assert lock_holder(other) is None  # advisory locks are per database: not its store
        apply(other, lock_timeout=5)  # and not blocked by it

        started = time.monotonic()
        with pytest.raises(StoreBusy, match=f"held by pid {pid} \\(profilemesh migrate ops@box:4242"):
            apply(pg_store, lock_timeout=2)
        assert time.monotonic() - started >= 2  # waited at least its timeout

        threading.Timer(1.5, holder.close).start()  # released while the next one waits
        started = time.monotonic()
        assert apply(pg_store, lock_timeout=30).to_version == HEAD
        assert time.monotonic() - started >= 1.4
    finally:
        holder.close()


def test_postgres_lock_of_a_killed_holder_is_released_with_its_session(pg_store: Store) -> None:
    script = (
        "import sys, time, psycopg2\n"
        f"c = psycopg2.connect(host={pg_store.pg.host!r}, port={pg_store.pg.port}, user={PG_SUPERUSER!r}, "
        f"password={PG_PASSWORD!r}, dbname={pg_store.database!r})\n"
        "c.autocommit = True\n"
        f"c.cursor().execute({TAKE_PG_LOCK!r}, [{pg_store.schema + '.profilemesh_schema_version'!r}])\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    assert lock_holder(pg_store) is not None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert wait_for(lambda: lock_holder(pg_store) is None, timeout=10)  # no stale lock
    assert _unlock(pg_store)[0] == 0
    assert apply(pg_store, lock_timeout=5).to_version == HEAD


def test_postgres_unlock_shows_the_holder_and_ends_it_only_when_forced(pg_store: Store) -> None:
    code, report = _unlock(pg_store)
    assert (code, report["holder"]) == (0, None) and "nothing to release" in report["message"]

    holder, pid = _pg_holder(pg_store, "profilemesh migrate ops@box:4242")
    try:
        code, report = _unlock(pg_store)  # a live (recently active) holder: refused
        assert code == 1 and "refused" in report["message"]
        shown = report["holder"]
        assert (shown["host"], shown["pid"], shown["backend_pid"]) == ("box", 4242, pid)
        assert shown["since"] and shown["state"] == "idle" and shown["stale"] is False

        assert _unlock(pg_store, "--force", "--if-stale")[0] == 1  # forced, but only if stale: it is not
        code, report = _unlock(pg_store, "--stale-after", "0")  # looks stale, but ending a session needs --force
        assert code == 1 and report["holder"]["stale"] and "--force" in report["message"]
        assert lock_holder(pg_store).backend_pid == pid  # nothing was released

        code, report = _unlock(pg_store, "--force", "--if-stale", "--stale-after", "0")
        assert code == 0 and report["released"], report
        assert lock_holder(pg_store) is None
        with pytest.raises(Exception, match=r"terminat|closed"):
            holder.cursor().execute("SELECT 1")
    finally:
        holder.close()

    busy, pid = _pg_holder(pg_store, "a busy holder")
    worker = threading.Thread(target=lambda: _ignore_errors(busy.cursor().execute, "SELECT pg_sleep(60)"))
    worker.start()
    try:
        assert wait_for(
            lambda: (migration_lock(pg_store.target).holder() or LockHolder("")).state == "active", timeout=10
        )
        assert _unlock(pg_store, "--force", "--if-stale", "--stale-after", "0")[0] == 1  # active: not stale
        code, report = _unlock(pg_store, "--force")
        assert code == 0 and report["holder"]["backend_pid"] == pid
        worker.join(timeout=30)
        assert lock_holder(pg_store) is None
    finally:
        busy.close()


def _ignore_errors(function, *args) -> None:
    with contextlib.suppress(Exception):  # the session is terminated under it
        function(*args)


# --- DuckDB ----------------------------------------------------------------------------------------


def test_duckdb_unlock_names_the_process_and_kill_releases_the_file(duck_store: Store) -> None:
    apply(duck_store)
    path = duck_store.target.connection.filepath
    script = f"import duckdb, time; c = duckdb.connect({path!r}); print('held', flush=True); time.sleep(600)"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        for flags in ((), ("--force",)):
            code, report = _unlock(duck_store, *flags)
            assert code == 1 and report["holder"]["pid"] == process.pid, report  # named, never released
            assert "ends with its process" in report["message"]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    code, report = _unlock(duck_store)
    assert (code, report["holder"]) == (0, None)
    assert apply(duck_store, lock_timeout=5).applied == []  # the file is free and intact


# --- Snowflake emulator: the lease -------------------------------------------------------------------


def _lease_row(store: Store) -> tuple:
    lock = store.qualified("profilemesh_migration_lock")
    return store.sql(f"SELECT holder, token, acquired_at, expires_at, heartbeat_at FROM {lock}")[0]


def _set_lease(store: Store, holder: str, token: str, expires_in: int) -> None:
    lock = store.qualified("profilemesh_migration_lock")
    store.sql(
        f"UPDATE {lock} SET holder = %s, token = %s, acquired_at = sysdate(), "
        f"expires_at = dateadd(second, {int(expires_in)}, sysdate()) WHERE lock_name = 'migrate'",
        [holder, token],
    )


@pytest.mark.snowflake
def test_lease_unlock_releases_an_expired_lease_and_a_live_one_only_when_forced(sf_store: Store) -> None:
    apply(sf_store, target_version=1)
    assert _unlock(sf_store)[0] == 0  # free: nothing to release

    _set_lease(sf_store, "ops@box:42", "theirs", 600)
    code, report = _unlock(sf_store)
    assert code == 1 and "refused" in report["message"]
    assert (report["holder"]["host"], report["holder"]["pid"], report["holder"]["stale"]) == ("box", 42, False)
    assert report["holder"]["since"] and report["holder"]["expires_at"]
    assert _lease_row(sf_store)[1] == "theirs"
    code, report = _unlock(sf_store, "--force")
    assert code == 0 and report["released"] and _lease_row(sf_store)[1] is None

    _set_lease(sf_store, "ops@box:42", "theirs", -5)  # expired: stale
    code, report = _unlock(sf_store)
    assert code == 0 and report["released"] and report["holder"]["stale"]
    assert _lease_row(sf_store)[1] is None


@pytest.mark.snowflake
def test_lease_of_a_killed_holder_expires_after_its_ttl(sf_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # 12 s: long enough that a loaded machine still reaches the "busy" check while the lease is live.
    monkeypatch.setenv(LOCK_TTL_ENV, "12")
    apply(sf_store, target_version=1)
    crashed = spawn_cli(
        "migrate",
        "apply",
        "-c",
        str(sf_store.config_path),
        env={LOCK_TTL_ENV: "12", CRASH_ENV: "step:2:2", "TMPDIR": str(sf_store.config_path.parent)},
    )
    crashed.communicate(timeout=300)
    assert crashed.returncode == -signal.SIGKILL
    killed_at = time.monotonic()
    holder = lock_holder(sf_store)
    assert holder is not None and holder.pid == crashed.pid  # recorded: user@host:pid
    busy = run_cli("migrate", "apply", "-c", str(sf_store.config_path), "--lock-timeout", "0")
    assert busy.exit_code == 3 and "store busy: the migration lease is held by" in busy.stderr
    result = migrate_repair(sf_store.ctx, lock_timeout=60)  # waits for the TTL, then takes over
    assert time.monotonic() - killed_at >= 3
    assert result.outcome == "succeeded" and {"events_add_run_id", "events_add_schema_name"} <= set(
        result.effective_steps
    )
    assert read_ledger(sf_store.target).current_version == 2  # repair finishes the attempt it found
    apply(sf_store, lock_timeout=30)
    assert read_ledger(sf_store.target).current_version == HEAD


def _slow_lease_migration(store: Store, monkeypatch: pytest.MonkeyPatch, ttl: int, pauses: str):
    """`migrate apply` from version 1 with a `ttl`-second lease, paused at `pauses`; returned once its
    attempt at migration 2 has started."""
    monkeypatch.setenv(LOCK_TTL_ENV, str(ttl))
    apply(store, target_version=1)
    env = {LOCK_TTL_ENV: str(ttl), PAUSE_ENV: pauses}
    migration = spawn_cli("migrate", "apply", "-c", str(store.config_path), env=env)
    assert wait_for(lambda: read_ledger(store.target).unresolved, timeout=120, interval=0.5)
    return migration


@pytest.mark.snowflake
def test_lease_records_its_holder_and_the_heartbeat_keeps_a_long_migration(
    sf_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Heartbeat: 7 pauses of 2 s inside migration 2 outlast the 4 s TTL; renewals before every step keep it.
    # (14 s: the competitor below must run while the migration still holds the lease, even on a loaded machine.)
    migration = _slow_lease_migration(sf_store, monkeypatch, 4, ",".join(f"step:2:{k}:2" for k in range(1, 8)))
    config = str(sf_store.config_path)
    first = _lease_row(sf_store)
    assert first[0].endswith(f":{migration.pid}") and first[3] > first[2]  # holder and expiry recorded
    time.sleep(4.5)
    later = _lease_row(sf_store)
    assert later[1] == first[1] and later[3] > first[3] and later[4] > first[4]  # same lease, renewed
    competitor = run_cli("migrate", "apply", "-c", config, "--lock-timeout", "0")
    assert competitor.exit_code == 3 and "store busy" in competitor.stderr  # still held after > 1 TTL
    assert migration.wait(timeout=300) == 0, migration.communicate()[1]
    assert read_ledger(sf_store.target).current_version == HEAD


@pytest.mark.snowflake
def test_lease_fencing_stops_a_holder_whose_lease_was_taken_over(
    sf_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stalls 6 s after step 1 of migration 2: its 2 s lease runs out and someone else takes it.
    migration = _slow_lease_migration(sf_store, monkeypatch, 2, "step:2:1:6")
    lock = sf_store.qualified("profilemesh_migration_lock")

    def take_over() -> bool:
        sf_store.sql(
            f"UPDATE {lock} SET holder = 'thief@elsewhere:1', token = 'thief', acquired_at = sysdate(), "
            "expires_at = dateadd(second, 600, sysdate()) WHERE expires_at < sysdate()"
        )
        return _lease_row(sf_store)[1] == "thief"

    assert wait_for(take_over, timeout=30, interval=0.3)
    assert migration.wait(timeout=300) == 3
    stderr = migration.communicate()[1]
    assert "lost the migration lease" in stderr and stderr.count("\n") == 1, stderr
    attempt = read_ledger(sf_store.target).unresolved[-1]
    assert (attempt.version, attempt.status, attempt.steps_completed) == (2, "started", 1)
    columns = {
        r[0]
        for r in sf_store.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [sf_store.schema, "PROFILEMESH_EVENTS"],
        )
    }
    assert "SCHEMA_NAME" not in columns  # step 2 never ran: the fenced holder stopped before it
    assert _lease_row(sf_store)[1] == "thief"  # and it did not touch the new holder's lease

    assert _unlock(sf_store, "--force")[0] == 0
    assert migrate_repair(sf_store.ctx, lock_timeout=30).outcome == "succeeded"
    assert read_ledger(sf_store.target).current_version == 2
    apply(sf_store, lock_timeout=30)
    assert read_ledger(sf_store.target).current_version == HEAD
