"""The calibrated strategy (the default): robust, seasonal baselines; an alarm needs a move that is
both unusual for the metric and large enough to matter; one false-alarm budget per table run.

For each checked metric of a table, the current value is scored against the metric's history:
- the expectation is the median of the last `history_window` runs that raised no alarm (an incident
  never becomes its own baseline), adjusted by the weekday (hour) effect when the runs' cadence and
  the history show a cycle, and extrapolated by the usual rows added when the table grows;
- the score is the distance from the expectation in robust standard deviations (1.4826 x MAD);
- the score must exceed the critical value of a prediction interval at `alpha = budget / tests`,
  where the budget is one alarm at medium or above in `runs_per_false_alarm` normal runs of the table
  and `tests` is the number of metrics checked in that run (Bonferroni), so a wide table does not
  alarm more often than a narrow one;
- and the effect must reach the metric's practical floor (EFFECTS below) for each severity.

Before `warmup_runs` clean runs exist, only gross changes alarm (COLD_START). An alarm opens an
incident: while the metric stays out of its band it is the same incident (persisting), and it ends
on the first run back inside, or when a user accepts it (`drift accept`: the new level becomes
the baseline). `replay` walks a table's runs in order and is the one implementation
behind `drift`, `drift backtest` and the quality benchmark.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from profilemesh.config.drift_settings import NO_RULES, ColumnRules, DriftSettings, TableRules, severity_rank
from profilemesh.config.freshness import FRESHNESS_METRIC
from profilemesh.drift.distributions import (
    CATEGORY_METRIC,
    QUANTILE_METRIC,
    SEGMENT_METRIC,
    ColumnShape,
    Measured,
    measure,
)
from profilemesh.drift.history import RunMetrics
from profilemesh.drift.series import (
    Cycle,
    Expectation,
    Point,
    critical_score,
    cycle_of,
    expectation,
    is_growing,
    season_name,
)

Key = tuple[str, str]  # (column, metric); the table's row count is ("", "row_count")


@dataclass(frozen=True)
class Effect:
    """How a metric's move is measured for practical significance, and the floor of each severity
    (in the unit: percent of the scale, or points). `cap`: the highest severity the metric reaches."""

    unit: str  # "percent" | "points" | "hours"
    low: float
    medium: float
    high: float
    scale: str = "value"  # value: |expected|; spread: max(|expected|, the column's standard deviation)
    cap: str = "high"


EFFECTS: dict[str, Effect] = {
    "row_count": Effect("percent", 10, 25, 50),
    "null_percent": Effect("points", 1, 5, 15),
    "distinct_percent": Effect("points", 2, 10, 25),
    "distinct_percent_approx": Effect("points", 2, 10, 25),
    "mean": Effect("percent", 5, 10, 30, scale="spread"),
    "mean_length": Effect("percent", 5, 15, 40),
    # Measured on real data (docs/benchmarks.md, section 7): the spread of a heavy-tailed column jumps
    # with one extreme row as often as its extremes do; a unit change moves the mean too.
    "stddev": Effect("percent", 10, 35, 75, cap="low"),
    # Extremes of real columns move by nature (one outlier row); they are reported, never paged on.
    "min": Effect("percent", 15, 100, 100, scale="spread", cap="low"),
    "max": Effect("percent", 15, 100, 100, scale="spread", cap="low"),
    # Hours since the newest row (or the table's last change): a move of an hour is worth reporting,
    # six hours pages, a day is high, whatever the table's usual lag (docs/guides/MONITORING.md).
    FRESHNESS_METRIC: Effect("hours", 1, 6, 24),
    # Distributions (drift/distributions.py): distances from the reference runs' shape, in points (a
    # median moved by one IQR is ~25 points of quantile_ks; category_shift is one value's share move),
    # and each segment's rows, graded like the table's. A segment metric (`amount[region=north]`,
    # `null_percent`) is graded by its metric's own effect.
    QUANTILE_METRIC: Effect("points", 5, 10, 20),
    CATEGORY_METRIC: Effect("points", 5, 10, 20),
    SEGMENT_METRIC: Effect("percent", 10, 25, 50),
}
# Metrics that alarm one way only, whatever a table's `direction` says: fresher data is never a problem,
# and a run closer to its reference distribution than usual is no incident.
ONE_WAY = {FRESHNESS_METRIC: "up", QUANTILE_METRIC: "up", CATEGORY_METRIC: "up"}
# Graded by their level even on a growing table: a stalled load adds an hour of lag per hourly run,
# which graded as steps would never be more than one hour's move.
LEVEL_ONLY = frozenset({FRESHNESS_METRIC})
CHECKED_METRICS = tuple(EFFECTS)
# Before warmup_runs clean runs: only a gross change alarms (a row count halved or doubled, a share
# of nulls or distinct values moved by 30 points), at high.
# A growing table may double early in its life, so the row count alarms on a drop only; a distinct
# share falls as a table grows, so it waits for the history.
COLD_START = {"row_count": 50.0, "null_percent": 30.0}


@dataclass(frozen=True)
class Alarm:
    column: str
    metric: str
    severity: str
    expected: float
    current: float
    score: float  # robust standard deviations from the expectation (inf when the history is constant)
    critical: float  # the score the budget requires; 0 in the cold start
    effect: float  # the move in the metric's unit
    unit: str
    points: int  # clean runs in the baseline
    seasonal: bool = False
    volume: bool = False
    cold_start: bool = False
    step: bool = False  # graded by its change from the run before (a growing table)
    like_season: str | None = None  # the other weekday (hour) whose usual level the value matches
    moved: str | None = None  # a distribution metric's biggest move, in words ("p50 12 → 18.5")

    @property
    def key(self) -> Key:
        return (self.column, self.metric)

    def metadata(self) -> dict[str, object]:
        return {
            "measure": "cold_start" if self.cold_start else ("volume" if self.volume else "robust_z"),
            "graded": "change from the previous run" if self.step else "level",
            "expected": _finite(self.expected),
            "score": _finite(self.score),
            "critical": round(self.critical, 4),
            "effect": round(self.effect, 4),
            "effect_unit": self.unit,
            "baseline_runs": self.points,
            "seasonal": self.seasonal,
            **({"looks_like": self.like_season} if self.like_season else {}),
            **({"moved": self.moved} if self.moved else {}),
        }


@dataclass
class Incident:
    """An alarm and the runs it has lasted. `last_run_id` moves while it persists."""

    alarm: Alarm
    start_run_id: str
    last_run_id: str
    runs: int = 1
    ended_run_id: str | None = None


@dataclass
class RunVerdict:
    """What the strategy says about one run of a table."""

    run: RunMetrics
    new: list[Incident] = field(default_factory=list)
    persisting: list[Incident] = field(default_factory=list)
    ended: list[Incident] = field(default_factory=list)
    accepted: list[Key] = field(default_factory=list)  # metrics whose new level a user accepted on this run
    warmup_left: int = 0  # runs still needed before every metric is graded in full
    tests: int = 0

    def alarms(self, at_least: str = "low") -> list[Incident]:
        return [i for i in self.new + self.persisting if severity_rank(i.alarm.severity) >= severity_rank(at_least)]


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


@dataclass(frozen=True)
class Context:
    """What grading one metric of one run needs besides the metric's own history."""

    alpha: float
    cycle: Cycle | None = None
    column_spread: float | None = None  # the column's usual standard deviation (location metrics)
    rows: float | None = None  # rows behind a percentage in this run (its sampling noise)
    values: float | None = None  # non-null values behind a mean in this run
    own_spread: float | None = None  # the column's standard deviation in this run


