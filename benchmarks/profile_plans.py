"""Profiling plans side by side, in one run: ProfileMesh's plan against the read floor and the
alternatives it was chosen over. Prints medians and ratios to the floor (absolute times are noisy).

    python benchmarks/profile_plans.py [--rows 1000000] [--columns 50] [--repeat 3] [--quick]
        [--postgres-dsn postgresql://user:pw@127.0.0.1:5432/db]

F0: count(col) of every column in one query (reading every column once, the floor).
F1: the whole metric set, exact distinct counts included, as one aggregate query.
union_all: F1 without its distinct counts, plus one UNION ALL statement of COUNT(DISTINCT) branches.
ours: what `profilemesh profile` runs (the planner's statements), end to end through SQLAlchemy.
On PostgreSQL, union_all and ours run with jit off; F1 is also shown with jit on (the default).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from profilemesh.profiling.columns import profiled_column
from profilemesh.profiling.execute import run_plan
from profilemesh.profiling.planner import plan_table
from profilemesh.profiling.settings import METRIC_NAMES


def generate(duck: sa.Engine, rows: int, columns: int) -> None:
    """A seeded mix: ints (uniform, skewed), floats, low/high-cardinality strings, timestamps, booleans, NULLs."""
    kinds = []
    for i in range(columns):
        kind = i % 6
        null = f"CASE WHEN hash(i, {i}) % 20 = 0 THEN NULL ELSE " if i % 3 == 0 else "("
        expr = [
            f"hash(i * {i + 7}) % 100000",
            f"CAST(pow(hash(i, {i}) % 1000, 2) AS BIGINT) % 100000",
            f"(hash(i, {i}) % 1000000) / 1000.0",
            f"'cat' || (hash(i, {i}) % 20)",
            f"md5(CAST(hash(i, {i}) AS VARCHAR))",
            f"TIMESTAMP '2024-01-01' + to_seconds(hash(i, {i}) % 31536000)",
        ][kind if kind < 6 else 0]
        if i % 12 == 11:
            expr = f"hash(i, {i}) % 2 = 0"
        kinds.append(f"{null}{expr} END" if i % 3 == 0 else f"({expr})")
        kinds[-1] = kinds[-1] + f" AS c{i}"
    with duck.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench")
        conn.exec_driver_sql(f"CREATE TABLE bench AS SELECT {', '.join(kinds)} FROM range({rows}) t(i)")


def copy_to_postgres(duck: sa.Engine, pg: sa.Engine) -> None:
    with duck.connect() as dconn:
        columns = dconn.exec_driver_sql("DESCRIBE bench").fetchall()
        path = Path(tempfile.mkdtemp()) / "bench.csv"
        dconn.exec_driver_sql(f"COPY bench TO '{path}' (HEADER false)")
    pg_types = {
        "BIGINT": "BIGINT",
        "INTEGER": "INTEGER",
        "DOUBLE": "DOUBLE PRECISION",
        "VARCHAR": "TEXT",
        "TIMESTAMP": "TIMESTAMP",
        "BOOLEAN": "BOOLEAN",
        "UBIGINT": "NUMERIC",
        "HUGEINT": "NUMERIC",
    }
    ddl = ", ".join(f"{name} {pg_types.get(str(kind).split('(')[0], 'NUMERIC')}" for name, kind, *_ in columns)
    with pg.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench")
        conn.exec_driver_sql(f"CREATE TABLE bench ({ddl})")
        cursor = conn.connection.driver_connection.cursor()
        with path.open() as data:
            cursor.copy_expert("COPY bench FROM STDIN WITH (FORMAT csv)", data)
        conn.exec_driver_sql("ANALYZE bench")


def measure(label: str, run: Callable[[], None], repeat: int) -> tuple[str, float]:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return label, statistics.median(times)


def plans(engine: sa.Engine, repeat: int) -> list[tuple[str, float]]:
    dialect = engine.dialect.name
    with engine.connect() as conn:
        cols = [profiled_column(c["name"], c["type"]) for c in sa.inspect(conn).get_columns("bench")]
    plan = plan_table(None, "bench", cols, METRIC_NAMES, dialect_name=dialect)
    inline = plan_table(None, "bench", cols, METRIC_NAMES, dialect_name="snowflake")  # distinct inline: F1
    table = sa.table("bench", *(sa.column(c.name) for c in cols))
    floor = sa.select(*(sa.func.count(table.c[c.name]) for c in cols)).select_from(table)

    def execute(*statements, jit: bool = True) -> Callable[[], None]:
        def run() -> None:
            with engine.connect() as conn:
                if dialect == "postgresql" and not jit:
                    conn.exec_driver_sql("SET jit = off")
                for statement in statements:
                    conn.execute(statement).fetchall()

        return run

    def ours() -> None:
        with engine.connect() as conn:
            run_plan(conn, plan)

    results = [
        measure("F0 read floor", execute(floor), repeat),
        measure("F1 one aggregate", execute(inline.aggregate), repeat),
    ]
    if dialect == "postgresql":
        results.append(measure("F1 one aggregate, jit off", execute(inline.aggregate, jit=False), repeat))
    results.append(measure("union_all distinct", execute(plan.aggregate, plan.distinct, jit=False), repeat))
    results.append(measure("ours (profilemesh)", ours, repeat))
    return results


def report(name: str, results: list[tuple[str, float]]) -> None:
    floor = results[0][1]
    print(f"\n{name}")
    print(f"{'plan':<28}{'median s':>10}{'x floor':>10}")
    for label, seconds in results:
        print(f"{label:<28}{seconds:>10.3f}{seconds / floor:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, never a timing")
    parser.add_argument("--postgres-dsn", default=None)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.columns, args.repeat = 2000, 12, 1
    workdir = Path(tempfile.mkdtemp(prefix="profilemesh-bench-"))
    duck = sa.create_engine(f"duckdb:///{workdir / 'bench.duckdb'}", poolclass=sa.pool.NullPool)
    generate(duck, args.rows, args.columns)
    print(f"{args.rows} rows x {args.columns} columns, median of {args.repeat} after a warm-up")
    report("DuckDB", plans(duck, args.repeat))
    if args.postgres_dsn:
        pg = sa.create_engine(args.postgres_dsn, poolclass=sa.pool.NullPool)
        copy_to_postgres(duck, pg)
        report("PostgreSQL", plans(pg, args.repeat))


if __name__ == "__main__":
    main()
