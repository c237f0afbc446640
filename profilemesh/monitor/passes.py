"""What the previous metadata pass saw of each table, read back from the store: its run, its row count
and the figures it recorded in runs.scope ("read": the change counter, rows inserted, the time since
which the table has not changed). Every metadata pass is a run whose scope names the catalog it read
(`{"metadata": "pg_stat_user_tables"}`), so a table's profile runs and its metadata passes never mix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.store.tables import (
    METADATA_PASS,
    READ_BOUNDS,
    newest_first,
    storage_table,
    stored_schema,
    stored_scope,
)
from profilemesh.store.target import StorageTarget

# A table's newest runs searched for its previous metadata pass: a table profiled more often than
# this between two passes starts its metadata history afresh.
RUNS_SEARCHED = 20


@dataclass(frozen=True)
class PreviousPass:
    run_id: str
    profiled_at: dt.datetime
    row_count: int | None
    read: dict[str, Any] = field(default_factory=dict)


def previous_passes(
    store: Connection, target: StorageTarget, tables: list[tuple[str, str]], source: str
) -> dict[tuple[str, str], PreviousPass]:
    """Each table's newest completed metadata pass that read `source`, in one query."""
    if not tables:
        return {}
    runs = storage_table(target, "runs")
    position = newest_first(runs)
    ranked = (
        sa.select(
            runs.c.run_id, runs.c.schema_name, runs.c.dataset_name, runs.c.profiled_at, runs.c.row_count, runs.c.scope
        )
        .add_columns(position)
        .where(
            runs.c.status == "completed",
            runs.c.scope.is_not(None),
            runs.c.dataset_name.in_(sorted({t for _, t in tables})),
            runs.c.schema_name.in_(sorted({stored_schema(s) for s, _ in tables})),
        )
        .subquery()
    )
    query = sa.select(ranked).where(ranked.c.position <= RUNS_SEARCHED).order_by(ranked.c.position)
    wanted = {(stored_schema(s), t): (s, t) for s, t in tables}
    found: dict[tuple[str, str], PreviousPass] = {}
    for row in store.execute(query):
        key = wanted.get((row.schema_name, row.dataset_name))
        if key is None or key in found:
            continue
        scope = stored_scope(row.scope) or {}
        if scope.get(METADATA_PASS) == source:
            count = None if row.row_count is None else int(row.row_count)
            found[key] = PreviousPass(row.run_id, row.profiled_at, count, dict(scope.get(READ_BOUNDS) or {}))
    store.rollback()
    return found


def tables_of_run(store: Connection, target: StorageTarget, run_id: str) -> list[tuple[str, str]]:
    """The tables a run completed, as (schema, table)."""
    runs = storage_table(target, "runs")
    query = sa.select(runs.c.schema_name, runs.c.dataset_name).where(
        runs.c.run_id == run_id, runs.c.status == "completed"
    )
    found = [(str(r.schema_name), str(r.dataset_name)) for r in store.execute(query)]
    store.rollback()
    return found