def grade(
    metric: str,
    column: str,
    levels: list[Point],
    current: Point,
    settings: DriftSettings,
    context: Context,
    *,
    steps: list[Point] | None = None,
) -> Alarm | None:
    """The alarm, if any, for one metric's current value against its history (flagged points marked).

    steps: on a growing table, each run's change from the run before: the change this run made is
    graded (for the row count, the rows it added), not the level, which only a trend explains."""
    rule = EFFECTS[metric]
    if len(levels) < settings.warmup_runs:
        return _cold_start(metric, column, levels, current)
    previous = levels[-1].value if steps is not None else 0.0
    history = steps if steps is not None else levels
    if sum(1 for p in history if p.clean) < settings.warmup_runs:
        return None
    exp = expectation(history, current.at, window=settings.history_window, cycle=context.cycle)
    if exp is None:
        return None
    move = abs(current.value - previous - exp.expected)
    spread = max(exp.spread, _sampling_noise(metric, previous + exp.expected, context))
    score = move / spread if spread > 0 else (math.inf if move > 1e-12 else 0.0)
    critical = critical_score(exp.points, context.alpha)
    if score < critical:
        return None
    volume = steps is not None and metric == "row_count"
    scale = exp.expected if volume else previous + exp.expected  # rows added; otherwise the level
    effect = _effect(rule, move, scale, context.column_spread)
    severity = _severity(rule, effect)
    if severity is None:
        return None
    like = None if metric == "row_count" else _lookalike_season(current.value - previous, exp, spread, critical)
    if like is not None and severity_rank(severity) > severity_rank("low"):
        severity = "low"  # a holiday looks like a Sunday: reported, never paged on
    return Alarm(
        column,
        metric,
        severity,
        previous + exp.expected,
        current.value,
        score,
        critical,
        effect,
        rule.unit,
        exp.points,
        exp.seasonal,
        volume=volume,
        step=steps is not None,
        like_season=None if like is None else season_name(context.cycle, like),
    )


