"""Retention on real stores: a history of runs across many days and tables, inserted with plain SQL,
and the survivors computed here in Python from the documented rules, independently of the SQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from profilemesh.api import migrate_apply
from profilemesh.contract import LEDGER_TABLE, PG_ADVISORY_LOCK_CLASS
from profilemesh.errors import UsageError
from tests.support.cli import run_cli, spawn_cli
from tests.support.faults import CRASH_ENV, PAUSE_ENV
from tests.support.migrations import HEAD
from tests.support.stores import Store

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
KEEP_DAYS = 14
KEEP_RUNS = 3


def day(d: int) -> dt.datetime:
    """d days ago, six hours clear of the cutoff's day boundary."""
    return NOW - dt.timedelta(days=d, hours=6)


RUN_COLUMNS = ("run_id", "dataset_name", "schema_name", "profiled_at", "status")
RESULT_COLUMNS = ("run_id", "dataset_name", "schema_name", "column_name", "metric_name", "metric_value", "profiled_at")
EVENT_COLUMNS = ("event_id", "event_type", "run_id", "schema_name", "table_name", "timestamp")
STATE_COLUMNS = ("schema_name", "table_name", "last_run_id", "last_profiled_at")


def history() -> dict[str, list[tuple]]:
    runs: list[tuple] = []
    # One invocation a day covers sales.orders and sales.customers, for 40 days; two runs failed.
    for d in range(40):
        runs.append((f"inv-{d:02d}", "orders", "sales", day(d), "failed" if d in (3, 20) else "completed"))
        runs.append((f"inv-{d:02d}", "customers", "sales", day(d), "completed"))
    # Same table name in another schema, only old runs: its newest keep_runs stay, whatever their age.
    runs += [(f"oth-{d}", "orders", "other", day(d), "completed") for d in range(30, 36)]
    # Only old runs, the newest ones failed: the newest completed run stays too.
    runs += [(f"stale-{d}", "stale", "sales", day(d), "failed" if d < 54 else "completed") for d in range(50, 58)]
    # A run still marked running is never deleted, however old.
    runs += [(f"load-{d}", "loading", "sales", day(d), "running" if d == 64 else "completed") for d in range(60, 67)]
    # Written before schemas were recorded: NULL until schema version 4, which stores '' for it.
    runs += [(f"leg-{d}", "legacy", "", day(d), "completed") for d in range(40, 46)]

    results: list[tuple] = []
    for run_id, table, schema, at, status in runs:
        for metric in ("row_count", "null_count") if status == "failed" else ("row_count", "null_count", "mean"):
            results.append((run_id, table, schema, "amount", metric, "1", at))
    # Results whose run is not stored at all (removed by hand): aged by their own profiled_at.
    results += [("ghost", "orders", "sales", "amount", "mean", "2", day(40)),
                ("ghost-new", "orders", "sales", "amount", "mean", "2", day(1))]  # fmt: skip

    events: list[tuple] = []
    for run_id, table, schema, at, _ in runs:
        if run_id.startswith("inv-") and int(run_id[4:]) % 4 == 0:
            events.append((f"ev-{run_id}-{table}", "DataDriftDetected", run_id, schema, table, at))
    events += [
        ("ev-stale", "DataDriftDetected", "stale-51", "sales", "stale", day(51)),
        ("pre-v2-old", "DataDriftDetected", None, None, "orders", day(50)),  # no run_id: aged by timestamp
        ("pre-v2-new", "DataDriftDetected", None, None, "orders", day(2)),
        ("run-level-old", "ProfilingCompleted", "inv-30", None, None, day(30)),  # no table: follows its run
        ("run-level-new", "ProfilingCompleted", "inv-01", None, None, day(1)),
        ("dangling-old", "DataDriftDetected", "gone", "sales", "orders", day(40)),
        ("dangling-new", "DataDriftDetected", "gone", "sales", "orders", day(1)),
    ]
    # table_state names an old run of customers (a producer that stopped): that run stays.
    state = [("sales", "customers", "inv-25", day(25)), ("sales", "orders", "inv-00", day(0))]
    return {"runs": runs, "results": results, "events": events, "state": state}


