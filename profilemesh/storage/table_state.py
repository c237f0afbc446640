"""Upserting profilemesh_table_state atomically per table: ON CONFLICT on PostgreSQL and DuckDB,
MERGE on Snowflake (which does not enforce primary keys, so a plain insert could duplicate)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from profilemesh.connection import StorageTarget
from profilemesh.storage.tables import table_state


def upsert_table_state(
    conn: Connection,
    target: StorageTarget,
    *,
    schema_name: str,
    table_name: str,
    run_id: str,
    profiled_at: dt.datetime,
    row_count: int,
) -> None:
    state = table_state(target)
    values = {
        "schema_name": schema_name,
        "table_name": table_name,
        "last_run_id": run_id,
        "last_profiled_at": profiled_at,
        "row_count": row_count,
    }
    changes = {k: v for k, v in values.items() if k not in ("schema_name", "table_name")}
    if conn.dialect.name in ("postgresql", "duckdb"):
        statement = (
            postgresql.insert(state)
            .values(values)
            .on_conflict_do_update(index_elements=["schema_name", "table_name"], set_=changes)
        )
        conn.execute(statement)
        return
    from snowflake.sqlalchemy import MergeInto

    source = sa.select(*(sa.literal(v).label(k) for k, v in values.items())).subquery("incoming")
    merge = MergeInto(
        state, source, sa.and_(state.c.schema_name == source.c.schema_name, state.c.table_name == source.c.table_name)
    )
    merge.when_matched_then_update().values(**{k: source.c[k] for k in changes})
    merge.when_not_matched_then_insert().values(**{k: source.c[k] for k in values})
    conn.execute(merge)