def _sampling_noise(metric: str, expected: float, context: Context) -> float:
    """The standard error the run's own size puts on the metric: a share of 10 rows moves by 10
    points when one row changes, a mean of 10 heavy-tailed values by a good part of the column's
    spread. A small table's history is often too short to show this; the floor makes it count."""
    if metric.endswith("_percent") or metric.endswith("_percent_approx"):
        if not context.rows:
            return 0.0
        share = min(max(expected / 100.0, 0.0), 1.0)
        return 100.0 * math.sqrt(share * (1 - share) / context.rows)
    spread = max(context.column_spread or 0.0, context.own_spread or 0.0)
    if metric == "mean" and context.values and spread:
        # The larger of the usual spread and this run's: a mean lifted by one extreme row carries
        # that row in its own spread too (the logic of Welch's t).
        return spread / math.sqrt(context.values)
    return 0.0


def _effect(rule: Effect, move: float, expected: float, column_spread: float | None) -> float:
    """The move in the metric's unit: points, or percent of the expectation (of the column's spread
    when that is larger, for location metrics; of the usual rows added, for a growing table)."""
    if rule.unit != "percent":
        return move
    scale = abs(expected)
    if rule.scale == "spread" and column_spread is not None:
        scale = max(scale, column_spread)
    return move * 100.0 / scale if scale > 0 else (math.inf if move > 0 else 0.0)


def _severity(rule: Effect, effect: float) -> str | None:
    for name, floor in (("high", rule.high), ("medium", rule.medium), ("low", rule.low)):
        if effect >= floor:
            return name if severity_rank(name) <= severity_rank(rule.cap) else rule.cap
    return None


def _cold_start(metric: str, column: str, history: list[Point], current: Point) -> Alarm | None:
    floor = COLD_START.get(metric)
    clean = [p for p in history if p.clean]
    if floor is None or not clean:
        return None
    reference = clean[-1].value
    move = abs(current.value - reference)
    if metric == "row_count":
        if current.value >= reference:
            return None
        effect = move * 100.0 / max(abs(reference), 1.0)
        unit = "percent"
    else:
        effect, unit = move, "points"
    if effect < floor:
        return None
    return Alarm(
        column, metric, "high", reference, current.value, math.inf, 0.0, effect, unit, len(clean), cold_start=True
    )


def _lookalike_season(value: float, exp: Expectation, spread: float, critical: float) -> int | None:
    """The other season (weekday, hour) whose usual level this value matches, when the cycle is strong
    enough that the two seasons' levels lie outside each other's band: on a public holiday a column's
    mean looks like a Sunday's, and no calendar of the user's holidays is known. Not for the row count:
    a weekday with a Sunday's volume may be an outage (on a table quiet at weekends, no rows at all),
    and the volume is the metric users watch first."""
    for season, level in exp.others:
        if abs(level - exp.expected) > critical * spread and abs(value - level) <= spread:
            return season
    return None


HISTORY_KEPT = 5 * 24  # points kept per metric: the window, or five periods of an hourly cycle


