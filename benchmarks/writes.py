"""Section 2 (writes): result rows through the ProfileMesh writer (`profilemesh.store.writes.insert`,
what `profile` and `drift` call) against the database's bulk path and the slower ways of inserting.

    python benchmarks/writes.py [--rows 100000] [--repeat 3] [--quick] [--postgres-dsn DSN]

floor: COPY of the rows, already rendered as CSV (PostgreSQL); INSERT ... SELECT from the rows already
staged as a CSV file (DuckDB). Only the database's work is timed.
ours: the writer, from Python tuples (CSV rendering and staging included), in one transaction.
multi-row VALUES: INSERTs of 1,000 rows each with bound values. row by row: one INSERT per row,
measured on at most 10,000 rows and scaled to the full count (it is linear, and slow). Both go
straight to the driver's cursor, so no SQLAlchemy overhead is counted against them.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
import stores
from harness import markdown_table, met, postgres, print_section, ratio, section_parser

from profilemesh.contract import STORAGE_COLUMNS
from profilemesh.store import writes
from profilemesh.warehouses.csv_rows import csv_text

RESULT_COLUMNS = STORAGE_COLUMNS["results"][1:]  # what a profile run writes: all but the identity `id`

BATCH = 1_000
ROW_BY_ROW_SAMPLE = 10_000


def result_rows(count: int) -> list[tuple]:
    """Rows shaped like a profile's results: 5 metrics per column, 200 columns per table."""
    at = dt.datetime(2026, 1, 1, 12, 0, 0)
    metrics = ("mean", "min", "max", "null_count", "distinct_count")
    rows = []
    for i in range(count):
        value = (i * 37) % 10_000 / 7
        rows.append(
            (f"run-{i // 1000:09d}", f"table_{i // 1000 % 50}", "sales", f"col_{i % 1000 // 5}", "DOUBLE",
             metrics[i % 5], repr(value), at, value, "double")
        )  # fmt: skip
    return rows


def writers(store: stores.BenchStore, rows: list[tuple], staged: Path) -> dict[str, Callable[[sa.Connection], None]]:
    target = store.target
    columns = RESULT_COLUMNS
    dicts = [dict(zip(columns, row, strict=True)) for row in rows]
    rendered = csv_text(rows)
    staged.write_text(rendered, encoding="utf-8")
    quoted = ", ".join(columns)

    def floor(conn: sa.Connection) -> None:
        if store.kind == "postgres":
            import io

            cursor = conn.connection.driver_connection.cursor()
            cursor.copy_expert(f"COPY {store.table('profilemesh_results')} ({quoted}) FROM STDIN WITH (FORMAT csv)",
                               io.StringIO(rendered))  # fmt: skip
        else:
            conn.exec_driver_sql(
                f"INSERT INTO {store.table('profilemesh_results')} ({quoted}) SELECT * FROM read_csv(?, header = false,"
                " all_varchar = true, allow_quoted_nulls = false)",
                (str(staged),),
            )

    def ours(conn: sa.Connection) -> None:
        writes.insert(conn, target, "results", dicts)

    table = store.table("profilemesh_results")
    mark = "%s" if store.kind == "postgres" else "?"
    one = "(" + ", ".join([mark] * len(columns)) + ")"

    def values(conn: sa.Connection) -> None:
        cursor = conn.connection.driver_connection.cursor()
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            placeholders = ", ".join([one] * len(batch))
            cursor.execute(f"INSERT INTO {table} ({quoted}) VALUES {placeholders}", [v for row in batch for v in row])

    def row_by_row(conn: sa.Connection) -> None:
        cursor = conn.connection.driver_connection.cursor()
        for row in rows[:ROW_BY_ROW_SAMPLE]:
            cursor.execute(f"INSERT INTO {table} ({quoted}) VALUES {one}", row)

    return {"floor": floor, "ours": ours, "multi-row VALUES": values, "row by row": row_by_row}


def time_writes(store: stores.BenchStore, rows: list[tuple], repeat: int) -> dict[str, float]:
    engine = store.engine()
    clear = f"DELETE FROM {store.table('profilemesh_results')}"
    timings = {}
    handle, staged = tempfile.mkstemp(prefix="pm-bench-stage-", suffix=".csv")
    os.close(handle)
    try:
        for name, write in writers(store, rows, Path(staged)).items():

            def setup() -> None:
                with engine.begin() as conn:
                    conn.exec_driver_sql(clear)

            def once(write: Callable[[sa.Connection], None] = write) -> None:
                with engine.begin() as conn:
                    write(conn)

            slow = name == "row by row"
            seconds = stores.timed(once, setup=setup, repeat=1 if slow else repeat).median
            if slow and len(rows) > ROW_BY_ROW_SAMPLE:
                seconds *= len(rows) / ROW_BY_ROW_SAMPLE
            timings[name] = seconds
        with engine.connect() as conn:  # the last writer's rows are all there
            written = conn.exec_driver_sql(f"SELECT count(*) FROM {store.table('profilemesh_results')}").scalar()
        assert written == min(len(rows), ROW_BY_ROW_SAMPLE), written
    finally:
        engine.dispose()
        os.unlink(staged)
    return timings


def writes_report(*, rows: int, repeat: int, postgres_dsn: str, quick: bool = False) -> tuple[str, list[list[object]]]:
    """Markdown for section 2, and the targets rows ([target, figure, met/missed])."""
    data = result_rows(rows)
    render = stores.median(lambda: csv_text(data), repeat)
    table_rows, targets = [], []
    with tempfile.TemporaryDirectory(prefix="pm-bench-writes-") as tmp:
        for kind in ("duckdb", "postgres"):
            directory = Path(tmp) / kind
            store = stores.new_migrated_store(kind, directory, postgres_dsn)
            timings = time_writes(store, data, repeat)
            floor = timings["floor"]
            for name, seconds in timings.items():
                table_rows.append([store.label, name, seconds, ratio(seconds, floor)])
            ok = timings["ours"] <= 2 * floor
            reason = "" if ok else (
                f"rendering the rows as CSV in Python takes {render:.2f} s of the writer's {timings['ours']:.2f} s; "
                "the floor starts from CSV already rendered"
            )  # fmt: skip
            targets.append([f"writes, {store.label}: ours ≤ 2x floor", ratio(timings["ours"], floor), met(ok), reason])
            stores.drop_store(store, postgres_dsn)
    note = (
        f"{rows:,} result rows per write, one transaction each, median of {repeat} after a warm-up; "
        f"row by row measured on {min(rows, ROW_BY_ROW_SAMPLE):,} rows and scaled. Rendering the rows as CSV "
        f"(part of ours, not of the floor) takes {render:.3f} s."
    )
    text = note + "\n\n" + markdown_table(["engine", "method", "seconds", "vs floor"], table_rows)
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=3)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    rows, repeat = (500, 1) if args.quick else (args.rows, args.repeat)
    with postgres(args.postgres_dsn) as dsn:
        text, targets = writes_report(rows=rows, repeat=repeat, postgres_dsn=dsn, quick=args.quick)
        stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    main()
