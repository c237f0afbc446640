"""Buckets (profiling.tables[].granularity): each day or hour of a table's time column profiled as its own
point in history, in one grouped read; `profile --since` backfills; `lookback` re-profiles the last
buckets and a re-profiled bucket replaces its earlier point; the current bucket waits until complete."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from profilemesh.api import Context, detect_drift, profile, query_table
from profilemesh.drift.history import completed_runs
from profilemesh.errors import ConfigError, UsageError
from profilemesh.store.connect import connect
from tests.support.cli import run_cli
from tests.support.stores import Store

DAY = dt.datetime(2024, 3, 1)
# Rows per day, 1 to 5 March; the 3rd has none; the 5th is the current day at NOW (incomplete).
COUNTS = {1: 3, 2: 5, 3: 0, 4: 4, 5: 2}
NOW = dt.datetime(2024, 3, 5, 12, 0)


def _orders(store: Store, kind: str = "TIMESTAMP") -> None:
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(f'CREATE TABLE "src"."orders" (id INTEGER, placed_at {kind}, amount FLOAT, note VARCHAR(10))')
    rows = [(day, k) for day, count in COUNTS.items() for k in range(count)]
    _insert(store, [(DAY.replace(day=day, hour=1 + 2 * k), 10.0 * day + k) for day, k in rows])
    store.sql("""INSERT INTO "src"."orders" VALUES (999, NULL, 1.0, 'x')""")  # no time: never in a bucket


def _insert(store: Store, rows: list[tuple[dt.datetime, float]], first_id: int = 0) -> None:
    values = ", ".join(
        f"({first_id + i}, '{t:%Y-%m-%d %H:%M:%S}', {amount}, 'n{i % 2}{t:%d}')" for i, (t, amount) in enumerate(rows)
    )
    store.sql(f'INSERT INTO "src"."orders" VALUES {values}')


def _ctx(
    store: Store, tmp_path: Path, top: dict[str, Any] | None = None, table: str = "orders", **settings: Any
) -> Context:
    return Context.load(_config(store, tmp_path, top, table, **settings))


def _config(
    store: Store, tmp_path: Path, top: dict[str, Any] | None = None, table: str = "orders", **settings: Any
) -> Path:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data["profiling"] = {**(top or {}), "tables": [{"schema": "src", "table": table, **settings}]}
    path = tmp_path / f"buckets{len(list(tmp_path.glob('buckets*.yml')))}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _points(store: Store) -> list[tuple[dt.datetime, int | None]]:
    with connect(store.target) as conn:
        return [(r.profiled_at, r.row_count) for r in completed_runs(conn, store.target, table="orders", schema="src")]


def test_backfill_then_new_buckets_then_lookback_replaces_a_late_bucket(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _orders(store)
    ctx = _ctx(store, tmp_path, time_column="placed_at", granularity="day")

    backfill = profile(ctx, as_of=NOW, since=dt.date(2024, 3, 1))
    assert [(t.bucket, t.row_count) for t in backfill.tables] == [
        ("2024-03-01", 3),
        ("2024-03-02", 5),
        ("2024-03-03", 0),  # a day without rows is a point of 0 rows (volume monitoring wants it)
        ("2024-03-04", 4),
    ]  # the 5th, the current day, is incomplete and waits
    assert {t.query_count for t in backfill.tables} == {2}  # one grouped read for every bucket
    assert len({t.run_id for t in backfill.tables}) == 4  # each bucket its own run
    assert _points(store) == [(DAY.replace(day=d), COUNTS[d]) for d in (1, 2, 3, 4)]  # ordered by bucket
    fourth = backfill.tables[-1]
    assert fourth.scope is not None and fourth.scope["read"] == {
        "start": "2024-03-04T00:00:00",
        "end": "2024-03-05T00:00:00",
        "bucket": "2024-03-04",
    }
    assert fourth.cost is not None and fourth.cost["buckets"] == 4  # the read's cost, on its newest bucket
    amounts = {(m.column_name, m.metric_name): m.number for m in fourth.profile.metrics} if fourth.profile else {}
    assert amounts[("amount", "min")] == 40.0 and amounts[("amount", "max")] == 43.0
    assert amounts[("id", "distinct_count")] == 4
    assert (amounts[("note", "distinct_count")], amounts[("note", "max_length")]) == (2, 4)  # n004, n104
    assert amounts[("", "freshness_hours")] == pytest.approx((NOW - DAY.replace(day=5, hour=3)).total_seconds() / 3600)

    # The next day: the 5th is complete now, and only it is read (after the newest bucket profiled).
    nxt = profile(ctx, as_of=dt.datetime(2024, 3, 6, 1, 0))
    assert [(t.bucket, t.row_count) for t in nxt.tables] == [("2024-03-05", 2)]
    # Nothing complete since: the table is up to date and nothing is written.
    again = profile(ctx, as_of=dt.datetime(2024, 3, 6, 2, 0))
    assert [t.status for t in again.tables] == ["up_to_date"]
    assert len(_points(store)) == 5

    # A late row of the 4th lands; lookback: 2 re-profiles the 4th and 5th, and the 4th's new point replaces
    # its old one in every history (the old run is kept, marked superseded).
    _insert(store, [(DAY.replace(day=4, hour=23), 99.0)], first_id=500)
    late = profile(
        _ctx(store, tmp_path, time_column="placed_at", granularity="day", lookback=2), as_of=dt.datetime(2024, 3, 6, 3)
    )
    assert [(t.bucket, t.row_count) for t in late.tables] == [("2024-03-04", 5), ("2024-03-05", 2)]
    assert _points(store) == [(DAY.replace(day=d), c) for d, c in ((1, 3), (2, 5), (3, 0), (4, 5), (5, 2))]
    statuses = store.sql(
        f"SELECT status, count(*) FROM {store.qualified('profilemesh_runs')} GROUP BY status ORDER BY status"
    )
    assert statuses == [("completed", 5), ("superseded", 2)]
    history = query_table(ctx, "src.orders", days=3650, now=NOW)
    assert [(r["profiled_at"], r["row_count"]) for r in history.rows] == _points(
        store
    )  # `query` sees one point per bucket


def test_day_buckets_of_a_zoned_column_are_cut_in_utc_or_the_timezone(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql('CREATE TABLE "src"."orders" (id INTEGER, placed_at TIMESTAMPTZ, amount FLOAT)')
    # 23:30 UTC on the 1st is 00:30 on the 2nd in Paris (UTC+1 in March before the DST change).
    store.sql(
        """INSERT INTO "src"."orders" VALUES (1, '2024-03-01 10:00:00+00', 1), (2, '2024-03-01 23:30:00+00', 2),
        (3, '2024-03-02 12:00:00+00', 3)"""
    )
    utc = profile(
        _ctx(store, tmp_path, time_column="placed_at", granularity="day"), as_of=NOW, since=dt.date(2024, 3, 1)
    )
    assert [(t.bucket, t.row_count, t.profiled_at) for t in utc.tables][:2] == [
        ("2024-03-01", 2, dt.datetime(2024, 3, 1)),
        ("2024-03-02", 1, dt.datetime(2024, 3, 2)),
    ]
    assert utc.tables[0].scope and utc.tables[0].scope["read"]["start"] == "2024-03-01T00:00:00+00:00"
    paris = profile(
        _ctx(store, tmp_path, time_column="placed_at", granularity="day", timezone="Europe/Paris"),
        as_of=NOW,
        since=dt.date(2024, 3, 1),
    )
    # Paris's 1st starts at 23:00 UTC on 29 February; its points are another history (the scope says the zone).
    assert [(t.bucket, t.row_count, t.profiled_at) for t in paris.tables][:2] == [
        ("2024-03-01", 1, dt.datetime(2024, 2, 29, 23)),
        ("2024-03-02", 2, dt.datetime(2024, 3, 1, 23)),
    ]
    assert paris.tables[0].scope and paris.tables[0].scope["timezone"] == "Europe/Paris"
    hours = profile(
        _ctx(store, tmp_path, time_column="placed_at", granularity="hour"),
        as_of=dt.datetime(2024, 3, 2, 0, 5),
        since=dt.date(2024, 3, 1),
    )
    counted = {t.bucket: t.row_count for t in hours.tables}
    assert len(counted) == 24 and counted["2024-03-01T10:00"] == 1 and counted["2024-03-01T23:00"] == 1
    assert sum(counted.values()) == 2  # the 2nd's row is in the current day, not yet complete


@pytest.mark.duckdb
def test_drift_grades_the_newest_bucket_against_the_backfilled_ones(duck_at_head: Store, tmp_path: Path) -> None:
    store = duck_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql('CREATE TABLE "src"."orders" (id INTEGER, placed_at TIMESTAMP, amount FLOAT)')
    # 20 days of about 200 orders a day; on the last day only 20 arrive (the incident).
    store.sql(
        """INSERT INTO "src"."orders"
        SELECT i, TIMESTAMP '2024-03-01' + d * INTERVAL 1 DAY + (i * 7) * INTERVAL 1 MINUTE, (i % 97) * 1.0
        FROM range(20) AS days(d), range(200) AS r(i) WHERE d < 19 OR i < 20"""
    )
    ctx = _ctx(store, tmp_path, time_column="placed_at", granularity="day")
    backfill = profile(ctx, as_of=dt.datetime(2024, 3, 21, 6), since=dt.date(2024, 3, 1))
    assert [t.row_count for t in backfill.tables] == [200] * 19 + [20]
    quiet = detect_drift(ctx, current=backfill.tables[-2].run_id, write=False)  # the day before: a usable baseline
    assert quiet.tables_checked == ["src.orders"] and not quiet.events, quiet.events
    report = detect_drift(ctx, write=False)
    assert report.tables_checked == ["src.orders"]
    drops = [e for e in report.events if e.metric == "row_count"]
    assert drops and drops[0].current == 20 and drops[0].run_id == backfill.tables[-1].run_id, report.events
    assert drops[0].severity in ("medium", "high")


@pytest.mark.duckdb
def test_bad_bucket_settings_are_one_line_and_exit_2(duck_at_head: Store, tmp_path: Path) -> None:
    store = duck_at_head
    _orders(store)
    for settings, top, key in (
        ({"granularity": "day"}, None, "profiling.tables[0].granularity"),  # no time_column
        ({"time_column": "placed_at", "granularity": "week"}, None, "profiling.tables[0].granularity"),
        ({"time_column": "placed_at", "lookback": 2}, None, "profiling.tables[0].lookback"),
        ({"time_column": "placed_at", "granularity": "day", "lookback": -1}, None, "profiling.tables[0].lookback"),
        ({"time_column": "placed_at", "granularity": "day", "timezone": "Mars/Olympus"}, None, "tables[0].timezone"),
        ({"time_column": "placed_at", "granularity": "day", "window": {"last": "2 days"}}, None, "tables[0].window"),
        ({}, {"granularity": "minute"}, "profiling.granularity"),
    ):
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            _ctx(store, tmp_path, top, **settings)
    # A top-level default applies to the tables that name a time column; the others read as before.
    assert profile(_ctx(store, tmp_path, {"granularity": "day"}), as_of=NOW).tables[0].bucket is None
    # A time zone on a column without one, hours of a date, --since in the future, --since without buckets.
    with pytest.raises(UsageError, match="timezone applies to a column with a time zone; placed_at"):
        profile(_ctx(store, tmp_path, time_column="placed_at", granularity="day", timezone="UTC"), as_of=NOW)
    store.sql('CREATE TABLE "src"."days" (id INTEGER, day DATE)')
    store.sql(
        """INSERT INTO "src"."days" VALUES (1, DATE '2024-03-01'), (2, DATE '2024-03-02'), (3, DATE '2024-03-02')"""
    )
    hours_of_dates = _ctx(store, tmp_path, table="days", time_column="day", granularity="hour")
    with pytest.raises(UsageError, match=r"table src\.days: time_column day holds dates, so granularity must be day"):
        profile(hours_of_dates, as_of=NOW)
    days = _ctx(store, tmp_path, table="days", time_column="day", granularity="day")
    by_day = profile(days, as_of=NOW, since=dt.date(2024, 3, 1))
    assert [(t.bucket, t.row_count) for t in by_day.tables] == [
        ("2024-03-01", 1),
        ("2024-03-02", 2),
        ("2024-03-03", 0),
        ("2024-03-04", 0),
    ]
    bucketed = _ctx(store, tmp_path, time_column="placed_at", granularity="day")
    approximate = _ctx(store, tmp_path, {"distinct": "approximate"}, time_column="placed_at", granularity="day")
    estimated = profile(approximate, as_of=NOW, since=dt.date(2024, 3, 1)).tables  # DuckDB's HyperLogLog in SQL
    assert [
        next(m.number for m in t.profile.metrics if (m.column_name, m.metric_name) == ("id", "distinct_count_approx"))
        for t in estimated
        if t.profile
    ] == [3, 5, 0, 4]
    (planned,) = profile(bucketed, dry_run=True, as_of=NOW, since=dt.date(2024, 3, 1)).tables
    assert planned.status == "planned" and "4 day bucket(s): 2024-03-01 to 2024-03-04" in planned.notes
    assert any("GROUP BY 1" in statement for statement in planned.statements)
    with pytest.raises(UsageError, match=r"--since 2999-01-01 is in the future"):
        profile(bucketed, since=dt.date(2999, 1, 1))
    with pytest.raises(UsageError, match="none of these tables sets granularity"):
        profile(_ctx(store, tmp_path), since=dt.date(2024, 3, 1))
    config = _config(store, tmp_path, time_column="placed_at", granularity="day")
    refused = run_cli("profile", "-c", str(config), "--since", "last tuesday")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "--since 'last tuesday' is not a date (YYYY-MM-DD)" in refused.stderr
