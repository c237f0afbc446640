"""Reading the ledger and the storage catalog with SQLAlchemy Core (no dbt: the fast path).

The ledger's DDL lives in the dbt package; here we only read, selecting whichever known columns
the store's ledger has, so an older ledger is still readable.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from profilemesh.connection import StorageTarget, create_engine, duckdb_file_exists
from profilemesh.errors import DatabaseError, StoreBusy

LEDGER_TABLE = "profilemesh_schema_version"
LEDGER_COLUMNS = (
    "attempt_id",
    "version",
    "description",
    "migration_script",
    "checksum",
    "operation",
    "status",
    "started_at",
    "applied_at",
    "finished_at",
    "execution_ms",
    "steps_total",
    "steps_completed",
    "failed_step",
    "error_message",
    "resolved_by",
    "applied_by",
    "profilemesh_version",
    "dialect",
)
PG_LOCK_CLASS = 20557  # the advisory lock's first key, 'PM'; the engine uses the same number


@dataclass(frozen=True)
class LedgerSnapshot:
    exists: bool
    attempts: list[dict[str, Any]]
    storage_tables: list[str]

    @property
    def current_version(self) -> int:
        versions = [a["version"] for a in self.attempts if a.get("status") == "succeeded"]
        return max(versions, default=0)

    @property
    def unresolved(self) -> list[dict[str, Any]]:
        return [a for a in self.attempts if a.get("status") in ("started", "failed") and a.get("resolved_by") is None]

    def applied_checksums(self) -> dict[int, str]:
        return {a["version"]: a["checksum"] for a in self.attempts if a.get("status") == "succeeded"}


@contextlib.contextmanager
def connect(target: StorageTarget, *, read_only: bool = True) -> Iterator[Connection]:
    """A connection that is closed and whose engine is disposed on exit (DuckDB file lock)."""
    engine = _engine(target, read_only=read_only)
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.DBAPIError as exc:
        raise database_error(target, exc) from exc
    finally:
        engine.dispose()


def _engine(target: StorageTarget, *, read_only: bool) -> Engine:
    return create_engine(target.connection, read_only=read_only)


def database_error(target: StorageTarget, exc: sa.exc.DBAPIError) -> DatabaseError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    first = " ".join(text.strip().splitlines()[:1])
    busy = re.search(r"Could not set lock on file.*?(?:\(PID (\d+)\))?", text, re.DOTALL)
    if busy:
        holder = f"process {busy.group(1)}" if busy.group(1) else "another process"
        return StoreBusy(f"store busy: {target.connection.filepath} is held by {holder}")
    return DatabaseError(f"{target.describe()}: {first}")


def read_ledger(target: StorageTarget) -> LedgerSnapshot:
    """The ledger's attempts, oldest first, and which storage tables exist. Never creates anything."""
    if not duckdb_file_exists(target.connection):
        return LedgerSnapshot(exists=False, attempts=[], storage_tables=[])
    with connect(target) as conn:
        return read_ledger_on(conn, target)


def read_ledger_on(conn: Connection, target: StorageTarget) -> LedgerSnapshot:
    inspector = sa.inspect(conn)
    schema = target.schema
    present = [name for name in _storage_table_names(target) if inspector.has_table(name, schema=schema)]
    if not inspector.has_table(LEDGER_TABLE, schema=schema):
        return LedgerSnapshot(exists=False, attempts=[], storage_tables=present)
    # The ledger's columns from an empty SELECT: reflection (get_columns) costs ~0.4 s on DuckDB, most
    # of `migrate status` (benchmarks/migrations.py).
    probe = sa.select(sa.literal_column("*")).select_from(sa.table(LEDGER_TABLE, schema=schema)).limit(0)
    columns = conn.execute(probe).keys()
    available = {name.lower() for name in columns}
    names = [name for name in LEDGER_COLUMNS if name in available]
    table = sa.table(LEDGER_TABLE, *(sa.column(name) for name in names), schema=schema)
    query = sa.select(*table.c).order_by(table.c.attempt_id)
    attempts = [dict(zip(names, row, strict=True)) for row in conn.execute(query)]
    for attempt in attempts:
        for key in ("attempt_id", "version", "resolved_by", "steps_total", "steps_completed", "execution_ms"):
            if attempt.get(key) is not None:
                attempt[key] = int(attempt[key])
    return LedgerSnapshot(exists=True, attempts=attempts, storage_tables=present)


def _storage_table_names(target: StorageTarget) -> list[str]:
    s = target.storage
    return [s.runs_table, s.results_table, s.events_table, s.table_state_table]


LEASE_TABLE = "profilemesh_migration_lock"


def lock_holder(target: StorageTarget) -> dict[str, Any] | None:
    """Who holds the migration lock now (PostgreSQL session lock, Snowflake lease), or None.
    On DuckDB the holder of the file shows up as "store busy" when the file is opened."""
    if target.dialect == "snowflake":
        return _lease_holder(target)
    if target.dialect != "postgres":
        return None
    query = sa.text(
        "SELECT a.pid, a.application_name, a.backend_start, a.client_addr, l.mode "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :lock_class AND l.objsubid = 2 "
        # Advisory locks are per database: the same key in another database is another store.
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.objid = hashtext(:lock_name)::oid "
        "ORDER BY l.mode = 'ExclusiveLock' DESC"  # a migration before the writers holding it shared
    )
    with connect(target) as conn:
        row = conn.execute(query, {"lock_class": PG_LOCK_CLASS, "lock_name": f"{target.schema}.{LEDGER_TABLE}"}).first()
    if row is None:
        return None
    return {
        "pid": row.pid,
        "application": row.application_name,
        "since": row.backend_start,
        "client": None if row.client_addr is None else str(row.client_addr),
        "shared": row.mode != "ExclusiveLock",  # a writer (profile, drift) keeping migrations out
    }


def _lease_holder(target: StorageTarget) -> dict[str, Any] | None:
    with connect(target) as conn:
        if not sa.inspect(conn).has_table(LEASE_TABLE, schema=target.schema):
            return None
        lease = sa.table(
            LEASE_TABLE,
            sa.column("holder"),
            sa.column("acquired_at"),
            sa.column("expires_at"),
            sa.column("token"),
            schema=target.schema,
        )
        query = sa.select(lease.c.holder, lease.c.acquired_at, lease.c.expires_at).where(
            lease.c.token.is_not(None), lease.c.expires_at >= sa.func.sysdate()
        )
        row = conn.execute(query).first()
    if row is None:
        return None
    return {"pid": None, "application": row.holder, "since": row.acquired_at, "expires_at": row.expires_at}
