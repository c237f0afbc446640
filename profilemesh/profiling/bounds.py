"""Bounded profiling (profiling.limits, docs/guides/PROFILING.md "Big tables"): the memory the source
connection may take on this machine, and the size above which a table's distinct counts switch from
exact to approximate (an exact count over billions of unique values needs memory or spill space in
proportion; a HyperLogLog estimate needs a fixed few kilobytes per column)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from profilemesh.config.limits import Limits
from profilemesh.config.read_scope import Sample
from profilemesh.profiling.planner import TimeWindow, rows_estimate_statement
from profilemesh.warehouses import warehouse_of_dialect


def bound_memory(conn: Connection, limits: Limits) -> None:
    """The source connection's memory limit and spill directory, set before any table is read."""
    warehouse_of_dialect(conn.dialect.name).bound_memory(conn, limits.memory_bytes(), limits.temp_directory)


@dataclass(frozen=True)
class DistinctChoice:
    mode: str  # what the plan is asked for: "exact" or "approximate"
    estimated_rows: int | None  # the rows the plan is estimated to read (None: no estimate)
    note: str | None = None  # why exact counting was asked for and approximate chosen


def choose_distinct(
    conn: Connection,
    schema: str | None,
    table: str,
    *,
    requested: str,
    limits: Limits,
    where: str | None,
    sample: Sample | None,
    window: TimeWindow | None,
) -> DistinctChoice:
    """`requested` unless it is exact and the planner estimates more rows to read than
    limits.exact_distinct_rows: then approximate, with a note. The estimate is the warehouse planner's
    for the unsampled read (no row is read for it), scaled by the sample."""
    warehouse = warehouse_of_dialect(conn.dialect.name)
    statement = rows_estimate_statement(schema, table, warehouse=warehouse, where=where, window=window)
    estimate = warehouse.estimated_rows(conn, statement)
    if estimate is not None and sample is not None:
        estimate = (
            round(estimate * sample.percent / 100) if sample.percent is not None else min(estimate, sample.rows or 0)
        )
    threshold = limits.exact_distinct_rows
    if requested != "exact" or estimate is None or threshold is None or estimate <= threshold:
        return DistinctChoice(requested, estimate)
    note = (
        f"distinct counts approximate: about {estimate:,} rows to read (the planner's estimate) is above "
        f"profiling.limits.exact_distinct_rows ({threshold:,})"
    )
    return DistinctChoice("approximate", estimate, note)
