"""Quantiles and histograms of the numeric and temporal columns: one aggregate statement, each column's
quantiles on a 1 % grid, the histogram's bins read off that grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config.settings import DistributionSettings
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.distributions.items import (
    APPROXIMATE,
    EXACT,
    HISTOGRAM,
    NOTHING,
    QUANTILE,
    SAMPLED,
    BlockSample,
    DistributionItem,
    Statement,
    Stats,
    finite,
    scoped,
)
from profilemesh.profiling.execute import TableProfile
from profilemesh.profiling.planner import TablePlan
from profilemesh.warehouses import Warehouse, warehouse_of_dialect

QUANTILES = (("p1", 0.01), ("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99))
QUANTILE_GRID = tuple(k / 100 for k in range(1, 100))  # computed: p1..p99; the histogram is read off it
# Where no sketch is used (DuckDB, PostgreSQL), approximate quantiles are exact ones of a row sample this big
# (a distribution function within about 0.5 point of the whole table's), drawn with this seed.
QUANTILE_SAMPLE_ROWS = 100_000
QUANTILE_SAMPLE_SEED = 20


def _value(relation: sa.FromClause, column: ProfiledColumn, warehouse: Warehouse) -> sa.ColumnElement[Any] | None:
    """The column as the numbers its quantiles are taken of (None: no quantiles for this column)."""
    col = relation.c[column.name]
    if column.family == "numeric":
        return sa.cast(col, sa.Double)
    if column.family == "temporal" and not isinstance(column.type, sa.Time):
        return sa.cast(warehouse.epoch_seconds(col), sa.Double)
    return None


def shape_statement(
    conn: Connection,
    plan: TablePlan,
    profile: TableProfile,
    settings: DistributionSettings,
    stats: dict[str, Stats],
    sample: BlockSample | None,
) -> Statement:
    """Each numeric and temporal column's quantiles on a 1 % grid (QUANTILE_GRID), in one aggregate query:
    one sort (or sketch) per column. The stored quantiles are the grid's QUANTILES; the histogram's bin
    shares are read off the grid (within one point of share): a count per bin would cost one aggregate per
    bin and column (measured: 20 bins x 29 columns took 5x the quantiles' time on DuckDB at 1M rows)."""
    warehouse = warehouse_of_dialect(conn.dialect.name)
    exact = settings.quantiles == "exact" or (
        settings.quantiles == "auto" and profile.row_count <= settings.exact_max_rows
    )
    mode = EXACT if exact else APPROXIMATE
    table = plan.aggregate.get_final_froms()[0]
    relation: sa.FromClause | None = None
    if sample is not None:  # exact quantiles of the block sample
        exact, mode, table = True, SAMPLED, sample.relation
    elif not exact and not warehouse.approx_quantiles_available and isinstance(table, sa.TableClause):
        # DuckDB, PostgreSQL: exact quantiles of a row sample of about QUANTILE_SAMPLE_ROWS rows.
        percent = min(100.0, 100.0 * QUANTILE_SAMPLE_ROWS / max(profile.row_count, 1))
        relation = warehouse.sampled(table, percent=percent, rows=None, seed=QUANTILE_SAMPLE_SEED)
    sketch = not exact and warehouse.approx_quantiles_available
    selects: list[sa.ColumnElement[Any]] = []
    layout: list[tuple[ProfiledColumn, int, Stats]] = []  # column, its result columns, its min and max
    for column in plan.columns:
        value = _value(relation if relation is not None else table, column, warehouse)
        stat = stats.get(column.name)
        if value is None or stat is None or stat.count == 0:
            continue
        quantiles = warehouse.quantiles(value, QUANTILE_GRID, exact=not sketch)
        selects += [q.label(f"q{len(selects) + k}") for k, q in enumerate(quantiles)]
        layout.append((column, len(quantiles), stat))
    if not selects:
        return NOTHING
    if sample is not None:
        selects.append(sa.func.count().label("sampled_rows"))  # the sample's size, stored with its quantiles

    def parse(rows: Sequence[Sequence[Any]]) -> list[DistributionItem]:
        values = list(rows[0])
        sampled_rows = int(values[-1]) if sample is not None else None
        items: list[DistributionItem] = []
        position = 0
        for column, width, stat in layout:
            found = values[position : position + width]
            position += width
            grid = [finite(v) for v in (found[0] if width == 1 and isinstance(found[0], list | tuple) else found)]
            for k, (label, fraction) in enumerate(QUANTILES):
                number = grid[round(fraction * 100) - 1] if len(grid) == len(QUANTILE_GRID) else None
                items.append(
                    DistributionItem(
                        column.name, QUANTILE, k, label, number, text=_text(column, number), rows=sampled_rows,
                        mode=mode,
                    )
                )  # fmt: skip
            items += _histogram(column.name, grid, stat, settings.bins, SAMPLED if sample else APPROXIMATE)
        return items

    query = sa.select(*selects).select_from(sample.relation) if sample else scoped(plan, *selects, relation=relation)
    return query, parse


def _histogram(
    column: str, grid: list[float | None], stat: Stats, bins: int, mode: str = APPROXIMATE
) -> list[DistributionItem]:
    """Equal-width bins over the run's min..max, each bin's share read off the distribution function the
    quantile grid draws (min at level 0, the grid, max at level 1; linear between points, a value that
    several quantiles share a step). The last bin includes the max."""
    if stat.low is None or stat.high is None or any(v is None for v in grid):
        return []
    low, high = stat.low, stat.high
    points = [(low, 0.0), *((float(v), (k + 1) / 100) for k, v in enumerate(grid)), (high, 1.0)]  # type: ignore[arg-type]
    edges = [low + (high - low) * b / bins for b in range(bins + 1)]
    below = [_below(points, e) for e in edges[:-1]] + [1.0]
    items = []
    for b in range(bins):
        share = max(0.0, below[b + 1] - below[b]) if high > low else (1.0 if b == 0 else 0.0)
        items.append(
            DistributionItem(
                column, HISTOGRAM, b, None, edges[b], edges[b + 1], None, 100.0 * share, round(share * stat.count),
                mode,
            )
        )  # fmt: skip
    return items


def _below(points: list[tuple[float, float]], x: float) -> float:
    """The share of values below x (not at x): interpolated between the last point under x and the first
    at or above it."""
    under = [p for p in points if p[0] < x]
    over = [p for p in points if p[0] >= x]
    if not under:
        return 0.0
    if not over:
        return 1.0
    (q0, f0), (q1, f1) = under[-1], over[0]
    return f0 + (f1 - f0) * (x - q0) / (q1 - q0) if q1 > q0 else f0


def _text(column: ProfiledColumn, value: float | None) -> str | None:
    """A quantile as text: the number, or for a temporal column the UTC date and time it stands for."""
    if value is None:
        return None
    if column.family == "temporal":
        return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=value)).isoformat()
    return repr(value)
