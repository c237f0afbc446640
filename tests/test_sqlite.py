"""SQLite as store and source, end to end on real files through dbt-sqlite (the `sqlite` extra).

These tests run in the SQLite lane's own virtualenv (.venv-sqlite: `profilemesh[sqlite,test]` with
dbt-core 1.10, scripts/test.sh), because dbt-sqlite's dbt-adapters pin conflicts with dbt-postgres 1.11;
the main run deselects them (tests/conftest.py). One store is shared by the module: migrated to version
3, given a row written before the runs were keyed by schema, upgraded to head (the SQLite table rebuild),
then profiled over ten simulated days with a shift injected on day 8. The tests run in file order: the
retention test, which deletes runs, is last.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from profilemesh.alerts.runner import AlertReport
from profilemesh.api import (
    Context,
    alert,
    detect_drift,
    migrate_apply,
    migrate_history,
    migrate_status,
    migrate_validate,
    profile,
    query_drift,
    query_run,
    query_runs,
    query_table,
    retention,
)
from profilemesh.config import load_config
from profilemesh.dbt.package import DbtPackage
from profilemesh.errors import ConfigError, MigrationFailed, StoreBusy, StoreMissing, UsageError
from profilemesh.retention.operation import RetentionPolicy
from profilemesh.store.locks import migration_lock
from profilemesh.warehouses.sqlite import SampleStddev
from tests.support.alert_servers import RecordingHTTPServer, Reply
from tests.support.migrations import NEXT, add_migration
from tests.support.stores import copy_package

pytestmark = [pytest.mark.sqlite, pytest.mark.xdist_group("sqlite")]

# A step that fails in SQL after one that succeeded. (tests/support/migrations.py's BROKEN_STEPS does not
# fail on SQLite: a double-quoted name that is no column is a string literal there.)
BROKEN_REKEY = """
      {'id': 'add_note', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'note', 'type': 'text'}},
      {'id': 'broken_rekey', 'op': 'rekey_table', 'table': 'runs', 'primary_key': ['no_such_column'],
       'previous_primary_key': ['run_id', 'schema_name', 'dataset_name']},"""
DAYS = 10
SHIFT_DAY = 8
START = dt.datetime(2026, 1, 1, 6, 0)


@dataclass
class SQLiteShop:
    ctx: Context
    store: Path
    source: Path
    config: Path
    run_ids: list[str]
    upgrade: dict[str, object]


def _seed_orders(path: Path, day: int, rng: random.Random) -> None:
    """A day's load: 200 new orders; from SHIFT_DAY on, amounts are 60% higher."""
    factor = 1.6 if day >= SHIFT_DAY else 1.0
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, amount DECIMAL(12,2), status VARCHAR(10), "
            "ordered_at TIMESTAMP, note TEXT)"
        )
        start = conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
        rows = [
            (
                start + i + 1,
                round(rng.gauss(100, 15) * factor, 2),
                rng.choice(["new", "paid", "shipped"]),
                (START + dt.timedelta(days=day, minutes=i)).isoformat(" "),
                None if i % 7 else "gift",
            )
            for i in range(200)
        ]
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", rows)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> SQLiteShop:
    root = tmp_path_factory.mktemp("sqlite-shop")
    config = root / "profilemesh.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"connection": {"type": "sqlite", "filepath": "store.db"}},
                "source": {"type": "sqlite", "filepath": "warehouse.db"},
                "profiling": {"tables": [{"schema": "main", "table": "orders"}]},
            }
        )
    )
    ctx = Context.load(config)
    store = root / "store.db"
    # Version 3, then a run written by an older ProfileMesh (no schema), then head: version 4 rebuilds the
    # runs table around its new key, which SQLite can only do by copying it.
    migrate_apply(ctx, target_version=3, build_views=False)
    with sqlite3.connect(store) as conn:
        conn.execute(
            "INSERT INTO profilemesh_runs (run_id, dataset_name, schema_name, profiled_at, status, row_count) "
            "VALUES ('legacy-run', 'orders', NULL, '2025-06-01 00:00:00.000000', 'completed', 5)"
        )
    upgraded = migrate_apply(ctx)
    rng = random.Random(19)
    run_ids = []
    for day in range(DAYS):
        _seed_orders(root / "warehouse.db", day, rng)
        when = START + dt.timedelta(days=day)
        run_ids.append(profile(ctx, as_of=when).run_id)
        detect_drift(ctx, detected_at=when)
    return SQLiteShop(ctx, store, root / "warehouse.db", config, run_ids, {"applied": upgraded.applied})


