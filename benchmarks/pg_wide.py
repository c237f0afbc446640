"""Section 1b (PostgreSQL, wide tables): ProfileMesh's exact plan at 50 and at 200 columns, with the
distinct counts' text operands in-line (`(col || '') COLLATE "C"`) and each string column's lengths
computed in its distinct branch from that value, in a subquery fenced with `OFFSET NULL` (today's
plan), and as before (`col COLLATE "C"`, the lengths in the aggregate query), side by side, with each
statement's buffer hits from EXPLAIN (ANALYZE, BUFFERS) and the 200-to-50-column ratio (target: at most
5x for 4x the values).

    python benchmarks/pg_wide.py [--rows 1000000] [--postgres-dsn postgresql://...]

At 200 columns of profile_plans.py's mix a row is wider than PostgreSQL's 2 kB TOAST threshold, so its
32-character strings are stored out of line; at 50 columns nothing is. The tables are built with
profile_plans.py's generator (a throwaway cluster unless a DSN is given; with a DSN, tables of the same
name are reused).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import machine_info, markdown_table, postgres, postgres_version
from profile_plans import copy_to_postgres, generate

from profilemesh.config.settings import METRIC_NAMES
from profilemesh.profiling.columns import profiled_column
from profilemesh.profiling.execute import run_plan
from profilemesh.profiling.planner import TablePlan, plan_table
from profilemesh.warehouses.postgres import PostgreSQL

WIDTHS = (50, 200)


class _AsRead(PostgreSQL):
    """The plan before: text compared bytewise but read as stored (a TOAST pointer stays a pointer), and
    string lengths in the aggregate query."""

    lengths_in_distinct_branch = False

    def distinct_operand(self, col: Any, *, plain_text: bool, collated: bool) -> Any:
        return col.collate("C") if plain_text and not collated else col


def _plan(conn: sa.Connection, table: str, warehouse: PostgreSQL) -> TablePlan:
    columns = [profiled_column(c["name"], c["type"]) for c in sa.inspect(conn).get_columns(table)]
    return plan_table(None, table, columns, METRIC_NAMES, warehouse=warehouse)


def _measure(engine: sa.Engine, table: str, warehouse: PostgreSQL) -> dict[str, Any]:
    with engine.connect() as conn:
        plan = _plan(conn, table, warehouse)
        conn.rollback()
        started = time.perf_counter()
        run_plan(conn, plan)
        seconds = time.perf_counter() - started
        conn.rollback()
        hits = []
        statements = plan.statements(conn.dialect)
        for sql in statements:
            if sql.upper().startswith("SET "):
                conn.exec_driver_sql(sql)
                continue
            explained = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).scalar()[0]["Plan"]
            hits.append(explained.get("Shared Hit Blocks", 0) + explained.get("Shared Read Blocks", 0))
        conn.rollback()
    return {"seconds": seconds, "hits": hits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-dsn", default=None)
    args = parser.parse_args()
    print(machine_info())
    with postgres(args.postgres_dsn) as dsn:
        pg = sa.create_engine(dsn, poolclass=sa.pool.NullPool)
        duck = sa.create_engine("duckdb:///:memory:", poolclass=sa.pool.StaticPool)
        with pg.connect() as conn:
            print(f"PostgreSQL {postgres_version(conn)}")
        rows: list[list[object]] = []
        results: dict[tuple[str, int], dict[str, Any]] = {}
        for width in WIDTHS:
            table = f"w{width}_{args.rows}"
            with pg.connect() as conn:
                present = conn.exec_driver_sql(f"SELECT to_regclass('{table}') IS NOT NULL").scalar()
                toast = None
            if not present:
                generate(duck, table, args.rows, width)
                copy_to_postgres(duck, pg, table)
            with pg.connect() as conn:
                pages, toast = conn.exec_driver_sql(
                    "SELECT pg_relation_size(oid) / 8192, pg_relation_size(reltoastrelid) / 8192 FROM pg_class "
                    f"WHERE relname = '{table}'"
                ).one()
            for name, warehouse in (("ours", PostgreSQL()), ("before", _AsRead())):
                measured = _measure(pg, table, warehouse)
                results[(name, width)] = measured
                rows.append(
                    [
                        name,
                        width,
                        pages,
                        toast,
                        f"{measured['seconds']:.2f}",
                        " / ".join(f"{h:,}" for h in measured["hits"]),
                    ]
                )
                print(rows[-1], flush=True)
        print(
            markdown_table(
                ["plan", "columns", "table pages", "TOAST pages", "seconds", "buffer hits per statement"],
                rows,
            )
        )
        for name in ("ours", "before"):
            ratio = results[(name, 200)]["seconds"] / results[(name, 50)]["seconds"]
            print(f"{name}: 200 columns take {ratio:.1f}x the 50-column time (target: at most 5x)")
        pg.dispose()


if __name__ == "__main__":
    main()