def replay(
    runs: list[RunMetrics],
    settings: DriftSettings,
    rules: TableRules = NO_RULES,
    accepted: Mapping[Key, Collection[str]] | None = None,
) -> list[RunVerdict]:
    """Grade every run of one table in order, each against the runs before it. `rules`: the table's
    overrides (drift_detection.tables): metrics and columns never graded, the direction that alarms.
    `accepted`: per metric, the runs whose new level a user accepted (`drift accept`): there the
    metric's history is moved to the new level, and no incident opens."""
    accepted = accepted or {}
    kept = max(settings.history_window, HISTORY_KEPT)
    levels: dict[Key, deque[Point]] = {}
    steps: dict[Key, deque[Point]] = {}  # rows added per run, for a growing table's row count
    open_incidents: dict[Key, Incident] = {}
    seen: dict[Key, int] = {}  # runs seen per metric (for the warm-up)
    budget = 1.0 / settings.runs_per_false_alarm
    verdicts = []
    shapes: dict[str, deque[tuple[ColumnShape, bool]]] = {}  # column -> its recent shapes, clean or not
    for index, run in enumerate(runs):
        measured = measure(run.distributions, _references(shapes, settings.history_window))
        run = dataclasses.replace(run, numbers={**run.numbers, **{k: m.value for k, m in measured.items()}})
        at = run.run.profiled_at
        cycle = cycle_of([r.run.profiled_at for r in runs[max(0, index - 20) : index]], settings.seasonality)
        # A derived metric follows the rules of the column it comes from (a segment's, its segment column's).
        keys = [
            k
            for k in sorted(run.numbers)
            if k[1] in EFFECTS and _graded(rules.column(measured[k].column if k in measured else k[0]), k[1])
        ]
        tests = sum(1 for k in keys if EFFECTS[k[1]].cap != "low")
        verdict = RunVerdict(run, tests=tests)
        # The table's warm-up: distribution metrics start a run later (they need a reference) and a new
        # segment value starts its own history, so they do not hold the table's note back.
        warming = [k for k in keys if k not in measured]
        verdict.warmup_left = max(0, settings.warmup_runs - min((seen.get(k, 0) for k in warming), default=0))
        outcome: dict[Key, Alarm | None] = {}
        rows = run.numbers.get(("", "row_count"))
        growing = is_growing([p.value for p in levels.get(("", "row_count"), ())][-settings.history_window :])
        for key in keys:
            column, metric = key
            spread = _column_spread(levels, column) if EFFECTS[metric].scale == "spread" else None
            own_rows = measured[key].rows if key in measured else None  # a segment metric: the segment's rows
            context = Context(
                _alpha(key, budget, tests),
                cycle,
                spread,
                own_rows or rows,
                own_rows or run.numbers.get((column, "count")) or None,
                run.numbers.get((column, "stddev")),
            )
            outcome[key] = grade(
                metric,
                column,
                list(levels.get(key, ())),
                Point(at, run.numbers[key]),
                settings,
                context,
                steps=list(steps.get(key, ())) if growing and key in levels and metric not in LEVEL_ONLY else None,
            )
            outcome[key] = _described(outcome[key], measured.get(key))
        for key in keys:
            alarm = _directed(outcome[key], ONE_WAY.get(key[1], rules.column(key[0]).direction))
            if alarm is not None and run.run.run_id in accepted.get(key, ()):
                _rebase(levels.get(key), alarm.expected, run.numbers[key], relative=_relative(alarm))
                verdict.accepted.append(key)
                alarm = None
            incident = open_incidents.get(key)
            recovered = incident is not None and alarm is not None and alarm.step and _reverses(alarm, incident.alarm)
            if incident is not None and recovered:
                alarm = None  # a growing table's metric moving back: the incident is over, not a new one
                incident.ended_run_id = run.run.run_id
                verdict.ended.append(incident)
                del open_incidents[key]
            elif incident is not None and alarm is not None:
                incident.runs += 1
                incident.last_run_id = run.run.run_id
                verdict.persisting.append(incident)
            elif incident is not None:
                incident.ended_run_id = run.run.run_id
                verdict.ended.append(incident)
                del open_incidents[key]
            elif alarm is not None:
                incident = Incident(alarm, run.run.run_id, run.run.run_id)
                open_incidents[key] = incident
                verdict.new.append(incident)
            # An incident never becomes its own baseline (a low alarm does).
            clean = alarm is None or severity_rank(alarm.severity) < severity_rank("medium")
            value = run.numbers[key]
            if key in levels:
                step = Point(at, value - levels[key][-1].value, clean and not recovered)
                steps.setdefault(key, deque(maxlen=kept)).append(step)
            levels.setdefault(key, deque(maxlen=kept)).append(Point(at, value, clean))
            seen[key] = seen.get(key, 0) + 1
        _remember_shapes(shapes, run, measured, verdict, kept)
        verdicts.append(verdict)
    return verdicts


