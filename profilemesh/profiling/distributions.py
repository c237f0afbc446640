"""The shape of a table's values, computed in the warehouse after its profile, in at most two statements
that read what the profile read (the same table or sample, row filter and window), or, on a table of
more than `sample_above_rows` rows, in ONE statement over a block sample of about `sample_rows` rows
(`_BlockSample`: TABLESAMPLE SYSTEM reads only the sampled blocks, so the added read is bounded; every
item then has mode `sampled` and its counts are the sample's):

- **quantiles and histograms** (numeric and temporal columns; temporal values as epoch seconds): one
  aggregate query with each column's quantiles on a 1 % grid (one ordered-set aggregate per column),
  exact up to `exact_max_rows` rows and approximate above (Snowflake APPROX_PERCENTILE; DuckDB and
  PostgreSQL: exact quantiles of a row sample, measured faster than DuckDB's sketch), the mode stored
  with every quantile. The histogram's equal-width bins over the run's own min..max (which the profile
  has just measured) take their shares from the grid (`_histogram`);
- **top values and segments**: one GROUP BY GROUPING SETS query, one set per low-cardinality column
  (distinct count at most `max_categories`, known from the profile) and per `segment_by` column: the
  row count of every value, of which the `top_values` most common are kept and the rest summed as
  `other`; with `segment_metrics`, the chosen metrics of named columns per segment value, from the same
  groups (kind `segment_metric`: column_name the measured column, label the segment as `column=value`,
  value_text the metric, value_numeric its value, row_count the segment's rows).

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
from sqlalchemy.sql.util import ClauseAdapter

from profilemesh.config.settings import DistributionSettings
from profilemesh.contract import DISTRIBUTION_KINDS, DISTRIBUTION_MODES
from profilemesh.errors import UsageError, first_line
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.execute import TableProfile
from profilemesh.profiling.planner import TablePlan
from profilemesh.warehouses import Warehouse, is_interrupt, warehouse_of_dialect

QUANTILES = (("p1", 0.01), ("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99))
QUANTILE_GRID = tuple(k / 100 for k in range(1, 100))  # computed: p1..p99; the histogram is read off it
# Where no sketch is used (DuckDB, PostgreSQL), approximate quantiles are exact ones of a row sample this big
# (a distribution function within about 0.5 point of the whole table's), drawn with this seed.
QUANTILE_SAMPLE_ROWS = 100_000
QUANTILE_SAMPLE_SEED = 20
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
BLOCK_SAMPLE_SEED = 20
# What one GROUP BY computes of a column per segment (config/settings.SEGMENT_METRIC_NAMES), and the
# column families each applies to (None: any).
Aggregate = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]
_SEGMENT_AGGREGATES: dict[str, tuple[Aggregate, tuple[str, ...] | None]] = {
    "null_percent": (sa.func.count, None),  # the count of values; the share of NULLs follows from the rows
    "mean": (lambda col: sa.func.avg(sa.cast(col, sa.Double)), ("numeric",)),
    "stddev": (lambda col: sa.func.stddev_samp(sa.cast(col, sa.Double)), ("numeric",)),
    "min": (lambda col: sa.func.min(sa.cast(col, sa.Double)), ("numeric",)),
    "max": (lambda col: sa.func.max(sa.cast(col, sa.Double)), ("numeric",)),
    "mean_length": (lambda col: sa.func.avg(sa.func.length(col)), ("string",)),
}  # fmt: skip


@dataclass(frozen=True)
class _BlockSample:
    """A big table's distributions read through one block sample (about `rows` rows, `percent` of the
    table), selected once as a common table expression that both the quantiles and the counts read."""

    relation: sa.CTE
    percent: float
    rows: int


def profile_distributions(
    conn: Connection,
    plan: TablePlan,
    profile: TableProfile,
    settings: DistributionSettings,
    segment_by: Sequence[str],
    notes: list[str],
    on_statement: Callable[[], None] | None = None,
    segment_metrics: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[DistributionItem]:
    """The table's distributions. A statement the warehouse refuses costs its items and a note, never
    the table's profile. `on_statement`: called after each statement (the run's cost meter).
    segment_metrics: (column, metrics) measured per segment of each segment_by column."""
    if not settings.enabled and not segment_by:
        return []
    segments = [_named_column(plan, name, "segment_by") for name in segment_by]
    measures = _segment_measures(plan, segment_metrics)
    stats = _column_stats(profile)

    def statements(sample: _BlockSample | None) -> list[Statement]:
        shape = _shape_statement(conn, plan, profile, settings, stats, sample) if settings.enabled else NOTHING
        counts = _counts_statement(plan, settings, stats, segments, measures, sample)
        return [_folded(shape, counts)] if sample is not None else [shape, counts]

    sample = _block_sample(conn, plan, profile, settings)
    if sample is not None:
        refused: list[str] = []
        items = _run(conn, plan, statements(sample), refused, on_statement)
        if not refused:
            notes.append(
                f"distributions from a block sample of about {sample.rows:,} rows ({sample.percent:.4g}% of "
                f"{profile.row_count:,}): above profiling.distributions.sample_above_rows "
                f"({settings.sample_above_rows:,})"
            )
            return items
        # A relation the warehouse cannot block-sample (a PostgreSQL view): every row is read, as below.
        reason = refused[0].removeprefix("distributions not profiled: ")
        notes.append(f"distributions read every row: the block sample was refused ({reason})")
    return _run(conn, plan, statements(None), notes, on_statement)


def _run(
    conn: Connection,
    plan: TablePlan,
    statements: list[Statement],
    notes: list[str],
    on_statement: Callable[[], None] | None,
) -> list[DistributionItem]:
    """Each statement's items; one the warehouse refuses costs its items and a note."""
    items: list[DistributionItem] = []
    for statement, parse in statements:
        if statement is None:
            continue
        try:
            for setting in plan.session_settings:
                conn.execute(sa.text(setting))
            rows = list(conn.execute(statement).all())
            if on_statement is not None:
                on_statement()
            conn.commit()
        except sa.exc.DBAPIError as exc:
            if is_interrupt(exc):
                raise
            conn.rollback()
            notes.append(f"distributions not profiled: {first_line(str(exc.orig or exc))}")
            continue
        items += parse(rows)
    return items


