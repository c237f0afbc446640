"""Drift strategies: pure functions from (baseline, current) numbers to a finding.

- threshold: percent change against the baseline, graded by `thresholds` (5/15/30 by default).
  Percentages (null_percent, distinct_percent) change in points, graded by `absolute_thresholds`.
  A location metric (min, max, mean) changes relative to the larger of its baseline and the column's
  standard deviation: near zero, percent change explodes (a min of 1 -> 0 in a column spread over
  0..999 is noise, not a -100% drift). A baseline that is still near zero is graded in absolute units.
- statistical: the z-score of the current value against the earlier runs (the current run is
  never part of its own baseline), graded by `z_thresholds`; it needs `min_history` earlier runs.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from profilemesh.config.drift_settings import DRIFT_METRIC_NAMES, GRADED_SEVERITIES, DriftSettings
from profilemesh.config.freshness import FRESHNESS_METRIC
from profilemesh.drift.history import RunMetrics

# The metrics the threshold and statistical strategies grade (counts that move with the row count are
# covered by row_count and the percentages).
# Freshness is graded by the calibrated strategy and by SLAs: a relative change of a lag (0.5 h to 1 h
# is +100 %) says nothing about staleness.
DRIFT_METRICS = tuple(m for m in DRIFT_METRIC_NAMES if m != FRESHNESS_METRIC)
LOCATION_METRICS = ("min", "max", "mean")


@dataclass(frozen=True)
class Finding:
    severity: str
    baseline: float
    current: float
    change_percent: float | None
    measure: str  # relative | absolute | zscore
    score: float  # the graded quantity: percent, points/units, or |z|


def grade(score: float, levels: dict[str, float]) -> str | None:
    for name in reversed(GRADED_SEVERITIES):
        if score >= levels[name]:
            return name
    return None


def is_percentage(metric: str) -> bool:
    return metric.endswith("_percent") or metric.endswith("_percent_approx")


def change_percent(baseline: float, current: float) -> float | None:
    return None if baseline == 0 else (current - baseline) * 100.0 / abs(baseline)


def threshold(
    metric: str, baseline: float, current: float, settings: DriftSettings, spread: float | None = None
) -> Finding | None:
    """spread: the column's standard deviation in the baseline (location metrics only)."""
    scale = max(abs(baseline), abs(spread or 0.0))
    if is_percentage(metric) or scale <= settings.near_zero:
        score = abs(current - baseline)
        severity = grade(score, settings.absolute_thresholds)
        measure = "absolute"
    else:
        score = abs(current - baseline) * 100.0 / scale
        severity = grade(score, settings.thresholds)
        measure = "relative" if scale == abs(baseline) else "relative_to_stddev"
    if severity is None:
        return None
    return Finding(severity, baseline, current, change_percent(baseline, current), measure, round(score, 6))


def statistical(metric: str, history: list[float], current: float, settings: DriftSettings) -> Finding | None:
    """None when there is no drift, or too little history (the caller notes that)."""
    mean = statistics.fmean(history)
    spread = statistics.stdev(history) if len(history) > 1 else 0.0
    if spread == 0 or not math.isfinite(spread):
        # A constant history: any change is a change; grade it like the threshold strategy does.
        return None if current == mean else threshold(metric, mean, current, settings)
    z = abs(current - mean) / spread
    severity = grade(z, settings.z_thresholds)
    if severity is None:
        return None
    return Finding(severity, mean, current, change_percent(mean, current), "zscore", round(z, 6))


def threshold_findings(
    current: RunMetrics, reference: list[RunMetrics], settings: DriftSettings
) -> list[tuple[tuple[str, str], Finding]]:
    out = []
    for (column, metric), value in sorted(current.numbers.items()):
        if metric not in DRIFT_METRICS:
            continue
        values = [m.numbers[(column, metric)] for m in reference if (column, metric) in m.numbers]
        if not values:
            continue
        spreads = [m.numbers[(column, "stddev")] for m in reference if (column, "stddev") in m.numbers]
        spread = statistics.fmean(spreads) if metric in LOCATION_METRICS and spreads else None
        finding = threshold(metric, statistics.fmean(values), value, settings, spread)
        if finding:
            out.append(((column, metric), finding))
    return out


def statistical_findings(
    current: RunMetrics, history: list[RunMetrics], settings: DriftSettings
) -> list[tuple[tuple[str, str], Finding]] | None:
    """None when the history is shorter than min_history (the caller notes it)."""
    if len(history) < settings.min_history:
        return None
    out = []
    for (column, metric), value in sorted(current.numbers.items()):
        if metric not in DRIFT_METRICS:
            continue
        values = [m.numbers[(column, metric)] for m in history if (column, metric) in m.numbers]
        if len(values) < settings.min_history:
            continue
        finding = statistical(metric, values, value, settings)
        if finding:
            out.append(((column, metric), finding))
    return out


@dataclass(frozen=True)
class SchemaChange:
    column: str
    change: str
    severity: str
    before: str | None
    after: str | None


def schema_changes(current: RunMetrics, reference: RunMetrics) -> list[SchemaChange]:
    """Against the reference run's columns: removed (high), type changed (medium), added (low). Types are
    compared as the warehouse names them where both runs recorded that (schema version 4 on: an enum that
    becomes text, timestamp that becomes timestamptz), else by their portable names, so an upgrade
    raises no type change of its own."""
    out = []
    before, after = dict(reference.column_types), dict(current.column_types)
    for column in set(before) & set(after):
        if column in reference.native_types and column in current.native_types:
            before[column], after[column] = reference.native_types[column], current.native_types[column]
    for column in sorted(set(before) | set(after)):
        if column not in after:
            change, severity = "column removed", "high"
        elif column not in before:
            change, severity = "column added", "low"
        elif before[column] != after[column]:
            change, severity = f"type changed from {before[column]} to {after[column]}", "medium"
        else:
            continue
        out.append(SchemaChange(column, change, severity, before.get(column), after.get(column)))
    return out
