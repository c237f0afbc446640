"""Section 8b: where a DuckDB run's fixed cost goes (an incremental run with nothing new to read),
each part side by side with the whole run.

    python benchmarks/fixed_cost.py [--repeat 5]

A 100,000-row table read `since_last_run` whose window is empty after the first run: the run is then
its fixed cost. Timed, best of `repeat`: the whole run (`profilemesh.api.profile`), and the parts of
it measured on their own: opening a DuckDB connection, duckdb-engine's column reflection (its
pg_catalog query and its enum lookup) against the same columns and types read from duckdb_columns() as a
run now reads them, and information_schema.columns, the row estimate's EXPLAIN,
and an aggregate statement with and without DuckDB's profiler (what runs.scope.cost reads).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from harness import machine_info, markdown_table

from profilemesh.api import Context, migrate_apply, profile
from profilemesh.warehouses import DuckDB


def _best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="profilemesh-bench-") as tmp:
        root = Path(tmp)
        source = root / "src.duckdb"
        engine = sa.create_engine(f"duckdb:///{source}", poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE ev AS SELECT range AS id, TIMESTAMP '2024-01-01' + to_seconds(range) AS t, "
                "range * 1.5 AS x, 'c' || (range % 5) AS s FROM range(100000)"
            )
        engine.dispose()
        config = {
            "storage": {"connection": {"type": "duckdb", "filepath": str(root / "store.duckdb")}},
            "source": {"type": "duckdb", "filepath": str(source), "schema": "main"},
            "profiling": {"tables": [{"table": "ev", "time_column": "t"}]},
        }
        path = root / "profilemesh.yml"
        path.write_text(yaml.safe_dump(config))
        ctx = Context.load(path)
        migrate_apply(ctx)
        profile(ctx)  # reads everything; the window is empty from now on
        run = _best(lambda: profile(ctx), args.repeat)

        reader = sa.create_engine(f"duckdb:///{source}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool)
        connect = _best(lambda: reader.connect().close(), args.repeat)
        with reader.connect() as conn:
            dialect: Any = conn.dialect
            reflect = _best(lambda: sa.inspect(conn).get_columns("ev", schema="main"), args.repeat)
            ours = _best(lambda: DuckDB().table_columns(conn, "main", "ev"), args.repeat)
            filters = dialect._prepare_filter_names({"ev"})[1]
            query = dialect._columns_query("main", True, sa.engine.ObjectScope.DEFAULT, sa.engine.ObjectKind.ANY)
            catalog = _best(lambda: list(conn.execute(query, filters)), args.repeat)
            enums = _best(lambda: dialect._load_enums(conn, schema="*"), args.repeat)
            schema = _best(
                lambda: conn.exec_driver_sql(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'main' AND table_name = 'ev'"
                ).fetchall(),
                args.repeat,
            )
            explain = _best(lambda: conn.exec_driver_sql("EXPLAIN (FORMAT JSON) SELECT 1 FROM ev").fetchall(), 5)
            aggregate = "SELECT count(*), avg(x), max(length(s)) FROM ev WHERE t > TIMESTAMP '2030-01-01'"
            plain = _best(lambda: conn.exec_driver_sql(aggregate).fetchall(), args.repeat)
            conn.exec_driver_sql("SET enable_profiling = 'no_output'")
            driver: Any = conn.connection.driver_connection

            def profiled() -> None:
                conn.exec_driver_sql(aggregate).fetchall()
                driver.get_profiling_information(format="json")

            metered = _best(profiled, args.repeat)
        reader.dispose()

    rows = [
        ["the whole run (empty window)", run],
        ["open a DuckDB connection (a run opens 2)", connect],
        ["duckdb-engine column reflection (the run's before this change)", reflect],
        ["the same columns and types from duckdb_columns() (the run's now)", ours],
        ["  its pg_catalog columns query", catalog],
        ["  its enum lookup", enums],
        ["information_schema.columns (the same names and types)", schema],
        ["EXPLAIN for the row estimate (profiling.limits)", explain],
        ["an aggregate statement", plain],
        ["the same with DuckDB's profiler on and read (runs.scope.cost)", metered],
    ]
    print(
        markdown_table(
            ["part", "ms", "share of the run"], [[name, f"{s * 1000:.1f}", f"{s / run:.0%}"] for name, s in rows]
        )
    )


if __name__ == "__main__":
    main()
