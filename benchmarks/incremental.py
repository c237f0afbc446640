"""Section 8: what an incremental run costs against a full profile of the same table, side by side.

    python benchmarks/incremental.py [--rows 10000000] [--repeat 3] [--quick] [--postgres-dsn DSN]

A table of `rows` rows over 100 days (id, a timestamp, two floats with NULLs, a low-cardinality
string, a boolean), in time order: DuckDB prunes by its zone maps on the time column; PostgreSQL has
a B-tree index on it. Both timed through the library (`profilemesh.api.profile`, connection, store
check and the run's write included):
- a full profile of the table;
- an incremental run (`time_column`, `window: since_last_run`) after 1% of the rows were added (a day's
  load), each repetition after its own 1% (the setup, untimed);
- the floor: the same warehouse counting the new rows alone (`count(*)` over the window).

Target (issue 16): the incremental run costs at most 3% of the full profile.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
import stores
import yaml
from harness import markdown_table, met, postgres, print_section, section_parser

from profilemesh.api import Context, profile

TARGET = 0.03
DAYS = 100
COLUMNS = (
    "id BIGINT, happened_at TIMESTAMP, amount DOUBLE PRECISION, fee DOUBLE PRECISION, category VARCHAR(20), ok BOOLEAN"
)


def _rows_sql(kind: str, start: int, count: int, total: int) -> str:
    """`count` rows from id `start`, spread evenly over DAYS days of `total` rows (later ids are later)."""
    series = (
        f"generate_series({start}::bigint, {start + count - 1}) AS g(i)"
        if kind == "postgres"
        else f"range({start}, {start + count}) AS g(i)"
    )
    seconds = f"(i * {DAYS * 86400.0 / total})"
    at = (
        f"TIMESTAMP '2024-01-01' + make_interval(secs => {seconds})"
        if kind == "postgres"
        else f"TIMESTAMP '2024-01-01' + to_microseconds(CAST({seconds} * 1000000 AS BIGINT))"
    )
    return (
        f"SELECT i, {at}, CASE WHEN i % 20 = 0 THEN NULL ELSE (i % 1000) * 1.5 END, (i % 97) * 0.25,"
        f" 'cat_' || CAST(i % 12 AS VARCHAR), i % 3 = 0 FROM {series}"
    )


def _config(store: stores.BenchStore, directory: Path, incremental: bool) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    table: dict[str, object] = {"schema": "bench", "table": "events"}
    if incremental:
        table["time_column"] = "happened_at"
    data["source"] = dict(data["storage"]["connection"])
    data["profiling"] = {"tables": [table]}
    path = directory / ("incremental.yml" if incremental else "full.yml")
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _measure(kind: str, directory: Path, dsn: str | None, rows: int, repeat: int) -> list[object]:
    store = stores.new_migrated_store(kind, directory, dsn)
    engine = store.engine()
    increment = max(1, rows // 100)
    added = [rows]
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA bench")
            conn.exec_driver_sql(f"CREATE TABLE bench.events ({COLUMNS})")
            conn.execute(sa.text(f"INSERT INTO bench.events {_rows_sql(kind, 0, rows, rows)}"))
            if kind == "postgres":
                conn.exec_driver_sql("CREATE INDEX events_happened_at ON bench.events (happened_at)")
        if kind == "postgres":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE bench.events")
    finally:
        engine.dispose()
    full, incremental = _config(store, directory, False), _config(store, directory, True)
    full_time = stores.median(lambda: profile(full), repeat)
    profile(incremental)  # the first since_last_run run reads the backlog and sets the high-water mark

    def add_a_day() -> None:
        engine = store.engine()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"INSERT INTO bench.events {_rows_sql(kind, added[0], increment, rows)}"))
        finally:
            engine.dispose()
        added[0] += increment

    timing = stores.timed(lambda: profile(incremental), setup=add_a_day, repeat=repeat)
    check = profile(incremental)  # nothing new: proves the window is what was timed above
    empty = stores.median(lambda: profile(incremental), repeat)  # the run's fixed cost: an empty window
    floor_engine = store.engine()
    try:
        with floor_engine.connect() as conn:
            since = sa.text("SELECT max(happened_at) FROM bench.events")
            newest = conn.execute(since).scalar()
            window = sa.text("SELECT count(*) FROM bench.events WHERE happened_at > :t")
            floor = stores.median(lambda: conn.execute(window, {"t": newest}).scalar(), repeat)
    finally:
        floor_engine.dispose()
    stores.drop_store(store, dsn)
    share = timing.median / full_time
    assert check.tables[0].row_count == 0, check.tables[0]
    return [store.label, rows, increment, full_time, timing.median, empty, floor, f"{share:.1%}", met(share <= TARGET)]


def incremental_report(*, rows: int, repeat: int, dsn: str) -> tuple[str, list[list[object]]]:
    """Markdown for section 8, and its targets rows."""
    table = []
    with tempfile.TemporaryDirectory(prefix="pm-bench-inc-") as tmp:
        for kind in ("duckdb", "postgres"):
            table.append(_measure(kind, Path(tmp) / kind, dsn if kind == "postgres" else None, rows, repeat))
    headers = ["warehouse", "rows", "rows added", "full profile s", "incremental run s", "empty-window run s",
               "floor s (count the new rows)", "incremental / full", "target ≤ 3%"]  # fmt: skip
    text = (
        f"Table of {rows:,} rows over {DAYS} days, in time order (DuckDB: zone maps on the time column; "
        "PostgreSQL: a B-tree index on it); each incremental run after 1% more rows (a day's load), median of "
        f"{repeat} after a warm-up, through `profilemesh.api.profile` (connection, store check and the run's "
        "write included). An empty-window run (nothing new) is the run's fixed cost: connections, the column "
        "reflection, the store's version check and the run's write. The floor is the warehouse counting the new "
        "rows alone.\n\n" + markdown_table(headers, table)
    )
    targets = [
        [f"{r[0]}: incremental run ≤ 3% of a full profile", r[7], r[8], f"fixed cost of a run: {r[5]:.3f} s"]
        for r in table
    ]
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=3)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows
    stores.WARMUP = 0 if args.quick else 1
    with postgres(args.postgres_dsn) as dsn:
        text, targets = incremental_report(rows=rows, repeat=1 if args.quick else args.repeat, dsn=dsn)
        stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    sys.exit(main())
