"""What the distribution statements share: the item a statement's rows become (one row of
profilemesh_distributions), a statement and its parse, the block sample they may read, each column's
figures from the profile that just ran, and how values become labels and numbers."""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from profilemesh.contract import DISTRIBUTION_KINDS, DISTRIBUTION_MODES
from profilemesh.profiling.execute import TableProfile
from profilemesh.profiling.planner import TablePlan

QUANTILE, HISTOGRAM, TOP_VALUE, OTHER, SEGMENT, SEGMENT_OTHER, SEGMENT_METRIC = DISTRIBUTION_KINDS
EXACT, APPROXIMATE, SAMPLED = DISTRIBUTION_MODES


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


Parse = Callable[[Sequence[Sequence[Any]]], list["DistributionItem"]]
Statement = tuple[sa.Select[Any] | None, Parse]
NOTHING: Statement = (None, lambda rows: [])


@dataclass(frozen=True)
class BlockSample:
    """A big table's distributions read through one block sample (about `rows` rows, `percent` of the
    table), selected once as a common table expression that both the quantiles and the counts read."""

    relation: sa.CTE
    percent: float
    rows: int


@dataclass(frozen=True)
class Stats:
    count: int
    distinct: int | None
    low: float | None
    high: float | None


def column_stats(profile: TableProfile) -> dict[str, Stats]:
    found: dict[str, dict[str, Any]] = {}
    for m in profile.metrics:
        found.setdefault(m.column_name, {})[m.metric_name.removesuffix("_approx")] = m
    out = {}
    for name, metrics in found.items():
        count = metrics.get("count")
        distinct = metrics.get("distinct_count")
        out[name] = Stats(
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


def scoped(plan: TablePlan, *columns: sa.ColumnElement[Any], relation: sa.FromClause | None = None) -> sa.Select[Any]:
    """A query over what the plan reads (its table or sample, its row filter and window); `relation`: a
    sample of the plan's table in its place, the filter moved onto it."""
    table = plan.aggregate.get_final_froms()[0]
    where = plan.aggregate.whereclause
    if relation is not None and where is not None:
        where = ClauseAdapter(relation).traverse(where)
    query = sa.select(*columns).select_from(relation if relation is not None else table)
    return query if where is None else query.where(where)


def label_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, int | float | decimal.Decimal) else None
    return number if number is not None and math.isfinite(number) else None


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
