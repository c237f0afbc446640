"""The shape of a table's values, computed in the warehouse after its profile, in at most two statements
that read what the profile read (the same table or sample, row filter and window), or, on a table of
more than `sample_above_rows` rows, in ONE statement over a block sample of about `sample_rows` rows
(`BlockSample`: TABLESAMPLE SYSTEM reads only the sampled blocks, so the added read is bounded; every
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

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config.settings import DistributionSettings
from profilemesh.errors import UsageError, first_line
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.distributions.counts import SEGMENT_AGGREGATES, counts_statement
from profilemesh.profiling.distributions.items import (
    NOTHING,
    BlockSample,
    DistributionItem,
    Statement,
    column_stats,
    scoped,
    stored_rows,
)
from profilemesh.profiling.distributions.shape import shape_statement
from profilemesh.profiling.execute import TableProfile
from profilemesh.profiling.planner import TablePlan
from profilemesh.warehouses import is_interrupt, warehouse_of_dialect

__all__ = ["DistributionItem", "profile_distributions", "stored_rows"]
BLOCK_SAMPLE_SEED = 20


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
    stats = column_stats(profile)

    def statements(sample: BlockSample | None) -> list[Statement]:
        shape = shape_statement(conn, plan, profile, settings, stats, sample) if settings.enabled else NOTHING
        counts = counts_statement(plan, settings, stats, segments, measures, sample)
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
            families = SEGMENT_AGGREGATES[metric][1]
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
) -> BlockSample | None:
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
    relation = scoped(plan, *(sampled.c[c.name] for c in plan.columns), relation=sampled).cte("pm_block")
    return BlockSample(relation, percent, settings.sample_rows)


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