def seed(store: Store, data: dict[str, list[tuple]]) -> None:
    for table, columns, rows in (
        ("profilemesh_runs", RUN_COLUMNS, data["runs"]),
        ("profilemesh_results", RESULT_COLUMNS, data["results"]),
        ("profilemesh_events", EVENT_COLUMNS, data["events"]),
        ("profilemesh_table_state", STATE_COLUMNS, data["state"]),
    ):
        names = ", ".join(store.ident(c) for c in columns)
        values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        store.sql(f"INSERT INTO {store.qualified(table)} ({names}) VALUES {values}")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return f"CAST('{value:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"
    return "'" + str(value).replace("'", "''") + "'"


# --- the model: the documented rules, in plain Python ---


def in_scope(table: str | None, schema: str | None, only: str | None) -> bool:
    if only is None:
        return True
    want_schema, _, want_table = only.rpartition(".")
    return table == want_table and (not want_schema or schema == want_schema)


def doomed_runs(data: dict[str, list[tuple]], keep_days: int, keep_runs: int, only: str | None = None) -> set:
    cutoff = NOW - dt.timedelta(days=keep_days)
    protected_by_state = {(run_id, table) for _, table, run_id, _ in data["state"]}
    by_table: dict[tuple, list[tuple]] = {}
    for run in data["runs"]:
        by_table.setdefault((run[2] or "", run[1]), []).append(run)
    doomed = set()
    for runs in by_table.values():
        newest_first = sorted(runs, key=lambda r: (r[3], r[0]), reverse=True)
        completed = [r for r in newest_first if r[4] == "completed"]
        for position, (run_id, table, schema, at, status) in enumerate(newest_first):
            if (
                in_scope(table, schema, only)
                and at < cutoff
                and position >= keep_runs
                and not (completed and completed[0][0] == run_id)
                and status != "running"
                and (run_id, table) not in protected_by_state
            ):
                doomed.add((run_id, table))
    return doomed


def expected(data: dict[str, list[tuple]], keep_days: int, keep_runs: int, only: str | None = None) -> dict:
    """What stays, and per table what goes."""
    cutoff = NOW - dt.timedelta(days=keep_days)
    doomed = doomed_runs(data, keep_days, keep_runs, only)
    stored = {(r[0], r[1]) for r in data["runs"]}
    survivors = [r for r in data["runs"] if (r[0], r[1]) not in doomed]
    going: dict[tuple, dict[str, int]] = {}

    def count(schema: str | None, table: str | None, kind: str) -> None:
        going.setdefault((schema or None, table), {"runs": 0, "results": 0, "events": 0})[kind] += 1

    schema_of = {(r[0], r[1]): r[2] for r in data["runs"]}
    for key in doomed:
        count(schema_of[key], key[1], "runs")
    results = []
    for row in data["results"]:
        key = (row[0], row[1])
        if key in doomed:
            count(schema_of[key], row[1], "results")
        elif key not in stored and row[6] < cutoff and in_scope(row[1], row[2], only):
            count(row[2], row[1], "results")
        else:
            results.append(row)
    events = []
    for row in data["events"]:
        _, _, run_id, schema, table, at = row
        attached = any(r[0] == run_id and (table is None or r[1] == table) for r in survivors)
        if (run_id, table) in doomed:
            count(schema_of[(run_id, table)], table, "events")
        elif not attached and at < cutoff and in_scope(table, schema, only):
            count(schema, table, "events")
        else:
            events.append(row)
    return {"runs": survivors, "results": results, "events": events, "going": going}


# --- reading a store back ---


