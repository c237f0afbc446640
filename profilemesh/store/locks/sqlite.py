"""SQLite: the file's write lock is the migration lock. A migration operation runs in one `BEGIN
IMMEDIATE` transaction (macros/engine/lock.sql, sqlite__acquire_migration_lock), which SQLite grants to
one connection at a time; the lock ends with the transaction, and with its process if that dies, so
nobody else can release it. Writers take the same lock for their own transaction (the store's write
engine begins with BEGIN IMMEDIATE), so a writer and a migration never overlap. SQLite does not say who
holds it: the holder is found by trying to take it."""

from __future__ import annotations

import sqlite3

from profilemesh.errors import DatabaseError, first_line
from profilemesh.store.locks.base import DEFAULT_STALE_AFTER, LockHolder, ProcessBoundLock


class SQLiteWriteLock(ProcessBoundLock):
    mechanism = "sqlite write lock"
    unreleasable = (
        "a SQLite write lock ends with its transaction or its process and cannot be released by another one: "
        "stop that process"
    )

    def holder(
        self, *, stale_after: float = DEFAULT_STALE_AFTER, include_shared: bool = False, include_expired: bool = False
    ) -> LockHolder | None:
        target = self.target
        if target.absent():
            return None
        # Without waiting (timeout 0): SQLite refuses BEGIN IMMEDIATE at once while another connection holds
        # the write lock.
        probe = sqlite3.connect(str(target.connection.filepath), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return None
        except sqlite3.OperationalError as exc:
            if target.warehouse.busy_holder(str(exc)) is None:
                raise DatabaseError(f"{target.describe()}: {first_line(str(exc))}") from exc
        finally:
            probe.close()
        return LockHolder(mechanism=self.mechanism, why="held by a running process (SQLite does not say which)")
