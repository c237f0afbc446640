"""DuckDB: the file itself is the lock. DuckDB grants read-write access to one process at a time; the
lock belongs to the operating system and ends with its process, so nobody else can release it. The
holder is named from DuckDB's own lock error."""

from __future__ import annotations

import re

import sqlalchemy as sa

from profilemesh.store.connect import database_error
from profilemesh.store.locks.base import DEFAULT_STALE_AFTER, LockHolder, ProcessBoundLock

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?")


class DuckDBFileLock(ProcessBoundLock):
    mechanism = "duckdb file lock"
    unreleasable = "a DuckDB file lock ends with its process and cannot be released by another one: stop that process"

    def holder(
        self, *, stale_after: float = DEFAULT_STALE_AFTER, include_shared: bool = False, include_expired: bool = False
    ) -> LockHolder | None:
        target = self.target
        if target.absent():
            return None
        engine = target.warehouse.create_engine(target.connection, read_only=False)
        try:
            with engine.connect():
                return None
        except sa.exc.DBAPIError as exc:
            text = str(exc.orig if exc.orig is not None else exc)
            if target.warehouse.busy_holder(text) is None:
                raise database_error(target, exc) from exc
        finally:
            engine.dispose()
        holder = LockHolder(mechanism=self.mechanism, why="held by a running process")
        found = _HOLDER.search(text)
        if found:  # DuckDB names the program, its PID and its user
            holder.holder, holder.pid, holder.host = found.group("program"), int(found.group("pid")), "this host"
            if found.group("user"):
                holder.holder = f"{found.group('program')} (user {found.group('user')})"
        return holder
