"""Distribution and segment drift, as metrics the calibrated strategy grades like any other (pure).

Each run's stored shapes (profilemesh_distributions) become numbers, measured against a reference
built from the table's recent clean runs (the runs where these metrics raised nothing at medium or
above, so an incident never becomes its own reference):

- `quantile_ks` (numeric and temporal columns): a Kolmogorov-Smirnov-style distance in points, the
  largest gap between the reference's distribution function and this run's, read at the stored
  quantiles (p1..p99) of each, the reference's function interpolated linearly between its quantiles
  (the reference quantiles are the median of each quantile over the reference runs). A median moved
  by one interquartile range moves it by about 25 points, whatever the column's unit;
- `category_shift` (low-cardinality columns): the largest move of one value's share (top values and
  "other"), in points, against the reference's mean shares. The event also gives the population
  stability index (PSI) of all the shares; PSI itself is not graded: on ~150 rows a day with 8
  values its sampling noise alone ((values - 1) / rows, about 0.05-0.1) is as large as the PSI of a
  20-point shift of one value (0.16), measured on MplsStops (docs/benchmarks.md, section 7);
- `segment_rows` (segment_by columns): each segment's row count, graded like the table's row count
  (seasonal expectation, percent of the expected rows, and the Poisson noise of a small count), so a
  segment whose volume moved while the total did not is flagged;
- segment metrics (`segment_metrics`): each chosen metric of a column in each segment, keyed
  `amount[region=north]`, graded as the metric itself is for the whole column (null_percent in points,
  a mean in percent, ...) with the segment's own rows as its sampling noise, so a segment whose null
  rate jumps is flagged while the table's null rate, diluted by the other segments, barely moves.

Histograms are not compared bin by bin: their edges are each run's own min..max (PROFILING.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

QUANTILE_METRIC, CATEGORY_METRIC, SEGMENT_METRIC = "quantile_ks", "category_shift", "segment_percent"
DISTRIBUTION_METRICS = (QUANTILE_METRIC, CATEGORY_METRIC, SEGMENT_METRIC)
OTHER = "(other)"
# A share never counts as exactly 0 in the PSI (its log): 0.1 % of the values.
PSI_FLOOR = 0.001
QUANTILE_LEVELS = {"p1": 0.01, "p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}


@dataclass
class ColumnShape:
    """One column's stored shape in one run."""

    quantiles: dict[str, float] = field(default_factory=dict)  # p1..p99 (temporal: epoch seconds)
    temporal: bool = False
    shares: dict[str, float] = field(default_factory=dict)  # value -> percent of non-null values, OTHER
    segments: dict[str, tuple[int, float]] = field(default_factory=dict)  # value -> (rows, percent of rows)
    # (segment as `column=value`, metric) -> (value, the segment's rows): this column's segment metrics
    segment_metrics: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)


def segment_key(column: str, value: str) -> str:
    """The `column` of a segment's metric and events: `region=north` (`region=(other)` for the rest)."""
    return f"{column}={value}"


def segment_metric_key(column: str, segment: str) -> str:
    """The `column` of a segment metric and its events: `amount[region=north]`."""
    return f"{column}[{segment}]"


@dataclass(frozen=True)
class Measured:
    """A derived metric's value in one run, and what moved most, in words (for the event)."""

    value: float
    moved: str
    column: str = ""  # the profiled column it comes from (a segment's key names the value too)
    rows: int | None = None  # the rows behind it when not the table's (a segment's): its sampling noise


