"""The SQL that profiles one table, built with SQLAlchemy Core (every identifier quoted by the dialect).

The plan, chosen per warehouse by measurement (docs/guides/PROFILING.md, benchmarks/profile_plans.py);
what differs per warehouse is a method or attribute of its class (warehouses/):
- every non-distinct metric of the table comes from ONE aggregate query: one scan;
- a boolean column's distinct count is derived from that scan (TRUE values present + FALSE values
  present), on every warehouse: no sort or hash for it;
- exact distinct counts of the other columns are what costs. PostgreSQL runs a DISTINCT aggregate in
  one process, reading the table once per statement: one UNION ALL statement of a few branches, each
  scanning the table ONCE for its share of the columns, runs under a Parallel Append (one branch per
  process), with JIT off and text compared bytewise (COLLATE "C", which counts the same values under a
  deterministic collation). DuckDB hashes each column in parallel and runs one branch per column
  fastest. Snowflake bills every scan, so there the distinct counts ride in the aggregate query;
- approximate distinct counts are HyperLogLog estimates. On PostgreSQL (the `hll` extension, when
  installed) and Snowflake (approx_count_distinct) they ride in the aggregate query. DuckDB's own
  approx_count_distinct has too few registers (up to 8% off exact, duckdb/duckdb#20916), so there one
  second statement builds 2^14 registers per column with GROUP BY and estimates in SQL: within 2%, in
  about half the time of exact counting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from profilemesh.config.read_scope import Sample
from profilemesh.profiling.columns import ProfiledColumn, metrics_for
from profilemesh.warehouses import Warehouse

# The SQL HyperLogLog (warehouses whose approx_distinct_statement is set: DuckDB): 2^14 registers per
# column (standard error 1.04 / 2^7 = 0.8%); measured max 1.3% off exact over 43 columns at 1M rows, where
# 2^12 registers would allow ~4%.
SQL_HLL_PRECISION = 14
LENGTHS = ("min_length", "max_length", "mean_length")


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
    # Per branch of `distinct` (its first column is the branch number): the column indexes it counts.
    distinct_branches: list[list[int]] = field(default_factory=list)
    # The string lengths computed in the distinct branches (warehouse.lengths_in_distinct_branch): each
    # column slot of a branch row is then (distinct count, min, max and mean length) instead of the count.
    branch_lengths: bool = False
    notes: list[str] = field(default_factory=list)
    bucketed: bool = False  # every statement's rows lead with the bucket (GROUP BY the truncated time)

    @property
    def query_count(self) -> int:
        return 1 + (self.distinct is not None)

    def statements(self, dialect: sa.Dialect) -> list[str]:
        compiled = [*self.session_settings, _sql(self.aggregate, dialect)]
        if self.distinct is not None:
            compiled.append(_sql(self.distinct, dialect))
        return compiled


def _sql(statement: sa.Select[Any] | sa.CompoundSelect, dialect: sa.Dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def latest_time_statement(
    schema: str | None, table: str, column: str, *, warehouse: Warehouse, where: str | None = None
) -> sa.Select[Any]:
    """The newest value of a table's time column (among the rows `where` keeps): an incremental
    window's end, read before the window is profiled, so rows that land meanwhile wait for the next run."""
    quote = True if warehouse.quote_reflected_names else None
    relation = sa.table(
        sa.sql.quoted_name(table, quote),
        sa.column(sa.sql.quoted_name(column, quote)),
        schema=None if schema is None else sa.sql.quoted_name(schema, quote),
    )
    query = sa.select(sa.func.max(relation.c[column])).select_from(relation)
    return query if not where else query.where(sa.literal_column(f"({where})", sa.Boolean))


def column_label(index: int, metric: str) -> str:
    return f"c{index}_{metric}"


