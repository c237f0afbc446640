"""Drift detection on simulated daily loads: injected incidents are found at a sensible severity, pure
noise finds nothing, tables of one run never mix, and each drift is written once with its run_id.
The threshold and statistical strategies by name; the calibrated default on real stores (its incidents
that persist and end, a failed latest run, the cold start); tests/test_drift_calibrated.py has its maths."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from profilemesh.api import Context, profile
from profilemesh.api import detect_drift as detect
from tests.support.cli import run_cli
from tests.support.stores import Store

ROWS = 4000


def uniform(k: int, day: int) -> str:
    """A deterministic pseudo-random number in [0, 1) per row, the same on DuckDB and PostgreSQL."""
    x = f"sin(i * {12.9898 + k * 3.7:.4f} + {day * 78.233 + k * 11.13:.4f}) * 43758.5453"
    return f"({x} - floor({x}))"


def load_day(
    store: Store,
    table: str,
    day: int,
    *,
    rows: int = ROWS,
    shift: float = 0.0,
    null_rate: float = 0.01,
    scale: float = 1.0,
    with_bucket: bool = True,
) -> None:
    """Recreate src.<table> for one day: value ~ uniform with sd 10*scale around 100*scale."""
    store.sql(f'DROP TABLE IF EXISTS "src"."{table}"')
    bucket = f", CAST(floor({uniform(4, day)} * 1000) AS INTEGER) AS bucket" if with_bucket else ""
    store.sql(
        f'CREATE TABLE "src"."{table}" AS SELECT i AS id, '
        f"{scale} * (100 + 34.641 * ({uniform(1, day)} - 0.5)) + {shift} AS value, "
        f"CASE WHEN {uniform(2, day)} < {null_rate} THEN NULL "
        f"ELSE 'c' || CAST(CAST(floor({uniform(3, day)} * 5) AS INTEGER) AS VARCHAR) END AS category"
        f"{bucket} FROM generate_series(1, {rows}) AS g(i)"
    )


def source_config(store: Store, path: Path, tables: list[str], **top: object) -> Path:
    """A config on the store with its schema `src` as the source, profiling `tables`, and `top` keys."""
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"], schema="src")
    data["profiling"] = {"tables": [{"schema": "src", "table": t} for t in tables]}
    path.write_text(yaml.safe_dump({**data, **top}))
    return path


@pytest.fixture
def daily(store_at_head: Store, tmp_path: Path):
    store = store_at_head
    # These tests pin the threshold strategy's grading.
    path = source_config(
        store, tmp_path / "drift.yml", ["orders", "payments"], drift_detection={"strategy": "threshold"}
    )
    config = Context.load(path)
    for day in range(1, 7):  # six days of ordinary noise
        load_day(store, "orders", day)
        load_day(store, "payments", day, scale=10.0)  # same column names, another scale: mixing would show
        profile(config)
        if day > 1:
            control = detect(config)
            assert control.events == [], [(e.table, e.column, e.metric, e.change_percent) for e in control.events]
    return store, config, path


def events_by(report, table: str) -> dict[tuple, str]:
    return {(e.event_type, e.column, e.metric): e.severity for e in report.events if e.table == table}


def test_injected_incidents_are_detected_and_noise_is_not(daily) -> None:
    store, config, _ = daily

    load_day(store, "orders", 7, shift=10.0)  # mean shift of one standard deviation
    load_day(store, "payments", 7, scale=10.0)
    profile(config)
    shift = detect(config)
    assert events_by(shift, "orders")[("DataDriftDetected", "value", "mean")] == "low"  # +10% by threshold
    assert events_by(shift, "payments") == {}  # tables of one run never contaminate each other

    drift = dataclasses.replace(config.config.drift, strategy="statistical", min_history=3)
    statistical = dataclasses.replace(config, config=dataclasses.replace(config.config, drift=drift))
    stats = detect(statistical, table="src.orders", write=False)
    assert events_by(stats, "orders")[("DataDriftDetected", "value", "mean")] == "high"  # far outside the history

    load_day(store, "orders", 8, null_rate=0.20)  # null spike from 1% to 20%
    load_day(store, "payments", 8, scale=10.0)
    profile(config)
    spike = events_by(detect(config), "orders")
    assert spike[("DataDriftDetected", "category", "null_percent")] == "high"

    load_day(store, "orders", 9, rows=ROWS // 2)  # half the rows are gone
    load_day(store, "payments", 9, scale=10.0)
    profile(config)
    drop = events_by(detect(config), "orders")
    assert drop[("DataDriftDetected", None, "row_count")] == "high"

    load_day(store, "orders", 10, with_bucket=False)  # a column is dropped
    load_day(store, "payments", 10, scale=10.0)
    profile(config)
    dropped = events_by(detect(config), "orders")
    assert dropped[("SchemaChangeDetected", "bucket", None)] == "high"
    assert not any(key[0] == "DataDriftDetected" and key[1] == "value" for key in dropped)


def test_each_drift_is_written_once_with_its_run_id(daily) -> None:
    store, config, path = daily
    load_day(store, "orders", 7, null_rate=0.2)
    load_day(store, "payments", 7, scale=10.0)
    run = profile(config)
    first = run_cli("drift", "-c", str(path), "--format", "json")
    assert first.exit_code == 0
    report = json.loads(first.stdout)
    assert report["written"] == len(report["events"]) >= 1
    again = json.loads(run_cli("drift", "-c", str(path), "--format", "json").stdout)
    assert again["written"] == 0 and len(again["events"]) == len(report["events"])

    rows = store.sql(
        f"SELECT run_id, schema_name, table_name, event_type, drift_severity, metadata, timestamp "
        f"FROM {store.qualified('profilemesh_events')}"
    )
    assert len(rows) == len(report["events"])
    assert {r[0] for r in rows} == {run.run_id}
    assert {r[1] for r in rows} == {"src"} and {r[2] for r in rows} == {"orders"}
    assert json.loads(rows[0][5])["strategy"] == "threshold"

    failing = run_cli("drift", "-c", str(path), "--fail-on-drift", "high")
    assert failing.exit_code == 1 and "null_percent" in failing.stdout
    assert run_cli("drift", "-c", str(path), "--table", "src.payments", "--fail-on-drift").exit_code == 0


def test_baselines_and_unknown_runs(daily) -> None:
    store, config, path = daily
    runs = store.sql(
        f"SELECT DISTINCT run_id, profiled_at FROM {store.qualified('profilemesh_runs')} "
        f"WHERE dataset_name = 'orders' ORDER BY profiled_at"
    )
    first_run, last_run = runs[0][0], runs[-1][0]
    load_day(store, "orders", 7, shift=40.0)
    load_day(store, "payments", 7, scale=10.0)
    profile(config)
    against_first = detect(config, baseline=first_run, write=False)
    assert events_by(against_first, "orders")[("DataDriftDetected", "value", "mean")] == "high"
    moving = detect(config, baseline="moving_average", write=False)
    assert events_by(moving, "orders")[("DataDriftDetected", "value", "mean")] == "high"
    old = detect(config, current=last_run, write=False)  # an older run, against the one before it
    assert old.events == []

    missing = run_cli("drift", "-c", str(path), "--current", "no-such-run")
    assert missing.exit_code == 1 and "run no-such-run not found" in missing.stderr


# --- the calibrated strategy (the default) ----------------------------------------------------------

DAY0 = dt.datetime(2026, 3, 2, 6)  # runs at 06:00 UTC each day, as a daily job would


@pytest.fixture
def calibrated(store_at_head: Store, tmp_path: Path):
    """A store whose `orders` table has 8 normal days profiled (the default strategy, no drift key)."""
    store = store_at_head
    path = source_config(store, tmp_path / "calibrated.yml", ["orders"])
    ctx = Context.load(path)
    assert ctx.config.drift.strategy == "calibrated"
    for day in range(8):
        load_day(store, "orders", day)
        profile(ctx, as_of=DAY0 + dt.timedelta(days=day))
        quiet = detect(ctx, detected_at=DAY0 + dt.timedelta(days=day))
        assert quiet.events == [], [(e.column, e.metric, e.metadata) for e in quiet.events]
        if day < 7:
            assert f"{7 - day} more run(s) before every metric is graded" in quiet.notes[0]
    return store, ctx, path


def day(store: Store, ctx: Context, number: int, **load) -> None:
    load_day(store, "orders", number, **load)
    profile(ctx, as_of=DAY0 + dt.timedelta(days=number))


def stored_events(store: Store) -> list[tuple[str, str, dict]]:
    rows = store.sql(f"SELECT run_id, metric_name, metadata FROM {store.qualified('profilemesh_events')}")
    return [(r[0], r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2]) for r in rows]


def test_calibrated_incident_is_written_once_then_persists_then_ends(calibrated) -> None:
    store, ctx, path = calibrated
    day(store, ctx, 8, null_rate=0.25)  # a null spike, 1 % -> 25 %
    first = run_cli("drift", "-c", str(path), "--format", "json", "--fail-on-drift", "medium")
    assert first.exit_code == 1, first.stderr
    report = json.loads(first.stdout)
    assert [(e["column"], e["metric"], e["severity"], e["metadata"]["state"]) for e in report["events"]] == [
        ("category", "null_percent", "high", "new")
    ]
    assert report["written"] == 1 and report["strategy"] == "calibrated" and report["baseline"] == "history"
    started = report["events"][0]["run_id"]

    day(store, ctx, 9, null_rate=0.25)  # still broken the next day: the same incident, not a new one
    second = json.loads(run_cli("drift", "-c", str(path), "--format", "json").stdout)
    assert second["written"] == 0 and second["updated"] == 1
    (event,) = second["events"]
    assert (event["run_id"], event["metadata"]["state"], event["metadata"]["runs"]) == (started, "persisting", 2)
    (stored,) = stored_events(store)
    assert stored[0] == started and stored[2]["state"] == "persisting" and stored[2]["runs"] == 2

    day(store, ctx, 10)  # fixed
    third = run_cli("drift", "-c", str(path), "--format", "json", "--fail-on-drift", "medium")
    assert third.exit_code == 0, third.stdout  # an ended incident no longer fails the check
    assert [e["metadata"]["state"] for e in json.loads(third.stdout)["events"]] == ["ended"]
    (stored,) = stored_events(store)
    assert stored[2]["state"] == "ended" and stored[2]["last_run_id"] != started
    table = run_cli("drift", "-c", str(path))
    assert table.exit_code == 0 and " ended " in table.stdout and "null_percent" in table.stdout


def test_calibrated_reports_a_failed_latest_run_instead_of_old_comparisons(calibrated) -> None:
    store, ctx, path = calibrated
    day(store, ctx, 8, rows=ROWS // 2)  # half the rows: an incident
    assert run_cli("drift", "-c", str(path)).exit_code == 0
    store.sql('DROP TABLE "src"."orders"')
    assert profile(ctx, as_of=DAY0 + dt.timedelta(days=9)).failed  # the next run fails
    result = run_cli("drift", "-c", str(path), "--format", "json", "--fail-on-drift", "high")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["events"] == [] and report["failed_tables"] == ["src.orders"]  # no old comparison re-reported
    assert "latest run" in report["notes"][0] and "failed" in report["notes"][0]
    text = run_cli("drift", "-c", str(path))
    assert text.exit_code == 0 and "latest run failed: src.orders" in text.stdout


def test_calibrated_refuses_a_baseline_option(calibrated) -> None:
    _, _, path = calibrated
    result = run_cli("drift", "-c", str(path), "--baseline", "previous")
    assert result.exit_code == 2 and "calibrated strategy compares each table with its own history" in result.stderr


def test_backtest_replays_the_history_and_writes_nothing(calibrated) -> None:
    store, ctx, path = calibrated
    day(store, ctx, 8, null_rate=0.25)
    day(store, ctx, 9)
    before = stored_events(store)
    result = run_cli("drift", "backtest", "-c", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    (table,) = json.loads(result.stdout)["tables"]
    assert (table["table"], table["runs"], table["graded_runs"], table["runs_alarmed"]) == ("src.orders", 10, 3, 1)
    assert table["by_metric"] == {"category.null_percent": 1}
    assert stored_events(store) == before == []  # nothing written, not even the incident itself

    since = run_cli("drift", "backtest", "-c", str(path), "--since", "2026-03-11", "--format", "json")
    assert json.loads(since.stdout)["tables"][0]["runs_alarmed"] == 0  # the incident's run is before DATE
    alarms = run_cli("drift", "backtest", "-c", str(path), "--alarms", "--format", "json")
    assert [(a["column"], a["metric"]) for a in json.loads(alarms.stdout)["tables"][0]["alarms"]] == [
        ("category", "null_percent")
    ]
    longer = run_cli("drift", "backtest", "-c", str(path), "--warmup-runs", "9")
    assert longer.exit_code == 0 and "warm-up 9" in longer.stdout and "nothing was written" in longer.stdout
    unknown = run_cli("drift", "backtest", "-c", str(path), "--table", "src.nope")
    assert unknown.exit_code == 2 and "no completed runs of table src.nope" in unknown.stderr


def test_accepting_an_incident_makes_the_new_level_the_baseline(calibrated) -> None:
    store, ctx, path = calibrated
    day(store, ctx, 8, null_rate=0.25)  # the source now sends a quarter of its rows without a category
    first = run_cli("drift", "-c", str(path))
    assert first.exit_code == 0 and "null_percent" in first.stdout
    (event_id,) = [r[0] for r in store.sql(f"SELECT event_id FROM {store.qualified('profilemesh_events')}")]
    assert event_id[:8] in first.stdout  # the table prints the id's first 8 characters, which accept takes

    assert run_cli("drift", "accept", event_id[:5], "-c", str(path)).exit_code == 2  # too short to name one
    unknown = run_cli("drift", "accept", "ffffffff-0000", "-c", str(path))
    assert unknown.exit_code == 1 and unknown.stderr == "error: drift event ffffffff-0000 not found\n"
    wildcards = run_cli("drift", "accept", "%_%_%_%_", "-c", str(path))  # a prefix, not a LIKE pattern
    assert wildcards.exit_code == 1 and "not found" in wildcards.stderr
    accepted = run_cli(
        "drift", "accept", event_id[:8], "--reason", "new optional field", "--by", "ana", "-c", str(path)
    )
    assert accepted.exit_code == 0, accepted.stderr
    assert f"accepted event {event_id} (src.orders.category.null_percent" in accepted.stdout
    again = run_cli("drift", "accept", event_id, "-c", str(path), "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["already"] is True  # nothing rewritten
    (row,) = store.sql(f"SELECT accepted_by, accepted_reason FROM {store.qualified('profilemesh_events')}")
    assert row == ("ana", "new optional field")

    # The same run again, then two more days at the new level: no incident persists, none opens, and
    # the stored event's metadata is left as it was written.
    assert detect(ctx).events == []
    day(store, ctx, 9, null_rate=0.25)
    day(store, ctx, 10, null_rate=0.25)
    assert detect(ctx).events == []
    # A real move from the accepted level is still caught: graded against 25 %, not against 1 %.
    day(store, ctx, 11, null_rate=0.60)
    moved = detect(ctx)
    assert [(e.column, e.metric, e.baseline is not None and e.baseline > 20) for e in moved.events] == [
        ("category", "null_percent", True)
    ]

    shown = json.loads(run_cli("query", "drift", "--days", "0", "-c", str(path), "--format", "json").stdout)
    by_id = {r["event_id"]: r for r in shown["rows"]}
    assert by_id[event_id]["accepted_by"] == "ana" and by_id[event_id]["accepted_at"] is not None
    assert by_id[event_id]["accepted_reason"] == "new optional field"
    assert "accepted_at" in run_cli("query", "drift", "--days", "0", "-c", str(path)).stdout

    lifecycle = "ffffffff-1111-2222-3333-444444444444"
    store.sql(
        f"INSERT INTO {store.qualified('profilemesh_events')} (event_id, event_type, table_name, "
        f"{store.ident('timestamp')}) VALUES ('{lifecycle}', 'ProfilingCompleted', 'orders', CURRENT_TIMESTAMP)"
    )
    not_drift = run_cli("drift", "accept", lifecycle, "-c", str(path))
    assert not_drift.exit_code == 2 and "only drift events are accepted" in not_drift.stderr
