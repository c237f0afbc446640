"""The migration lock's common shape. Each warehouse has its own mechanism (one module each in this
package; docs/schemas/MIGRATION_GUIDE.md, "Locks"), and the dbt package takes the same lock in its
operations (macros/engine/lock.sql)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from profilemesh.errors import StoreBusy, UsageError
from profilemesh.store import DEFAULT_LOCK_TIMEOUT, DEFAULT_STALE_AFTER
from profilemesh.store.target import StorageTarget

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_LOCK_TTL",
    "DEFAULT_STALE_AFTER",
    "LOCK_TTL_ENV",
    "LockHolder",
    "MigrationLock",
    "ProcessBoundLock",
    "Release",
    "configured_lock_ttl",
    "lock_ttl_seconds",
    "poll",
]
# A lease's time to live (Snowflake's migration lease, the run leases of run_lock.py): a killed holder's
# lease is free again this many seconds after its last renewal.
LOCK_TTL_ENV = "PROFILEMESH_LOCK_TTL_SECONDS"
DEFAULT_LOCK_TTL = 300
# The engine and the CLI name their sessions and leases "<what> user@host:pid".
_APPLIED_BY = re.compile(r"(?P<user>[^\s@]+)@(?P<host>[^\s:]+):(?P<pid>\d+)$")


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
    shared: bool = False  # PostgreSQL: a writer (profile, drift, retention) keeping migrations out
    stale: bool = False
    why: str = ""
    token: str | None = None  # lease: what a release compares against

    def __post_init__(self) -> None:
        client = _APPLIED_BY.search(self.holder or "")
        if client and self.pid is None:
            self.host, self.pid = client.group("host"), int(client.group("pid"))

    def describe(self) -> str:
        """'pid 123 (profilemesh migrate ops@box:42, since ...)' for a session, the holder for a lease."""
        if self.backend_pid is not None:
            return f"pid {self.backend_pid} ({self.holder}, since {self.since})"
        parts = [self.holder or "unknown holder"]
        if self.host or self.pid:
            parts.append(f"host {self.host or '?'} pid {self.pid or '?'}")
        if self.since is not None:
            parts.append(f"since {self.since}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("token")
        return {k: (str(v) if isinstance(v, dt.datetime | dt.timedelta) else v) for k, v in data.items()}


@dataclass(frozen=True)
class Release:
    """What `migrate unlock` did: released or not, and the one line that says why."""

    released: bool
    message: str


class MigrationLock:
    """The migration lock of one store."""

    mechanism: ClassVar[str]
    # Its holder can be looked up without trying to take the lock (DuckDB's can only be found by trying).
    observable: ClassVar[bool] = True

    def __init__(self, target: StorageTarget):
        self.target = target

    def holder(
        self, *, stale_after: float = DEFAULT_STALE_AFTER, include_shared: bool = False, include_expired: bool = False
    ) -> LockHolder | None:
        """The current holder (a migration's; with include_shared, a writer's too; with include_expired, a
        lease past its expiry, which `migrate unlock` clears), or None when free."""
        raise NotImplementedError

    def exclude_migrations(self, conn: Connection, timeout: float) -> None:
        """In a writer's transaction, before it writes: no migration runs until that transaction ends
        (or, where the lock has no shared mode, none is running now)."""

    @contextlib.contextmanager
    def exclusive(self, timeout: float, *, purpose: str) -> Iterator[None]:
        """Held by the CLI around work outside the engine's operations (the query views' build)."""
        yield

    def release(self, holder: LockHolder, *, force: bool) -> Release:
        """Release a held lock: a stale one, or with force a live one."""
        raise NotImplementedError

    def may_release(self, holder: LockHolder, *, force: bool, if_stale: bool) -> tuple[bool, str]:
        """Whether `migrate unlock` may release this holder, and if not, the hint that says what would."""
        allowed = holder.stale if (if_stale or not force) else True
        if allowed:
            return True, ""
        return False, f"it looks stale ({holder.why})" if holder.stale else "rerun with --force to release it anyway"

    def busy(self, holder: LockHolder | None, timeout: float, what: str = "") -> StoreBusy:
        who = holder.describe() if holder is not None else "another session"
        return StoreBusy(f"store busy: the migration lock is held by {who}; waited {timeout:g} s{what}")


class ProcessBoundLock(MigrationLock):
    """A lock that ends only with its holder's transaction or process (DuckDB's file, SQLite's write
    lock): nobody else can release it, and its holder is found by trying to take it."""

    observable = False
    # Why `migrate unlock` cannot release it, and what to do instead.
    unreleasable: ClassVar[str]

    def may_release(self, holder: LockHolder, *, force: bool, if_stale: bool) -> tuple[bool, str]:
        return False, self.unreleasable

    def release(self, holder: LockHolder, *, force: bool) -> Release:
        return Release(False, self.unreleasable)


def poll(take: Callable[[], bool], timeout: float, interval: float, on_timeout: Callable[[], Exception]) -> None:
    """Try `take` until it succeeds or `timeout` seconds have passed, then raise on_timeout()."""
    deadline = time.monotonic() + timeout
    while not take():
        if time.monotonic() >= deadline:
            raise on_timeout()
        time.sleep(interval)


def lock_ttl_seconds(text: str) -> int:
    """PROFILEMESH_LOCK_TTL_SECONDS: a whole number of seconds, at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"{LOCK_TTL_ENV} must be a whole number of seconds (1 or more), got {text!r}")
    return int(text)


def configured_lock_ttl() -> int:
    """The lease TTL this process uses: PROFILEMESH_LOCK_TTL_SECONDS, or DEFAULT_LOCK_TTL."""
    text = os.environ.get(LOCK_TTL_ENV)
    return lock_ttl_seconds(text) if text else DEFAULT_LOCK_TTL
