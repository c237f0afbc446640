"""What a warehouse's own metadata says about its tables, without reading a row of them: one catalog
query per metadata pass (`profilemesh monitor`) for every watched schema. One reader per warehouse,
looked up by the warehouse's name as WAREHOUSES is; how fresh and how exact each figure is, per
warehouse, is in docs/guides/MONITORING.md.

- PostgreSQL: `pg_stat_user_tables` (n_live_tup, and the counters n_tup_ins/upd/del that move with every
  committed change) over `pg_class` (reltuples, ANALYZE's estimate, for a table without statistics).
  PostgreSQL records no "last altered" time: a change is seen as the counters moving between passes.
- DuckDB: `duckdb_tables()` (estimated_size: the rows stored, deleted rows included until a checkpoint
  reclaims them). No change time either: a change is seen as the count moving.
- Snowflake: `INFORMATION_SCHEMA.TABLES` (ROW_COUNT, LAST_ALTERED).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class TableStats:
    """One table as its warehouse's catalog describes it (names as SQLAlchemy reflects them)."""

    schema: str
    table: str
    row_count: int | None
    changes: int | None = None  # a counter that moves with every committed change (PostgreSQL)
    inserted: int | None = None  # rows inserted since the statistics were reset (PostgreSQL)
    last_altered: dt.datetime | None = None  # naive UTC (Snowflake)


@dataclass(frozen=True)
class CatalogReader:
    """source: what the pass reads, recorded with each run (runs.scope.metadata). sql: schema, table,
    rows, changes, inserted, last altered (NULL where the warehouse has no such figure), for the
    schemas bound as :schemas (expanding), in the catalog's spelling."""

    source: str
    sql: str
    schemas_sql: str = "SELECT schema_name FROM information_schema.schemata"


_POSTGRES = CatalogReader(
    "pg_stat_user_tables",
    "SELECT n.nspname, c.relname, "
    "CASE WHEN s.relid IS NOT NULL THEN s.n_live_tup WHEN c.reltuples >= 0 THEN c.reltuples::bigint END, "
    "s.n_tup_ins + s.n_tup_upd + s.n_tup_del, s.n_tup_ins, NULL "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE n.nspname IN :schemas AND c.relkind IN ('r', 'p')",
    # Every schema, whatever the role may use in it (information_schema hides the others).
    "SELECT nspname FROM pg_catalog.pg_namespace",
)
_DUCKDB = CatalogReader(
    "duckdb_tables",
    "SELECT schema_name, table_name, estimated_size, NULL, NULL, NULL FROM duckdb_tables() "
    "WHERE database_name = current_database() AND schema_name IN :schemas AND NOT temporary",
    "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()",
)
_SNOWFLAKE = CatalogReader(
    "information_schema.tables",
    "SELECT table_schema, table_name, row_count, NULL, NULL, last_altered FROM information_schema.tables "
    "WHERE table_schema IN :schemas AND table_type = 'BASE TABLE'",
)
READERS = {"postgres": _POSTGRES, "duckdb": _DUCKDB, "snowflake": _SNOWFLAKE}


def catalog_reader(warehouse_name: str) -> CatalogReader:
    return READERS[warehouse_name]


def schema_names(conn: Connection, warehouse_name: str) -> list[str]:
    """The schemas of the connection's database, names as reflected."""
    import sqlalchemy as sa

    dialect = conn.dialect
    names = conn.execute(sa.text(catalog_reader(warehouse_name).schemas_sql)).scalars()
    return sorted(str(dialect.normalize_name(n)) if dialect.requires_name_normalize else str(n) for n in names)


def catalog_stats(conn: Connection, warehouse_name: str, schemas: Sequence[str]) -> list[TableStats]:
    """Every table of `schemas` (names as reflected) with its catalog figures: one query."""
    import sqlalchemy as sa

    if not schemas:
        return []
    dialect = conn.dialect
    folds = dialect.requires_name_normalize  # Snowflake: the catalog spells case-insensitive names in upper case

    def catalog(name: str) -> str:
        return str(dialect.denormalize_name(name)) if folds else name

    def reflected(name: Any) -> str:
        return str(dialect.normalize_name(str(name))) if folds else str(name)

    reader = catalog_reader(warehouse_name)
    query = sa.text(reader.sql).bindparams(sa.bindparam("schemas", expanding=True))
    found = []
    for row in conn.execute(query, {"schemas": [catalog(s) for s in schemas]}):
        schema, table, rows, changes, inserted, altered = row
        found.append(
            TableStats(
                reflected(schema),
                reflected(table),
                None if rows is None else int(rows),
                None if changes is None else int(changes),
                None if inserted is None else int(inserted),
                _naive_utc(altered),
            )
        )
    return sorted(found, key=lambda s: (s.schema, s.table))


def _naive_utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