def _described(alarm: Alarm | None, measured: Measured | None) -> Alarm | None:
    """A distribution metric's alarm says what moved (ONE_WAY keeps a distance's alarms to growth)."""
    if alarm is None or measured is None:
        return alarm
    return dataclasses.replace(alarm, moved=measured.moved)


def _references(shapes: dict[str, deque[tuple[ColumnShape, bool]]], window: int) -> dict[str, list[ColumnShape]]:
    """Per column, the shapes of its last `window` clean runs: what its distribution is compared with."""
    return {column: [s for s, clean in history if clean][-window:] for column, history in shapes.items()}


def _remember_shapes(
    shapes: dict[str, deque[tuple[ColumnShape, bool]]],
    run: RunMetrics,
    measured: dict[Key, Measured],
    verdict: RunVerdict,
    kept: int,
) -> None:
    """A run's shapes join their columns' history; a column whose distribution metrics alarmed at medium
    or above in this run is kept out of later references (an incident is never its own reference)."""
    flagged = {
        measured[i.alarm.key].column
        for i in verdict.new + verdict.persisting
        if i.alarm.key in measured and severity_rank(i.alarm.severity) >= severity_rank("medium")
    }
    for column, shape in run.distributions.items():
        shapes.setdefault(column, deque(maxlen=kept)).append((shape, column not in flagged))


def _relative(alarm: Alarm) -> bool:
    """A level measured in percent moves by a factor; a share in points, or the running total of a
    growing table (graded by its steps), by a difference."""
    return alarm.unit == "percent" and not alarm.step


def _rebase(history: deque[Point] | None, expected: float, accepted: float, *, relative: bool) -> None:
    """Move a metric's history to an accepted level, its spread and weekly pattern kept around it: by a
    factor for metrics whose moves are measured in percent (twice the rows: twice the weekend's rows
    too), by a difference for shares in points."""
    if history:
        if relative and expected > 0 and accepted > 0:
            moved = [Point(p.at, p.value * accepted / expected, p.clean) for p in history]
        else:
            moved = [Point(p.at, p.value + accepted - expected, p.clean) for p in history]
        history.clear()
        history.extend(moved)


def _graded(rules: ColumnRules, metric: str) -> bool:
    return not rules.ignore and metric not in rules.ignore_metrics


def _directed(alarm: Alarm | None, direction: str) -> Alarm | None:
    """Only moves in the configured direction alarm (up: above the expectation)."""
    if alarm is None or direction == "both":
        return alarm
    return alarm if (alarm.current > alarm.expected) == (direction == "up") else None


def _reverses(alarm: Alarm, started: Alarm) -> bool:
    return (alarm.current - alarm.expected) * (started.current - started.expected) < 0


def _alpha(key: Key, budget: float, tests: int) -> float:
    """The row count, the metric users watch first, gets half of the table's budget; the column metrics
    that can page share the other half equally (a weighted Bonferroni split)."""
    if tests <= 1:
        return budget
    if key == ("", "row_count"):
        return budget / 2
    return budget / 2 / (tests - 1)


def _column_spread(levels: dict[Key, deque[Point]], column: str) -> float | None:
    """The column's usual standard deviation (the median of its recent clean runs)."""
    values = sorted(p.value for p in list(levels.get((column, "stddev"), ()))[-35:] if p.clean)
    return values[len(values) // 2] if values else None


def worst(incidents: Iterable[Incident]) -> str | None:
    return max((i.alarm.severity for i in incidents), key=severity_rank, default=None)