def plan_table(
    schema: str | None,
    table: str,
    columns: list[ProfiledColumn],
    selected_metrics: tuple[str, ...],
    *,
    warehouse: Warehouse,
    distinct: str = "exact",
    approx_available: bool = True,
    where: str | None = None,
    sample: Sample | None = None,
    window: TimeWindow | None = None,
    buckets: Buckets | None = None,
) -> TablePlan:
    """approx_available: whether the warehouse can estimate distinct counts here (PostgreSQL needs the
    `hll` extension); without it an approximate plan counts exactly, and says so in its notes.
    where (trusted SQL) and sample narrow what every statement of the plan reads; buckets: every
    statement groups its rows by bucket (one result row per bucket and branch)."""
    names = [c.name for c in columns]
    scope = _read_scope(
        schema, table, names, warehouse=warehouse, where=where, sample=sample, window=window, buckets=buckets
    )
    relation = scope.relation
    metrics = {c.name: metrics_for(c, selected_metrics) for c in columns}
    approx = distinct == "approximate" and approx_available
    notes = []
    if distinct == "approximate" and not approx:
        notes.append(warehouse.approx_distinct_unavailable_note())
    shape = "inline" if approx else warehouse.exact_distinct_shape
    sql_hll = approx and warehouse.approx_distinct_statement
    branch_lengths = shape == "union_all" and warehouse.lengths_in_distinct_branch

    selects: list[sa.ColumnElement] = [sa.func.count().label("row_count")]
    exact_distinct: list[int] = []
    for index, column in enumerate(columns):
        col = relation.c[column.name]
        wanted = metrics[column.name]
        selects.append(sa.func.count(col).label(column_label(index, "count")))
        distinct_wanted = "distinct_count" in wanted or "distinct_percent" in wanted
        if column.family == "boolean" and (distinct_wanted or "true_count" in wanted):
            # The distinct count of a boolean follows from its TRUE count and its count (execute.py).
            selects.append(sa.func.count(sa.case((col == sa.true(), 1))).label(column_label(index, "true_count")))
        elif distinct_wanted and sql_hll:
            exact_distinct.append(index)  # estimated by the second statement, one branch per column
        elif distinct_wanted and approx:
            estimate = warehouse.approx_distinct(
                col, integer=isinstance(column.type, sa.Integer), plain_text=_plain_text(column)
            )
            selects.append(estimate.label(column_label(index, "distinct_count")))
        elif distinct_wanted and shape == "inline":
            selects.append(sa.func.count(col.distinct()).label(column_label(index, "distinct_count")))
        elif distinct_wanted:
            exact_distinct.append(index)
        in_branch = branch_lengths and distinct_wanted and column.family == "string" and column.family != "boolean"
        selects.extend(_family_aggregates(index, column, col, [m for m in wanted if not in_branch or m not in LENGTHS]))

    distinct_select: sa.Select[Any] | sa.CompoundSelect | None
    if sql_hll:
        branches = [[index] for index in exact_distinct]
        distinct_select = _sql_hll_statement(scope, columns, branches)
    else:
        branches = _branches(exact_distinct, columns, warehouse.distinct_branches)
        distinct_select = _distinct_statement(scope, columns, branches, warehouse, lengths=branch_lengths)
    return TablePlan(
        schema=schema,
        table=table,
        columns=columns,
        metrics=metrics,
        aggregate=scope.select(*selects),
        distinct=distinct_select,
        distinct_branches=branches,
        branch_lengths=branch_lengths and distinct_select is not None,
        distinct_mode="approximate" if approx else "exact",
        session_settings=list(warehouse.plan_settings()),
        notes=notes,
        bucketed=buckets is not None,
    )


def rows_estimate_statement(
    schema: str | None,
    table: str,
    *,
    warehouse: Warehouse,
    where: str | None = None,
    window: TimeWindow | None = None,
) -> sa.Select[Any]:
    """The rows a plan reads, unsampled (`SELECT 1 FROM table WHERE ...`): the statement whose planner
    estimate decides whether distinct counts are exact (profiling/bounds.py). Never run, only explained."""
    names = [] if window is None else [window.column]
    scope = _read_scope(schema, table, names, warehouse=warehouse, where=where, sample=None, window=window)
    return scope.select(sa.literal_column("1"))


def _read_scope(
    schema: str | None,
    table: str,
    names: list[str],
    *,
    warehouse: Warehouse,
    where: str | None,
    sample: Sample | None,
    window: TimeWindow | None,
    buckets: Buckets | None = None,
) -> _Scope:
    """What every statement of a plan reads: the table (these columns of it), its sample, the row filter
    and the window; with buckets, the bucket each row falls in."""
    quote = True if warehouse.quote_reflected_names else None
    if window is not None and window.column not in names:
        names = [*names, window.column]
    table_clause = sa.table(
        sa.sql.quoted_name(table, quote),
        *(sa.column(sa.sql.quoted_name(name, quote)) for name in names),
        schema=None if schema is None else sa.sql.quoted_name(schema, quote),
    )
    relation: sa.FromClause = (
        warehouse.sampled(table_clause, percent=sample.percent, rows=sample.rows, seed=sample.seed)
        if sample
        else table_clause
    )
    # Written as is (a literal column): a predicate's `::date` or `%` is SQL, not a bind parameter.
    conditions: list[sa.ColumnElement[bool]] = [sa.literal_column(f"({where})", sa.Boolean)] if where else []
    if window is not None:
        conditions += window.conditions(relation.c[window.column])
    bucket = None
    if buckets is not None:
        col = relation.c[buckets.column]
        bucket = warehouse.bucket_start(col, buckets.unit, buckets.zone) if buckets.truncate else col
    return _Scope(relation, sa.and_(*conditions) if conditions else None, bucket)


