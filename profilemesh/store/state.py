"""Is the store at a version this ProfileMesh can use? The one place that answers, for writers (write N),
readers (read N-1 and N) and `migrate status`, each refusal worded once. The dbt package words the
same refusals in one macro (macros/engine/version_check.sql); tests/test_store_state.py holds both to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from profilemesh.errors import CheckFailed, StoreMissing
from profilemesh.store.ledger import Attempt, LedgerSnapshot

APPLY_HINT = "run `profilemesh migrate apply`"
REPAIR_HINT = "run `profilemesh migrate repair`"


@dataclass(frozen=True)
class ReadPlan:
    """How the read side reads a store: the query views (at head) or the storage tables (one behind)."""

    version: int
    from_views: bool
    warning: str | None = None


@dataclass(frozen=True)
class StoreState:
    ledger: LedgerSnapshot
    head: int  # the code's newest version
    where: str  # the store, for messages

    @property
    def version(self) -> int:
        """The applied version; an unversioned ProfileMesh-era store counts as 1 (what apply adopts it as)."""
        return 1 if self.ledger.unversioned else self.ledger.current_version

    @property
    def blocking_attempt(self) -> Attempt | None:
        unresolved = self.ledger.unresolved
        return unresolved[-1] if unresolved else None

    # --- the refusals, worded once ------------------------------------------------------------------

    def missing(self) -> str:
        return f"no ProfileMesh storage in {self.where}: {APPLY_HINT}"

    def behind(self) -> str:
        return f"storage is at version {self.version}, ProfileMesh needs {self.head}: {APPLY_HINT}"

    def ahead(self) -> str:
        return f"storage is at version {self.version}, newer than this ProfileMesh ({self.head}): upgrade profilemesh"

    @staticmethod
    def unfinished(attempt: Attempt) -> str:
        return f"{attempt.label()} {attempt.how_it_ended()}: {REPAIR_HINT}"

    # --- the verdicts ---------------------------------------------------------------------------------

    def require_writable(self) -> int:
        """Writers (profile, drift, retention) write only a store exactly at head, with nothing to repair."""
        attempt = self.blocking_attempt
        if attempt is not None:
            raise CheckFailed(self.unfinished(attempt))
        if self.ledger.current_version == 0:
            raise StoreMissing(self.missing())
        if self.version < self.head:
            raise CheckFailed(self.behind())
        if self.version > self.head:
            raise CheckFailed(self.ahead())
        return self.version

    def read_plan(self) -> ReadPlan:
        """Readers read head (the views) and head - 1 (the storage tables, with a warning)."""
        if not self.ledger.unversioned and self.ledger.current_version == 0:
            raise StoreMissing(self.missing())
        if self.version > self.head:
            raise CheckFailed(self.ahead())
        if self.version < self.head - 1:
            raise CheckFailed(
                f"storage is at version {self.version}; this ProfileMesh reads versions {self.head - 1} and "
                f"{self.head}: {APPLY_HINT}"
            )
        attempt = self.blocking_attempt
        repair = self.unfinished(attempt) if attempt is not None else ""
        if self.version == self.head:
            return ReadPlan(self.version, True, f"warning: {repair}" if repair else None)
        what = (
            "an unversioned ProfileMesh store (version 1)"
            if self.ledger.unversioned
            else f"storage is at version {self.version}"
        )
        warning = (
            f"warning: {what}, one behind this ProfileMesh ({self.head}): reading its tables directly; "
            f"{APPLY_HINT} to upgrade" + (f"; {repair}" if repair else "")
        )
        return ReadPlan(self.version, False, warning)
