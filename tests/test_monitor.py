"""Freshness and volume: `profilemesh monitor` (a metadata pass over whole schemas, no table scanned) on
DuckDB, PostgreSQL and the Snowflake emulator, and freshness SLAs graded by `drift`, against a fixed
clock (`as_of`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from profilemesh.api import Context, alert, detect_drift, migrate_apply, monitor, profile
from profilemesh.config import load_config
from profilemesh.errors import ConfigError, UsageError
from tests.support.cli import run_cli
from tests.support.stores import Store

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


def _ctx(store: Store, tmp_path: Path, name: str, **sections: Any) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data.update(sections)
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _by_name(report: Any) -> dict[str, Any]:
    return {f"{t.schema}.{t.table}": t for t in report.tables}


def _hours(later: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=later)


def test_metadata_passes_see_growth_staleness_and_drops(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    for statement in (
        "CREATE SCHEMA analytics_a",
        "CREATE SCHEMA analytics_b",
        "CREATE SCHEMA other",
        "CREATE TABLE analytics_a.orders (id INTEGER)",
        "CREATE TABLE analytics_a.events (id INTEGER)",
        "CREATE TABLE analytics_a.tmp_scratch (id INTEGER)",
        "CREATE TABLE analytics_b.t1 (id INTEGER)",
        "CREATE TABLE other.ignored (id INTEGER)",
        "INSERT INTO analytics_a.orders VALUES (1), (2), (3)",
        "INSERT INTO analytics_a.events VALUES (1), (2)",
    ):
        store.sql(statement)
    watch = {"schemas": ["analytics_*"], "exclude": ["tmp_*"], "freshness": {"warn_after": "2h"}}
    hook = {"destinations": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/never-sent"}}}
    ctx = _ctx(store, tmp_path, "monitor", monitor=watch, alerts=hook)

    first = monitor(ctx, as_of=T0)
    seen = _by_name(first)
    assert sorted(seen) == ["analytics_a.events", "analytics_a.orders", "analytics_b.t1"]  # the globs' tables
    assert (seen["analytics_a.orders"].row_count, seen["analytics_a.events"].row_count) == (3, 2)
    assert seen["analytics_a.orders"].changed is None  # a first pass knows no change time yet
    assert first.exit_code == 0 and first.source in ("duckdb_tables", "pg_stat_user_tables")

    store.sql("INSERT INTO analytics_a.orders VALUES (4), (5), (6), (7), (8)")
    seen = _by_name(monitor(ctx, as_of=_hours(1)))
    grown, still = seen["analytics_a.orders"], seen["analytics_a.events"]
    assert (grown.row_count, grown.rows_added, grown.changed, grown.freshness_hours) == (8, 5, True, 0.0)
    assert (still.rows_added, still.changed, still.freshness_hours) == (0, False, 1.0)

    third = monitor(ctx, as_of=_hours(3))
    assert _by_name(third)["analytics_a.events"].freshness_hours == 3.0  # unchanged since the first pass
    assert _by_name(third)["analytics_a.orders"].freshness_hours == 2.0

    # Stored as a run that says it read metadata; drift holds it to monitor.freshness (warn_after 2h).
    (scope,) = store.sql(
        f"SELECT scope FROM {store.qualified('profilemesh_runs')} "
        f"WHERE run_id = {store.ph} AND dataset_name = 'events'",
        [third.run_id],
    )
    assert json.loads(scope[0])["metadata"] == third.source
    events = {(e.table, e.metric): e for e in detect_drift(ctx).events}
    breach = events[("events", "freshness_hours")]
    assert (breach.severity, breach.current, breach.metadata["strategy"]) == ("medium", 3.0, "freshness_sla")
    assert ("orders", "freshness_hours") not in events  # 2.0 h: at the limit, not past it
    assert events[("t1", "freshness_hours")].severity == "medium"  # unchanged since the first pass too
    deliveries = alert(ctx, dry_run=True).deliveries  # alerts see the breaches like any drift
    assert sorted((d.tables, d.severity, d.status) for d in deliveries) == [
        (["analytics_a.events"], "medium", "would send"),
        (["analytics_b.t1"], "medium", "would send"),
    ]

    store.sql("DROP SCHEMA analytics_b CASCADE")  # the table, and its schema with it
    dropped = monitor(ctx, as_of=_hours(4))
    gone = _by_name(dropped)["analytics_b.t1"]
    assert (gone.status, dropped.exit_code) == ("failed", 1)
    assert "no longer exists" in (gone.error or "")
    assert "analytics_b.t1" not in _by_name(monitor(ctx, as_of=_hours(5)))  # reported once

    listed = r"schema glob nothing_\* matched no schema in the source \(schemas there: analytics_a, "
    with pytest.raises(UsageError, match=listed):
        monitor(ctx, schemas=["nothing_*"])
    with pytest.raises(UsageError, match=r"no table in schema\(s\) other matches tables \[zzz\*\]"):
        monitor(ctx, schemas=["other"], tables=["zzz*"])

    # The command line: one line and exit 2 on bad input, the pass as JSON otherwise.
    config = str(tmp_path / "monitor.yml")
    bad = run_cli("monitor", "-c", config, "--schema", "nothing_*")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: monitor: schema glob nothing_*")
    assert len(bad.stderr.splitlines()) == 1
    unset = run_cli("monitor", "-c", str(store.config_path))
    assert (unset.exit_code, unset.stderr.strip()) == (
        2,
        "error: nothing to monitor: set monitor.schemas in the config, or pass --schema GLOB",
    )
    shown = run_cli("monitor", "-c", config, "--table", "orders", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    assert [(t["table"], t["row_count"]) for t in json.loads(shown.stdout)["tables"]] == [("orders", 8)]


def test_freshness_sla_on_profiled_tables(store_at_head: Store, tmp_path: Path) -> None:
    """A table profiled with a time_column records how stale its newest row is; drift raises medium
    past warn_after and high past error_after, from the first run on."""
    store = store_at_head
    store.sql("CREATE SCHEMA src")
    store.sql("CREATE TABLE src.loads (id INTEGER, loaded_at TIMESTAMP)")
    store.sql("INSERT INTO src.loads VALUES (1, TIMESTAMP '2024-05-01 10:00:00'), (2, TIMESTAMP '2024-05-01 12:00:00')")
    table = {
        "schema": "src",
        "table": "loads",
        "time_column": "loaded_at",
        "window": {"last": "1 day"},
        "freshness": {"warn_after": "6h", "error_after": "1d"},
    }
    ctx = _ctx(store, tmp_path, "fresh", profiling={"tables": [table]})

    grades = []
    for hours in (2, 7, 30):
        run = profile(ctx, as_of=_hours(hours))
        assert run.tables[0].status == "completed"
        report = detect_drift(ctx)
        breaches = [e for e in report.events if e.metric == "freshness_hours"]
        grades.append((breaches[0].severity, breaches[0].metadata["baseline"]) if breaches else None)
        if hours == 7:
            assert (report.exit_code("medium"), report.exit_code("high")) == (1, 0)
    assert grades == [None, ("medium", "warn_after"), ("high", "error_after")]
    (lag,) = store.sql(
        f"SELECT metric_value_numeric FROM {store.qualified('profilemesh_results')} "
        f"WHERE run_id = {store.ph} AND metric_name = 'freshness_hours' AND column_name = ''",
        [run.run_id],
    )
    assert lag[0] == 30.0


@pytest.mark.parametrize(
    ("freshness", "message"),
    [
        ({"warn_after": "soon"}, r"profiling.tables\[0\].freshness.warn_after: must be a duration"),
        ({"warn_after": "6h", "error_after": "1h"}, "error_after must not be sooner than warn_after"),
        ({"warn": "6h"}, r"freshness.warn: unknown key \(expected one of: error_after, warn_after\)"),
        ({}, "needs warn_after, error_after or both"),
    ],
)
def test_bad_freshness_config_names_the_key(tmp_path: Path, freshness: dict[str, Any], message: str) -> None:
    path = tmp_path / "bad.yml"
    table = {"schema": "s", "table": "t", "freshness": freshness}
    path.write_text(yaml.safe_dump({"storage": {"connection": {"type": "duckdb"}}, "profiling": {"tables": [table]}}))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_monitor_config_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    base = {"storage": {"connection": {"type": "duckdb"}}}
    path.write_text(yaml.safe_dump({**base, "monitor": {"schemas": ["a_*"], "table": ["x"]}}))
    with pytest.raises(ConfigError, match=r"monitor.table: unknown key \(did you mean 'tables'"):
        load_config(path)
    path.write_text(yaml.safe_dump({**base, "monitor": {"schemas": []}}))
    with pytest.raises(ConfigError, match=r"monitor\.schemas: must be a name or glob"):
        load_config(path)
    path.write_text(yaml.safe_dump({**base, "monitor": {"schemas": "a_*", "freshness": {"error_after": "90m"}}}))
    settings = load_config(path).monitor
    assert settings.schemas == ("a_*",) and settings.freshness is not None
    assert settings.freshness.describe() == {"error_after_hours": 1.5}


@pytest.mark.snowflake
def test_metadata_pass_on_snowflake(sf_store: Store, tmp_path: Path) -> None:
    """INFORMATION_SCHEMA.TABLES: ROW_COUNT and LAST_ALTERED. The emulator returns the row count and a
    constant LAST_ALTERED (the epoch), so growth is tested here and change times only on an account."""
    migrate_apply(sf_store.ctx, build_views=False)
    sf_store.sql("CREATE SCHEMA IF NOT EXISTS MART_A")
    sf_store.sql("CREATE TABLE MART_A.SALES (ID INTEGER)")
    sf_store.sql("INSERT INTO MART_A.SALES VALUES (1), (2)")
    ctx = _ctx(sf_store, tmp_path, "sf", monitor={"schemas": ["mart_*"]})
    first = _by_name(monitor(ctx, as_of=T0))
    assert list(first) == ["mart_a.sales"] and first["mart_a.sales"].row_count == 2
    sf_store.sql("INSERT INTO MART_A.SALES VALUES (3), (4), (5)")
    report = monitor(ctx, as_of=_hours(1))
    sales = _by_name(report)["mart_a.sales"]
    assert (report.source, sales.row_count, sales.rows_added) == ("information_schema.tables", 5, 3)
    assert sales.freshness_hours is not None  # from LAST_ALTERED
