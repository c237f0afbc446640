"""Opening the store with SQLAlchemy, and what a driver's error means to the user.

Engines have no pool and are disposed on exit: DuckDB allows one read-write process per file, and
dbt opens the same file for migrations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.errors import DatabaseError, StoreBusy, first_line
from profilemesh.store.target import StorageTarget


@contextlib.contextmanager
def connect(target: StorageTarget, *, read_only: bool = True) -> Iterator[Connection]:
    """A connection to the store, closed (and its engine disposed) on exit; driver errors become
    DatabaseError or StoreBusy with one clear line."""
    engine = target.warehouse.create_engine(target.connection, read_only=read_only)
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.DBAPIError as exc:
        raise database_error(target, exc) from exc
    finally:
        engine.dispose()


def database_error(target: StorageTarget, exc: sa.exc.DBAPIError, *, what: str | None = None) -> DatabaseError:
    """A driver error as one line, naming the store (or `what` was being done); a file another process
    holds is "store busy"."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    busy = target.warehouse.busy_holder(text)
    if busy is not None:
        return StoreBusy(f"store busy: {target.connection.filepath} is held by {busy.describe()}")
    return DatabaseError(f"{what or target.describe()}: {first_line(text)}")


def check_reachable(target: StorageTarget) -> None:
    """Fail fast with one clear line when a server is unreachable, before dbt's slower start."""
    if target.warehouse.has_server:
        with connect(target):
            pass
