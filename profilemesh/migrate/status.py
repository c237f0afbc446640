"""`migrate status` and `migrate history`: the ledger read with SQLAlchemy, no dbt import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilemesh.connection import StorageTarget
from profilemesh.migrate.ledger import lock_holder, read_ledger
from profilemesh.package import migration_files


@dataclass
class MigrationStatus:
    store: str
    dialect: str
    db_version: int
    head_version: int
    state: str
    pending: list[dict[str, Any]] = field(default_factory=list)
    last_attempt: dict[str, Any] | None = None
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    lock_holder: dict[str, Any] | None = None
    unversioned_tables: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def exit_code(self) -> int:
        """0 only when the store is at the code's head with no failed attempt."""
        return 0 if self.state == "up_to_date" else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "dialect": self.dialect,
            "db_version": self.db_version,
            "head_version": self.head_version,
            "state": self.state,
            "message": self.message,
            "pending": self.pending,
            "last_attempt": self.last_attempt,
            "unresolved": self.unresolved,
            "lock_holder": self.lock_holder,
            "unversioned_tables": self.unversioned_tables,
        }


def migration_status(target: StorageTarget, *, package: Path | None = None) -> MigrationStatus:
    migrations = migration_files(package)
    head = len(migrations)
    snapshot = read_ledger(target)
    current = snapshot.current_version
    status = MigrationStatus(
        store=target.describe(),
        dialect=target.dialect,
        db_version=current,
        head_version=head,
        state="up_to_date",
        pending=[{"version": m.version, "title": m.title} for m in migrations if m.version > current],
        last_attempt=snapshot.attempts[-1] if snapshot.attempts else None,
        unresolved=snapshot.unresolved,
        lock_holder=lock_holder(target),
    )
    holder = status.lock_holder
    if snapshot.unresolved and snapshot.unresolved[-1]["status"] == "started" and holder and not holder.get("shared"):
        # A 'started' attempt while the lock is held is a migration running now, not a crashed one.
        running = snapshot.unresolved[-1]
        status.state = "in_progress"
        status.message = (
            f"attempt {running['attempt_id']} ({running['operation']} of version {running['version']}) is "
            f"running, holding the migration lock ({status.lock_holder['application']}): wait for it to finish"
        )
    elif snapshot.unresolved:
        worst = snapshot.unresolved[-1]
        how = f"failed at step {worst.get('failed_step')}" if worst["status"] == "failed" else "did not finish"
        status.state = "failed_attempt"
        status.message = (
            f"attempt {worst['attempt_id']} ({worst['operation']} of version {worst['version']}) {how}: "
            "run `profilemesh migrate repair`"
        )
    elif current > head:
        status.state = "ahead"
        status.message = (
            f"storage is at version {current}, ahead of this ProfileMesh (head {head}): upgrade profilemesh"
        )
    elif not snapshot.attempts and snapshot.storage_tables:
        status.state = "unversioned"
        status.unversioned_tables = snapshot.storage_tables
        status.message = (
            "an unversioned ProfileMesh store was found: `profilemesh migrate apply` adopts it as "
            f"version 1 and migrates it to {head}"
        )
    elif current < head:
        status.state = "behind"
        status.message = (
            f"storage is at version {current}, this ProfileMesh needs {head}: run `profilemesh migrate apply`"
        )
    else:
        status.message = f"storage is at version {current}, up to date"
    return status


def history(target: StorageTarget) -> list[dict[str, Any]]:
    """Every attempt recorded in the ledger, oldest first."""
    return read_ledger(target).attempts
