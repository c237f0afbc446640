"""Incremental profiling (profiling.tables[].time_column with window): each run reads only the rows
newer than the previous run's window (`since_last_run`), or the last span of the data; the run records
the bounds it read, and runs of one table that read the same way stay comparable for drift."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from profilemesh.api import Context, profile
from profilemesh.drift.history import completed_runs, same_scope
from profilemesh.errors import UsageError
from profilemesh.store.connect import connect
from tests.support.stores import Store

START = dt.datetime(2024, 3, 1, 0, 0, 0)


def _events(store: Store, zoned: bool = False) -> None:
    kind = ("TIMESTAMPTZ" if store.kind == "duckdb" else "timestamptz") if zoned else "TIMESTAMP"
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(f'CREATE TABLE "src"."events" (id INTEGER, happened_at {kind}, amount FLOAT, label VARCHAR(10))')
    _add(store, range(0, 72))  # three days, one row an hour
    store.sql("""INSERT INTO "src"."events" VALUES (999, NULL, 1.0, 'no time')""")


def _add(store: Store, hours: range, offset: int = 0) -> None:
    rows = ", ".join(
        f"({h + offset}, CAST('{START + dt.timedelta(hours=h):%Y-%m-%d %H:%M:%S}' AS TIMESTAMP), {h * 1.0}, 'x')"
        for h in hours
    )
    store.sql(f'INSERT INTO "src"."events" VALUES {rows}')


def _ctx(store: Store, tmp_path: Path, **table: Any) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data["profiling"] = {"tables": [{"schema": "src", "table": "events", **table}]}
    path = tmp_path / f"inc{len(list(tmp_path.glob('inc*.yml')))}.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _read(store: Store, run_id: str) -> dict[str, Any]:
    (row,) = store.sql(f"SELECT scope FROM {store.qualified('profilemesh_runs')} WHERE run_id = {store.ph}", [run_id])
    return json.loads(row[0])["read"]


def test_since_last_run_reads_only_new_rows(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _events(store)
    ctx = _ctx(store, tmp_path, time_column="happened_at", window="since_last_run")

    first = profile(ctx)
    assert first.tables[0].row_count == 72  # the whole backlog, rows without a time never
    newest = START + dt.timedelta(hours=71)
    assert _read(store, first.run_id) == {"after": None, "through": newest.isoformat()}

    _add(store, range(72, 82), offset=1000)  # ten new hours
    second = profile(ctx)
    assert second.tables[0].row_count == 10
    assert _read(store, second.run_id)["after"] == newest.isoformat()

    assert profile(ctx).tables[0].row_count == 0  # nothing new: an empty window, not an error

    # A late row (its time before the last window's end) is not read again: documented.
    _add(store, range(5, 6), offset=2000)
    _add(store, range(82, 84), offset=3000)
    assert profile(ctx).tables[0].row_count == 2

    # The runs stay one comparable history for drift, whatever bounds each read.
    with connect(store.target) as conn:
        runs = completed_runs(conn, store.target, table="events", schema="src")
    kept, position = same_scope(runs, len(runs) - 1)
    assert len(kept) == 4 and position == 3


def test_a_rolling_window_reads_the_last_span_of_the_data(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _events(store)
    ctx = _ctx(store, tmp_path, time_column="happened_at", window={"last": "1 day"}, where="label = 'x'")
    run = profile(ctx)
    assert run.tables[0].row_count == 24  # within a day of the newest row: hours 48 to 71
    assert run.tables[0].scope == {
        "where": "label = 'x'",
        "time_column": "happened_at",
        "window": "last 1 day",
        "read": {
            "after": (START + dt.timedelta(hours=47)).isoformat(),
            "through": (START + dt.timedelta(hours=71)).isoformat(),
        },
    }


def test_a_zoned_time_column_is_read_by_its_instants(pg_at_head: Store, tmp_path: Path) -> None:
    store = pg_at_head
    _events(store, zoned=True)
    ctx = _ctx(store, tmp_path, time_column="happened_at")
    first = profile(ctx)
    assert first.tables[0].row_count == 72
    assert "+00:00" in _read(store, first.run_id)["through"]  # recorded with its zone
    _add(store, range(72, 75), offset=1000)
    assert profile(ctx).tables[0].row_count == 3


def test_a_time_column_that_is_missing_or_not_a_time_is_a_clear_error(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _events(store)
    with pytest.raises(UsageError, match=r"table src\.events: time_column created is not a column of it"):
        profile(_ctx(store, tmp_path, time_column="created"))
    with pytest.raises(UsageError, match=r"table src\.events: time_column label is .*, not a date or time"):
        profile(_ctx(store, tmp_path, time_column="label"))


def test_a_date_column_takes_whole_day_windows_and_refuses_hours(store_at_head: Store, tmp_path: Path) -> None:
    """A date minus 6 hours is the same date: such a window would read nothing on every run."""
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql('CREATE TABLE "src"."events" (id INTEGER, day DATE)')
    store.sql(
        """INSERT INTO "src"."events" VALUES (1, DATE '2024-03-01'), (2, DATE '2024-03-02'), (3, DATE '2024-03-02')"""
    )
    with pytest.raises(UsageError, match=r"time_column day holds dates, so window `last 6 hours` must be whole days"):
        profile(_ctx(store, tmp_path, time_column="day", window={"last": "6 hours"}))
    run = profile(_ctx(store, tmp_path, time_column="day", window={"last": "1 day"}))
    assert run.tables[0].row_count == 2  # the newest day's rows
