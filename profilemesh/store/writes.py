"""Writing rows to the storage tables, inside the caller's transaction, through each warehouse's fast
path (COPY on PostgreSQL, a staged CSV on DuckDB, batched executemany on Snowflake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from profilemesh.store.tables import storage_table
from profilemesh.store.target import StorageTarget

Row = dict[str, Any]


def insert(conn: Connection, target: StorageTarget, table: str, rows: Sequence[Row]) -> None:
    """Insert rows (dicts keyed by column name, all with the same keys) into a storage table."""
    if not rows:
        return
    columns = list(rows[0])
    values = [[row[c] for c in columns] for row in rows]
    target.warehouse.insert_rows(conn, storage_table(target, table), columns, values)


def upsert(conn: Connection, target: StorageTarget, table: str, keys: Sequence[str], row: Row) -> None:
    """Insert a row, or update the one with the same key columns, atomically."""
    target.warehouse.upsert(conn, storage_table(target, table), keys, row)
