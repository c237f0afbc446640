"""The calibrated strategy as pure functions over a table's runs: its false-alarm rate on normal runs,
weekly cycles, growing tables, the cold start, incidents that persist, and the t quantile it rests on.
(The same `replay` runs under `profilemesh drift`: tests/test_drift.py checks it on real stores; the
quality on real data sets is benchmarks/drift_quality.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import statistics

import pytest

from profilemesh.config.drift_settings import DRIFT_METRIC_NAMES, DriftSettings, severity_rank
from profilemesh.config.loader import load_config
from profilemesh.drift.calibrated import EFFECTS, RunVerdict, replay
from profilemesh.drift.history import RunMetrics, TableRun
from profilemesh.drift.series import Point, critical_score, cycle_of, expectation, t_quantile
from profilemesh.drift.strategies import threshold_findings

START = dt.datetime(2026, 1, 5, 6)  # a Monday, 06:00 UTC
SETTINGS = DriftSettings()


def run(day: int, numbers: dict[tuple[str, str], float], *, hours: int = 24) -> RunMetrics:
    at = START + dt.timedelta(hours=hours * day)
    rows = numbers.get(("", "row_count"))
    metrics = RunMetrics(TableRun(f"r{day:03d}", "s", "t", at, None if rows is None else int(rows)))
    metrics.numbers.update(numbers)
    metrics.column_types.update({c: "DOUBLE" for c, _ in numbers if c})
    return metrics


def normal_day(rng: random.Random, day: int, columns: int = 10, weekend: float = 0.8) -> dict[tuple[str, str], float]:
    """A daily load: ~1000 rows (20 % fewer on weekends), per column a null share near 1 %, a mean
    near 100 (sd 2), a stddev near 15, a skewed max and a distinct share near 40 %."""
    rows = 1000 * (weekend if (START + dt.timedelta(days=day)).weekday() >= 5 else 1.0) * rng.gauss(1, 0.04)
    numbers = {("", "row_count"): round(rows)}
    for c in range(columns):
        col = f"c{c}"
        numbers[(col, "null_percent")] = max(0.0, rng.gauss(1.0, 0.3))
        numbers[(col, "mean")] = rng.gauss(100, 2)
        numbers[(col, "stddev")] = rng.gauss(15, 1)
        numbers[(col, "max")] = 150 + rng.expovariate(1 / 40)
        numbers[(col, "distinct_percent")] = rng.gauss(40, 1)
    return numbers


def paging(verdict: RunVerdict) -> list[tuple[str, str]]:
    return [(i.alarm.column, i.alarm.metric) for i in verdict.alarms("medium")]


def test_t_quantile_matches_published_values() -> None:
    for p, df, exact in ((0.975, 10, 2.228), (0.995, 5, 4.032), (0.9995, 30, 3.646), (0.999, 20, 3.552)):
        assert t_quantile(p, df) == pytest.approx(exact, rel=0.01)


def test_normal_runs_stay_within_the_false_alarm_budget() -> None:
    """16 tables x 45 daily runs of normal noise with a weekly cycle: at most 1 run in 30 (past the
    warm-up) alarms at medium or above, however many columns the table has."""
    alarmed = checked = 0
    for seed in range(16):
        rng = random.Random(seed)
        columns = 3 if seed % 2 else 20  # 16 or 101 checked metrics per run
        verdicts = replay([run(d, normal_day(rng, d, columns)) for d in range(45)], SETTINGS)
        for verdict in verdicts[21:]:
            checked += 1
            alarmed += bool(verdict.new and paging(verdict))
    assert checked == 16 * 24
    assert alarmed / checked <= 1 / 30, f"{alarmed} of {checked} normal runs alarmed"


def test_a_weekly_cycle_is_learned_and_a_weekday_drop_is_caught() -> None:
    rng = random.Random(7)
    history = [run(d, normal_day(rng, d, weekend=0.6)) for d in range(35)]  # weekends: 40 % fewer rows
    quiet = replay(history, SETTINGS)
    assert not any(paging(v) for v in quiet[21:]), "weekends alarmed"
    tuesday = normal_day(rng, 36, weekend=0.6)
    tuesday[("", "row_count")] *= 0.6  # 40 % of a weekday's rows missing: as low as a normal weekend
    verdict = replay([*history, run(36, tuesday)], SETTINGS)[-1]
    assert ("", "row_count") in paging(verdict)
    alarm = next(i.alarm for i in verdict.new if i.alarm.metric == "row_count")
    assert alarm.seasonal and alarm.expected > 900


def test_a_column_that_looks_like_another_weekday_is_reported_not_paged() -> None:
    """A public holiday: a column's mean on a Tuesday at its usual Sunday level (a strong weekly cycle,
    no calendar known) is reported at low with the weekday it looks like; a mean far from every
    weekday's level (a unit change) still pages, and so does the row count at a weekend's level."""
    rng = random.Random(11)

    def day(d: int) -> dict[tuple[str, str], float]:
        weekend = (START + dt.timedelta(days=d)).weekday() >= 5
        return {
            ("", "row_count"): round(1000 * rng.gauss(1, 0.01)),
            ("demand", "mean"): rng.gauss(3.8 if weekend else 4.7, 0.04),
        }

    history = [run(d, day(d)) for d in range(35)]
    assert not any(paging(v) for v in replay(history, SETTINGS)[21:])
    holiday = day(36)  # a Tuesday
    holiday[("demand", "mean")] = 3.82
    verdict = replay([*history, run(36, holiday)], SETTINGS)[-1]
    alarm = next(i.alarm for i in verdict.new if i.alarm.metric == "mean")
    assert alarm.severity == "low" and alarm.metadata()["looks_like"] in ("Saturday", "Sunday")
    unit_change = day(36)
    unit_change[("demand", "mean")] *= 1.6
    assert ("demand", "mean") in paging(replay([*history, run(36, unit_change)], SETTINGS)[-1])


def test_the_spread_sees_the_tails_a_clean_history_shows() -> None:
    """A distinct share of rounded readings: 75 % on most days, near 55 % on a calm day in five (few
    distinct readings). The MAD alone ignores those days (about 1.5 points), so every calm day would
    page; the spread is the larger of it and the plain standard deviation of the clean baseline."""
    rng = random.Random(5)
    values = [rng.gauss(55, 2) if d % 5 == 2 else rng.gauss(75, 1) for d in range(35)]
    history = [Point(START + dt.timedelta(days=d), v) for d, v in enumerate(values)]
    exp = expectation(history, START + dt.timedelta(days=35), window=35)
    assert exp is not None
    assert exp.spread == pytest.approx(statistics.stdev(values, exp.expected), rel=0.05)
    mad_sigma = 1.4826 * statistics.median(abs(v - exp.expected) for v in values)
    assert exp.spread > 4 * mad_sigma
    critical = critical_score(exp.points, 1 / 60)
    assert abs(55 - exp.expected) / exp.spread < critical < abs(5 - exp.expected) / exp.spread


def test_a_growing_table_is_judged_by_the_rows_it_adds() -> None:
    rng = random.Random(3)
    total, history = 50_000.0, []
    for d in range(40):
        total += 1000 * rng.gauss(1, 0.05)
        history.append(run(d, {("", "row_count"): total}))
    assert not any(v.new for v in replay(history, SETTINGS)[1:]), "normal growth alarmed"
    short = run(40, {("", "row_count"): total + 550})  # the day's load arrived 45 % short
    verdict = replay([*history, short], SETTINGS)[-1]
    assert paging(verdict) == [("", "row_count")]
    assert verdict.new[0].alarm.volume and verdict.new[0].alarm.expected == pytest.approx(total + 1000, rel=0.01)
    after = run(41, {("", "row_count"): total + 550 + 1000})  # the next load is normal again
    assert replay([*history, short, after], SETTINGS)[-1].alarms() == []


def test_the_cold_start_alarms_only_on_gross_changes_and_says_how_many_runs_it_needs() -> None:
    base = {("", "row_count"): 1000.0, ("c", "null_percent"): 1.0, ("c", "mean"): 100.0}
    history = [run(0, base), run(1, base), run(2, dict(base))]
    odd = {("", "row_count"): 2500.0, ("c", "null_percent"): 20.0, ("c", "mean"): 160.0}  # growth, +19 points, x1.6
    verdict = replay([*history, run(3, odd)], SETTINGS)[-1]
    assert verdict.alarms() == [] and verdict.warmup_left == SETTINGS.warmup_runs - 3
    gross = {("", "row_count"): 400.0, ("c", "null_percent"): 35.0, ("c", "mean"): 100.0}
    verdict = replay([*history, run(3, gross)], SETTINGS)[-1]
    assert sorted(paging(verdict)) == [("", "row_count"), ("c", "null_percent")]
    assert all(i.alarm.cold_start and i.alarm.severity == "high" for i in verdict.new)


def test_an_incident_is_flagged_once_then_persists_then_ends() -> None:
    rng = random.Random(11)
    days = [normal_day(rng, d, 3) for d in range(40)]
    for d in range(30, 34):  # four days with 25 % nulls in c1
        days[d][("c1", "null_percent")] = 25.0
    verdicts = replay([run(d, n) for d, n in enumerate(days)], SETTINGS)
    start = verdicts[30]
    assert [(i.alarm.column, i.alarm.metric, i.alarm.severity) for i in start.new] == [("c1", "null_percent", "high")]
    for d in (31, 32, 33):
        assert not [i for i in verdicts[d].new if i.alarm.key == ("c1", "null_percent")]  # not flagged again
        persisting = [i for i in verdicts[d].persisting if i.alarm.metric == "null_percent"]
        assert len(persisting) == 1 and persisting[0] is start.new[0]  # the same incident, updated
        assert persisting[0].start_run_id == "r030"
    assert start.new[0].runs == 4 and start.new[0].last_run_id == "r033"
    assert [i.alarm.metric for i in verdicts[34].ended] == ["null_percent"] and start.new[0].ended_run_id == "r034"
    # The incident never entered the baseline: day 34's normal value is judged against days before 30.
    assert verdicts[34].alarms() == []


def test_an_accepted_change_becomes_the_baseline_with_its_weekly_pattern_kept() -> None:
    """Rows double for good on day 30 (a new source joins), and the user accepts it: no incident opens
    or persists, the weekly pattern is still known around the new level, and a drop from it pages."""
    rng = random.Random(5)
    days = [normal_day(rng, d, 2, weekend=0.6) for d in range(60)]
    for d in range(30, 60):
        days[d][("", "row_count")] *= 2
    runs = [run(d, n) for d, n in enumerate(days)]
    unaccepted = replay(runs, SETTINGS)
    assert ("", "row_count") in paging(unaccepted[30])
    verdicts = replay(runs, SETTINGS, accepted={("", "row_count"): {"r030"}})
    assert verdicts[30].accepted == [("", "row_count")]
    assert not any(("", "row_count") in paging(v) or v.persisting for v in verdicts[30:])  # weekends included
    drop = dict(days[59])
    drop[("", "row_count")] *= 0.55
    verdict = replay([*runs, run(60, drop)], SETTINGS, accepted={("", "row_count"): {"r030"}})[-1]
    alarm = next(i.alarm for i in verdict.new if i.alarm.metric == "row_count")
    assert alarm.expected > 1500  # graded against the accepted level
    # Accepting a run with no alarm on the metric changes nothing.
    assert [paging(v) for v in replay(runs[:30], SETTINGS, accepted={("", "row_count"): {"r010"}})] == [
        paging(v) for v in unaccepted[:30]
    ]


def test_an_accepted_backfill_of_a_growing_table_is_one_step() -> None:
    rng = random.Random(3)
    total, history = 50_000.0, []
    for d in range(40):
        total += 1000 * rng.gauss(1, 0.05) + (20_000 if d == 30 else 0)  # a backfill lands on day 30
        history.append(run(d, {("", "row_count"): total}))
    assert paging(replay(history, SETTINGS)[30]) == [("", "row_count")]
    accepted = replay(history, SETTINGS, accepted={("", "row_count"): {"r030"}})
    assert not any(v.alarms() for v in accepted[30:])  # the next loads are graded as usual, not as a drop


def test_extremes_are_reported_but_never_page() -> None:
    rng = random.Random(5)
    days = [normal_day(rng, d, 1) for d in range(30)]
    days[-1][("c0", "max")] = 5000.0  # one outlier row
    verdict = replay([run(d, n) for d, n in enumerate(days)], SETTINGS)[-1]
    assert [(i.alarm.metric, i.alarm.severity) for i in verdict.new] == [("max", "low")]


def test_a_wider_budget_alarms_more_and_seasonality_can_be_switched_off() -> None:
    rng = random.Random(2)
    history = [Point(START + dt.timedelta(days=d), 1000 * (0.6 if d % 7 >= 5 else 1.0)) for d in range(28)]
    saturday = START + dt.timedelta(days=33)
    weekly = expectation(history, saturday, window=35, cycle=cycle_of([p.at for p in history]))
    assert weekly is not None and weekly.seasonal and weekly.expected == 600
    plain = expectation(history, saturday, window=35, cycle=cycle_of([p.at for p in history], "off"))
    assert plain is not None and not plain.seasonal
    loose = dataclasses.replace(SETTINGS, runs_per_false_alarm=2)
    counts = []
    for settings in (SETTINGS, loose):
        verdicts = replay([run(d, normal_day(random.Random(d + 100), d, 20)) for d in range(50)], settings)
        counts.append(sum(len(v.new) for v in verdicts[21:]))
    assert counts[0] < counts[1]
    assert severity_rank("medium") > severity_rank("low")
    _ = rng


def test_every_graded_metric_has_an_effect_rule() -> None:
    assert set(EFFECTS) == set(DRIFT_METRIC_NAMES)


def test_table_and_column_overrides(tmp_path) -> None:
    """drift_detection.tables: the first matching entry's settings, ignored metrics and columns, and
    the direction that alarms, per table and per column."""
    path = tmp_path / "profilemesh.yml"
    path.write_text(
        "storage: {connection: {type: duckdb}}\n"
        "drift_detection:\n"
        "  tables:\n"
        "    - table: s.t*\n"
        "      runs_per_false_alarm: 200\n"
        "      seasonality: 'off'\n"
        "      ignore_metrics: [max]\n"
        "      columns:\n"
        "        c0: {direction: up}\n"
        "        c1: {ignore: true}\n"
        "    - table: '*'\n"
        "      warmup_runs: 3\n"
    )
    settings = load_config(path, env={}).drift
    table_settings, rules = settings.for_table("s", "tickets")
    assert (table_settings.runs_per_false_alarm, table_settings.seasonality) == (200, "off")
    assert settings.for_table("other", "tickets")[0].warmup_runs == 3  # the second entry
    assert rules.column("c0").direction == "up" and "max" in rules.column("c0").ignore_metrics
    assert rules.column("c1").ignore and rules.column("c2").ignore_metrics == frozenset({"max"})

    rng = random.Random(9)
    days = [normal_day(rng, d, 3) for d in range(30)]
    days[-1][("c0", "mean")] = 60.0  # down: c0 alarms only upwards
    days[-1][("c1", "null_percent")] = 40.0  # c1 is ignored
    days[-1][("c2", "null_percent")] = 40.0  # c2 is not
    days[-1][("c2", "max")] = 5000.0  # max is ignored for the whole table
    runs = [run(d, n) for d, n in enumerate(days)]
    alarmed = {i.alarm.key for i in replay(runs, table_settings, rules)[-1].new}
    assert alarmed == {("c2", "null_percent")}
    everything = {i.alarm.key for i in replay(runs, SETTINGS)[-1].new}
    assert {("c0", "mean"), ("c1", "null_percent"), ("c2", "null_percent"), ("c2", "max")} <= everything
    days[-1][("c0", "mean")] = 140.0
    assert ("c0", "mean") in {
        i.alarm.key for i in replay([*runs[:-1], run(29, days[-1])], table_settings, rules)[-1].new
    }


def test_freshness_is_graded_in_hours_upward_only_and_by_its_level() -> None:
    """freshness_hours (a metadata pass every hour of a table loaded every hour, growing): a lag of 8
    hours pages at medium, and stays an incident while it grows an hour a run (graded by its level,
    not as a growing table's steps); a fresher table never alarms."""
    rng = random.Random(7)
    runs, rows = [], 10_000.0
    for hour in range(30):
        rows += rng.gauss(500, 20)
        runs.append(
            run(hour, {("", "row_count"): round(rows), ("", "freshness_hours"): rng.uniform(0.0, 1.0)}, hours=1)
        )
    stalled = [
        run(30 + k, {("", "row_count"): round(rows), ("", "freshness_hours"): 8.0 + k}, hours=1) for k in range(3)
    ]
    verdicts = replay(runs + stalled, SETTINGS)
    assert all(("", "freshness_hours") not in paging(v) for v in verdicts[:30])
    started = [i for i in verdicts[30].new if i.alarm.metric == "freshness_hours"]
    assert [(i.alarm.severity, i.alarm.unit, i.alarm.step) for i in started] == [("medium", "hours", False)]
    assert [i.alarm.metric for i in verdicts[32].persisting if i.alarm.metric == "freshness_hours"] == [
        "freshness_hours"
    ]
    # A daily table usually 12 hours behind: 12 hours fresher never alarms, 12 hours staler does.
    daily = [run(d, {("", "freshness_hours"): rng.gauss(12, 0.5)}) for d in range(20)]
    for lag, alarms in ((0.0, []), (24.0, ["medium"]), (40.0, ["high"])):
        last = replay([*daily, run(20, {("", "freshness_hours"): lag})], SETTINGS)[-1]
        assert [i.alarm.severity for i in last.new] == alarms
    # The threshold strategy leaves freshness to the calibrated one and to SLAs (a lag's relative change
    # says nothing about staleness).
    lagging = [run(0, {("", "freshness_hours"): 0.5}), run(1, {("", "freshness_hours"): 9.0})]
    assert threshold_findings(lagging[1], lagging[:1], SETTINGS) == []