def stored(store: Store) -> dict[str, set]:
    def rows(table: str, columns: tuple[str, ...]) -> set:
        names = ", ".join(store.ident(c) for c in columns)
        return {tuple(_plain(v) for v in row) for row in store.sql(f"SELECT {names} FROM {store.qualified(table)}")}

    return {
        "runs": rows("profilemesh_runs", RUN_COLUMNS),
        "results": rows("profilemesh_results", RESULT_COLUMNS),
        "events": rows("profilemesh_events", EVENT_COLUMNS),
        "state": rows("profilemesh_table_state", STATE_COLUMNS),
    }


def _plain(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value


def as_sets(model: dict[str, Any], data: dict[str, list[tuple]]) -> dict[str, set]:
    return {
        "runs": set(model["runs"]),
        "results": set(model["results"]),
        "events": set(model["events"]),
        "state": set(data["state"]),
    }


def going_from_report(report: dict[str, Any]) -> dict[tuple, dict[str, int]]:
    return {
        (t["schema_name"], t["table_name"]): {k: t[k] for k in ("runs", "results", "events")}
        for t in report["tables"]
        if t["runs"] or t["results"] or t["events"]
    }


def retention(store: Store, *args: str) -> Any:
    return run_cli("retention", *args, "-c", str(store.config_path))


def seeded(store: Store) -> dict[str, list[tuple]]:
    """The history below, written into a store at head."""
    data = history()
    seed(store, data)
    return data


# --- tests ---


def test_plan_changes_nothing_and_apply_leaves_exactly_the_expected_rows(store_at_head: Store) -> None:
    store = store_at_head
    data = seeded(store)
    deliveries = store.qualified("profilemesh_alert_deliveries")
    for event in data["events"]:  # every event was alerted: its delivery goes with it, and only then
        store.sql(
            f"INSERT INTO {deliveries} (delivery_id, event_id, destination, status) VALUES ({store.ph}, {store.ph}, "
            "'hook', 'sent')",
            [f"d-{event[0]}", event[0]],
        )
    # Every run with a schema has a distribution row (schema version 7): it goes with its run, and only then.
    shaped = {(r[0], r[2], r[1]) for r in data["runs"] if r[2]}
    rows = ", ".join([f"({store.ph}, {store.ph}, {store.ph}, 'c', 'quantile', 0, {store.ph})"] * len(shaped))
    store.sql(
        f"INSERT INTO {store.qualified('profilemesh_distributions')} (run_id, schema_name, dataset_name, "
        f"column_name, kind, {store.ident('position')}, profiled_at) VALUES {rows}",
        [value for key in sorted(shaped) for value in (*key, NOW)],
    )
    model = expected(data, KEEP_DAYS, KEEP_RUNS)
    before = stored(store)
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS))

    planned = retention(store, "plan", *policy, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["mode"] == "plan" and plan["batches"] == 0
    assert going_from_report(plan) == model["going"]
    kept = {(t["schema_name"], t["table_name"]): t["runs_kept"] for t in plan["tables"] if t["runs"] + t["runs_kept"]}
    assert kept == {
        ("sales", "orders"): 14,  # the last 14 days
        ("sales", "customers"): 15,  # 14 recent + inv-25, named by table_state
        ("other", "orders"): 3,  # the newest 3, however old
        ("sales", "stale"): 4,  # the newest 3 (failed) + the newest completed
        ("sales", "loading"): 4,  # the newest 3 + the running one (inv-64)
        (None, "legacy"): 3,
    }
    assert stored(store) == before  # a plan changes nothing

    applied = retention(store, "apply", *policy, "--batch-size", "7")
    assert applied.exit_code == 0, applied.stderr
    assert stored(store) == as_sets(model, data)
    totals = {k: sum(v[k] for v in model["going"].values()) for k in ("runs", "results", "events")}
    assert (
        f"deleted {totals['runs']} runs, {totals['results']} results, {totals['events']} events in " in applied.stdout
    )
    assert "batch 1: 7 runs deleted" in applied.stderr  # progress, as batches commit
    kept_events = {row[0] for row in as_sets(model, data)["events"]}
    assert {row[0] for row in store.sql(f"SELECT event_id FROM {deliveries}")} == kept_events
    kept_runs = {(r[0], r[2], r[1]) for r in as_sets(model, data)["runs"]}
    left = store.sql(f"SELECT run_id, schema_name, dataset_name FROM {store.qualified('profilemesh_distributions')}")
    assert {tuple(r) for r in left} == shaped & kept_runs and len(left) < len(shaped)

    again = retention(store, "apply", *policy, "--format", "csv")
    assert again.exit_code == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0] == "schema_name,table_name,runs,results,events,runs_kept"
    assert all(line.split(",")[2:5] == ["0", "0", "0"] for line in lines[1:])  # nothing left to delete
    assert stored(store) == as_sets(model, data)


