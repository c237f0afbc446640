"""Drift on distributions and segments: the calibrated strategy grades quantile_ks, category_shift and
segment_percent (pure, over synthetic shapes), and `profilemesh drift` writes an event that says what
moved, on a real DuckDB store."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import yaml

from profilemesh.api import Context, detect_drift, profile
from profilemesh.config.drift_settings import DriftSettings
from profilemesh.drift.calibrated import replay
from profilemesh.drift.distributions import OTHER, ColumnShape, segment_key, segment_metric_key
from profilemesh.drift.history import RunMetrics, TableRun
from tests.support.stores import Store

START = dt.datetime(2026, 1, 5, 6)  # a Monday
LEVELS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
NORMAL_Z = (-2.326, -1.645, -0.674, 0.0, 0.674, 1.645, 2.326)


def day_run(rng: random.Random, day: int, *, median: float = 100.0, books: float = 30.0, north: float = 60.0,
            rows: int = 1000) -> RunMetrics:  # fmt: skip
    """A table of `rows` rows: `amount` ~ normal(median, 10) (its quantiles, sampled), `category` with
    'books' at `books` % and two other values, segments north/south at `north` %."""
    at = START + dt.timedelta(days=day)
    run = RunMetrics(TableRun(f"r{day:03d}", "s", "t", at, rows))
    run.numbers[("", "row_count")] = float(rows)
    noise = rng.gauss(0, 0.3)
    levels = zip(LEVELS, NORMAL_Z, strict=True)
    amount = ColumnShape(quantiles={f"p{round(f * 100)}": median + 10 * (z + noise) for f, z in levels})
    books_now = books + rng.gauss(0, 1.4)
    category = ColumnShape(shares={"books": books_now, "games": (100 - books_now) * 0.6,
                                   "toys": (100 - books_now) * 0.4, OTHER: 0.0})  # fmt: skip
    north_now = north + rng.gauss(0, 1.5)
    segments = ColumnShape(segments={"north": (round(rows * north_now / 100), north_now),
                                     "south": (round(rows * (100 - north_now) / 100), 100 - north_now)})  # fmt: skip
    run.distributions = {"amount": amount, "category": category, "region": segments}
    for column in ("amount", "category", "region"):
        run.column_types[column] = "DOUBLE" if column == "amount" else "VARCHAR"
    return run


def paging(runs: list[RunMetrics]) -> list[tuple[str, str, str | None]]:
    verdict = replay(runs, DriftSettings())[-1]
    return [(i.alarm.column, i.alarm.metric, i.alarm.moved) for i in verdict.alarms("medium")]


def test_quiet_distributions_stay_quiet_and_moves_are_caught_with_what_moved() -> None:
    rng = random.Random(7)
    history = [day_run(rng, d) for d in range(40)]
    quiet = sum(bool(paging(history[: d + 1])) for d in range(21, 40))
    assert quiet <= 1  # within the budget of one run in 30

    shifted = paging([*history, day_run(rng, 40, books=10.0)])
    assert [(c, m) for c, m, _ in shifted] == [("category", "category_shift")]
    assert shifted[0][2].startswith("category 'books' 30% → 1") and "(PSI " in shifted[0][2]

    moved = paging([*history, day_run(rng, 40, median=106.7)])  # one IQR (13.5) is ~2x this
    assert [(c, m) for c, m, _ in moved] == [("amount", "quantile_ks")]
    assert moved[0][2].split()[0] in {"p25", "p50", "p75"} and "→" in moved[0][2]


def test_a_segment_that_moves_while_the_total_does_not_is_flagged_and_a_total_drop_is_not() -> None:
    rng = random.Random(11)
    history = [day_run(rng, d) for d in range(40)]
    halved = paging([*history, day_run(rng, 40, north=43.0)])  # north's rows halved (60 -> 43 % of a steady total)
    assert (segment_key("region", "north"), "segment_percent") in [(c, m) for c, m, _ in halved]
    assert any("segment region='north': 60." in (text or "") for _, _, text in halved)

    dropped = paging([*history, day_run(rng, 40, rows=500)])  # every segment halved: the total says it
    assert [(c, m) for c, m, _ in dropped] == [("", "row_count")]


def test_an_incident_is_not_its_own_reference() -> None:
    rng = random.Random(3)
    runs = [day_run(rng, d) for d in range(30)] + [day_run(rng, d, books=10.0) for d in range(30, 34)]
    verdicts = replay(runs, DriftSettings())
    assert "category_shift" in [i.alarm.metric for i in verdicts[30].new]
    # Still out of its band three runs on: the reference holds only the runs before the incident.
    persisting = [(i.alarm.metric, i.start_run_id, i.runs) for i in verdicts[33].persisting]
    assert persisting == [("category_shift", "r030", 4)]


def test_drift_writes_events_that_say_which_category_and_which_segment_moved(
    duck_at_head: Store, tmp_path: Path
) -> None:
    store = duck_at_head
    data = yaml.safe_load(store.config_path.read_text())
    # Segments by region, with the NULL share of amount per region: west's amounts go missing on day 8.
    entry = {"schema": "src", "table": "orders", "segment_by": "region", "segment_metrics": {"amount": "null_percent"}}
    data["profiling"] = {"tables": [entry]}
    path = tmp_path / "pm.yml"
    path.write_text(yaml.safe_dump(data))
    ctx = Context.load(path)
    store.sql("CREATE SCHEMA src")
    for day in range(9):  # seven runs of warm-up, then the graded ones
        books = 10 if day == 8 else 30  # 'books' falls from 30 % to 10 % of 200 orders on the last day
        store.sql("DROP TABLE IF EXISTS src.orders")
        store.sql(
            "CREATE TABLE src.orders AS SELECT i AS id, CASE WHEN (i + "
            f"{day}) % 100 < {books} THEN 'books' WHEN i % 2 = 0 THEN 'games' ELSE 'toys' END AS category, "
            "CASE WHEN i % 10 = 0 THEN 'west' ELSE 'east' END AS region, "
            f"CASE WHEN {day} = 8 AND i % 10 = 0 THEN NULL ELSE i END AS amount FROM range(200) t(i)"
        )
        profile(ctx, as_of=START + dt.timedelta(days=day))
    report = detect_drift(ctx, detected_at=START + dt.timedelta(days=8, hours=1))
    events = [(e.column, e.metric, e.severity, e.metadata.get("moved")) for e in report.events]
    assert ("category", "category_shift", "high", "category 'books' 30% → 10% (PSI 0.27)") in events, events
    # Stored per segment (kind segment_metric), read back by drift, graded as null_percent: west 0 → 100 %.
    west = [e for e in events if e[:2] == ("amount[region=west]", "null_percent")]
    assert [(e[2], e[3]) for e in west] == [("high", "null_percent of amount in segment region=west (20 rows): 100")]
    assert not [e for e in events if e[0] == "amount[region=east]"]


def segment_run(rng: random.Random, day: int, *, west_nulls: float = 0.02) -> RunMetrics:
    """1,000 rows: segments north (600), south (350) and west (50), each with `amount` NULL in 2 % of its
    rows (west: `west_nulls`), drawn row by row; the table's null_percent is the rows' mix."""
    at = START + dt.timedelta(days=day)
    run = RunMetrics(TableRun(f"r{day:03d}", "s", "t", at, 1000))
    run.numbers[("", "row_count")] = 1000.0
    shape = ColumnShape()
    nulls_total = 0
    for segment, rows, rate in (("north", 600, 0.02), ("south", 350, 0.02), ("west", 50, west_nulls)):
        nulls = sum(rng.random() < rate for _ in range(rows))
        nulls_total += nulls
        shape.segment_metrics[(f"region={segment}", "null_percent")] = (100.0 * nulls / rows, rows)
    run.numbers[("amount", "null_percent")] = nulls_total / 10.0
    run.distributions = {"amount": shape}
    run.column_types["amount"] = "DOUBLE"
    return run


def test_a_segment_whose_null_rate_jumps_is_flagged_while_the_total_barely_moves() -> None:
    """West (5 % of the rows) goes from 2 % to 40 % NULL amounts: the table's null_percent moves by under
    two points (no page), west's by 38 (paged, keyed amount[region=west]); quiet days and the quiet
    segments raise nothing at medium or above."""
    rng = random.Random(5)
    history = [segment_run(rng, d) for d in range(40)]
    quiet = sum(bool(paging(history[: d + 1])) for d in range(21, 40))
    assert quiet <= 1  # within the budget of one run in 30
    jumped = paging([*history, segment_run(rng, 40, west_nulls=0.40)])
    assert [(c, m) for c, m, _ in jumped] == [(segment_metric_key("amount", "region=west"), "null_percent")]
    assert "in segment region=west (50 rows)" in (jumped[0][2] or "")