def measure(
    shapes: Mapping[str, ColumnShape], references: Mapping[str, Sequence[ColumnShape]]
) -> dict[tuple[str, str], Measured]:
    """(column, metric) -> value for one run: distances against each column's reference runs (none
    without a reference), and every segment's share."""
    out: dict[tuple[str, str], Measured] = {}
    for column, shape in shapes.items():
        reference = references.get(column) or []
        # A column whose top values are all its values is compared by their shares: they describe it
        # whole, and its quantiles jump from one value to the next as the shares wobble (measured: 4 of
        # 94 quiet days alarmed on a 5-valued numeric column of MplsStops).
        whole = bool(shape.shares) and not shape.shares.get(OTHER)
        if shape.quantiles and reference and not whole:
            ref_q = _median_quantiles([r.quantiles for r in reference if r.quantiles])
            if ref_q:
                out[(column, QUANTILE_METRIC)] = _ks(ref_q, shape.quantiles, column, temporal=shape.temporal)
        if shape.shares and reference:
            ref_s = _mean_shares([r.shares for r in reference if r.shares])
            if ref_s:
                out[(column, CATEGORY_METRIC)] = _shares_moved(ref_s, shape.shares, column)
        if shape.segments:
            ref_seg = _mean_shares([{k: v[1] for k, v in r.segments.items()} for r in reference if r.segments])
            for value, (rows, share) in shape.segments.items():
                usual = ref_seg.get(value)
                was = f"{usual:.1f}% → " if usual is not None else ""
                text = f"segment {column}={value!r}: {was}{share:.1f}% of the table's rows ({rows} rows)"
                out[(segment_key(column, value), SEGMENT_METRIC)] = Measured(share, text, column)
        for (segment, metric), (number, rows) in shape.segment_metrics.items():
            text = f"{metric} of {column} in segment {segment} ({rows} rows): {number:.4g}"
            out[(segment_metric_key(column, segment), metric)] = Measured(number, text, column, rows)
    return out


def _median_quantiles(runs: list[dict[str, float]]) -> dict[str, float]:
    labels = set.intersection(*(set(r) for r in runs)) if runs else set()
    return {label: statistics.median(r[label] for r in runs) for label in labels}


def _mean_shares(runs: list[dict[str, float]]) -> dict[str, float]:
    labels = set().union(*runs) if runs else set()
    return {label: sum(r.get(label, 0.0) for r in runs) / len(runs) for label in labels}


def _cdf(points: list[tuple[float, float]], x: float) -> float:
    """The distribution function through (quantile, level) points at x, linear between them; at a
    value several quantiles share (a discrete column), the middle of their levels."""
    tied = [level for q, level in points if q == x]
    if tied:
        return (min(tied) + max(tied)) / 2
    if x < points[0][0]:
        return 0.0
    if x > points[-1][0]:
        return 1.0
    for (q0, f0), (q1, f1) in itertools.pairwise(points):
        if q0 < x < q1:
            return f0 + (f1 - f0) * (x - q0) / (q1 - q0)
    return 1.0  # unreachable: x lies between two points or on one


def _ks(reference: dict[str, float], current: dict[str, float], column: str, *, temporal: bool) -> Measured:
    labels = sorted((label for label in reference if label in current), key=QUANTILE_LEVELS.__getitem__)
    ref_points = [(reference[label], QUANTILE_LEVELS[label]) for label in labels]
    cur_points = [(current[label], QUANTILE_LEVELS[label]) for label in labels]
    best, worst_label = 0.0, labels[len(labels) // 2] if labels else "p50"
    for label in labels:
        level = QUANTILE_LEVELS[label]
        gap = max(abs(_cdf(ref_points, current[label]) - level), abs(_cdf(cur_points, reference[label]) - level))
        if gap > best:
            best, worst_label = gap, label
    moved = (
        f"{worst_label} {_shown(reference.get(worst_label), temporal)} → {_shown(current.get(worst_label), temporal)}"
    )
    return Measured(100.0 * best, moved, column)


def _shares_moved(reference: dict[str, float], current: dict[str, float], column: str) -> Measured:
    """The largest move of one value's share, in points; the event names it and gives the PSI."""
    psi, widest, moved = 0.0, -1.0, ""
    for label in sorted(set(reference) | set(current)):
        was, now = reference.get(label, 0.0), current.get(label, 0.0)
        e, a = max(was / 100.0, PSI_FLOOR), max(now / 100.0, PSI_FLOOR)
        psi += (a - e) * math.log(a / e)
        if abs(now - was) > widest:
            widest = abs(now - was)
            name = "other values" if label == OTHER else f"category {label!r}"
            moved = f"{name} {was:.0f}% → {now:.0f}%"
    return Measured(widest, f"{moved} (PSI {psi:.2f})", column)


def _shown(value: float | None, temporal: bool) -> str:
    if value is None:
        return "?"
    if temporal:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=value)).isoformat(sep=" ")
    return f"{value:.4g}"
