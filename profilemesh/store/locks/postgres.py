"""PostgreSQL: a session advisory lock keyed on the ledger's location, (20557, hashtext('<schema>.
profilemesh_schema_version')), so two stores in one database do not block each other. Migrations hold
it exclusively; writers hold it shared for their transaction. The server releases it when the holder's
session ends, so a killed holder never leaves it behind; what can be left is a session whose client
hangs: idle for `stale_after` seconds, it looks stale, and releasing it means ending that session
(pg_terminate_backend), which is only done with force."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.contract import LEDGER_TABLE, PG_ADVISORY_LOCK_CLASS
from profilemesh.errors import DatabaseError
from profilemesh.store.connect import connect
from profilemesh.store.identity import applied_by
from profilemesh.store.locks.base import DEFAULT_STALE_AFTER, LockHolder, MigrationLock, Release, poll

HOLDERS = sa.text(  # the sessions holding an advisory lock of this class and name
    "SELECT a.pid, a.application_name, a.client_addr, a.client_hostname, a.backend_start, a.query_start, "
    "a.state, EXTRACT(EPOCH FROM (now() - a.state_change)) AS idle_seconds, l.mode "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :lock_class AND l.objsubid = 2 "
    # Advisory locks are per database: the same key in another database is another store.
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.objid = hashtext(:lock_name)::oid "
    "ORDER BY l.mode = 'ExclusiveLock' DESC"  # a migration before the writers holding it shared
)
_WRITER_INTERVAL = 0.25
_MIGRATION_INTERVAL = 0.2


class PostgresAdvisoryLock(MigrationLock):
    mechanism = "postgres advisory lock"

    @property
    def key(self) -> dict[str, Any]:
        return {"lock_class": PG_ADVISORY_LOCK_CLASS, "lock_name": f"{self.target.schema}.{LEDGER_TABLE}"}

    def holder(
        self, *, stale_after: float = DEFAULT_STALE_AFTER, include_shared: bool = False, include_expired: bool = False
    ) -> LockHolder | None:
        with connect(self.target) as conn:
            return self._holder_on(conn, stale_after, include_shared)

    def _holder_on(self, conn: Connection, stale_after: float, include_shared: bool) -> LockHolder | None:
        row = conn.execute(HOLDERS, self.key).first()
        if row is None or (row.mode != "ExclusiveLock" and not include_shared):
            return None
        idle_seconds = None if row.idle_seconds is None else float(row.idle_seconds)
        stale = (row.state or "").startswith("idle") and (idle_seconds or 0.0) >= stale_after
        return LockHolder(
            mechanism=self.mechanism,
            holder=row.application_name or None,
            host=row.client_hostname or (None if row.client_addr is None else str(row.client_addr)),
            backend_pid=row.pid,
            since=row.backend_start,
            query_start=row.query_start,
            state=row.state,
            idle_seconds=idle_seconds,
            shared=row.mode != "ExclusiveLock",
            stale=stale,
            why=f"{row.state} for {idle_seconds:.0f} s" if stale else f"{row.state or 'unknown state'}, not idle long",
        )

    def exclude_migrations(self, conn: Connection, timeout: float) -> None:
        """`pg_try_advisory_xact_lock_shared`, polled: a writer that starts during a migration waits for
        it (then checks the version it left), and a migration waits for the writers in flight to commit."""
        take = sa.text("SELECT pg_try_advisory_xact_lock_shared(:lock_class, hashtext(:lock_name))")
        poll(
            lambda: bool(conn.execute(take, self.key).scalar()),
            timeout,
            _WRITER_INTERVAL,
            lambda: self.busy(self.holder(), timeout, " for the migration to finish before writing"),
        )

    @contextlib.contextmanager
    def exclusive(self, timeout: float, *, purpose: str) -> Iterator[None]:
        """Concurrent applies must not race in dbt's create-then-rename of a view: the build holds the
        migration's lock, in a session named like the engine's so `migrate status` says who holds it."""
        with connect(self.target, read_only=False) as conn:
            name = f"profilemesh {purpose} {applied_by()}"[:63]
            conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
            take = sa.text("SELECT pg_try_advisory_lock(:lock_class, hashtext(:lock_name))")
            poll(
                lambda: bool(conn.execute(take, self.key).scalar()),
                timeout,
                _MIGRATION_INTERVAL,
                lambda: self.busy(self.holder(), timeout),
            )
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:lock_class, hashtext(:lock_name))"), self.key)

    def may_release(self, holder: LockHolder, *, force: bool, if_stale: bool) -> tuple[bool, str]:
        if not force:  # ending someone's session is never done without --force
            hint = "rerun with --force to release it anyway"
            if holder.stale:
                hint = f"it looks stale ({holder.why}); `profilemesh migrate unlock --force` ends its session"
            return False, hint
        return super().may_release(holder, force=force, if_stale=if_stale)

    def release(self, holder: LockHolder, *, force: bool, wait: float = 10.0) -> Release:
        with connect(self.target) as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.backend_pid})
            deadline = time.monotonic() + wait
            while self._holder_on(conn, 0.0, include_shared=False) is not None:
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        f"backend pid {holder.backend_pid} still holds the migration lock after {wait:g} s"
                    )
                time.sleep(0.1)
        return Release(True, f"released: ended the session of backend pid {holder.backend_pid}")
