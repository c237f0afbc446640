"""Running a table's plan and turning the aggregates into metric rows. Only aggregates come back to
Python: table data never leaves the warehouse."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.profiling.planner import BUCKET_LABEL, LENGTHS, TablePlan, column_label


@dataclass
class MetricValue:
    column_name: str
    column_type: str
    metric_name: str
    text: str | None
    number: float | None
    column_native_type: str | None = None


@dataclass
class TableProfile:
    schema: str | None
    table: str
    row_count: int
    column_count: int
    metrics: list[MetricValue] = field(default_factory=list)
    distinct_mode: str = "exact"


def run_plan(conn: Connection, plan: TablePlan, on_statement: Callable[[], None] | None = None) -> TableProfile:
    """on_statement: called after each profiling statement (the cost meter reads what it read)."""
    return run_plan_by_bucket(conn, plan, on_statement)[None]


def run_plan_by_bucket(
    conn: Connection, plan: TablePlan, on_statement: Callable[[], None] | None = None
) -> dict[Any, TableProfile]:
    """The plan's profile, keyed by bucket (as the warehouse returns it) for a bucketed plan, by None
    otherwise. A bucket without rows returns no row, so it is not among the keys (empty_profile)."""
    done = on_statement or (lambda: None)
    for setting in plan.session_settings:
        conn.execute(sa.text(setting))
    aggregates = {
        (row[BUCKET_LABEL] if plan.bucketed else None): row for row in conn.execute(plan.aggregate).mappings().all()
    }
    done()
    distinct: dict[Any, dict[int, Any]] = {}
    lengths: dict[Any, dict[int, dict[str, Any]]] = {}
    if plan.distinct is not None:
        for full in conn.execute(plan.distinct).all():
            key, row = (full[0], full[1:]) if plan.bucketed else (None, full)
            branch = plan.distinct_branches[int(row[0])]
            counts = distinct.setdefault(key, {})
            if plan.branch_lengths:  # (count, min, max, mean length) per column slot
                slots = [row[1 + 4 * k : 5 + 4 * k] for k in range(len(branch))]
                counts.update((index, slot[0]) for index, slot in zip(branch, slots, strict=False))
                lengths.setdefault(key, {}).update(
                    (index, dict(zip(LENGTHS, slot[1:], strict=True)))
                    for index, slot in zip(branch, slots, strict=False)
                )
            else:
                counts.update(zip(branch, row[1:], strict=False))
        done()
    return {
        key: _profile(plan, aggregate, distinct.get(key, {}), lengths.get(key, {}))
        for key, aggregate in aggregates.items()
    }


def empty_profile(plan: TablePlan) -> TableProfile:
    """The profile of no rows (a bucket the GROUP BY returned nothing for): what the plan's aggregate
    gives over an empty read, counts 0 and the rest NULL."""
    zeros = {
        column.name: (0 if column.name == "row_count" or column.name.endswith("_count") else None)
        for column in plan.aggregate.selected_columns
    }
    return _profile(plan, zeros, {}, {})


def _profile(
    plan: TablePlan, aggregate: Mapping[Any, Any], distinct: dict[int, Any], lengths: dict[int, dict[str, Any]]
) -> TableProfile:
    row_count = int(aggregate["row_count"])
    profile = TableProfile(plan.schema, plan.table, row_count, len(plan.columns), distinct_mode=plan.distinct_mode)
    for index, column in enumerate(plan.columns):
        wanted = plan.metrics[column.name]
        count = int(aggregate[column_label(index, "count")])
        values: dict[str, Any] = {
            "count": count,
            "null_count": row_count - count,
            "null_percent": _percent(row_count - count, row_count),
        }
        if "distinct_count" in wanted or "distinct_percent" in wanted:
            if column.family == "boolean":  # TRUE present + FALSE present, from the aggregate's one scan
                true_count = int(aggregate[column_label(index, "true_count")])
                distinct_count = int(true_count > 0) + int(count - true_count > 0)
            else:
                in_second = any(index in branch for branch in plan.distinct_branches)
                # A branch may return no row: a column without values has no HyperLogLog registers.
                raw = distinct.get(index) if in_second else aggregate[column_label(index, "distinct_count")]
                distinct_count = int(raw or 0)
            values["distinct_count"] = distinct_count
            values["distinct_percent"] = _percent(distinct_count, count)
        for metric in wanted:
            label = column_label(index, metric)
            if label in aggregate and metric not in values:
                values[metric] = aggregate[label]
            elif metric in lengths.get(index, {}):
                values[metric] = _length(metric, lengths[index][metric])
        for metric in wanted:
            name = metric
            if plan.distinct_mode == "approximate" and metric.startswith("distinct_"):
                name = f"{metric}_approx"  # the store says which distinct counts are estimates
            profile.metrics.append(
                MetricValue(column.name, column.type_name, name, *_encode(values.get(metric)), column.native_type)
            )
    return profile


def _length(metric: str, value: Any) -> Any:
    """A length from the distinct branch (NUMERIC there, to share the branch's columns): min and max are
    whole numbers, as the aggregate query returns them."""
    return value if value is None or metric == "mean_length" else int(value)


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else part * 100.0 / whole


def _encode(value: Any) -> tuple[str | None, float | None]:
    """(text, number): the text keeps full precision; the number is set only for finite numerics."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int):
        return str(value), float(value)
    if isinstance(value, decimal.Decimal):
        number = float(value)
        return str(value), number if math.isfinite(number) else None
    if isinstance(value, float):
        return repr(value), value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(), None
    return str(value), None