def test_table_option_and_bad_input(duck_at_head: Store) -> None:
    store = duck_at_head
    data = seeded(store)
    result = retention(store, "apply", "--keep-days", "0", "--keep-runs-per-table", "1", "--table", "other.orders")
    assert result.exit_code == 0, result.stderr
    model = expected(data, 0, 1, only="other.orders")
    assert stored(store) == as_sets(model, data)
    assert {k for k, v in model["going"].items() if any(v.values())} == {("other", "orders")}

    for args, message in [
        (("--keep-days", "-1"), "error: --keep-days must be 0 or more, not -1"),
        (("--keep-days", "5", "--keep-runs-per-table", "-2"), "error: --keep-runs-per-table must be 0 or more, not -2"),
        (("--keep-days", "5", "--batch-size", "0"), "error: --batch-size must be 1 or more, not 0"),
        (("--keep-days", "5", "--table", "nope"), "error: unknown table nope: no runs of it are stored"),
    ]:
        bad = retention(store, "apply", *args)
        assert bad.exit_code == 2, (args, bad.stderr)
        assert bad.stderr.startswith(message) and bad.stderr.count("\n") == 1, bad.stderr
    # The operation checks its arguments itself, for dbt users who call it without the CLI.
    session = store.ctx.dbt()
    for args, message in [
        ({"keep_days": -1}, "keep_days must be 0 or more, not -1"),
        ({"keep_days": 1, "keep_runs_per_table": 1.5}, "keep_runs_per_table must be a whole number, not 1.5"),
    ]:
        with pytest.raises(UsageError, match=re.escape(message)):
            session.run_operation("profilemesh_retention", {**args, "dry_run": False}).result()
    assert stored(store) == as_sets(model, data)


def test_no_store_and_store_behind(duck_store: Store) -> None:
    store = duck_store
    result = retention(store, "--keep-days", "5")
    assert result.exit_code == 3 and "run `profilemesh migrate apply` first" in result.stderr
    assert not Path(store.target.connection.filepath).exists()
    migrate_apply(store.ctx, target_version=1)
    result = retention(store, "apply", "--keep-days", "5")
    assert result.exit_code == 1, result.stderr
    assert f"storage is at version 1, ProfileMesh needs {HEAD}: run `profilemesh migrate apply`" in result.stderr


def test_failing_batch_is_rolled_back_whole_and_a_rerun_finishes(pg_at_head: Store) -> None:
    store = pg_at_head
    data = seeded(store)
    model = expected(data, KEEP_DAYS, KEEP_RUNS)
    order = sorted(doomed_runs(data, KEEP_DAYS, KEEP_RUNS), key=lambda k: (_at(data, k), k[0], k[1]))
    victim = order[4]  # batch 3 of 2 runs: its results and events are deleted before its run fails
    runs = store.qualified("profilemesh_runs")
    store.sql(
        "CREATE FUNCTION profilemesh.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF OLD.run_id = '{victim[0]}' AND OLD.dataset_name = '{victim[1]}' THEN "
        "RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN OLD; END $$"
    )
    store.sql(f"CREATE TRIGGER refuse BEFORE DELETE ON {runs} FOR EACH ROW EXECUTE FUNCTION profilemesh.refuse()")
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS), "--batch-size", "2")

    failed = retention(store, "apply", *policy)
    assert failed.exit_code == 3
    *progress, error = failed.stderr.splitlines()
    assert progress == ["batch 1: 2 runs deleted", "batch 2: 2 runs deleted"]
    assert error.startswith("error: retention stopped: refused by test trigger")
    assert "2 batch(es) were committed before" in error
    now = stored(store)
    gone = set(order[:4])
    assert {(r[0], r[1]) for r in data["runs"]} - {(r[0], r[1]) for r in now["runs"]} == gone
    assert_whole_runs(data, now)

    store.sql(f"DROP TRIGGER refuse ON {runs}")
    assert retention(store, "apply", *policy).exit_code == 0
    assert stored(store) == as_sets(model, data)