@dataclass(frozen=True)
class TimeWindow:
    """An incremental read: the rows whose time_column is after `start` (when there is one) and at or
    before `end`; no row when `end` is None (the column holds no time yet). Bound as parameters.
    half_open: a bucket's read, from `start` (included) to `end` (excluded)."""

    column: str
    start: Any
    end: Any
    half_open: bool = False

    def recorded(self) -> dict[str, str | None]:
        """The bounds as the run records them (runs.scope.read, ISO 8601)."""
        return {"after": _iso(self.start), "through": _iso(self.end)}

    def conditions(self, col: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        if self.half_open:
            return [col >= sa.literal(self.start), col < sa.literal(self.end)]
        if self.end is None:
            return [sa.false()]
        bounds = [col <= sa.literal(self.end)]
        return bounds if self.start is None else [col > sa.literal(self.start), *bounds]


@dataclass(frozen=True)
class Buckets:
    """A bucketed read (profiling.tables[].granularity): every statement groups by the time column
    truncated to the `unit` (day, hour) in `zone` (None: the values as stored); a date column by the day
    is its own bucket (`truncate` False)."""

    column: str
    unit: str
    zone: str | None
    truncate: bool = True


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


BUCKET_LABEL = "pm_bucket"


@dataclass(frozen=True)
class _Scope:
    """What every statement of a plan reads: the table (or its sample) and the run's row filter; with a
    bucket expression, aggregates are per bucket (the bucket leads each row, GROUP BY 1: an ordinal,
    so a table column named like the label cannot capture it)."""

    relation: sa.FromClause
    where: sa.ColumnElement[bool] | None
    bucket: sa.ColumnElement[Any] | None = None

    def select(self, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
        """An aggregate over the read: one row, or one per bucket."""
        query = self.rows(*columns)
        return query if self.bucket is None else query.group_by(sa.literal_column("1"))

    def rows(self, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
        """The read's rows (with their bucket first, as pm_bucket, when bucketed)."""
        leading = [] if self.bucket is None else [self.bucket.label(BUCKET_LABEL)]
        query = sa.select(*leading, *columns).select_from(self.relation)
        return query if self.where is None else query.where(self.where)


def _branches(indexes: list[int], columns: list[ProfiledColumn], count: int | None) -> list[list[int]]:
    """Columns dealt to branches, costliest first (strings sort slowest), so the branches finish together."""
    if count is None or count >= len(indexes):
        return [[index] for index in indexes]
    branches: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(indexes, key=lambda i: columns[i].family != "string"):
        lightest = loads.index(min(loads))
        branches[lightest].append(index)
        loads[lightest] += 2 if columns[index].family == "string" else 1
    return [sorted(branch) for branch in branches]


def _distinct_statement(
    scope: _Scope, columns: list[ProfiledColumn], branches: list[list[int]], warehouse: Warehouse, *, lengths: bool
) -> sa.Select | sa.CompoundSelect | None:
    """One row per branch: its number, then the exact distinct counts of its columns (NULL-padded)."""
    if lengths:
        return _distinct_with_lengths(scope, columns, branches, warehouse)
    width = max((len(branch) for branch in branches), default=0)
    selects = []
    for number, branch in enumerate(branches):
        counts: list[sa.ColumnElement[Any]] = [
            sa.func.count(_distinct_operand(scope.relation.c[columns[i].name], columns[i], warehouse).distinct())
            for i in branch
        ]
        counts += [sa.cast(sa.null(), sa.BigInteger)] * (width - len(branch))  # typed: UNION resolves NULLs
        selects.append(
            scope.select(sa.literal(number).label("branch"), *(c.label(f"d{k}") for k, c in enumerate(counts)))
        )
    if not selects:
        return None
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def _distinct_with_lengths(
    scope: _Scope, columns: list[ProfiledColumn], branches: list[list[int]], warehouse: Warehouse
) -> sa.Select | sa.CompoundSelect | None:
    """As _distinct_statement, with each string column's min, max and mean length beside its count: a
    fenced subquery (never merged into the branch) yields each value once, in-line, so a value stored
    out of line is fetched once per run rather than once per expression reading it (the aggregate's
    three length() calls; docs/benchmarks.md, section 1b). The fence is `OFFSET NULL` (no offset): the
    planner keeps a subquery with an OFFSET apart, and takes a NULL one as the constant it is, where it
    takes `OFFSET 0` (an integer cast to bigint) for a limit it cannot hand to a parallel worker, which
    ran the branches one after another instead of under a Parallel Append (measured: section 1b).
    Each column slot: d{k} (count), n{k}, x{k}, m{k} (lengths)."""
    width = max((len(branch) for branch in branches), default=0)
    selects = []
    for number, branch in enumerate(branches):
        values = scope.rows(
            *(
                _distinct_operand(scope.relation.c[columns[i].name], columns[i], warehouse).label(f"v{k}")
                for k, i in enumerate(branch)
            )
        )
        fenced = values.offset(sa.literal_column("NULL")).subquery(f"b{number}")
        outputs: list[sa.ColumnElement[Any]] = [sa.literal(number).label("branch")]
        if scope.bucket is not None:
            outputs.insert(0, fenced.c[BUCKET_LABEL])
        for k in range(width):
            if k < len(branch):
                value = fenced.c[f"v{k}"]
                string = columns[branch[k]].family == "string"
                length = sa.func.length(value)
                outputs.append(sa.func.count(value.distinct()).label(f"d{k}"))
                for label, aggregate in (("n", sa.func.min), ("x", sa.func.max), ("m", sa.func.avg)):
                    figure = aggregate(length) if string else sa.null()
                    outputs.append(sa.cast(figure, sa.Numeric).label(f"{label}{k}"))
            else:
                outputs.append(sa.cast(sa.null(), sa.BigInteger).label(f"d{k}"))
                outputs += [sa.cast(sa.null(), sa.Numeric).label(f"{label}{k}") for label in "nxm"]
        query = sa.select(*outputs).select_from(fenced)
        selects.append(query if scope.bucket is None else query.group_by(fenced.c[BUCKET_LABEL]))
    if not selects:
        return None
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def _sql_hll_statement(scope: _Scope, columns: list[ProfiledColumn], branches: list[list[int]]) -> sa.Select | None:
    """One row per branch (one column each): its number, then the HyperLogLog estimate of its distinct count.

    Each non-NULL value's 64-bit hash picks a register with its low p bits; the register keeps the highest
    rank (position of the first 1 bit) of the remaining 64 - p bits. Estimate (Flajolet et al. 2007):
    alpha * m^2 / sum(2^-register), or linear counting m * ln(m / empty registers) below 2.5 m. A 64-bit hash
    needs no large-range correction. A column with no values has no registers, hence no row: it counts 0.
    """
    if not branches:
        return None
    p = SQL_HLL_PRECISION
    m = 1 << p
    hashes = sa.union_all(
        *(
            scope.rows(
                sa.literal(number).label("branch"), sa.func.hash(scope.relation.c[columns[i].name]).label("h")
            ).where(scope.relation.c[columns[i].name].is_not(None))
            for number, (i,) in enumerate(branches)
        )
    ).subquery("hashes")
    # per bucket when bucketed: the bucket leads every row, as in the plan's other statements
    by: list[sa.ColumnElement[Any]] = [] if scope.bucket is None else [hashes.c[BUCKET_LABEL]]
    rest = hashes.c.h.op(">>")(p)
    rank = sa.case(
        (rest == 0, 64 - p + 1),
        else_=(64 - p) - sa.cast(sa.func.floor(sa.func.log2(sa.cast(rest, sa.Double))), sa.Integer),
    )
    register = hashes.c.h.op("&")(m - 1)
    registers = (
        sa.select(*by, hashes.c.branch, sa.func.max(rank).label("rank"))
        .group_by(*by, hashes.c.branch, register)
        .subquery("registers")
    )
    per = [registers.c[BUCKET_LABEL]] if by else []
    empty = m - sa.func.count()
    raw = (0.7213 / (1 + 1.079 / m)) * m * m / (sa.func.sum(sa.func.pow(2.0, -registers.c.rank)) + empty)
    estimate = sa.case((sa.and_(raw <= 2.5 * m, empty > 0), m * sa.func.ln(sa.cast(m, sa.Double) / empty)), else_=raw)
    return sa.select(*per, registers.c.branch, sa.cast(sa.func.round(estimate), sa.BigInteger).label("d0")).group_by(
        *per, registers.c.branch
    )


def _distinct_operand(
    col: sa.ColumnElement[Any], column: ProfiledColumn, warehouse: Warehouse
) -> sa.ColumnElement[Any]:
    collated = getattr(column.type, "collation", None) is not None
    return warehouse.distinct_operand(col, plain_text=_plain_text(column), collated=collated)


def _plain_text(column: ProfiledColumn) -> bool:
    """A character type proper (an ENUM is a String to SQLAlchemy, but has no collation and no text hash)."""
    return column.family == "string" and not isinstance(column.type, sa.Enum)


def _family_aggregates(
    index: int, column: ProfiledColumn, col: sa.ColumnElement, wanted: list[str]
) -> list[sa.ColumnElement]:
    out: list[sa.ColumnElement[Any]] = []
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
    return out