def test_migrations_apply_status_validate_and_the_ledger(shop: SQLiteShop) -> None:
    status = migrate_status(shop.ctx)
    assert (status.db_version, status.state) == (shop.ctx.head, "up_to_date")
    assert migrate_validate(shop.ctx).problems == []
    history = migrate_history(shop.ctx)
    assert [a.version for a in history] == list(range(1, shop.ctx.head + 1))
    assert {a.status for a in history} == {"succeeded"}
    with sqlite3.connect(shop.store) as conn:
        # The lease table names the holder only inside the operation's transaction.
        assert conn.execute("SELECT count(*) FROM profilemesh_migration_lock").fetchone()[0] == 0
        key = [r[1] for r in sorted(conn.execute("SELECT pk, name FROM pragma_table_info('profilemesh_runs')")) if r[0]]
        legacy = conn.execute(
            "SELECT schema_name, row_count FROM profilemesh_runs WHERE run_id = 'legacy-run'"
        ).fetchone()
        views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert key == ["run_id", "schema_name", "dataset_name"]  # the rebuild kept the rows and changed the key
    assert legacy == ("", 5)
    assert {"profilemesh_runs_v", "profilemesh_drift_v", "profilemesh_column_metrics_v"} <= views
    assert migrate_apply(shop.ctx).applied == []  # at head: nothing to apply


