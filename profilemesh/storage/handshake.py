"""The schema-version handshake every writer does before its first write (read N-1, write N):
migrations are never run implicitly.

Writers and migrations exclude each other:
- PostgreSQL: a writer takes the migration's advisory lock key *shared*, for its transaction
  (`pg_try_advisory_xact_lock_shared`, polled up to WRITE_LOCK_TIMEOUT). A migration holds it
  exclusively, so a writer that starts during a migration waits for it, then checks the version
  the migration left; and a migration waits for the writers in flight to commit.
- DuckDB: one read-write process per file; a writer that finds the file held fails "store busy".
- Snowflake: a live migration lease makes a writer fail "store busy" (a check, not a lock: the
  lease has no shared mode).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.connection import StorageTarget
from profilemesh.errors import CheckFailed, StoreBusy, StoreMissing
from profilemesh.migrate.ledger import LEDGER_TABLE, PG_LOCK_CLASS, lock_holder, read_ledger_on
from profilemesh.package import head_version

WRITE_LOCK_TIMEOUT = 60.0


def require_writable(conn: Connection, target: StorageTarget, *, lock_timeout: float = WRITE_LOCK_TIMEOUT) -> int:
    """The store's version if it is exactly the code's head; otherwise a clear refusal. Called in the
    transaction that writes: on PostgreSQL no migration can start before that transaction ends."""
    _exclude_migrations(conn, target, lock_timeout)
    snapshot = read_ledger_on(conn, target)
    head = head_version()
    current = snapshot.current_version
    if snapshot.unresolved:
        attempt = snapshot.unresolved[-1]
        raise CheckFailed(
            f"storage has an unfinished migration attempt ({attempt['attempt_id']}, version "
            f"{attempt['version']}): run `profilemesh migrate repair`"
        )
    if current == 0:
        raise StoreMissing(f"no ProfileMesh storage in {target.describe()}: run `profilemesh migrate apply`")
    if current < head:
        raise CheckFailed(f"storage is at version {current}, ProfileMesh needs {head}: run `profilemesh migrate apply`")
    if current > head:
        raise CheckFailed(
            f"storage is at version {current}, newer than this ProfileMesh knows ({head}): upgrade profilemesh"
        )
    return current


def _exclude_migrations(conn: Connection, target: StorageTarget, lock_timeout: float) -> None:
    if target.dialect == "snowflake":
        holder = lock_holder(target)
        if holder is not None:
            raise StoreBusy(
                f"store busy: a migration holds the lease ({holder['application']} until "
                f"{holder['expires_at']} UTC); retry when it has finished"
            )
        return
    if target.dialect != "postgres":
        return
    key = {"lock_class": PG_LOCK_CLASS, "lock_name": f"{target.schema}.{LEDGER_TABLE}"}
    take = sa.text("SELECT pg_try_advisory_xact_lock_shared(:lock_class, hashtext(:lock_name))")
    deadline = time.monotonic() + lock_timeout
    while not conn.execute(take, key).scalar():
        if time.monotonic() >= deadline:
            holder = lock_holder(target)
            who = f"pid {holder['pid']} ({holder['application']}, since {holder['since']})" if holder else "a migration"
            raise StoreBusy(
                f"store busy: the migration lock is held by {who}; waited {lock_timeout:g} s for the migration "
                "to finish before writing"
            )
        time.sleep(0.25)
