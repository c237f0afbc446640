"""The shape of a table's values, computed in the warehouse after its profile, in at most two statements
that read what the profile read (the same table or sample, row filter and window):

- **quantiles and histograms** (numeric and temporal columns; temporal values as epoch seconds): one
  aggregate query with each column's quantiles (QUANTILES) and an equal-width histogram over the
  run's own min..max, which the profile has just measured (so no extra pass finds the edges). Exact
  (an ordered-set aggregate) up to `exact_max_rows` rows, a warehouse sketch above (DuckDB
  approx_quantile, Snowflake APPROX_PERCENTILE; PostgreSQL has none and stays exact); the mode is
  stored with every quantile;
- **top values and segments**: one GROUP BY GROUPING SETS query, one set per low-cardinality column
  (distinct count at most `max_categories`, known from the profile) and per `segment_by` column: the
  row count of every value, of which the `top_values` most common are kept and the rest summed as
  `other`.

Drift never compares two runs' histograms bin by bin (their edges are each run's own min..max); it
compares quantiles and category shares, which need no common edges (drift/distributions.py). Only
aggregates come back to Python, as stored in profilemesh_distributions (schema version 7).
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config.settings import DistributionSettings
from profilemesh.contract import DISTRIBUTION_KINDS, DISTRIBUTION_MODES
from profilemesh.errors import UsageError, first_line
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.execute import TableProfile
from profilemesh.profiling.planner import TablePlan
from profilemesh.warehouses import Warehouse, is_interrupt, warehouse_of_dialect

QUANTILES = (("p1", 0.01), ("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99))
QUANTILE, HISTOGRAM, TOP_VALUE, OTHER, SEGMENT, SEGMENT_OTHER = DISTRIBUTION_KINDS
EXACT, APPROXIMATE = DISTRIBUTION_MODES


@dataclass(frozen=True)
class DistributionItem:
    """One row of profilemesh_distributions (without the run's keys)."""

    column: str
    kind: str
    position: int
    label: str | None = None
    value: float | None = None
    upper: float | None = None
    text: str | None = None
    share_percent: float | None = None
    rows: int | None = None
    mode: str | None = None


Parse = Callable[[list[sa.Row[Any]]], list["DistributionItem"]]
Statement = tuple[sa.Select[Any] | None, Parse]
NOTHING: Statement = (None, lambda rows: [])


def profile_distributions(
    conn: Connection,
    plan: TablePlan,
    profile: TableProfile,
    settings: DistributionSettings,
    segment_by: Sequence[str],
    notes: list[str],
) -> list[DistributionItem]:
    """The table's distributions. A statement the warehouse refuses costs its items and a note, never
    the table's profile."""
    if not settings.enabled and not segment_by:
        return []
    columns = {c.name.lower(): c for c in plan.columns}
    segments = []
    for name in segment_by:
        if name.lower() not in columns:
            table = f"{plan.schema}.{plan.table}" if plan.schema else plan.table
            raise UsageError(f"table {table}: segment_by {name} is not a profiled column of it")
        segments.append(columns[name.lower()])
    stats = _column_stats(profile)
    items: list[DistributionItem] = []
    for statement, parse in (
        _shape_statement(conn, plan, profile, settings, stats) if settings.enabled else NOTHING,
        _counts_statement(plan, settings, stats, segments),
    ):
        if statement is None:
            continue
        try:
            for setting in plan.session_settings:
                conn.execute(sa.text(setting))
            rows = list(conn.execute(statement).all())
            conn.commit()
        except sa.exc.DBAPIError as exc:
            if is_interrupt(exc):
                raise
            conn.rollback()
            notes.append(f"distributions not profiled: {first_line(str(exc.orig or exc))}")
            continue
        items += parse(rows)
    return items


@dataclass(frozen=True)
class _Stats:
    count: int
    distinct: int | None
    low: float | None
    high: float | None


def _column_stats(profile: TableProfile) -> dict[str, _Stats]:
    found: dict[str, dict[str, Any]] = {}
    for m in profile.metrics:
        found.setdefault(m.column_name, {})[m.metric_name.removesuffix("_approx")] = m
    out = {}
    for name, metrics in found.items():
        count = metrics.get("count")
        distinct = metrics.get("distinct_count")
        out[name] = _Stats(
            int(count.number or 0) if count else 0,
            None if distinct is None or distinct.number is None else int(distinct.number),
            _as_number(metrics.get("min")),
            _as_number(metrics.get("max")),
        )
    return out


def _as_number(metric: Any) -> float | None:
    """A min or max as a number: numerics as stored, dates and times as epoch seconds."""
    if metric is None or metric.text is None:
        return None
    if metric.number is not None:
        return float(metric.number)
    try:
        value = dt.datetime.fromisoformat(metric.text)
    except ValueError:
        return None
    return value.timestamp() if value.tzinfo else float(calendar.timegm(value.timetuple())) + value.microsecond / 1e6


def _value(plan: TablePlan, column: ProfiledColumn, warehouse: Warehouse) -> sa.ColumnElement[Any] | None:
    """The column as the numbers its quantiles are taken of (None: no quantiles for this column)."""
    col = plan.aggregate.get_final_froms()[0].c[column.name]
    if column.family == "numeric":
        return sa.cast(col, sa.Double)
    if column.family == "temporal" and not isinstance(column.type, sa.Time):
        return sa.cast(warehouse.epoch_seconds(col), sa.Double)
    return None


def _scoped(plan: TablePlan, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    query = sa.select(*columns).select_from(plan.aggregate.get_final_froms()[0])
    where = plan.aggregate.whereclause
    return query if where is None else query.where(where)


def _shape_statement(
    conn: Connection, plan: TablePlan, profile: TableProfile, settings: DistributionSettings, stats: dict[str, _Stats]
) -> Statement:
    warehouse = warehouse_of_dialect(conn.dialect.name)
    exact = settings.quantiles == "exact" or (
        settings.quantiles == "auto" and profile.row_count <= settings.exact_max_rows
    )
    exact = exact or not warehouse.approx_quantiles_available
    mode = EXACT if exact else APPROXIMATE
    fractions = [f for _, f in QUANTILES]
    selects: list[sa.ColumnElement[Any]] = []
    layout: list[tuple[ProfiledColumn, int, int, float | None, float | None]] = []  # column, quantile cols, bins
    for column in plan.columns:
        value = _value(plan, column, warehouse)
        stat = stats.get(column.name)
        if value is None or stat is None or stat.count == 0:
            continue
        quantiles = warehouse.quantiles(value, fractions, exact=exact)
        bins = settings.bins if stat.low is not None and stat.high is not None else 0
        selects += [q.label(f"q{len(selects) + k}") for k, q in enumerate(quantiles)]
        if bins:
            width = (stat.high - stat.low) / bins if stat.high > stat.low else 0.0  # type: ignore[operator]
            index = sa.literal(0) if width == 0 else sa.func.floor((value - stat.low) / width)
            for b in range(bins):
                # The last bin is closed (it holds the max); values outside min..max (a sample's rounding) clamp.
                test = index <= 0 if b == 0 else (index >= b if b == bins - 1 else index == b)
                selects.append(sa.func.count(sa.case((sa.and_(value.is_not(None), test), 1))).label(f"q{len(selects)}"))
        layout.append((column, len(quantiles), bins, stat.low, stat.high))
    if not selects:
        return NOTHING

    def parse(rows: list[sa.Row[Any]]) -> list[DistributionItem]:
        values = list(rows[0])
        items: list[DistributionItem] = []
        position = 0
        for column, width, bins, low, high in layout:
            found = values[position : position + width]
            position += width
            levels = found[0] if width == 1 and isinstance(found[0], list | tuple) else found
            for k, ((label, _), level) in enumerate(zip(QUANTILES, levels, strict=False)):
                number = _finite(level)
                items.append(
                    DistributionItem(column.name, QUANTILE, k, label, number, text=_text(column, number), mode=mode)
                )
            counts = [int(c or 0) for c in values[position : position + bins]]
            position += bins
            total = sum(counts)
            for b, n in enumerate(counts):
                lo = low + (high - low) * b / bins  # type: ignore[operator]
                hi = low + (high - low) * (b + 1) / bins  # type: ignore[operator]
                share = n * 100.0 / total if total else None
                items.append(DistributionItem(column.name, HISTOGRAM, b, None, lo, hi, None, share, n, EXACT))
        return items

    return _scoped(plan, *selects), parse


def _counts_statement(
    plan: TablePlan, settings: DistributionSettings, stats: dict[str, _Stats], segments: list[ProfiledColumn]
) -> Statement:
    relation = plan.aggregate.get_final_froms()[0]
    categorical = [
        c
        for c in plan.columns
        if settings.enabled
        and c.distinct_supported
        and c.name in stats
        and stats[c.name].count > 0
        and stats[c.name].distinct is not None
        and stats[c.name].distinct <= settings.max_categories  # type: ignore[operator]
    ]
    grouped = list({c.name: c for c in [*categorical, *segments]}.values())
    if not grouped:
        return NOTHING
    cols = [relation.c[c.name] for c in grouped]
    selects = [*(col.label(f"v{k}") for k, col in enumerate(cols))]
    selects += [sa.func.grouping(col).label(f"g{k}") for k, col in enumerate(cols)]
    selects.append(sa.func.count().label("n"))
    query = _scoped(plan, *selects).group_by(sa.func.grouping_sets(*(sa.tuple_(col) for col in cols)))
    segment_names = {c.name for c in segments}
    category_names = {c.name for c in categorical}

    def parse(rows: list[sa.Row[Any]]) -> list[DistributionItem]:
        width = len(grouped)
        per_column: dict[int, list[tuple[Any, int]]] = {}
        for row in rows:
            for k in range(width):
                if int(row[width + k]) == 0:  # this row is column k's group
                    per_column.setdefault(k, []).append((row[k], int(row[-1])))
        items: list[DistributionItem] = []
        for k, column in enumerate(grouped):
            groups = per_column.get(k, [])
            if column.name in category_names:
                values = [(v, n) for v, n in groups if v is not None]
                items += _top(column.name, values, settings.top_values, TOP_VALUE, OTHER)
            if column.name in segment_names:
                items += _top(column.name, groups, settings.top_values, SEGMENT, SEGMENT_OTHER)
        return items

    return query, parse


def _top(column: str, groups: list[tuple[Any, int]], keep: int, kind: str, rest: str) -> list[DistributionItem]:
    """The `keep` most common values (ties by their text), and the rest as one item."""
    total = sum(n for _, n in groups)
    if total == 0:
        return []
    ranked = sorted(((_label(v), n) for v, n in groups), key=lambda g: (-g[1], g[0] is None, g[0] or ""))
    items = [
        DistributionItem(column, kind, k, label, rows=n, share_percent=n * 100.0 / total, mode=EXACT)
        for k, (label, n) in enumerate(ranked[:keep])
    ]
    others = sum(n for _, n in ranked[keep:])
    items.append(DistributionItem(column, rest, 0, None, rows=others, share_percent=others * 100.0 / total, mode=EXACT))
    return items


def _label(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, int | float | decimal.Decimal) else None
    return number if number is not None and math.isfinite(number) else None


def _text(column: ProfiledColumn, value: float | None) -> str | None:
    """A quantile as text: the number, or for a temporal column the UTC date and time it stands for."""
    if value is None:
        return None
    if column.family == "temporal":
        return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=value)).isoformat()
    return repr(value)


def stored_rows(
    run_id: str, schema: str, table: str, profiled_at: dt.datetime, items: list[DistributionItem]
) -> list[dict[str, Any]]:
    """profilemesh_distributions rows of one table of a run."""
    return [
        {
            "run_id": run_id,
            "schema_name": schema,
            "dataset_name": table,
            "column_name": i.column,
            "kind": i.kind,
            "position": i.position,
            "label": i.label,
            "value_numeric": i.value,
            "value_upper": i.upper,
            "value_text": i.text,
            "share_percent": i.share_percent,
            "row_count": i.rows,
            "mode": i.mode,
            "profiled_at": profiled_at,
        }
        for i in items
    ]
