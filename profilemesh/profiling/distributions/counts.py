"""Top values and segments: one GROUP BY GROUPING SETS statement, a set per low-cardinality column and
per `segment_by` column, with the segment metrics' aggregates in the same groups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from profilemesh.config.settings import DistributionSettings
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.distributions.items import (
    EXACT,
    NOTHING,
    OTHER,
    SAMPLED,
    SEGMENT,
    SEGMENT_METRIC,
    SEGMENT_OTHER,
    TOP_VALUE,
    BlockSample,
    DistributionItem,
    Statement,
    Stats,
    finite,
    label_of,
    scoped,
)
from profilemesh.profiling.planner import TablePlan

# What one GROUP BY computes of a column per segment (config/settings.SEGMENT_METRIC_NAMES), and the
# column families each applies to (None: any).
Aggregate = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]
SEGMENT_AGGREGATES: dict[str, tuple[Aggregate, tuple[str, ...] | None]] = {
    "null_percent": (sa.func.count, None),  # the count of values; the share of NULLs follows from the rows
    "mean": (lambda col: sa.func.avg(sa.cast(col, sa.Double)), ("numeric",)),
    "stddev": (lambda col: sa.func.stddev_samp(sa.cast(col, sa.Double)), ("numeric",)),
    "min": (lambda col: sa.func.min(sa.cast(col, sa.Double)), ("numeric",)),
    "max": (lambda col: sa.func.max(sa.cast(col, sa.Double)), ("numeric",)),
    "mean_length": (lambda col: sa.func.avg(sa.func.length(col)), ("string",)),
}  # fmt: skip


def is_categorical(column: ProfiledColumn, stats: Stats | None, settings: DistributionSettings) -> bool:
    """Whether a column's shape is its values' shares: at most `max_categories` distinct values, and
    for a number or a time, values that repeat (at most one distinct value per two rows). A measurement
    read to one decimal has few distinct values in a small run (48 temperatures a day, 35 of them
    distinct) and is still a quantity: its quantiles say how it moved, shares of its values do not
    (measured: they paged on 9 quiet days in 99 of a real daily table, docs/benchmarks.md, section 7)."""
    if stats is None or not column.distinct_supported or stats.count <= 0 or stats.distinct is None:
        return False
    if stats.distinct > settings.max_categories:
        return False
    return column.family not in ("numeric", "temporal") or 2 * stats.distinct <= stats.count


def counts_statement(
    plan: TablePlan,
    settings: DistributionSettings,
    stats: dict[str, Stats],
    segments: list[ProfiledColumn],
    measures: list[tuple[ProfiledColumn, str]],
    sample: BlockSample | None,
) -> Statement:
    """One GROUP BY GROUPING SETS query: a set per low-cardinality column and per segment column, the
    row count of each group, and the segment metrics' aggregates (computed for every group, read for
    the segment columns' groups)."""
    relation = sample.relation if sample is not None else plan.aggregate.get_final_froms()[0]
    categorical = [c for c in plan.columns if settings.enabled and is_categorical(c, stats.get(c.name), settings)]
    grouped = list({c.name: c for c in [*categorical, *segments]}.values())
    if not grouped:
        return NOTHING
    cols = [relation.c[c.name] for c in grouped]
    selects = [*(col.label(f"v{k}") for k, col in enumerate(cols))]
    selects += [sa.func.grouping(col).label(f"g{k}") for k, col in enumerate(cols)]
    selects.append(sa.func.count().label("n"))
    if segments:
        selects += [
            SEGMENT_AGGREGATES[metric][0](relation.c[column.name]).label(f"m{k}")
            for k, (column, metric) in enumerate(measures)
        ]
    base = sa.select(*selects).select_from(relation) if sample is not None else scoped(plan, *selects)
    query = base.group_by(sa.func.grouping_sets(*(sa.tuple_(col) for col in cols)))
    segment_names = {c.name for c in segments}
    category_names = {c.name for c in categorical}
    mode = SAMPLED if sample is not None else EXACT

    def parse(rows: Sequence[Sequence[Any]]) -> list[DistributionItem]:
        width = len(grouped)
        per_column: dict[int, list[tuple[Any, int, Sequence[Any]]]] = {}
        for row in rows:
            for k in range(width):
                if int(row[width + k]) == 0:  # this row is column k's group
                    per_column.setdefault(k, []).append((row[k], int(row[2 * width]), row[2 * width + 1 :]))
        items: list[DistributionItem] = []
        positions: dict[str, int] = {}  # per measured column, over every segment column (the key's position)
        for k, column in enumerate(grouped):
            groups = per_column.get(k, [])
            if column.name in category_names:
                values = [(v, n) for v, n, _ in groups if v is not None]
                items += _top(column.name, values, settings.top_values, TOP_VALUE, OTHER, mode)
            if column.name in segment_names:
                items += _top(column.name, [(v, n) for v, n, _ in groups], settings.top_values, SEGMENT,
                              SEGMENT_OTHER, mode)  # fmt: skip
                items += _segment_metrics(column.name, groups, settings.top_values, measures, mode, positions)
        return items

    return query, parse


def _segment_metrics(
    segment: str,
    groups: list[tuple[Any, int, Sequence[Any]]],
    keep: int,
    measures: list[tuple[ProfiledColumn, str]],
    mode: str,
    positions: dict[str, int],
) -> list[DistributionItem]:
    """The chosen metrics of the `keep` largest segments (ranked as _top ranks them), as items of the
    measured column: label `segment=value`, value_text the metric, position the next of `positions`."""
    ranked = sorted(groups, key=lambda g: (-g[1], g[0] is None, label_of(g[0]) or ""))[:keep]
    items = []
    for value, rows, aggregates in ranked:
        label = f"{segment}={'NULL' if value is None else label_of(value)}"
        for (column, metric), figure in zip(measures, aggregates, strict=True):
            number = _segment_value(metric, figure, rows)
            position = positions.get(column.name, 0)
            positions[column.name] = position + 1
            items.append(
                DistributionItem(column.name, SEGMENT_METRIC, position, label, number, text=metric, rows=rows,
                                 mode=mode)
            )  # fmt: skip
    return items


def _segment_value(metric: str, figure: Any, rows: int) -> float | None:
    if metric == "null_percent":
        return None if rows == 0 else (rows - int(figure or 0)) * 100.0 / rows
    return finite(figure)


def _top(
    column: str, groups: list[tuple[Any, int]], keep: int, kind: str, rest: str, mode: str = EXACT
) -> list[DistributionItem]:
    """The `keep` most common values (ties by their text), and the rest as one item."""
    total = sum(n for _, n in groups)
    if total == 0:
        return []
    ranked = sorted(((label_of(v), n) for v, n in groups), key=lambda g: (-g[1], g[0] is None, g[0] or ""))
    items = [
        DistributionItem(column, kind, k, label, rows=n, share_percent=n * 100.0 / total, mode=mode)
        for k, (label, n) in enumerate(ranked[:keep])
    ]
    others = sum(n for _, n in ranked[keep:])
    items.append(DistributionItem(column, rest, 0, None, rows=others, share_percent=others * 100.0 / total, mode=mode))
    return items
