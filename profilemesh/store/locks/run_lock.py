"""One run of a command at a time on a store (`profilemesh alert`: two runs at once could both send a
message before either records it). Not the migration lock: the run takes this one beside it, writes
through the writers' version handshake as before, and waits for another run's hold to end, then starts
from what that run recorded.

- PostgreSQL: a session advisory lock on a key of its own, (20557, hashtext('<schema>.<name>')), held
  by a connection of its own for the whole run; the server ends it with that session, so a killed run
  leaves nothing behind.
- Snowflake and SQLite: a lease row named `<name>` in profilemesh_migration_lock (the migration lease's
  table; the migration uses the row `migrate`), taken by compare-and-set, renewed before each unit of
  work and cleared at the end. A killed run's lease expires after its TTL (PROFILEMESH_LOCK_TTL_SECONDS,
  default 300 s), on the client's clock.
- DuckDB: nothing more. The run's read-write connection holds the file for the whole run, so a second
  process cannot open it ("store busy" at once, as for every writer)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.contract import LEASE_TABLE, PG_ADVISORY_LOCK_CLASS
from profilemesh.errors import StoreBusy
from profilemesh.store.connect import connect
from profilemesh.store.identity import applied_by
from profilemesh.store.locks.base import configured_lock_ttl, poll
from profilemesh.store.locks.postgres import HOLDERS
from profilemesh.store.target import StorageTarget

_INTERVAL = 0.25  # seconds between tries while another run holds the lock


class RunLock:
    """A held run lock; `renew()` before each unit of work (a lease's heartbeat; a no-op elsewhere)."""

    def renew(self) -> None:
        """Extend the hold; StoreBusy if it was lost (a lease that expired and was taken over)."""


@contextlib.contextmanager
def run_lock(target: StorageTarget, name: str, *, timeout: float, purpose: str) -> Iterator[RunLock]:
    """Hold the store's `name` lock (a command's name: `alert`) for the block, waiting up to `timeout`
    seconds for another holder; StoreBusy, naming the holder, after that. `purpose` names the holder for
    whoever waits (`profilemesh alert`)."""
    kind = target.warehouse.name
    if kind == "postgres":
        with _advisory(target, name, timeout, purpose) as lock:
            yield lock
    elif kind in ("snowflake", "sqlite"):
        with _lease(target, name, timeout, purpose) as lock:
            yield lock
    else:  # DuckDB: the caller's read-write connection holds the file
        yield RunLock()


def _busy(name: str, holder: str, timeout: float) -> StoreBusy:
    return StoreBusy(f"store busy: another `{name}` run holds the {name} lock ({holder}); waited {timeout:g} s")


# --- PostgreSQL: a session advisory lock on its own key ---------------------------------------------


@contextlib.contextmanager
def _advisory(target: StorageTarget, name: str, timeout: float, purpose: str) -> Iterator[RunLock]:
    key = {"lock_class": PG_ADVISORY_LOCK_CLASS, "lock_name": f"{target.schema}.{name}"}
    with connect(target, read_only=False) as conn:
        conn.execute(sa.text("SELECT set_config('application_name', :name, false)"),
                     {"name": f"{purpose} {applied_by()}"[:63]})  # fmt: skip
        take = sa.text("SELECT pg_try_advisory_lock(:lock_class, hashtext(:lock_name))")

        def holder() -> str:
            row = conn.execute(HOLDERS, key).first()
            return "it ended meanwhile" if row is None else f"pid {row.pid}, {row.application_name or 'no name'}"

        poll(lambda: bool(conn.execute(take, key).scalar()), timeout, _INTERVAL, lambda: _busy(name, holder(), timeout))
        conn.commit()  # the lock is the session's: it outlives this transaction
        try:
            yield RunLock()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:lock_class, hashtext(:lock_name))"), key)
            conn.commit()


# --- Snowflake and SQLite: a lease row ----------------------------------------------------------------


class _Lease(RunLock):
    """The row `name` of the lease table, held while its token is ours and it has not expired; read and
    written on a connection of its own, each change committed at once."""

    def __init__(self, conn: Connection, target: StorageTarget, name: str, holder: str):
        self.conn, self.name, self.holder = conn, name, holder[:255]
        self.token = uuid.uuid4().hex
        self.ttl = dt.timedelta(seconds=configured_lock_ttl())
        self.table = sa.table(
            LEASE_TABLE,
            sa.column("lock_name", sa.String),
            sa.column("holder", sa.String),
            sa.column("token", sa.String),
            *(sa.column(c, sa.DateTime) for c in ("acquired_at", "expires_at", "heartbeat_at")),
            schema=target.schema,
        )
        self.other = ""  # who held it at the last refused try

    def try_take(self) -> bool:
        conn, lease, now = self.conn, self.table, utc_now()
        mine = lease.c.lock_name == self.name
        seed = sa.select(sa.literal(self.name)).where(~sa.exists().where(mine))
        conn.execute(sa.insert(lease).from_select(["lock_name"], seed))
        free = sa.or_(lease.c.token.is_(None), lease.c.expires_at < now)
        conn.execute(sa.update(lease).where(mine, free).values(
            holder=self.holder, token=self.token, acquired_at=now, heartbeat_at=now, expires_at=now + self.ttl,
        ))  # fmt: skip
        # Ours only if every row of that name (a lost race can seed two) carries our token.
        others = sa.or_(lease.c.token.is_(None), lease.c.token != self.token)
        other = conn.execute(sa.select(lease.c.holder, lease.c.expires_at).where(mine, others)).first()
        if other is not None:
            self._clear()
            self.other = f"{other.holder or 'a run that is starting'}, until {other.expires_at} UTC"
        conn.commit()
        return other is None

    def renew(self) -> None:
        lease, now = self.table, utc_now()
        ours = sa.and_(lease.c.token == self.token, lease.c.expires_at >= now)
        renewed = self.conn.execute(sa.update(lease).where(ours).values(heartbeat_at=now, expires_at=now + self.ttl))
        self.conn.commit()
        if not renewed.rowcount:
            raise StoreBusy(f"lost the {self.name} lease (it expired and may have been taken over); stopping here")

    def release(self) -> None:
        self._clear()
        self.conn.commit()

    def _clear(self) -> None:
        lease = self.table
        cleared = {"holder": sa.null(), "token": sa.null(), "expires_at": sa.null()}  # a bound None: 1970 on one driver
        self.conn.execute(sa.update(lease).where(lease.c.token == self.token).values(**cleared))


@contextlib.contextmanager
def _lease(target: StorageTarget, name: str, timeout: float, purpose: str) -> Iterator[RunLock]:
    with connect(target, read_only=False) as conn:
        if target.warehouse.present_relations(conn, target.schema, [LEASE_TABLE]):
            lease = _Lease(conn, target, name, f"{purpose} {applied_by()}")
            # Two runs that seeded a row each both back off: a random pause lets one take both next time.
            poll(lambda: lease.try_take() or _pause(), timeout, _INTERVAL, lambda: _busy(name, lease.other, timeout))
            try:
                yield lease
            finally:
                lease.release()
            return
        conn.rollback()
    # No lease table: no migration has reached this store, and the run's version handshake refuses it in
    # its own words (`run profilemesh migrate apply`).
    yield RunLock()


def _pause() -> bool:
    time.sleep(random.uniform(0, _INTERVAL))
    return False