def _named_column(plan: TablePlan, name: str, key: str) -> ProfiledColumn:
    for column in plan.columns:
        if column.name.lower() == name.lower():
            return column
    table = f"{plan.schema}.{plan.table}" if plan.schema else plan.table
    raise UsageError(f"table {table}: {key} {name} is not a profiled column of it")


def _segment_measures(
    plan: TablePlan, segment_metrics: Sequence[tuple[str, Sequence[str]]]
) -> list[tuple[ProfiledColumn, str]]:
    """(column, metric) pairs measured per segment, each checked against the column's family."""
    out = []
    for name, metrics in segment_metrics:
        column = _named_column(plan, name, "segment_metrics")
        for metric in metrics:
            families = _SEGMENT_AGGREGATES[metric][1]
            if families is not None and column.family not in families:
                table = f"{plan.schema}.{plan.table}" if plan.schema else plan.table
                raise UsageError(
                    f"table {table}: segment_metrics {column.name}: {metric} needs a {' or '.join(families)} "
                    f"column ({column.name} is {column.family})"
                )
            out.append((column, metric))
    return out


def _block_sample(
    conn: Connection, plan: TablePlan, profile: TableProfile, settings: DistributionSettings
) -> _BlockSample | None:
    """The block sample a big table's distributions read, when the profile counted more than
    `sample_above_rows` rows (the exact count of what the profile read: known at no cost once it ran,
    where the distinct-count switch of profiling.limits must decide before reading, on the planner's
    estimate) and the profile read the table itself (a configured sample is read as configured)."""
    threshold = settings.sample_above_rows
    table = plan.aggregate.get_final_froms()[0]
    if threshold is None or profile.row_count <= threshold or not isinstance(table, sa.TableClause):
        return None
    percent = min(100.0, 100.0 * settings.sample_rows / profile.row_count)
    warehouse = warehouse_of_dialect(conn.dialect.name)
    sampled = warehouse.block_sampled(table, percent=percent, seed=BLOCK_SAMPLE_SEED)
    if sampled is None:
        return None
    relation = _scoped(plan, *(sampled.c[c.name] for c in plan.columns), relation=sampled).cte("pm_block")
    return _BlockSample(relation, percent, settings.sample_rows)


def _folded(*statements: Statement) -> Statement:
    """Several statements over one block sample as ONE statement (UNION ALL, each branch numbered in a
    `part` column and padded with NULLs to the union of their columns), so the sample is read once;
    each statement's rows are handed back to its own parse as its own columns."""
    present = [(query, parse) for query, parse in statements if query is not None]
    if not present:
        return NOTHING
    own = [[c.name for c in query.selected_columns] for query, _ in present]
    names = list(dict.fromkeys(name for names in own for name in names))
    branches = []
    for part, (query, _) in enumerate(present):
        selected = {c.name: c for c in query.selected_columns}
        padded = [selected[n] if n in selected else sa.null().label(n) for n in names]
        branches.append(query.with_only_columns(sa.literal(part).label("part"), *padded))

    def parse(rows: Sequence[Sequence[Any]]) -> list[DistributionItem]:
        items: list[DistributionItem] = []
        for part, (_, own_parse) in enumerate(present):
            mine = [tuple(row[1 + names.index(n)] for n in own[part]) for row in rows if int(row[0]) == part]
            items += own_parse(mine)
        return items

    return sa.union_all(*branches) if len(branches) > 1 else branches[0], parse  # type: ignore[return-value]


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