def test_the_write_lock_is_the_migration_lock(shop: SQLiteShop) -> None:
    """While another connection writes, the lock has a holder and an apply waits, then says "store busy";
    once that connection commits, the lock is free. Nobody can release it on the holder's behalf."""
    lock = migration_lock(shop.ctx.target)
    holder = sqlite3.connect(shop.store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        seen = lock.holder()
        assert seen is not None
        assert lock.may_release(seen, force=True, if_stale=False)[0] is False
        with pytest.raises(StoreBusy, match="store busy"):
            migrate_apply(shop.ctx, lock_timeout=0)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert lock.holder() is None


def test_a_writer_waits_for_the_lock_then_writes(shop: SQLiteShop) -> None:
    """Profiling while another connection holds the file's write lock: the run's transaction begins once
    that connection commits (SQLite's busy timeout), and the run is written whole."""
    holder = sqlite3.connect(shop.store, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        report = profile(shop.ctx)
    finally:
        release.join()
        holder.close()
    assert [t.status for t in report.tables] == ["completed"]
    with sqlite3.connect(shop.store) as conn:
        stored = conn.execute("SELECT count(*) FROM profilemesh_results WHERE run_id = ?", (report.run_id,)).fetchone()
    assert stored[0] == report.tables[0].metric_count > 0


def test_profiling_computes_every_metric_and_stddev(shop: SQLiteShop) -> None:
    details = query_run(shop.ctx, shop.run_ids[0], table="orders", schema="main")
    metrics = {(m["column_name"], m["metric_name"]): m["metric_value_numeric"] for m in details.metrics}
    with sqlite3.connect(shop.source) as conn:
        amounts = [r[0] for r in conn.execute("SELECT amount FROM orders WHERE id <= 200")]
    assert metrics[("amount", "count")] == 200
    assert metrics[("amount", "mean")] == pytest.approx(statistics.fmean(amounts))
    assert metrics[("amount", "stddev")] == pytest.approx(statistics.stdev(amounts))
    assert metrics[("note", "null_count")] == 200 - len(range(0, 200, 7))
    assert metrics[("status", "distinct_count")] == 3


def test_timestamps_are_read_back_as_datetimes(shop: SQLiteShop) -> None:
    """Stored as text, read as datetimes: by a typed select, a reflected table and plain SQL alike."""
    target = shop.ctx.target
    engine = target.warehouse.create_engine(target.connection, read_only=True)
    try:
        with engine.connect() as conn:
            typed = sa.table("profilemesh_runs", sa.column("profiled_at", sa.DateTime()), schema="main")
            reflected = sa.Table("profilemesh_runs", sa.MetaData(), autoload_with=conn, schema="main")
            values = [
                conn.execute(sa.select(typed.c.profiled_at)).scalar(),
                conn.execute(sa.select(reflected.c.profiled_at)).scalar(),
                conn.execute(sa.text("SELECT profiled_at FROM profilemesh_runs")).scalar(),
                conn.execute(sa.text("SELECT profiled_at FROM profilemesh_runs_v")).scalar(),
            ]
    finally:
        engine.dispose()
    assert all(isinstance(value, dt.datetime) for value in values), values


def test_sample_stddev_is_exact_where_the_textbook_formula_cancels() -> None:
    values = [1e9 + x for x in (4.0, 7.0, 13.0, 16.0)]
    aggregate = SampleStddev()
    for value in [*values, None]:
        aggregate.step(value)
    assert aggregate.finalize() == pytest.approx(statistics.stdev(values), rel=1e-12)
    single = SampleStddev()
    single.step(3)
    assert single.finalize() is None


def test_drift_flags_the_injected_shift_and_nothing_before(shop: SQLiteShop) -> None:
    events = query_drift(shop.ctx, table="orders", days=3650, limit=100).rows
    amount = [e for e in events if e["column_name"] == "amount" and e["metric_name"] == "mean"]
    assert amount, events
    assert min(str(e["detected_at"]) for e in amount) >= str(START + dt.timedelta(days=SHIFT_DAY))


def test_query_reads_the_views(shop: SQLiteShop) -> None:
    runs = query_runs(shop.ctx, table="orders", days=3650, limit=100)
    assert runs.warning is None
    assert {r["run_id"] for r in runs.rows} >= set(shop.run_ids)
    history = query_table(shop.ctx, "orders", schema="main", days=3650, now=START + dt.timedelta(days=DAYS))
    counts = {row["run_id"]: row["row_count"] for row in history.rows}
    assert [counts[run_id] for run_id in shop.run_ids] == [200 * (day + 1) for day in range(DAYS)]


def test_what_sqlite_lacks_is_refused_in_one_line(shop: SQLiteShop, tmp_path: Path) -> None:
    sampled = tmp_path / "sampled.yml"
    config = yaml.safe_load(shop.config.read_text())
    config["storage"]["connection"]["filepath"] = str(shop.store)
    config["source"]["filepath"] = str(shop.source)
    config["profiling"]["tables"][0]["sample"] = {"percent": 10}
    sampled.write_text(yaml.safe_dump(config))
    with pytest.raises(UsageError, match="sqlite has no TABLESAMPLE"):
        profile(Context.load(sampled), dry_run=True)
    with pytest.raises(UsageError, match="sqlite has no roles"):
        migrate_apply(shop.ctx, grant_read=["analyst"])
    other_schema = tmp_path / "schema.yml"
    other_schema.write_text("storage:\n  connection: {type: sqlite, filepath: s.db, schema: analytics}\n")
    with pytest.raises(ConfigError, match="one schema, 'main'"):
        load_config(other_schema)


def test_approximate_distinct_counts_exactly_and_says_so(shop: SQLiteShop, tmp_path: Path) -> None:
    config = yaml.safe_load(shop.config.read_text())
    config["storage"]["connection"]["filepath"] = str(shop.store)
    config["source"]["filepath"] = str(shop.source)
    config["profiling"]["distinct"] = "approximate"
    path = tmp_path / "approximate.yml"
    path.write_text(yaml.safe_dump(config))
    report = profile(Context.load(path))
    assert any("no HyperLogLog" in note for note in report.tables[0].notes)
    details = query_run(shop.ctx, report.run_id, table="orders", schema="main")
    metrics = {(m["column_name"], m["metric_name"]): m["metric_value_numeric"] for m in details.metrics}
    with sqlite3.connect(shop.source) as conn:
        exact = conn.execute("SELECT count(DISTINCT amount) FROM orders").fetchone()[0]
    assert metrics[("amount", "distinct_count")] == exact


def test_a_failed_migration_rolls_back_the_whole_operation(shop: SQLiteShop, tmp_path: Path) -> None:
    """One operation is one transaction on SQLite: a step that fails takes back the steps before it and
    leaves no attempt to repair; the store stays at the version it was at, and usable."""
    package = copy_package(tmp_path / "package")
    add_migration(package, "broken", BROKEN_REKEY)
    store = tmp_path / "store.db"
    shutil.copyfile(shop.store, store)
    config = tmp_path / "profilemesh.yml"
    config.write_text(yaml.safe_dump({"storage": {"connection": {"type": "sqlite", "filepath": str(store)}}}))
    ctx = Context.load(config, package=DbtPackage(package))
    with pytest.raises(MigrationFailed, match=r"broken_rekey.*the whole operation was rolled back"):
        migrate_apply(ctx, build_views=False)
    with sqlite3.connect(store) as conn:
        columns = {r[0] for r in conn.execute("SELECT name FROM pragma_table_info('profilemesh_runs')")}
        attempts = conn.execute("SELECT count(*) FROM profilemesh_schema_version WHERE version = ?", (NEXT,)).fetchone()
    assert "note" not in columns  # the step before the failed one is rolled back with it
    assert attempts[0] == 0
    status = migrate_status(ctx)
    assert (status.db_version, status.state) == (NEXT - 1, "behind")


def test_alert_runs_take_turns_through_the_lease(shop: SQLiteShop) -> None:
    """SQLite's alert lock is a lease row in the migration lock's table (store/locks/run_lock.py): while
    one run sends, another is refused after its --lock-timeout (store busy, naming the holder), and one
    that waits sends nothing twice. A migration meanwhile leaves the alert's row alone."""
    with RecordingHTTPServer(default=Reply(delay=3.0)) as hook:
        data = yaml.safe_load(shop.config.read_text())
        data["alerts"] = {"timeout_seconds": 10, "destinations": {"ops": {"type": "webhook", "url": hook.url}}}
        path = shop.config.parent / "alerts.yml"
        path.write_text(yaml.safe_dump(data))
        ctx = Context.load(path)
        reports: list[object] = []

        def send() -> None:
            try:
                reports.append(alert(ctx))
            except Exception as exc:  # the test reads it below
                reports.append(exc)

        first = threading.Thread(target=send)
        first.start()
        try:
            deadline = time.monotonic() + 60
            while not hook.requests and not reports and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hook.requests, reports
            with sqlite3.connect(shop.store) as conn:
                [(holder,)] = conn.execute("SELECT holder FROM profilemesh_migration_lock WHERE lock_name = 'alert'")
            with pytest.raises(StoreBusy, match=r"another `alert` run holds the alert lock \(profilemesh alert "):
                alert(Context.load(path), lock_timeout=0)
            assert holder.startswith("profilemesh alert ")
            assert migrate_apply(shop.ctx).applied == []  # the migration's lease row comes and goes
            second = alert(Context.load(path), lock_timeout=60)
        finally:
            first.join(60)
    [report] = reports
    assert isinstance(report, AlertReport) and report.sent > 0 and second.sent == 0 and second.deliveries == []
    events = [e["event_id"] for r in hook.requests for g in r.json()["groups"] for e in g["events"]]
    assert len(events) == len(set(events)) == report.sent
    with sqlite3.connect(shop.store) as conn:
        rows = conn.execute("SELECT lock_name, holder, token FROM profilemesh_migration_lock").fetchall()
    assert rows == [("alert", None, None)]


def test_retention_deletes_old_runs_under_the_lock(shop: SQLiteShop) -> None:
    policy = RetentionPolicy(keep_days=0, keep_runs_per_table=3)
    with sqlite3.connect(shop.store) as conn:
        before = conn.execute("SELECT count(*) FROM profilemesh_runs").fetchone()[0]
        newest = {r[0] for r in conn.execute("SELECT run_id FROM profilemesh_runs ORDER BY profiled_at DESC LIMIT 3")}
    plan = retention(shop.ctx, policy)
    applied = retention(shop.ctx, policy, apply=True)
    assert applied.totals == plan.totals
    assert plan.totals["runs"] > 0 and plan.totals["results"] > 0
    with sqlite3.connect(shop.store) as conn:
        left = {r[0] for r in conn.execute("SELECT run_id FROM profilemesh_runs")}
        orphans = conn.execute(
            "SELECT count(*) FROM profilemesh_results r WHERE NOT EXISTS "
            "(SELECT 1 FROM profilemesh_runs u WHERE u.run_id = r.run_id)"
        ).fetchone()[0]
    assert len(left) == before - plan.totals["runs"]
    assert newest <= left and shop.run_ids[0] not in left
    assert "legacy-run" in left  # the only run of its table (schema ''): a table's newest run is kept
    assert orphans == 0


def test_buckets_group_by_the_day_on_sqlite(shop: SQLiteShop) -> None:
    """granularity on SQLite: strftime's day, one grouped read for every bucket (after retention: last)."""
    data = yaml.safe_load(shop.config.read_text())
    data["profiling"] = {
        "tables": [{"schema": "main", "table": "orders", "time_column": "ordered_at", "granularity": "day"}]
    }
    path = shop.config.parent / "buckets.yml"
    path.write_text(yaml.safe_dump(data))
    after = START + dt.timedelta(days=DAYS, hours=1)
    report = profile(Context.load(path), as_of=after, since=START.date() - dt.timedelta(days=1))
    assert [(t.bucket, t.row_count) for t in report.tables] == [
        ((START.date() + dt.timedelta(days=d)).isoformat(), 0 if d < 0 else 200) for d in range(-1, DAYS)
    ], [t.error for t in report.tables]
    assert {t.query_count for t in report.tables} == {1}  # one grouped aggregate (distinct counts in it)


def test_alert_on_a_store_no_migration_reached_says_migrate_apply(tmp_path: Path) -> None:
    """No lease table yet: the alert lock steps aside and the version handshake refuses in its own words."""
    path = tmp_path / "profilemesh.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "storage": {"connection": {"type": "sqlite", "filepath": "store.db"}},
                "alerts": {"destinations": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}},
            }
        )
    )
    sqlite3.connect(tmp_path / "store.db").close()  # an empty file: a store no migration has reached
    with pytest.raises(StoreMissing, match=r"no ProfileMesh storage in sqlite file .*run `profilemesh migrate apply`"):
        alert(Context.load(path))
