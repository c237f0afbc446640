"""A re-profiled bucket replaces its earlier point (docs/guides/PROFILING.md, "Buckets"): the earlier
runs of the same bucket of the same table, read the same way, are marked `superseded` in the
transaction that writes the new one. Nothing is deleted: the runs, their metrics and the drift events
on them stay, and every history (drift, the views, `query`) reads completed runs only, so it holds one
point per bucket, the newest."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.store.tables import (
    COMPLETED,
    FAILED,
    READ_BOUNDS,
    SUPERSEDED,
    scope_key,
    storage_table,
    stored_schema,
    stored_scope,
)
from profilemesh.store.target import StorageTarget


@dataclass(frozen=True)
class BucketPoint:
    """A bucket's run just written: the runs it replaces share its table, profiled_at, read and label."""

    run_id: str
    schema: str | None
    table: str
    profiled_at: dt.datetime
    scope: dict[str, Any]

    @property
    def label(self) -> str | None:
        return (self.scope.get(READ_BOUNDS) or {}).get("bucket")


def supersede_buckets(conn: Connection, target: StorageTarget, points: list[BucketPoint]) -> int:
    """Mark the earlier runs (completed, or failed at that bucket) of each point's bucket superseded;
    returns how many."""
    runs = storage_table(target, "runs")
    by_table: dict[tuple[str | None, str], list[BucketPoint]] = defaultdict(list)
    for point in points:
        by_table[(point.schema, point.table)].append(point)
    marked = 0
    for (schema, table), table_points in by_table.items():
        wanted = {(p.profiled_at, p.label, scope_key(json.dumps(p.scope))) for p in table_points}
        new_ids = {p.run_id for p in table_points}
        times = sorted({p.profiled_at for p in table_points})
        replaced: list[str] = []
        for start in range(0, len(times), 500):
            query = sa.select(runs.c.run_id, runs.c.profiled_at, runs.c.scope).where(
                runs.c.schema_name == stored_schema(schema),
                runs.c.dataset_name == table,
                runs.c.status.in_([COMPLETED, FAILED]),
                runs.c.profiled_at.in_(times[start : start + 500]),
            )
            for row in conn.execute(query):
                label = ((stored_scope(row.scope) or {}).get(READ_BOUNDS) or {}).get("bucket")
                if row.run_id not in new_ids and (row.profiled_at, label, scope_key(row.scope)) in wanted:
                    replaced.append(row.run_id)
        for start in range(0, len(replaced), 500):
            conn.execute(
                sa.update(runs)
                .where(
                    runs.c.schema_name == stored_schema(schema),
                    runs.c.dataset_name == table,
                    runs.c.run_id.in_(replaced[start : start + 500]),
                )
                .values(status=SUPERSEDED)
            )
        marked += len(replaced)
    return marked
