"""Calling the package's engine operations (migrate, repair, retention): the arguments every call
carries, and handing back a Snowflake lease that a failed operation could not release itself."""

from __future__ import annotations

from typing import Any

from profilemesh.dbt.outcomes import OperationOutcome
from profilemesh.dbt.session import DbtSession
from profilemesh.store.identity import applied_by, profilemesh_version


def engine_args(lock_timeout: float) -> dict[str, Any]:
    """Who runs the operation (recorded in the ledger and in the lock holder's name), and how long it
    waits for the migration lock."""
    return {"lock_timeout": lock_timeout, "applied_by": applied_by(), "profilemesh_version": profilemesh_version()}


def release_lease(session: DbtSession, outcome: OperationOutcome) -> None:
    """After an operation died on a SQL error: hand back its lease now rather than after its TTL (the
    lock of the other warehouses ended with the operation)."""
    if session.target.warehouse.lock_outlives_session and outcome.invocation_id:
        session.run_operation("profilemesh_migrate_release_lease", {"token": outcome.invocation_id})
