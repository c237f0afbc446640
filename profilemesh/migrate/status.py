"""`migrate status` and `migrate history`: the ledger read with SQLAlchemy, no dbt import."""

from __future__ import annotations

from profilemesh.context import Context
from profilemesh.migrate.results import MigrationStatus, PendingMigration
from profilemesh.store.ledger import Attempt, read_ledger
from profilemesh.store.locks import migration_lock


def migration_status(ctx: Context) -> MigrationStatus:
    """Schema version, pending migrations, last attempt and lock holder, and the state they add up to."""
    snapshot = read_ledger(ctx.target)
    state = ctx.store_state(snapshot)
    current = snapshot.current_version
    lock = migration_lock(ctx.target)
    holder = lock.holder(include_shared=True) if lock.observable and not ctx.target.absent() else None
    status = MigrationStatus(
        store=ctx.target.describe(),
        warehouse=ctx.target.warehouse.name,
        db_version=current,
        head_version=ctx.head,
        state="up_to_date",
        message=f"storage is at version {current}, up to date",
        pending=[PendingMigration(m.version, m.title) for m in ctx.package.migrations if m.version > current],
        last_attempt=snapshot.attempts[-1] if snapshot.attempts else None,
        unresolved=list(snapshot.unresolved),
        lock_holder=holder,
    )
    blocking = state.blocking_attempt
    if blocking is not None and blocking.status == "started" and holder is not None and not holder.shared:
        # A 'started' attempt while the lock is held is a migration running now, not a crashed one.
        status.state = "in_progress"
        status.message = (
            f"{blocking.label()} is running, holding the migration lock ({holder.holder}): wait for it to finish"
        )
    elif blocking is not None:
        status.state, status.message = "failed_attempt", state.unfinished(blocking)
    elif current > ctx.head:
        status.state, status.message = "ahead", state.ahead()
    elif snapshot.unversioned:
        status.state = "unversioned"
        status.unversioned_tables = list(snapshot.storage_tables)
        status.message = (
            "an unversioned ProfileMesh store was found: `profilemesh migrate apply` adopts it as "
            f"version 1 and migrates it to {ctx.head}"
        )
    elif current < ctx.head:
        status.state, status.message = "behind", state.behind()
    return status


def history(ctx: Context) -> list[Attempt]:
    """Every attempt recorded in the ledger, oldest first: applies, adoptions, repairs, failures."""
    return list(read_ledger(ctx.target).attempts)
