"""One metric's history as a robust expectation: median and MAD, a weekly (or daily) cycle when the
history shows one, growth handled as volume, and the significance threshold for a given error rate.

Pure functions over numbers; no database. The calibrated strategy (drift/calibrated.py) builds on
them, and so do the backtest and benchmarks/drift_quality.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation
SEASONAL_GAIN = 0.8  # a cycle is used when it leaves at most this share of the error unexplained


@dataclass(frozen=True)
class Point:
    at: dt.datetime
    value: float
    clean: bool = True  # False: the run raised an alarm on this metric; kept out of the level and spread


@dataclass(frozen=True)
class Expectation:
    """What the history says the next value should be, and how far it normally strays."""

    expected: float
    spread: float  # a robust standard deviation of the history around `expected` (0: constant)
    points: int
    seasonal: bool = False
    # The other seasons' expected values (weekday 0-6 or hour 0-23 -> value), when a cycle is used.
    others: tuple[tuple[int, float], ...] = ()


Cycle = tuple[str, int]  # ("weekday", 7) or ("hour", 24)
CYCLES: dict[str, Cycle] = {"weekly": ("weekday", 7), "daily": ("hour", 24)}


def cycle_of(times: list[dt.datetime], seasonality: str = "auto") -> Cycle | None:
    """The cycle to look for: the configured one, or the one the runs' cadence allows (weekday for
    daily runs, hour of day for hourly runs); None for other cadences or seasonality off."""
    if seasonality in CYCLES:
        return CYCLES[seasonality]
    if seasonality == "off" or len(times) < 3:
        return None
    gap = statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(times))
    if 18 * 3600 <= gap <= 30 * 3600:
        return ("weekday", 7)
    if 45 * 60 <= gap <= 90 * 60:
        return ("hour", 24)
    return None


def _season(at: dt.datetime, kind: str) -> int:
    return at.weekday() if kind == "weekday" else at.hour


def season_name(cycle: Cycle | None, season: int) -> str:
    """A season as users name it: a weekday ("Sunday"), or an hour ("03:00")."""
    if cycle is not None and cycle[0] == "weekday":
        return calendar.day_name[season]
    return f"{season:02d}:00"


def mad(values: list[float], center: float) -> float:
    return statistics.median([abs(v - center) for v in values])


def _median_sorted(values: list[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def _leave_one_out_medians(values: list[float]) -> dict[float, float]:
    """For each value of a small group, the median of the group without it (one pass over the sorted group)."""
    ordered = sorted(values)
    n = len(ordered)
    out = {}
    for i, value in enumerate(ordered):
        rest = ordered[:i] + ordered[i + 1 :]
        out[value] = _median_sorted(rest) if n > 1 else value
    return out


def expectation(
    history: list[Point], at: dt.datetime, *, window: int, cycle: Cycle | None = None
) -> Expectation | None:
    """The robust expectation at time `at` from a metric's `history` (oldest first).

    The level and the spread come from the last `window` clean points. A cycle's effects come from
    every point of its last five periods, flagged ones included: a pattern that recurs is not an
    incident, and a weekend flagged before the cycle was learned must not hide the cycle forever.
    The cycle is used when it has at least three points per season and, judged leave-one-out,
    leaves at most SEASONAL_GAIN of the spread unexplained."""
    clean = [p.value for p in history if p.clean][-window:]
    if not clean:
        return None
    level = _median_sorted(sorted(clean))
    raw = _spread(clean, level)
    plain = Expectation(level, raw, len(clean))
    if cycle is None:
        return plain
    kind, period = cycle
    recent = history[-5 * period :]
    if len(recent) < 3 * period:
        return plain
    seasons = [_season(p.at, kind) for p in recent]
    by_season: dict[int, list[float]] = defaultdict(list)
    for season, p in zip(seasons, recent, strict=True):
        by_season[season].append(p.value)
    if len(by_season) < period or any(len(v) < 3 for v in by_season.values()):
        return plain
    own = by_season.get(_season(at, kind))
    if not own:
        return plain
    # Each clean point against its season's level estimated from the *other* points of that season
    # (leave one out): a cycle fitted to 3 to 5 points per season always looks better in-sample.
    others = {season: _leave_one_out_medians(values) for season, values in by_season.items()}
    pairs = [(p.value - others[season][p.value], p.value) for season, p in zip(seasons, recent, strict=True) if p.clean]
    if len(pairs) < 2:
        return plain
    # Worth it? The mean absolute error of the leave-one-out seasonal prediction against that of the
    # level alone (means, not medians: a weekend is 2 of 7 points, which a median would ignore).
    seasonal_error = statistics.fmean(abs(r) for r, _ in pairs)
    plain_error = statistics.fmean(abs(v - level) for _, v in pairs)
    if seasonal_error > SEASONAL_GAIN * plain_error:
        return plain  # the cycle explains too little to be worth its noise
    residuals = sorted(r for r, _ in pairs)
    center = _median_sorted(residuals)
    spread = _spread(residuals, center)
    mine = _season(at, kind)
    elsewhere = tuple(
        (season, _median_sorted(sorted(values)) + center)
        for season, values in sorted(by_season.items())
        if season != mine
    )
    return Expectation(_median_sorted(sorted(own)) + center, spread, len(residuals), seasonal=True, others=elsewhere)


def _spread(values: list[float], center: float) -> float:
    """How far `values` normally stray from `center`: the larger of the robust standard deviation
    (1.4826 x MAD) and the plain one. Runs that alarmed are already kept out of a baseline, so the
    plain one sees what the MAD ignores by design, a metric's ordinary big days (a calm day's few
    distinct readings, a heavy-tailed column's mean); the MAD stays the floor of a series with a few
    wild points that alarmed only at low. Measured on real data: docs/benchmarks.md, section 7."""
    robust = MAD_TO_SIGMA * _median_sorted(sorted([abs(v - center) for v in values]))
    if len(values) < 2:
        return robust
    plain = math.sqrt(sum((v - center) ** 2 for v in values) / (len(values) - 1))
    return max(robust, plain)


def is_growing(values: list[float]) -> bool:
    """A table that grows run after run (appends): judged by the rows it adds, not by its size."""
    if len(values) < 4:
        return False
    steps = [b - a for a, b in itertools.pairwise(values)]
    return sum(s >= 0 for s in steps) >= 0.9 * len(steps) and values[-1] > values[0]


def normal_quantile(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile by the Cornish-Fisher expansion (Abramowitz and Stegun 26.7.5): within
    1 % of the exact value for df >= 5 at the tail probabilities used here."""
    z = normal_quantile(p)
    if df <= 0 or math.isinf(df):
        return z
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def critical_score(points: int, alpha: float) -> float:
    """The |score| that a normal value exceeds with probability `alpha` (two-sided), for a baseline of
    `points` values: the t quantile with points - 1 degrees of freedom, widened by sqrt(1 + 1/n)
    because the expectation itself is estimated (a prediction interval, not a confidence interval)."""
    return t_quantile(1 - alpha / 2, max(points - 1, 1)) * math.sqrt(1 + 1 / points)
