"""What a dbt invocation reported, and the errors it means.

The engine's operations report through payloads: JSON between sentinels in a debug-level log event
(macros/engine/report.sql), one kind each. dbt's `run` and `test` report per node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profilemesh.errors import CheckFailed, DatabaseError, ProfileMeshError, StoreBusy, StoreMissing, UsageError

# The payload kinds the engine emits.
RESULT = "result"  # the operation's result (its last payload)
ERROR = "error"  # a refusal: {"message", "kind": refused | usage | busy | lease_held | missing}
ATTEMPT = "attempt"  # a migration attempt started: {"attempt_id", "version", "operation"}
STEP = "step"  # a migration step starts: {"attempt_id", "version", "step", "index", "total"}
STEP_DONE = "step_done"  # a migration step's SQL has run
RETENTION_BATCH = "retention_batch"  # a retention batch committed: {"batch", "kind", "rows"}
RETENTION_CHILDREN_DELETED = "retention_children_deleted"  # a batch's results and events are deleted
PAYLOAD_KINDS = (RESULT, ERROR, ATTEMPT, STEP, STEP_DONE, RETENTION_BATCH, RETENTION_CHILDREN_DELETED)

# A refusal's kind -> the error it is. `lease_held`: the Snowflake lease is held; the operation is
# retried until the lock timeout (the engine tries the lease once per invocation).
_REFUSALS: dict[str, type[ProfileMeshError]] = {
    "refused": CheckFailed,
    "usage": UsageError,
    "busy": StoreBusy,
    "lease_held": StoreBusy,
    "missing": StoreMissing,
}


@dataclass
class OperationOutcome:
    """What one run-operation reported: its payloads in order, and dbt's error if it failed."""

    macro: str
    success: bool
    payloads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None
    invocation_id: str | None = None

    def last(self, kind: str) -> dict[str, Any] | None:
        for payload_kind, payload in reversed(self.payloads):
            if payload_kind == kind:
                return payload
        return None

    def count(self, kind: str) -> int:
        return sum(1 for payload_kind, _ in self.payloads if payload_kind == kind)

    @property
    def refusal(self) -> dict[str, Any] | None:
        """The engine's refusal, when it refused (rather than failing on SQL)."""
        return self.last(ERROR)

    @property
    def lease_held(self) -> bool:
        refusal = self.refusal
        return refusal is not None and refusal.get("kind") == "lease_held"

    def result(self) -> dict[str, Any]:
        """The operation's result payload, or the error that best describes why there is none."""
        result = self.last(RESULT)
        if self.success and result is not None:
            return result
        refusal = self.refusal
        if refusal is not None:
            raise _REFUSALS.get(refusal.get("kind", ""), CheckFailed)(refusal["message"])
        raise DatabaseError(summarize_dbt_error(self.error or "dbt reported no result"))


@dataclass
class NodeOutcome:
    """One model or test of a `dbt run`/`dbt test`: its status (success, error, pass, fail, warn, skipped)."""

    name: str
    resource_type: str
    status: str
    failures: int | None = None
    message: str | None = None


@dataclass
class BuildOutcome:
    """What `dbt run` or `dbt test` did to each selected node."""

    command: str
    select: str
    success: bool
    nodes: list[NodeOutcome] = field(default_factory=list)
    error: str | None = None

    def models(self) -> list[str]:
        return [n.name for n in self.nodes if n.resource_type == "model"]

    def problems(self) -> list[NodeOutcome]:
        return [n for n in self.nodes if n.status not in ("success", "pass")]

    def texts(self) -> str:
        """Every error text of the invocation, for recognising a busy store among them."""
        return "\n".join([self.error or "", *(n.message or "" for n in self.problems())])

    def describe_failure(self) -> str:
        """One line: which nodes failed and why (or dbt's own error when no node ran)."""
        if self.problems():
            return "; ".join(
                f"{n.name}: {n.status}" + (f" ({summarize_dbt_error(n.message)})" if n.message else "")
                for n in self.problems()
            )
        return summarize_dbt_error(self.error or f"dbt {self.command} failed without an error message")


def summarize_dbt_error(text: str) -> str:
    """dbt's multi-line error as one line: the header ('Database Error') and the SQL excerpt dropped."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(("Error", "error")) and len(lines[0].split()) <= 3:
        lines = lines[1:]
    kept = []
    for line in lines:
        if line.startswith(("LINE ", "^")) or set(line) <= {"^", " "}:
            break  # PostgreSQL's / DuckDB's excerpt of the statement follows
        kept.append(line)
    return " ".join(kept[:2]) or (lines[0] if lines else text.strip())