def _at(data: dict[str, list[tuple]], key: tuple) -> dt.datetime:
    return next(r[3] for r in data["runs"] if (r[0], r[1]) == key)


def assert_whole_runs(data: dict[str, list[tuple]], now: dict[str, set]) -> None:
    """Every stored run has all its results and events; nothing is left of a run that went."""
    present = {(r[0], r[1]) for r in now["runs"]}
    for row in data["results"]:
        if (row[0], row[1]) in {(r[0], r[1]) for r in data["runs"]}:
            assert (row in now["results"]) == ((row[0], row[1]) in present), row
    for row in data["events"]:
        if row[4] is not None and (row[2], row[4]) in {(r[0], r[1]) for r in data["runs"]}:
            assert (row in now["events"]) == ((row[2], row[4]) in present), row


@pytest.mark.slow  # a process killed
def test_killed_apply_leaves_whole_runs_and_a_rerun_finishes(store_at_head: Store) -> None:
    store = store_at_head
    data = seeded(store)
    model = expected(data, KEEP_DAYS, KEEP_RUNS)
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS), "--batch-size", "2")
    # SIGKILL inside batch 3's transaction: its results and events are deleted, its runs not yet.
    process = spawn_cli(
        "retention", "apply", *policy, "-c", str(store.config_path),
        env={CRASH_ENV: "retention:children_deleted:3"},
    )  # fmt: skip
    _, err = process.communicate(timeout=120)
    assert process.returncode == -9, err
    assert "batch 2: 2 runs deleted" in err and "batch 3" not in err
    now = stored(store)
    assert len(data["runs"]) - len(now["runs"]) == 4  # batches 1 and 2 only
    assert_whole_runs(data, now)

    assert retention(store, "apply", *policy).exit_code == 0
    assert stored(store) == as_sets(model, data)


def test_apply_respects_the_migration_lock(store_at_head: Store) -> None:
    store = store_at_head
    data = seeded(store)
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS))
    before = stored(store)
    holder = _hold_lock(store)
    try:
        busy = retention(store, "apply", *policy, "--lock-timeout", "1")
        assert busy.exit_code == 3, busy.stderr
        assert busy.stderr.startswith("error: store busy:") and busy.stderr.count("\n") == 1
        if store.kind == "postgres":  # (DuckDB: the holder has the file, so nobody can read it)
            assert stored(store) == before
        if store.kind == "postgres":  # a plan takes no lock
            assert retention(store, "plan", *policy).exit_code == 0
        # Released while a second apply waits: it goes ahead.
        threading.Timer(2.0, holder.close).start()
        waited = retention(store, "apply", *policy, "--lock-timeout", "60")
        assert waited.exit_code == 0, waited.stderr
    finally:
        holder.close()
    assert stored(store) == as_sets(expected(data, KEEP_DAYS, KEEP_RUNS), data)


