"""`migrate unlock`: who holds the migration lock, whether it is stale, and releasing it.

Per warehouse (docs/schemas/MIGRATION_GUIDE.md, "Locks"):
- PostgreSQL: a session advisory lock. The server releases it when the holder's session ends, so a
  killed holder never leaves it behind; what can be left is a session whose client hangs. A holder
  idle for `stale_after` seconds looks stale. Releasing means ending that session
  (pg_terminate_backend), which is only done with force.
- Snowflake: a lease row. Stale once expired; a stale lease is cleared, a live one only with force.
  The clear is a compare-and-set on the token that was read, so a lease taken meanwhile is kept.
- DuckDB: the file lock belongs to the operating system and ends with its process; nobody else can
  release it. The holder is named from DuckDB's own lock error.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from profilemesh.connection import StorageTarget, create_engine, duckdb_file_exists
from profilemesh.errors import DatabaseError, UsageError
from profilemesh.migrate.ledger import LEASE_TABLE, LEDGER_TABLE, PG_LOCK_CLASS, connect, database_error

DEFAULT_STALE_AFTER = 300.0
# applied_by is user@host:pid; the engine's PostgreSQL session carries it in application_name.
_APPLIED_BY = re.compile(r"(?P<user>[^\s@]+)@(?P<host>[^\s:]+):(?P<pid>\d+)$")
_DUCKDB_HOLDER = re.compile(
    r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?"
)


@dataclass
class LockHolder:
    """Who holds the migration lock: as much as the lock mechanism records."""

    mechanism: str
    holder: str | None = None  # application name (PostgreSQL), user@host:pid (lease), program (DuckDB)
    host: str | None = None  # the client's host
    pid: int | None = None  # the client process
    backend_pid: int | None = None  # PostgreSQL: the server process holding the lock
    since: Any = None  # PostgreSQL: backend start; lease: acquired at
    state: str | None = None  # PostgreSQL: active / idle / idle in transaction
    idle_seconds: float | None = None  # PostgreSQL: seconds since the session's last state change
    query_start: Any = None
    expires_at: Any = None  # lease
    stale: bool = False
    why: str = ""
    token: str | None = None

    def describe(self) -> str:
        parts = [self.holder or "unknown holder"]
        if self.host or self.pid:
            parts.append(f"host {self.host or '?'} pid {self.pid or '?'}")
        if self.backend_pid is not None:
            parts.append(f"backend pid {self.backend_pid}")
        if self.since is not None:
            parts.append(f"since {self.since}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("token")
        return {k: (str(v) if isinstance(v, dt.datetime | dt.timedelta) else v) for k, v in data.items()}


@dataclass
class UnlockResult:
    holder: LockHolder | None
    released: bool
    message: str
    exit_code: int  # 0 released or nothing to release, 1 refused (the lock is live, or cannot be released)

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": None if self.holder is None else self.holder.to_dict(),
            "released": self.released,
            "message": self.message,
            "exit_code": self.exit_code,
        }


def inspect_lock(target: StorageTarget, *, stale_after: float = DEFAULT_STALE_AFTER) -> LockHolder | None:
    """The current holder of the migration lock, or None when it is free."""
    if target.dialect == "postgres":
        return _pg_holder(target, stale_after)
    if target.dialect == "snowflake":
        return _lease_holder(target)
    return _duckdb_holder(target)


def unlock(
    target: StorageTarget, *, force: bool = False, if_stale: bool = False, stale_after: float = DEFAULT_STALE_AFTER
) -> UnlockResult:
    """Release a stale lock; a live one only with force (and with force and if_stale, only if stale)."""
    if stale_after < 0:
        raise UsageError("--stale-after must be 0 or more")
    holder = inspect_lock(target, stale_after=stale_after)
    if holder is None:
        return UnlockResult(None, False, "no migration lock is held: nothing to release", 0)
    if target.dialect == "duckdb":
        return UnlockResult(
            holder,
            False,
            f"the store file is held by {holder.describe()}; a DuckDB file lock ends with its process and "
            "cannot be released by another one: stop that process",
            1,
        )
    allowed = holder.stale if (if_stale or not force) else True
    if target.dialect == "postgres" and not force:
        allowed = False  # ending someone's session is never done without --force
    if not allowed:
        hint = "rerun with --force to release it anyway"
        if target.dialect == "postgres" and holder.stale:
            hint = f"it looks stale ({holder.why}); `profilemesh migrate unlock --force` ends its session"
        elif holder.stale:
            hint = f"it looks stale ({holder.why})"
        return UnlockResult(holder, False, f"refused: the migration lock is held by {holder.describe()}; {hint}", 1)
    if target.dialect == "postgres":
        _pg_terminate(target, holder)
        return UnlockResult(holder, True, f"released: ended the session of backend pid {holder.backend_pid}", 0)
    if not _lease_clear(target, holder, only_expired=not force):
        return UnlockResult(holder, False, "the lease changed hands while releasing it; nothing was released", 1)
    return UnlockResult(holder, True, f"released the lease of {holder.describe()}", 0)


# --- PostgreSQL ---------------------------------------------------------------------------------

_PG_HOLDER = sa.text(
    "SELECT a.pid, a.application_name, a.client_addr, a.client_hostname, a.backend_start, a.query_start, "
    "a.state, EXTRACT(EPOCH FROM (now() - a.state_change)) AS idle_seconds "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.classid = :lock_class "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.objsubid = 2 AND l.objid = hashtext(:lock_name)::oid"
)


def _pg_key(target: StorageTarget) -> dict[str, Any]:
    return {"lock_class": PG_LOCK_CLASS, "lock_name": f"{target.schema}.{LEDGER_TABLE}"}


def _pg_holder(target: StorageTarget, stale_after: float) -> LockHolder | None:
    with connect(target) as conn:
        row = conn.execute(_PG_HOLDER, _pg_key(target)).first()
    if row is None:
        return None
    holder = LockHolder(
        mechanism="postgres advisory lock",
        holder=row.application_name or None,
        host=row.client_hostname or (None if row.client_addr is None else str(row.client_addr)),
        backend_pid=row.pid,
        since=row.backend_start,
        query_start=row.query_start,
        state=row.state,
        idle_seconds=None if row.idle_seconds is None else float(row.idle_seconds),
    )
    client = _APPLIED_BY.search(row.application_name or "")
    if client:  # the engine names its session "profilemesh migrate user@host:pid"
        holder.host, holder.pid = client.group("host"), int(client.group("pid"))
    idle = (row.state or "").startswith("idle") and (holder.idle_seconds or 0.0) >= stale_after
    holder.stale = idle
    holder.why = (
        f"{row.state} for {holder.idle_seconds:.0f} s" if idle else f"{row.state or 'unknown state'}, not idle long"
    )
    return holder


def _pg_terminate(target: StorageTarget, holder: LockHolder, wait: float = 10.0) -> None:
    with connect(target) as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.backend_pid})
        deadline = time.monotonic() + wait
        while conn.execute(_PG_HOLDER, _pg_key(target)).first() is not None:
            if time.monotonic() >= deadline:
                raise DatabaseError(f"backend pid {holder.backend_pid} still holds the migration lock after {wait:g} s")
            time.sleep(0.1)


# --- Snowflake lease ------------------------------------------------------------------------------


def _lease_table(target: StorageTarget) -> sa.TableClause:
    names = ("lock_name", "holder", "token", "acquired_at", "expires_at", "heartbeat_at")
    return sa.table(LEASE_TABLE, *(sa.column(n) for n in names), schema=target.schema)


def _lease_holder(target: StorageTarget) -> LockHolder | None:
    lease = _lease_table(target)
    with connect(target) as conn:
        if not sa.inspect(conn).has_table(LEASE_TABLE, schema=target.schema):
            return None
        query = sa.select(
            lease.c.holder,
            lease.c.token,
            lease.c.acquired_at,
            lease.c.expires_at,
            (lease.c.expires_at < sa.func.sysdate()).label("expired"),
        ).where(lease.c.lock_name == "migrate", lease.c.token.is_not(None))
        row = conn.execute(query).first()
    if row is None:
        return None
    holder = LockHolder(
        mechanism="snowflake lease",
        holder=row.holder,
        since=row.acquired_at,
        expires_at=row.expires_at,
        token=row.token,
        stale=bool(row.expired),
        why=f"expired at {row.expires_at} UTC" if row.expired else f"live until {row.expires_at} UTC",
    )
    client = _APPLIED_BY.search(row.holder or "")
    if client:
        holder.host, holder.pid = client.group("host"), int(client.group("pid"))
    return holder


def _lease_clear(target: StorageTarget, holder: LockHolder, *, only_expired: bool) -> bool:
    lease = _lease_table(target)
    condition = sa.and_(lease.c.lock_name == "migrate", lease.c.token == holder.token)
    if only_expired:
        condition = sa.and_(condition, lease.c.expires_at < sa.func.sysdate())
    with connect(target, read_only=False) as conn:
        cleared = conn.execute(sa.update(lease).where(condition).values(holder=None, token=None, expires_at=None))
        conn.commit()
    return bool(cleared.rowcount)


# --- DuckDB -------------------------------------------------------------------------------------------


def _duckdb_holder(target: StorageTarget) -> LockHolder | None:
    if not duckdb_file_exists(target.connection):
        return None
    engine = create_engine(target.connection, read_only=False)
    try:
        with engine.connect():
            return None
    except sa.exc.DBAPIError as exc:
        text = str(exc.orig if exc.orig is not None else exc)
        if "Could not set lock" not in text:
            raise database_error(target, exc) from exc
    finally:
        engine.dispose()
    holder = LockHolder(mechanism="duckdb file lock", why="held by a running process")
    found = _DUCKDB_HOLDER.search(text)
    if found:  # DuckDB names the program, its PID and its user
        holder.holder, holder.pid, holder.host = found.group("program"), int(found.group("pid")), "this host"
        if found.group("user"):
            holder.holder = f"{found.group('program')} (user {found.group('user')})"
    return holder
