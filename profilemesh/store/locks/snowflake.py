"""Snowflake: a lease row in profilemesh_migration_lock, taken by the engine with a compare-and-set
(macros/engine/lock.sql). Stale once expired; a stale lease is cleared, a live one only with force.
The clear is a compare-and-set on the token that was read, so a lease taken meanwhile is kept. The
lease has no shared mode: a writer checks that no migration holds it, and otherwise fails "store busy"."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.contract import LEASE_TABLE
from profilemesh.errors import StoreBusy
from profilemesh.store.connect import connect
from profilemesh.store.locks.base import DEFAULT_STALE_AFTER, LockHolder, MigrationLock, Release

_LEASE_COLUMNS = ("lock_name", "holder", "token", "acquired_at", "expires_at", "heartbeat_at")


class SnowflakeLease(MigrationLock):
    mechanism = "snowflake lease"

    def _table(self) -> sa.TableClause:
        return sa.table(LEASE_TABLE, *(sa.column(n) for n in _LEASE_COLUMNS), schema=self.target.schema)

    def holder(
        self, *, stale_after: float = DEFAULT_STALE_AFTER, include_shared: bool = False, include_expired: bool = False
    ) -> LockHolder | None:
        with connect(self.target) as conn:
            return self._holder_on(conn, include_expired)

    def _holder_on(self, conn: Connection, include_expired: bool) -> LockHolder | None:
        if not self.target.warehouse.present_relations(conn, self.target.schema, [LEASE_TABLE]):
            return None
        lease = self._table()
        query = sa.select(
            lease.c.holder,
            lease.c.token,
            lease.c.acquired_at,
            lease.c.expires_at,
            (lease.c.expires_at < sa.func.sysdate()).label("expired"),
        ).where(lease.c.lock_name == "migrate", lease.c.token.is_not(None))
        row = conn.execute(query).first()
        if row is None or (row.expired and not include_expired):
            return None
        return LockHolder(
            mechanism=self.mechanism,
            holder=row.holder,
            since=row.acquired_at,
            expires_at=row.expires_at,
            token=row.token,
            stale=bool(row.expired),
            why=f"expired at {row.expires_at} UTC" if row.expired else f"live until {row.expires_at} UTC",
        )

    def exclude_migrations(self, conn: Connection, timeout: float) -> None:
        holder = self._holder_on(conn, include_expired=False)
        if holder is not None:
            raise StoreBusy(
                f"store busy: a migration holds the lease ({holder.holder} until {holder.expires_at} UTC); "
                "retry when it has finished"
            )

    def release(self, holder: LockHolder, *, force: bool) -> Release:
        lease = self._table()
        condition = sa.and_(lease.c.lock_name == "migrate", lease.c.token == holder.token)
        if not force:
            condition = sa.and_(condition, lease.c.expires_at < sa.func.sysdate())
        with connect(self.target, read_only=False) as conn:
            cleared = conn.execute(sa.update(lease).where(condition).values(holder=None, token=None, expires_at=None))
            conn.commit()
        if not cleared.rowcount:
            return Release(False, "the lease changed hands while releasing it; nothing was released")
        return Release(True, f"released the lease of {holder.describe()}")