@pytest.mark.slow  # a paused process
def test_a_migration_started_during_retention_waits_for_it(pg_at_head: Store) -> None:
    """PostgreSQL; on DuckDB the file does the same (test_apply_respects_the_migration_lock holds it)."""
    store = pg_at_head
    data = seeded(store)
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS), "--batch-size", "8")
    process = spawn_cli(
        "retention", "apply", *policy, "-c", str(store.config_path),
        env={PAUSE_ENV: "retention:batch:1:10"},
    )  # fmt: skip
    first = min(doomed_runs(data, KEEP_DAYS, KEEP_RUNS), key=lambda k: (_at(data, k), k[0], k[1]))
    runs = store.qualified("profilemesh_runs")
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline and _stored(store, runs, first):
            time.sleep(0.2)  # until batch 1 has committed; retention then pauses, holding the lock
        drift = run_cli("drift", "-c", str(store.config_path))  # producers keep writing (the key is shared)
        assert drift.exit_code == 0, drift.stderr
        assert process.poll() is None  # retention still holds the lock
        migrate = run_cli("migrate", "apply", "-c", str(store.config_path), "--lock-timeout", "1")
        assert migrate.exit_code == 3, migrate.stderr
        assert migrate.stderr.startswith("error: store busy: the migration lock is held by pid")
        assert "(profilemesh retention " in migrate.stderr  # the holder is named
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert stored(store) == as_sets(expected(data, KEEP_DAYS, KEEP_RUNS), data)


def _stored(store: Store, runs: str, key: tuple) -> bool:
    return bool(store.sql(f"SELECT 1 FROM {runs} WHERE run_id = %s AND dataset_name = %s", key))


class _Holder:
    """Holds the store's migration lock from outside ProfileMesh: PostgreSQL's advisory lock from a
    session of the test, DuckDB's file from another process (DuckDB shares a file within a process)."""

    def __init__(self, conn: Any):
        self.conn = conn
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if isinstance(self.conn, subprocess.Popen):
                self.conn.kill()
                self.conn.wait()
            else:
                self.conn.close()


def _hold_lock(store: Store) -> _Holder:
    if store.kind == "postgres":
        assert store.pg is not None
        conn = store.pg.connect(store.database)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_lock(%s, hashtext(%s))", (PG_ADVISORY_LOCK_CLASS, f"{store.schema}.{LEDGER_TABLE}")
            )
        return _Holder(conn)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(120)", store.target.connection.filepath],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return _Holder(holder)


@pytest.mark.snowflake
def test_retention_on_the_snowflake_emulator(sf_store: Store) -> None:
    store = sf_store
    migrate_apply(store.ctx, build_views=False)
    data = seeded(store)
    model = expected(data, KEEP_DAYS, KEEP_RUNS)
    policy = ("--keep-days", str(KEEP_DAYS), "--keep-runs-per-table", str(KEEP_RUNS))
    planned = retention(store, "plan", *policy, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    assert going_from_report(json.loads(planned.stdout)) == model["going"]
    applied = retention(store, "apply", *policy, "--batch-size", "50")
    assert applied.exit_code == 0, applied.stderr
    assert stored(store) == as_sets(model, data)


def test_dbt_run_operation_in_a_user_project(duck_at_head: Store, store_pool) -> None:
    """Schedulers that only run dbt: the same operation, a dry run unless told otherwise, logged at info."""
    from tests.support.dbt_project import dbt, make_user_project

    store = duck_at_head
    data = seeded(store)
    before = stored(store)
    project = make_user_project(store, store_pool.root)
    assert dbt(project, "deps")[0]
    args = {"keep_days": KEEP_DAYS, "keep_runs_per_table": KEEP_RUNS}
    ok, log = dbt(project, "run-operation", "profilemesh_retention", "--args", json.dumps(args))
    assert ok, log
    going = expected(data, KEEP_DAYS, KEEP_RUNS)["going"]
    orders = going[("sales", "orders")]
    assert f"sales.orders: would delete {orders['runs']} runs, {orders['results']} results" in log
    assert "run again with dry_run: false to delete" in log
    assert stored(store) == before

    ok, log = dbt(project, "run-operation", "profilemesh_retention", "--args", json.dumps({**args, "dry_run": False}))
    assert ok, log
    assert f"sales.orders: deleted {orders['runs']} runs" in log
    assert stored(store) == as_sets(expected(data, KEEP_DAYS, KEEP_RUNS), data)
