"""Section 1 (profiling): ProfileMesh's plan side by side with its floor and with the ways its peers
profile, on DuckDB and PostgreSQL, in one run. Every figure is a median after a warm-up, reported
with its ratio to the read floor and to the best exact peer measured in the same run.

    python benchmarks/profile_plans.py [--rows 1000000] [--widths 10,50,200] [--repeat 3] [--quick]
        [--postgres-dsn postgresql://user:pw@127.0.0.1:5432/db]   (none: a throwaway cluster)

Plans, all for the same metric set (counts, NULLs, distinct counts, min/max/mean/stddev of numbers,
lengths of strings, min/max of timestamps, TRUE counts):
- F0: count(col) of every column in one query: reading every column once, the floor;
- F1: the whole metric set hand-written as one aggregate query (F1 approx: its distinct counts approximate);
- SUMMARIZE (DuckDB);
- UNION ALL per column (the dbt-profiler style): one branch per column with all of its metrics;
- query per column (the elementary style): that branch run as a query of its own, per column;
- old ProfileMesh: per column a counts query, then a numeric query and one COUNT per histogram bin
  (10 bins) for numbers, a lengths query for strings, a min/max query for timestamps, a TRUE count
  for booleans (its one INSERT per metric is a write, measured in section 2, not here);
- ours: what `profilemesh profile` runs (the planner's statements through `run_plan`), exact and
  approximate distinct counts.
Peers run with the server's defaults; on PostgreSQL the UNION ALL style is also run with `jit = off`,
the best exact figure known before this plan. The warm-up run of each plan is its EXPLAIN (ANALYZE,
BUFFERS) on PostgreSQL, which gives the buffer reads and the JIT time.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import machine_info, markdown_table, postgres, postgres_version, ratio

from profilemesh.config.settings import METRIC_NAMES
from profilemesh.profiling.columns import ProfiledColumn, profiled_column
from profilemesh.profiling.execute import run_plan
from profilemesh.profiling.planner import TablePlan, plan_table
from profilemesh.warehouses import warehouse_of_dialect

KINDS = ("int_uniform", "int_skewed", "float", "string_low", "string_high", "timestamp", "boolean")
NULL_RATES = (0, 5, 50)
HISTOGRAM_BINS = 10
# A plan whose warm-up run takes longer than this is reported from that one run ("1 run").
SLOW_SECONDS = 60.0
# PostgreSQL stops any one statement after this long (statement_timeout): the plan is then reported as
# stopped, its time a lower bound. At 200 columns F1 (JIT on) ran over 12 minutes on a loaded machine.
STOP_SECONDS = 300
# The old profiler's ~13 scans per numeric column: measured up to this width (the target is at 50 columns).
OLD_PROFILEMESH_MAX_WIDTH = 50
EXACT_PEERS = ("F1", "UNION ALL per column", "UNION ALL per column, jit off", "query per column")


# --- data -------------------------------------------------------------------------------------------------------


def column_sql(i: int) -> str:
    """Column i of the seeded mix: the kinds in turn, NULL rates 0/5/50% dealt so that every kind gets each."""
    kind = KINDS[i % len(KINDS)]
    null_rate = NULL_RATES[(i // len(KINDS) + i) % len(NULL_RATES)]
    h = f"hash(i, {i + 1})"
    expr = {
        "int_uniform": f"CAST({h} % 1000000 AS BIGINT)",
        "int_skewed": f"CAST(floor(pow(({h} % 1000000) / 1000000.0, 4) * 100000) AS BIGINT)",
        "float": f"({h} % 100000000) / 1000.0",
        "string_low": f"'category_' || ({h} % 25)",
        "string_high": f"md5(CAST({h} AS VARCHAR))",
        "timestamp": f"TIMESTAMP '2024-01-01' + to_seconds(CAST({h} % 31536000 AS BIGINT))",
        "boolean": f"{h} % 2 = 0",
    }[kind]
    if null_rate:
        expr = f"CASE WHEN hash(i, {i + 1000}) % 100 < {null_rate} THEN NULL ELSE {expr} END"
    return f"{expr} AS c{i}_{kind}"


def generate(duck: sa.Engine, table: str, rows: int, columns: int) -> None:
    select = ", ".join(column_sql(i) for i in range(columns))
    with duck.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(f"CREATE TABLE {table} AS SELECT {select} FROM range({rows}) t(i)")


PG_TYPES = {"BIGINT": "BIGINT", "DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT", "TIMESTAMP": "TIMESTAMP"}


def copy_to_postgres(duck: sa.Engine, pg: sa.Engine, table: str) -> None:
    """The DuckDB table into PostgreSQL with COPY, then VACUUM ANALYZE (visibility map and statistics set)."""
    with tempfile.TemporaryDirectory(prefix="profilemesh-bench-") as tmp:
        path = Path(tmp) / f"{table}.csv"
        with duck.connect() as conn:
            columns = conn.exec_driver_sql(f"DESCRIBE {table}").fetchall()
            conn.exec_driver_sql(f"COPY {table} TO '{path}' (HEADER false)")
        ddl = ", ".join(f"{name} {PG_TYPES.get(str(kind), 'BOOLEAN')}" for name, kind, *_ in columns)
        with pg.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(f"CREATE TABLE {table} ({ddl})")
            cursor = conn.connection.driver_connection.cursor()
            with path.open() as data:
                cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", data)
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


# --- the plans --------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    name: str
    statements: Callable[[sa.Connection], list]  # run in order; a callable may depend on earlier results
    queries: int
    settings: list[str] = field(default_factory=list)
    profilemesh: TablePlan | None = None  # ours: run through run_plan


def _metric_exprs(col: sa.ColumnElement, column: ProfiledColumn, distinct: Callable) -> dict[str, sa.ColumnElement]:
    """The metric set of one column, as a peer writes it by hand."""
    exprs = {"count": sa.func.count(col), "distinct": distinct(col)}
    if column.family in ("numeric", "temporal"):
        exprs |= {"min": sa.func.min(col), "max": sa.func.max(col)}
    if column.family == "numeric":
        exprs |= {"mean": sa.func.avg(col), "stddev": sa.func.stddev_samp(col)}
    if column.family == "string":
        length = sa.func.length(col)
        exprs |= {
            "min_length": sa.func.min(length),
            "max_length": sa.func.max(length),
            "mean_length": sa.func.avg(length),
        }
    if column.family == "boolean":
        exprs["true_count"] = sa.func.count(sa.case((col == sa.true(), 1)))
    return exprs


# dbt-profiler's branch shape: one type per metric for every column (min/max as text), NULL where not applicable.
BRANCH_SHAPE = {
    "count": sa.BigInteger,
    "distinct": sa.BigInteger,
    "min": sa.String,
    "max": sa.String,
    "mean": sa.Float,
    "stddev": sa.Float,
    "min_length": sa.BigInteger,
    "max_length": sa.BigInteger,
    "mean_length": sa.Float,
    "true_count": sa.BigInteger,
}


def _branch(relation: sa.TableClause, index: int, column: ProfiledColumn) -> sa.Select:
    """Every metric of one column, as one row of the shape above."""
    exprs = _metric_exprs(relation.c[column.name], column, lambda c: sa.func.count(c.distinct()))
    values = [sa.literal(index).label("column_index"), sa.func.count().label("row_count")]
    for metric, sql_type in BRANCH_SHAPE.items():
        values.append(sa.cast(exprs.get(metric, sa.null()), sql_type).label(metric))
    return sa.select(*values).select_from(relation)


def _old_profilemesh(relation: sa.TableClause, columns: list[ProfiledColumn]) -> Callable[[sa.Connection], list]:
    """The old profiler: per column a counts query, then per family its own queries; histograms as one COUNT
    per bin between min and max (known only after the numeric query)."""

    def run(conn: sa.Connection) -> list:
        out = []
        for column in columns:
            col = relation.c[column.name]
            out.append(
                conn.execute(
                    sa.select(sa.func.count(), sa.func.count(col), sa.func.count(col.distinct())).select_from(relation)
                ).one()
            )
            exprs = _metric_exprs(col, column, lambda c: None)
            rest = [e for k, e in exprs.items() if k not in ("count", "distinct")]
            if not rest:
                continue
            row = conn.execute(sa.select(*rest).select_from(relation)).one()
            out.append(row)
            if column.family == "numeric" and row[0] is not None:
                low, high = float(row[0]), float(row[1])
                width = (high - low) / HISTOGRAM_BINS or 1.0
                for b in range(HISTOGRAM_BINS):
                    lo, hi = low + b * width, low + (b + 1) * width
                    upper = col <= hi if b == HISTOGRAM_BINS - 1 else col < hi
                    out.append(conn.execute(sa.select(sa.func.count()).where(col >= lo, upper)).scalar())
        return out

    return run


def old_profilemesh_queries(columns: list[ProfiledColumn]) -> int:
    per = {"numeric": 2 + HISTOGRAM_BINS, "string": 2, "temporal": 2, "boolean": 2}
    return sum(per.get(c.family, 1) for c in columns)


def build_plans(engine: sa.Engine, table: str) -> tuple[list[Plan], list[ProfiledColumn]]:
    dialect = engine.dialect.name
    warehouse = warehouse_of_dialect(dialect)
    with engine.connect() as conn:
        columns = [profiled_column(c["name"], c["type"]) for c in sa.inspect(conn).get_columns(table)]
        approx_available = warehouse.approx_distinct_available(conn)  # PostgreSQL: the `hll` extension
    relation = sa.table(table, *(sa.column(c.name) for c in columns))
    approx = (
        (lambda c: sa.func.hll_cardinality(sa.func.hll_add_agg(sa.func.hll_hash_any(c))))
        if dialect == "postgresql"
        else sa.func.approx_count_distinct
    )

    def f1(distinct: Callable) -> sa.Select:
        exprs = [sa.func.count()]
        for column in columns:
            exprs.extend(_metric_exprs(relation.c[column.name], column, distinct).values())
        return sa.select(*exprs).select_from(relation)

    def fixed(*statements: sa.Executable) -> Callable[[sa.Connection], list]:
        return lambda conn: [conn.execute(s).fetchall() for s in statements]

    branches = [_branch(relation, i, c) for i, c in enumerate(columns)]
    union = sa.union_all(*branches) if len(branches) > 1 else branches[0]
    ours = plan_table(None, table, columns, METRIC_NAMES, warehouse=warehouse)
    ours_approx = plan_table(
        None,
        table,
        columns,
        METRIC_NAMES,
        warehouse=warehouse,
        distinct="approximate",
        approx_available=approx_available,
    )
    plans = [
        Plan("F0", fixed(sa.select(*(sa.func.count(relation.c[c.name]) for c in columns)).select_from(relation)), 1),
        Plan("F1", fixed(f1(lambda c: sa.func.count(c.distinct()))), 1),
    ]
    if approx_available:
        plans.append(Plan("F1 approx", fixed(f1(approx)), 1))
    if dialect == "duckdb":
        plans.append(Plan("SUMMARIZE", fixed(sa.text(f"SUMMARIZE {table}")), 1))
    plans.append(Plan("UNION ALL per column", fixed(union), 1))
    if dialect == "postgresql":
        plans.append(Plan("UNION ALL per column, jit off", fixed(union), 1, settings=["SET jit = off"]))
    plans += [
        Plan("query per column", fixed(*branches), len(branches)),
    ]
    if len(columns) <= OLD_PROFILEMESH_MAX_WIDTH:
        plans.append(Plan("old ProfileMesh", _old_profilemesh(relation, columns), old_profilemesh_queries(columns)))
    plans += [
        Plan("ours, exact", lambda conn: [run_plan(conn, ours)], ours.query_count, profilemesh=ours),
    ]
    if ours_approx.distinct_mode == "approximate":
        plans.append(
            Plan(
                "ours, approximate",
                lambda conn: [run_plan(conn, ours_approx)],
                ours_approx.query_count,
                profilemesh=ours_approx,
            )
        )
    return plans, columns


# --- measuring --------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    plan: Plan
    median: float
    runs: int
    buffers: int | None = None  # PostgreSQL: shared hits + reads, over every statement
    aggregate_buffers: int | None = None  # ours: the aggregate statement's alone
    jit_ms: float | None = None
    statement_seconds: list[float] = field(default_factory=list)  # ours: per statement, from EXPLAIN
    result: list = field(default_factory=list)


def _recorded(conn: sa.Connection, plan: Plan) -> tuple[float, list, list[str]]:
    """One run of the plan, timed, with the SQL it sent (the old profiler's bins depend on its results)."""
    recorded: list[str] = []

    def record(conn_, cursor, statement, parameters, context, executemany):
        recorded.append(cursor.mogrify(statement, parameters).decode() if parameters else statement)

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        elapsed, result = _once(conn, plan)
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    return elapsed, result, recorded


def _explain(conn: sa.Connection, plan: Plan, statements: list[str], measured: Measured) -> None:
    """The plan's statements again under EXPLAIN (ANALYZE, BUFFERS): buffer reads, JIT time, per-statement time."""
    for setting in plan.settings:
        conn.exec_driver_sql(setting)
    measured.buffers, measured.jit_ms = 0, 0.0
    for sql in statements:
        if sql.lstrip().upper().startswith("SET "):
            conn.exec_driver_sql(sql)
            continue
        explained = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).scalar()[0]
        top = explained["Plan"]
        buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
        if measured.aggregate_buffers is None:
            measured.aggregate_buffers = buffers
        measured.buffers += buffers
        measured.jit_ms += explained.get("JIT", {}).get("Timing", {}).get("Total", 0.0)
        measured.statement_seconds.append(explained["Execution Time"] / 1000)
    conn.rollback()


