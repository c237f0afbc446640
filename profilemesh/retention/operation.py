"""`retention plan|apply` as a library call: validate, run the dbt operation, read its result."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from profilemesh.context import Context
from profilemesh.dbt.engine import engine_args, release_lease
from profilemesh.dbt.outcomes import RETENTION_BATCH, OperationOutcome, summarize_dbt_error
from profilemesh.errors import DatabaseError, ProfileMeshError, StoreMissing, UsageError
from profilemesh.store.connect import check_reachable
from profilemesh.store.locks import DEFAULT_LOCK_TIMEOUT

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
        """The arguments of the `profilemesh_retention` operation (its parameters have these names)."""
        return dataclasses.asdict(self)


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
        data = dataclasses.asdict(self)
        return {"mode": "plan" if self.dry_run else "apply", **data, "totals": self.totals}


def run_retention(
    ctx: Context,
    policy: RetentionPolicy,
    *,
    apply: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    progress: ProgressCallback | None = None,
) -> RetentionReport:
    """Plan (default) or apply the policy. An apply holds the migration lock while it deletes."""
    policy.validate()
    if lock_timeout < 0:
        raise UsageError(f"--lock-timeout must be 0 or more, not {lock_timeout:g}")
    if ctx.target.absent():  # nothing to delete, and dbt would create the file
        raise StoreMissing(f"no ProfileMesh store at {ctx.target.describe()}: run `profilemesh migrate apply` first")
    check_reachable(ctx.target)
    session = ctx.dbt()
    args = {**policy.operation_args(), "dry_run": not apply, **engine_args(lock_timeout)}

    def on_payload(kind: str, payload: dict[str, Any]) -> None:
        if kind == RETENTION_BATCH and progress is not None:
            progress(payload)

    outcome = session.run_operation(OPERATION, args, lock_timeout=lock_timeout, on_payload=on_payload)
    if not outcome.success and outcome.refusal is None:
        release_lease(session, outcome)
        raise _interrupted(outcome, apply)
    result = outcome.result()
    return RetentionReport(
        dry_run=bool(result["dry_run"]),
        keep_days=int(result["keep_days"]),
        keep_runs_per_table=int(result["keep_runs_per_table"]),
        table=result["table"],
        cutoff=dt.datetime.strptime(result["cutoff"], "%Y-%m-%dT%H:%M:%SZ"),
        batches=int(result["batches"]),
        tables=[_table_row(row) for row in result["tables"]],
    )


def _table_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_name": row["schema_name"] or None,
        "table_name": row["table_name"] or None,
        **{key: int(row[key]) for key in (*COUNT_KEYS, "runs_kept")},
    }


def _interrupted(outcome: OperationOutcome, apply: bool) -> ProfileMeshError:
    """A SQL error (or a dropped connection) stopped the operation: the batch in flight was rolled
    back, the batches before it stay done, and running the same command again finishes the work."""
    error = summarize_dbt_error(outcome.error or "dbt reported no result")
    if not apply:
        return DatabaseError(f"retention plan failed: {error}")
    return DatabaseError(
        f"retention stopped: {error} ({outcome.count(RETENTION_BATCH)} batch(es) were committed before; the batch "
        "in flight was rolled back, so no run is left half-deleted; run the same command again to finish)"
    )
