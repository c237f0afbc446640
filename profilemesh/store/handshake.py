"""The schema-version handshake every writer does in the transaction that writes (read N-1, write N):
migrations are never run implicitly, and writes and migrations never overlap (the lock's
`exclude_migrations`, per warehouse)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from profilemesh.store.ledger import read_ledger_on
from profilemesh.store.locks import DEFAULT_LOCK_TIMEOUT, migration_lock
from profilemesh.store.state import StoreState
from profilemesh.store.target import StorageTarget


def require_writable(
    conn: Connection, target: StorageTarget, head: int, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> int:
    """The store's version if it is exactly `head` with nothing to repair; otherwise a clear refusal.
    On PostgreSQL no migration can start before the calling transaction ends."""
    migration_lock(target).exclude_migrations(conn, lock_timeout)
    return StoreState(read_ledger_on(conn, target), head, target.describe()).require_writable()