def _once(conn: sa.Connection, plan: Plan) -> tuple[float, list]:
    for setting in plan.settings:
        conn.exec_driver_sql(setting)
    started = time.perf_counter()
    result = plan.statements(conn)
    elapsed = time.perf_counter() - started
    conn.rollback()  # ends the transaction, and with it our SET LOCAL
    return elapsed, result


def measure_plan(engine: sa.Engine, plan: Plan, repeat: int) -> Measured:
    """Warm-up (recording the SQL), then on PostgreSQL an EXPLAIN (ANALYZE, BUFFERS) pass, then `repeat` timed
    runs. A plan whose warm-up took over SLOW_SECONDS is reported from that one run, with no EXPLAIN pass."""
    measured = Measured(plan, 0.0, 0)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET statement_timeout = '{STOP_SECONDS}s'")
            conn.commit()
            started = time.perf_counter()
            try:
                warm, measured.result, statements = _recorded(conn, plan)
            except sa.exc.OperationalError as exc:
                if "statement timeout" not in str(exc):
                    raise
                conn.rollback()
                measured.median, measured.runs = time.perf_counter() - started, 0  # stopped: a lower bound
                return measured
        else:
            warm, measured.result = _once(conn, plan)
        if warm > SLOW_SECONDS:
            measured.median, measured.runs = warm, 1
            return measured
        if engine.dialect.name == "postgresql":
            _explain(conn, plan, statements, measured)
        runs = []
        for _ in range(repeat):
            elapsed, measured.result = _once(conn, plan)
            runs.append(elapsed)
        measured.median, measured.runs = statistics.median(runs), repeat
    return measured


