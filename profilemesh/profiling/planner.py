"""The SQL that profiles one table, built with SQLAlchemy Core (every identifier quoted by the dialect).

The plan, chosen per warehouse by measurement (docs/guides/PROFILING.md):
- every non-distinct metric of the table comes from ONE aggregate query: one scan;
- exact distinct counts are what costs. PostgreSQL cannot run DISTINCT aggregates in parallel, but a
  UNION ALL of per-column COUNT(DISTINCT) branches gets a Parallel Append, and with JIT off it is the
  fastest exact plan measured; DuckDB also runs the UNION ALL form faster than one wide query. Both
  get ONE extra statement. Snowflake bills every scan, so there the distinct counts ride in the
  aggregate query and the table is read once;
- approximate distinct counts (HyperLogLog) are cheap and ride in the aggregate query everywhere:
  approx_count_distinct on DuckDB and Snowflake, the `hll` extension on PostgreSQL when installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from profilemesh.profiling.columns import ProfiledColumn, metrics_for

# How each warehouse gets exact distinct counts: a separate UNION ALL statement, or inline.
EXACT_DISTINCT_SHAPE = {"postgresql": "union_all", "duckdb": "union_all", "snowflake": "inline"}


@dataclass
class TablePlan:
    schema: str | None
    table: str
    columns: list[ProfiledColumn]
    metrics: dict[str, list[str]]  # column name -> metric names
    aggregate: sa.Select
    distinct: sa.Select | sa.CompoundSelect | None
    distinct_mode: str  # "exact" or "approximate"
    session_settings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def query_count(self) -> int:
        return 1 + (self.distinct is not None)

    def statements(self, dialect: sa.Dialect) -> list[str]:
        compiled = [*self.session_settings, _sql(self.aggregate, dialect)]
        if self.distinct is not None:
            compiled.append(_sql(self.distinct, dialect))
        return compiled


def _sql(statement: sa.Executable, dialect: sa.Dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def column_label(index: int, metric: str) -> str:
    return f"c{index}_{metric}"


def plan_table(
    schema: str | None,
    table: str,
    columns: list[ProfiledColumn],
    selected_metrics: tuple[str, ...],
    *,
    dialect_name: str,
    distinct: str = "exact",
    hll_available: bool = False,
) -> TablePlan:
    relation = sa.table(table, *(sa.column(c.name) for c in columns), schema=schema)
    metrics = {c.name: metrics_for(c, selected_metrics) for c in columns}
    approx = distinct == "approximate" and (dialect_name != "postgresql" or hll_available)
    notes = []
    if distinct == "approximate" and not approx:
        notes.append(
            "approximate distinct counts need the PostgreSQL extension `hll` (CREATE EXTENSION hll); "
            "counted exactly instead"
        )
    shape = "inline" if approx else EXACT_DISTINCT_SHAPE.get(dialect_name, "inline")

    selects: list[sa.ColumnElement] = [sa.func.count().label("row_count")]
    distinct_branches = []
    for index, column in enumerate(columns):
        col = relation.c[column.name]
        wanted = metrics[column.name]
        selects.append(sa.func.count(col).label(column_label(index, "count")))
        if "distinct_count" in wanted or "distinct_percent" in wanted:
            if approx:
                selects.append(_approx_distinct(col, dialect_name).label(column_label(index, "distinct_count")))
            elif shape == "inline":
                selects.append(sa.func.count(col.distinct()).label(column_label(index, "distinct_count")))
            else:
                distinct_branches.append(
                    sa.select(
                        sa.literal(index).label("column_index"), sa.func.count(col.distinct()).label("distinct_count")
                    ).select_from(relation)
                )
        selects.extend(_family_aggregates(index, column, col, wanted))

    distinct_select: sa.Select | sa.CompoundSelect | None = None
    if len(distinct_branches) == 1:
        distinct_select = distinct_branches[0]
    elif distinct_branches:
        distinct_select = sa.union_all(*distinct_branches)
    settings = []
    if distinct_select is not None and dialect_name == "postgresql":
        # JIT compilation took 18 of 21.8 s of the UNION ALL plan in EXPLAIN; the queries are short-lived.
        settings.append("SET LOCAL jit = off")
    return TablePlan(
        schema=schema,
        table=table,
        columns=columns,
        metrics=metrics,
        aggregate=sa.select(*selects).select_from(relation),
        distinct=distinct_select,
        distinct_mode="approximate" if approx else "exact",
        session_settings=settings,
        notes=notes,
    )


def _approx_distinct(col: sa.ColumnElement, dialect_name: str) -> sa.ColumnElement:
    if dialect_name == "postgresql":
        return sa.func.hll_cardinality(sa.func.hll_add_agg(sa.func.hll_hash_any(col)))
    return sa.func.approx_count_distinct(col)


def _family_aggregates(
    index: int, column: ProfiledColumn, col: sa.ColumnElement, wanted: list[str]
) -> list[sa.ColumnElement]:
    out = []
    if column.family in ("numeric", "temporal"):
        if "min" in wanted:
            out.append(sa.func.min(col).label(column_label(index, "min")))
        if "max" in wanted:
            out.append(sa.func.max(col).label(column_label(index, "max")))
    if column.family == "numeric":
        if "mean" in wanted:
            out.append(sa.func.avg(col).label(column_label(index, "mean")))
        if "stddev" in wanted:
            out.append(sa.func.stddev_samp(col).label(column_label(index, "stddev")))
    elif column.family == "string":
        length = sa.func.length(col)
        for metric, func in (("min_length", sa.func.min), ("max_length", sa.func.max), ("mean_length", sa.func.avg)):
            if metric in wanted:
                out.append(func(length).label(column_label(index, metric)))
    elif column.family == "boolean" and "true_count" in wanted:
        out.append(sa.func.count(sa.case((col == sa.true(), 1))).label(column_label(index, "true_count")))
    return out