def _value(relation: sa.FromClause, column: ProfiledColumn, warehouse: Warehouse) -> sa.ColumnElement[Any] | None:
    """The column as the numbers its quantiles are taken of (None: no quantiles for this column)."""
    col = relation.c[column.name]
    if column.family == "numeric":
        return sa.cast(col, sa.Double)
    if column.family == "temporal" and not isinstance(column.type, sa.Time):
        return sa.cast(warehouse.epoch_seconds(col), sa.Double)
    return None


def _scoped(plan: TablePlan, *columns: sa.ColumnElement[Any], relation: sa.FromClause | None = None) -> sa.Select[Any]:
    """A query over what the plan reads (its table or sample, its row filter and window); `relation`: a
    sample of the plan's table in its place, the filter moved onto it."""
    table = plan.aggregate.get_final_froms()[0]
    where = plan.aggregate.whereclause
    if relation is not None and where is not None:
        where = ClauseAdapter(relation).traverse(where)
    query = sa.select(*columns).select_from(relation if relation is not None else table)
    return query if where is None else query.where(where)


def _shape_statement(
    conn: Connection,
    plan: TablePlan,
    profile: TableProfile,
    settings: DistributionSettings,
    stats: dict[str, _Stats],
    sample: _BlockSample | None,
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
    layout: list[tuple[ProfiledColumn, int, _Stats]] = []  # column, its result columns, its min and max
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
            grid = [_finite(v) for v in (found[0] if width == 1 and isinstance(found[0], list | tuple) else found)]
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

    query = sa.select(*selects).select_from(sample.relation) if sample else _scoped(plan, *selects, relation=relation)
    return query, parse


def _histogram(
    column: str, grid: list[float | None], stat: _Stats, bins: int, mode: str = APPROXIMATE
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


def _categorical(column: ProfiledColumn, stats: _Stats | None, settings: DistributionSettings) -> bool:
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


def _counts_statement(
    plan: TablePlan,
    settings: DistributionSettings,
    stats: dict[str, _Stats],
    segments: list[ProfiledColumn],
    measures: list[tuple[ProfiledColumn, str]],
    sample: _BlockSample | None,
) -> Statement:
    """One GROUP BY GROUPING SETS query: a set per low-cardinality column and per segment column, the
    row count of each group, and the segment metrics' aggregates (computed for every group, read for
    the segment columns' groups)."""
    relation = sample.relation if sample is not None else plan.aggregate.get_final_froms()[0]
    categorical = [c for c in plan.columns if settings.enabled and _categorical(c, stats.get(c.name), settings)]
    grouped = list({c.name: c for c in [*categorical, *segments]}.values())
    if not grouped:
        return NOTHING
    cols = [relation.c[c.name] for c in grouped]
    selects = [*(col.label(f"v{k}") for k, col in enumerate(cols))]
    selects += [sa.func.grouping(col).label(f"g{k}") for k, col in enumerate(cols)]
    selects.append(sa.func.count().label("n"))
    if segments:
        selects += [
            _SEGMENT_AGGREGATES[metric][0](relation.c[column.name]).label(f"m{k}")
            for k, (column, metric) in enumerate(measures)
        ]
    base = sa.select(*selects).select_from(relation) if sample is not None else _scoped(plan, *selects)
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
    ranked = sorted(groups, key=lambda g: (-g[1], g[0] is None, _label(g[0]) or ""))[:keep]
    items = []
    for value, rows, aggregates in ranked:
        label = f"{segment}={'NULL' if value is None else _label(value)}"
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
    return _finite(figure)


def _top(
    column: str, groups: list[tuple[Any, int]], keep: int, kind: str, rest: str, mode: str = EXACT
) -> list[DistributionItem]:
    """The `keep` most common values (ties by their text), and the rest as one item."""
    total = sum(n for _, n in groups)
    if total == 0:
        return []
    ranked = sorted(((_label(v), n) for v, n in groups), key=lambda g: (-g[1], g[0] is None, g[0] or ""))
    items = [
        DistributionItem(column, kind, k, label, rows=n, share_percent=n * 100.0 / total, mode=mode)
        for k, (label, n) in enumerate(ranked[:keep])
    ]
    others = sum(n for _, n in ranked[keep:])
    items.append(DistributionItem(column, rest, 0, None, rows=others, share_percent=others * 100.0 / total, mode=mode))
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