def approx_error(exact: Measured, approx: Measured) -> tuple[float, float] | None:
    """Max and mean |approx - exact| / exact over the columns' distinct counts, in percent."""

    def counts(m: Measured) -> dict[str, float]:
        profile = m.result[0]
        return {
            v.column_name: v.number
            for v in profile.metrics
            if v.metric_name.startswith("distinct_count") and v.number is not None
        }

    exact_counts, approx_counts = counts(exact), counts(approx)
    errors = [abs(approx_counts[c] - n) / n * 100 for c, n in exact_counts.items() if n and c in approx_counts]
    return (max(errors), statistics.fmean(errors)) if errors else None


def table_pages(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int").scalar()


# --- the report ---------------------------------------------------------------------------------------------------


@dataclass
class Section:
    engine: str
    width: int
    rows: int
    measured: dict[str, Measured]
    pages: int | None = None

    def get(self, name: str) -> Measured | None:
        return self.measured.get(name)

    @property
    def best_peer(self) -> Measured:
        return min((m for n, m in self.measured.items() if n in EXACT_PEERS), key=lambda m: m.median)


def profile_section(engine: sa.Engine, engine_name: str, table: str, rows: int, width: int, repeat: int) -> Section:
    plans, _ = build_plans(engine, table)
    measured = {}
    for plan in plans:
        measured[plan.name] = measure_plan(engine, plan, repeat)
        print(f"  {engine_name} {width} columns: {plan.name} {measured[plan.name].median:.3f}s", file=sys.stderr)
    pages = table_pages(engine, table) if engine.dialect.name == "postgresql" else None
    return Section(engine_name, width, rows, measured, pages)


def section_table(section: Section) -> str:
    floor = section.measured["F0"].median
    best = section.best_peer.median
    pg = section.pages is not None
    headers = ["plan", "median s", "runs", "queries", "x F0", "x best exact peer"]
    if pg:
        headers += ["buffer reads / table pages", "JIT ms"]
    rows = []
    for name, m in section.measured.items():
        row: list[object] = [name, m.median, m.runs, m.plan.queries, ratio(m.median, floor), ratio(m.median, best)]
        if pg:
            explained = m.buffers is not None and section.pages
            row += [f"{m.buffers / section.pages:.2f}" if explained else "—", f"{m.jit_ms:.0f}" if explained else "—"]
        rows.append(row)
    text = markdown_table(headers, rows)
    ours = section.get("ours, exact")
    if pg and ours and len(ours.statement_seconds) == 2 and ours.aggregate_buffers is not None:
        agg, distinct = ours.statement_seconds
        text += (
            f"\n\nOurs, exact, per statement (EXPLAIN ANALYZE): the aggregate {agg:.3f} s "
            f"({ours.aggregate_buffers / section.pages:.2f} x table pages read), the distinct counts {distinct:.3f} s."
        )
    errors = _approx_errors(section)
    if errors:
        text += "\n\nApproximate distinct counts against ours exact, over the columns: " + "; ".join(
            f"{name}: max {e[0]:.2f}%, mean {e[1]:.2f}%" for name, e in errors.items()
        )
    return text


def _approx_errors(section: Section) -> dict[str, tuple[float, float]]:
    exact = section.get("ours, exact")
    out = {}
    approx = section.get("ours, approximate")
    if exact and approx:
        error = approx_error(exact, approx)
        if error:
            out["ours, approximate"] = error
    return out


def targets(sections: list[Section]) -> str:
    rows = []

    def add(section: Section, target: str, met: bool, figure: str) -> None:
        rows.append([section.engine, section.width, target, "met" if met else "**missed**", figure])

    for s in sections:
        best = s.best_peer
        ours = s.measured["ours, exact"]
        figure = f"{ours.median:.3f} s vs {best.plan.name} {best.median:.3f} s ({ratio(ours.median, best.median)})"
        add(s, "exact no slower than the best exact peer", ours.median <= best.median, figure)
        add(s, "exact 2x faster than the best exact peer (goal)", ours.median * 2 <= best.median,
            f"{ratio(best.median, ours.median)} faster")  # fmt: skip
        approx = s.get("ours, approximate")
        if approx:
            add(s, "approximate 5x faster than the best exact peer", approx.median * 5 <= best.median,
                f"{ratio(best.median, approx.median)} faster ({approx.median:.3f} s)")  # fmt: skip
            error = _approx_errors(s).get("ours, approximate")
            if error:
                add(s, "approximate distinct counts within 2% of exact", error[0] <= 2.0, f"max error {error[0]:.2f}%")
        else:
            add(s, "approximate mode", False, "not run (no `hll` extension)")
        summarize = s.get("SUMMARIZE")
        if approx and summarize:
            add(s, "approximate no slower than SUMMARIZE", approx.median <= summarize.median,
                f"{approx.median:.3f} s vs {summarize.median:.3f} s")  # fmt: skip
        if s.pages and ours.aggregate_buffers is not None:
            share = ours.aggregate_buffers / s.pages
            add(s, "non-distinct metrics in one scan (reads <= 1.1x pages)", share <= 1.1, f"{share:.2f}x")
        old = s.get("old ProfileMesh")
        if s.engine == "PostgreSQL" and s.width == 50 and old:
            add(s, "8x faster than the old ProfileMesh", ours.median * 8 <= old.median,
                f"{ratio(old.median, ours.median)} faster")  # fmt: skip
    return markdown_table(["engine", "columns", "target", "", "figure"], rows)


@contextlib.contextmanager
def _engines(postgres_dsn: str | None) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """A DuckDB file in a temporary directory (deleted afterwards) and the PostgreSQL server, with `hll`."""
    with postgres(postgres_dsn) as dsn, tempfile.TemporaryDirectory(prefix="profilemesh-bench-") as workdir:
        duck = sa.create_engine(f"duckdb:///{Path(workdir) / 'bench.duckdb'}", poolclass=sa.pool.NullPool)
        pg = sa.create_engine(dsn, poolclass=sa.pool.NullPool)
        try:
            _create_hll(pg)
            yield duck, pg
        finally:
            pg.dispose()
            duck.dispose()


def _create_hll(pg: sa.Engine) -> None:
    with pg.connect() as conn:
        try:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS hll")
            conn.commit()
        except sa.exc.DBAPIError:
            conn.rollback()  # no `hll`: the approximate rows say so


def _sections(duck: sa.Engine, pg: sa.Engine, rows: int, width: int, repeat: int) -> list[Section]:
    table = f"bench_{width}"
    generate(duck, table, rows, width)
    copy_to_postgres(duck, pg, table)
    out = [
        profile_section(duck, "DuckDB", table, rows, width, repeat),
        profile_section(pg, "PostgreSQL", table, rows, width, repeat),
    ]
    with pg.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {table}")
    with duck.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {table}")
    return out


def profiling_report(
    *, rows: int, widths: list[int], repeat: int, postgres_dsn: str | None, quick: bool = False
) -> str:
    """Markdown: per engine and width, every plan's median seconds, queries, ratio to F0 and to the best exact
    peer; PostgreSQL buffer reads / table pages and JIT ms; approximate distinct-count error; the targets."""
    sections: list[Section] = []
    with _engines(postgres_dsn) as (duck, pg):
        for width in widths:
            sections += _sections(duck, pg, rows, width, repeat)
        with pg.connect() as conn:
            version = postgres_version(conn)
    parts = [
        f"{rows:,} rows; widths {', '.join(map(str, widths))}; median of {repeat} after a warm-up "
        f"(a plan whose warm-up took over {SLOW_SECONDS:.0f} s: that one run; 0 runs: a PostgreSQL statement "
        f"stopped after {STOP_SECONDS} s, its time a lower bound; the old ProfileMesh style up to "
        f"{OLD_PROFILEMESH_MAX_WIDTH} columns). PostgreSQL {version}, default "
        "settings (2 parallel workers per gather); peers run with them, ours sets `jit = off` for its statements."
        + (" **Quick mode: tiny sizes, not a timing.**" if quick else ""),
    ]
    for s in sections:
        parts.append(f"#### {s.engine}, {s.width} columns\n\n{section_table(s)}")
    parts.append(f"#### Targets\n\n{targets(sections)}")
    return "\n\n".join(parts) + "\n"


def profiling_growth(*, sizes: list[int], columns: int, repeat: int, postgres_dsn: str | None) -> str:
    """Markdown: F0 and ours (exact, approximate) at each row count, on DuckDB and PostgreSQL."""
    rows_out = []
    with _engines(postgres_dsn) as (duck, pg):
        for size in sizes:
            table = f"growth_{size}"
            generate(duck, table, size, columns)
            copy_to_postgres(duck, pg, table)
            for name, engine in (("DuckDB", duck), ("PostgreSQL", pg)):
                plans, _ = build_plans(engine, table)
                wanted = {p.name: p for p in plans if p.name in ("F0", "ours, exact", "ours, approximate")}
                m = {n: measure_plan(engine, p, repeat).median for n, p in wanted.items()}
                exact = m["ours, exact"]
                rows_out.append(
                    [name, f"{size:,}", m["F0"], exact, m.get("ours, approximate", "—"), ratio(exact, m["F0"]),
                     f"{exact / size * 1_000_000:.3f}"]
                )  # fmt: skip
            for engine in (duck, pg):
                with engine.begin() as conn:
                    conn.exec_driver_sql(f"DROP TABLE {table}")
    headers = ["engine", "rows", "F0 s", "ours exact s", "ours approx s", "exact x F0", "exact s per 1M rows"]
    return f"{columns} columns, median of {repeat} after a warm-up.\n\n" + markdown_table(headers, rows_out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--widths", default="10,50,200", help="comma-separated column counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, never a timing")
    parser.add_argument("--postgres-dsn", default=None, help="default: a throwaway cluster of our own")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if args.quick:
        args.rows, widths, args.repeat = 2000, [10, 14], 1
    print(machine_info() + "\n")
    print(profiling_report(rows=args.rows, widths=widths, repeat=args.repeat, postgres_dsn=args.postgres_dsn,
                           quick=args.quick))  # fmt: skip


if __name__ == "__main__":
    main()
