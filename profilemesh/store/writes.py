"""Writing rows to the storage tables, inside the caller's transaction, through each warehouse's fast
path (COPY on PostgreSQL, a staged CSV on DuckDB, batched executemany on Snowflake)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.errors import DatabaseError, first_line
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


@contextlib.contextmanager
def all_or_nothing(conn: Connection, failed: str) -> Iterator[None]:
    """The block's writes, committed at its end. A driver error rolls them all back and becomes one line,
    `<failed>: <the driver's first line>` (DatabaseError)."""
    try:
        yield
        conn.commit()
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        raise DatabaseError(f"{failed}: {first_line(str(exc.orig or exc))}") from exc
