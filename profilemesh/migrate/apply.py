"""`migrate apply` and `migrate repair`: the dbt package's operations, driven through dbtRunner."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from profilemesh.context import Context
from profilemesh.dbt.engine import engine_args, release_lease
from profilemesh.dbt.outcomes import ATTEMPT, STEP, OperationOutcome, summarize_dbt_error
from profilemesh.dbt.session import DbtSession
from profilemesh.errors import MigrationFailed, UsageError
from profilemesh.migrate import views
from profilemesh.migrate.results import ApplyResult, RepairResult
from profilemesh.store.connect import check_reachable
from profilemesh.store.ledger import read_ledger
from profilemesh.store.locks import DEFAULT_LOCK_TIMEOUT


def apply(
    ctx: Context,
    *,
    target_version: int | None = None,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    build_views: bool = True,
    grant_read: Sequence[str] = (),
) -> ApplyResult:
    """Migrate the store to target_version (default: head), adopting an unversioned ProfileMesh store first.

    At head the query views are (re)built, unless build_views is False (a program that only writes
    saves a `dbt run`); then each role in grant_read may read the views and tables. With dry_run the
    result's `statements` hold the exact SQL, ledger writes included, and nothing is changed (an absent
    DuckDB file is not even created).
    """
    if target_version is not None and target_version < 0:
        raise UsageError("--target must be 0 or more")
    if grant_read and not ctx.target.warehouse.has_roles:
        raise UsageError(
            f"--grant-read: {ctx.target.warehouse.name} has no roles; who may read the store is who may read its file"
        )
    _ = ctx.package.migrations  # a malformed package fails here, before any connection
    check_reachable(ctx.target)
    args = {"target_version": target_version, "dry_run": dry_run, **engine_args(lock_timeout)}
    if dry_run and ctx.target.absent():
        return _dry_run_on_scratch_copy(ctx, args)
    session = ctx.dbt()
    if not dry_run:
        views.drop_before_migrating(ctx, session, target_version, lock_timeout)
    result = ApplyResult.read(_run_engine(session, "profilemesh_migrate", args, lock_timeout))
    if not dry_run and build_views and result.to_version == result.head:
        built = views.build(session, lock_timeout, unless_current=not result.applied)
        result.views, result.views_current = built or [], built is None
    if not dry_run:
        for role in grant_read:
            _run_engine(session, "profilemesh_grant_read", {"role": role}, lock_timeout)
            result.granted_read.append(role)
    return result


def repair(
    ctx: Context, *, rollback: bool = False, dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> RepairResult:
    """Converge after a failed or interrupted attempt (finish it, or with rollback undo it)."""
    check_reachable(ctx.target)
    session = ctx.dbt()
    args = {"rollback": rollback, "dry_run": dry_run, **engine_args(lock_timeout)}
    result = RepairResult.read(_run_engine(session, "profilemesh_migrate_repair", args, lock_timeout))
    if not dry_run and result.repaired:
        # A repair that finished a migration to head leaves the store where apply would: views built.
        snapshot = read_ledger(ctx.target)
        if snapshot.current_version == ctx.head and not snapshot.unresolved:
            result.views = views.build(session, lock_timeout) or []
    return result


def _run_engine(session: DbtSession, macro: str, args: dict[str, Any], lock_timeout: float) -> dict[str, Any]:
    outcome = session.run_operation(macro, args, lock_timeout=lock_timeout)
    if not outcome.success:
        _record_failed_attempt(session, outcome, lock_timeout)
    return outcome.result()


def _record_failed_attempt(session: DbtSession, outcome: OperationOutcome, lock_timeout: float) -> None:
    """A step failed inside an attempt: mark the attempt failed, then raise MigrationFailed. (dbt macros
    cannot catch errors, so recording the failure is a second operation.)"""
    if outcome.refusal is not None:
        return  # the engine refused, and handed back what it held
    attempt = outcome.last(ATTEMPT)
    if attempt is None:
        release_lease(session, outcome)  # a SQL error outside any attempt
        return
    step = outcome.last(STEP)
    failed_step = step["step"] if step and step["attempt_id"] == attempt["attempt_id"] else None
    error = summarize_dbt_error(outcome.error or "unknown error")
    what = "repair of migration" if attempt.get("operation") == "repair" else "migration"
    if session.target.warehouse.operation_is_one_transaction:
        raise MigrationFailed(
            f"{what} {attempt['version']} failed at step {failed_step}: {error} (the whole operation was rolled "
            "back: the store is as it was before this command; fix the cause and run it again)"
        )
    recorded = session.run_operation(
        "profilemesh_migrate_record_failure",
        {
            "attempt_id": attempt["attempt_id"],
            "failed_step": failed_step,
            "error_message": error,
            "takeover_token": outcome.invocation_id,
        },
        lock_timeout=lock_timeout,
    )
    note = "recorded" if recorded.success else "left as 'started' (recording the failure failed too)"
    hint = "run `profilemesh migrate repair --rollback`" if what != "migration" else "run `profilemesh migrate repair`"
    raise MigrationFailed(
        f"{what} {attempt['version']} failed at step {failed_step}: {error} "
        f"(attempt {attempt['attempt_id']} {note}; {hint})"
    )


def _dry_run_on_scratch_copy(ctx: Context, args: dict[str, Any]) -> ApplyResult:
    """Plan against an empty file of the same name elsewhere: same SQL, and the real path stays absent."""
    scratch = Path(tempfile.mkdtemp(prefix="profilemesh-plan-"))
    try:
        name = Path(str(ctx.target.connection.filepath)).name
        connection = dataclasses.replace(ctx.target.connection, filepath=str(scratch / name))
        scratch_ctx = dataclasses.replace(ctx, target=dataclasses.replace(ctx.target, connection=connection))
        return ApplyResult.read(scratch_ctx.dbt().run_operation("profilemesh_migrate", args).result())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
