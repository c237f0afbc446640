"""Section 10: a metadata pass (`profilemesh monitor`) over many tables, against its floor.

    python benchmarks/monitor.py [--tables 500] [--repeat 5] [--quick] [--postgres-dsn DSN]

`tables` tables (10 schemas `mon_0`..`mon_9`, a few rows each) in a migrated store on DuckDB and on
PostgreSQL, watched with `monitor: {schemas: ['mon_*']}`. Timed through the library
(`profilemesh.api.monitor`: connections, the store check, the schema listing, the one catalog query,
the previous pass read back, and the run's 500 rows written in one transaction), each pass after the
previous one (so it reads a previous pass and writes its figures), median after a warm-up. The floor
is the bare catalog query on an open connection (`catalog_stats`).

Target (issue 16): a metadata pass over 500 tables under 2 s on each.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import stores
import yaml
from harness import markdown_table, met, postgres, print_section, section_parser

from profilemesh.api import Context, monitor
from profilemesh.warehouses.catalog_stats import catalog_stats

TARGET_SECONDS = 2.0
SCHEMAS = 10


def _config(store: stores.BenchStore, directory: Path) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data["monitor"] = {"schemas": ["mon_*"]}
    path = directory / "monitor.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _measure(kind: str, directory: Path, dsn: str | None, tables: int, repeat: int) -> list[object]:
    store = stores.new_migrated_store(kind, directory, dsn)
    engine = store.engine()
    schemas = [f"mon_{i}" for i in range(SCHEMAS)]
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            for i in range(tables):
                name = f"{schemas[i % SCHEMAS]}.t_{i}"
                conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER, loaded_at TIMESTAMP)")
                conn.exec_driver_sql(f"INSERT INTO {name} VALUES ({i}, TIMESTAMP '2024-01-01'), (0, NULL)")
        with engine.connect() as conn:
            floor = stores.median(lambda: catalog_stats(conn, kind, schemas), repeat)
            found = len(catalog_stats(conn, kind, schemas))
            conn.rollback()
    finally:
        engine.dispose()
    ctx = _config(store, directory)
    passes: list[int] = []
    timing = stores.median(lambda: passes.append(len(monitor(ctx).tables)), repeat)
    stores.drop_store(store, dsn)
    assert found == tables and set(passes) == {tables}, (found, passes)
    return [store.label, tables, floor, timing, f"{timing / floor:.0f}x", met(timing < TARGET_SECONDS)]


def monitor_report(*, tables: int, repeat: int, dsn: str) -> tuple[str, list[list[object]]]:
    """Markdown for section 10, and its targets rows."""
    table = []
    with tempfile.TemporaryDirectory(prefix="pm-bench-mon-") as tmp:
        for kind in ("duckdb", "postgres"):
            table.append(_measure(kind, Path(tmp) / kind, dsn if kind == "postgres" else None, tables, repeat))
    headers = ["warehouse", "tables", "floor s (the catalog query)", "monitor pass s", "pass / floor",
               f"target < {TARGET_SECONDS:.0f} s"]  # fmt: skip
    text = (
        f"{tables} tables in {SCHEMAS} schemas, watched by `monitor: {{schemas: ['mon_*']}}`; each pass through "
        "`profilemesh.api.monitor` (connections, the store check, the schema listing, the one catalog query, "
        f"the previous pass read back, the run's {tables} rows and their results written in one transaction), "
        f"median of {repeat} after a warm-up, each pass after the one before. The floor is the bare catalog "
        "query on an open connection (`duckdb_tables()`, `pg_class` joined to `pg_stat_user_tables`).\n\n"
        + markdown_table(headers, table)
    )
    targets = [[f"{r[0]}: metadata pass over {r[1]} tables < 2 s", f"{r[3]:.3f} s", r[5], ""] for r in table]
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=5)
    parser.add_argument("--tables", type=int, default=500)
    args = parser.parse_args()
    tables = 20 if args.quick else args.tables
    stores.WARMUP = 0 if args.quick else 1
    with postgres(args.postgres_dsn) as dsn:
        text, targets = monitor_report(tables=tables, repeat=1 if args.quick else args.repeat, dsn=dsn)
        stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    main()
