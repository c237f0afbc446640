"""The warehouse a command reads (`source`, the storage connection by default) beside the store it
writes: the connections `profile` and `monitor` hold, and a source's errors worded as the source's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.errors import DatabaseError, first_line
from profilemesh.store.connect import database_error
from profilemesh.store.target import StorageTarget
from profilemesh.warehouses import ConnectionConfig, warehouse_for


@contextlib.contextmanager
def source_and_store(source: ConnectionConfig, target: StorageTarget) -> Iterator[tuple[Connection, Connection]]:
    """The source read-only, the store read-write; one connection for both when they are one file that
    only one process may open read-write (DuckDB). A source that cannot be opened is named as the source."""
    same_file = target.warehouse.single_writer_file and source.same_database(target.connection)
    store_engine = target.warehouse.create_engine(target.connection)
    source_engine = store_engine if same_file else warehouse_for(source.type).create_engine(source, read_only=True)
    try:
        with store_engine.connect() as store:
            if same_file:
                yield store, store
            else:
                try:
                    src = source_engine.connect()
                except sa.exc.DBAPIError as exc:
                    raise source_error(source, exc) from exc
                with src:
                    yield src, store
    except sa.exc.DBAPIError as exc:
        raise database_error(target, exc) from exc
    finally:
        store_engine.dispose()
        source_engine.dispose()


def source_error(source: ConnectionConfig, exc: sa.exc.DBAPIError) -> DatabaseError:
    """A driver error on the source connection, as one line naming the source (never the store)."""
    where = warehouse_for(source.type).describe(source)
    return DatabaseError(f"source {where}: {first_line(str(exc.orig or exc))}")
