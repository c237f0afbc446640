"""What `profilemesh profile` reports: each table's outcome (or each bucket's), and the run's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from profilemesh.profiling.distributions import DistributionItem
from profilemesh.profiling.execute import TableProfile


@dataclass
class TableOutcome:
    schema: str | None
    table: str
    status: str  # completed | failed | planned | up_to_date (a bucketed table with no new bucket: not written)
    profiled_at: dt.datetime
    row_count: int | None = None
    column_count: int | None = None
    metric_count: int = 0
    query_count: int = 0
    duration_seconds: float | None = 0.0  # None: a bucket of a read whose time its newest bucket records
    error: str | None = None
    distinct_mode: str = "exact"
    notes: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    profile: TableProfile | None = field(default=None, repr=False)
    scope: dict[str, Any] | None = None  # what the run read, when not every row and column (runs.scope)
    dbt_unique_id: str | None = None  # the dbt node profiled (profile --project-dir)
    cost: dict[str, Any] | None = None  # what its statements read and cost (profiling/cost.py)
    distributions: list[DistributionItem] = field(default_factory=list, repr=False)  # profilemesh_distributions
    run_id: str | None = None  # a bucket's own run (profiling/buckets.py); None: the invocation's run_id
    bucket: str | None = None  # the bucket's label (2026-11-30, 2026-11-30T05:00) of a table with granularity

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("statements", "profile", "distributions")}
        if self.statements:
            data["statements"] = self.statements
        return data


@dataclass
class ProfileReport:
    run_id: str
    environment: str
    dry_run: bool
    tables: list[TableOutcome]

    @property
    def failed(self) -> list[TableOutcome]:
        return [t for t in self.tables if t.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "environment": self.environment,
            "dry_run": self.dry_run,
            "tables": [t.to_dict() for t in self.tables],
        }
