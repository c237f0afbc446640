"""`retention plan|apply` as a library call: validate, run the dbt operation, read its result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilemesh import __version__, testhooks
from profilemesh.connection import StorageTarget, duckdb_file_exists
from profilemesh.dbt_invoke import DbtSession, OperationOutcome, raise_for_outcome, summarize_dbt_error
from profilemesh.errors import DatabaseError, ProfileMeshError, StoreMissing, UsageError
from profilemesh.migrate.ledger import connect
from profilemesh.migrate.operations import DEFAULT_LOCK_TIMEOUT, applied_by

OPERATION = "profilemesh_retention"
DEFAULT_BATCH_SIZE = 500
DEFAULT_KEEP_RUNS = 1
COUNT_KEYS = ("runs", "results", "events")
# Called with each batch the operation committed: {"batch", "kind", "rows"}.
ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class RetentionPolicy:
    keep_days: int
    keep_runs_per_table: int = DEFAULT_KEEP_RUNS
    table: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE

    def validate(self) -> None:
        for option, value, minimum in (
            ("--keep-days", self.keep_days, 0),
            ("--keep-runs-per-table", self.keep_runs_per_table, 0),
            ("--batch-size", self.batch_size, 1),
        ):
            if value < minimum:
                raise UsageError(f"{option} must be {minimum} or more, not {value}")
        if self.table is not None and not self.table.strip(" ."):
            raise UsageError("--table must name a table ([schema.]name)")

    def operation_args(self) -> dict[str, Any]:
        return {
            "keep_days": self.keep_days,
            "keep_runs_per_table": self.keep_runs_per_table,
            "table": self.table,
            "batch_size": self.batch_size,
        }


@dataclass
class RetentionReport:
    """Per table: runs, results and events that would go (plan) or went (apply), and runs kept."""

    dry_run: bool
    keep_days: int
    keep_runs_per_table: int
    table: str | None
    cutoff: dt.datetime
    batches: int
    tables: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {key: sum(row[key] for row in self.tables) for key in COUNT_KEYS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": "plan" if self.dry_run else "apply",
            "keep_days": self.keep_days,
            "keep_runs_per_table": self.keep_runs_per_table,
            "table": self.table,
            "cutoff": self.cutoff,
            "batches": self.batches,
            "totals": self.totals,
            "tables": self.tables,
        }


def run_retention(
    target: StorageTarget,
    policy: RetentionPolicy,
    *,
    apply: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    debug: bool = False,
    package: Path | None = None,
    progress: ProgressCallback | None = None,
) -> RetentionReport:
    """Plan (default) or apply the policy. An apply holds the migration lock while it deletes."""
    policy.validate()
    if lock_timeout < 0:
        raise UsageError(f"--lock-timeout must be 0 or more, not {lock_timeout:g}")
    _check_store(target)
    session = DbtSession(target, debug=debug, package=package)
    args = {
        **policy.operation_args(),
        "dry_run": not apply,
        "lock_timeout": lock_timeout,
        "applied_by": applied_by(),
        "profilemesh_version": f"profilemesh {__version__}",
    }
    outcome = session.run_operation(OPERATION, args, lock_timeout=lock_timeout, on_payload=_watcher(progress))
    if not outcome.success and outcome.last("error") is None:
        _release_lease(session, outcome)
        raise _interrupted(target, outcome, apply)
    result = raise_for_outcome(outcome)
    return RetentionReport(
        dry_run=bool(result["dry_run"]),
        keep_days=int(result["keep_days"]),
        keep_runs_per_table=int(result["keep_runs_per_table"]),
        table=result["table"],
        cutoff=dt.datetime.strptime(result["cutoff"], "%Y-%m-%dT%H:%M:%SZ"),
        batches=int(result["batches"]),
        tables=[_table_row(row) for row in result["tables"]],
    )


def _watcher(progress: ProgressCallback | None) -> Callable[[str, dict[str, Any]], None]:
    """Batches as the operation commits them (progress), and the test hooks' named points."""

    def watch(kind: str, payload: dict[str, Any]) -> None:
        if kind == "retention_children_deleted":
            testhooks.reached(f"retention:children_deleted:{payload['batch']}")
        elif kind == "retention_batch":
            if progress is not None:
                progress(payload)
            testhooks.reached(f"retention:batch:{payload['batch']}")

    return watch


def _check_store(target: StorageTarget) -> None:
    """An absent DuckDB file has nothing to delete, and dbt would create it; a server is checked for
    reachability first, for a fast one-line error."""
    if not duckdb_file_exists(target.connection):
        raise StoreMissing(f"no ProfileMesh store at {target.describe()}: run `profilemesh migrate apply` first")
    if target.dialect != "duckdb":
        with connect(target):
            pass


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_name": row["schema_name"] or None,
        "table_name": row["table_name"] or None,
        **{key: int(row[key]) for key in (*COUNT_KEYS, "runs_kept")},
    }


def _interrupted(target: StorageTarget, outcome: OperationOutcome, apply: bool) -> ProfileMeshError:
    """A SQL error (or a dropped connection) stopped the operation: the batch in flight was rolled
    back, the batches before it stay done, and running the same command again finishes the work."""
    error = summarize_dbt_error(outcome.error or "dbt reported no result")
    if not apply:
        return DatabaseError(f"retention plan failed: {error}")
    done = sum(1 for kind, _ in outcome.payloads if kind == "retention_batch")
    return DatabaseError(
        f"retention stopped: {error} ({done} batch(es) were committed before; the batch in flight was "
        "rolled back, so no run is left half-deleted; run the same command again to finish)"
    )


def _release_lease(session: DbtSession, outcome: OperationOutcome) -> None:
    """Snowflake: hand back the lease now rather than after its TTL."""
    if session.target.dialect == "snowflake" and outcome.invocation_id:
        session.run_operation("profilemesh_migrate_release_lease", {"token": outcome.invocation_id})
