"""SQLAlchemy Core handles on the storage tables: names from the config, columns from the contract
(the dbt package's catalog at head), quoting by the dialect. The tables' definitions live in the package."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from profilemesh.contract import RUN_STATUSES, STORAGE_COLUMNS
from profilemesh.store.target import StorageTarget


def storage_table(target: StorageTarget, table: str) -> sa.TableClause:
    """`runs`, `results`, `events`, `table_state` or `schema_version`, with every column it has at head."""
    return sa.table(target.table_name(table), *(sa.column(c) for c in STORAGE_COLUMNS[table]), schema=target.schema)


def stored_schema(schema: str | None) -> str:
    """How a table's schema is stored in runs, results, events and table_state: as named, or '' when the
    table was named without one and the source connection has none configured (schema version 4 keys
    runs by schema, so it cannot be NULL)."""
    return schema or ""


COMPLETED, FAILED, SUPERSEDED = RUN_STATUSES
# SUPERSEDED: a bucket's run that a later run of the same bucket replaced (profiling/supersede.py); kept,
# and left out of every history (drift, the views, query).

# What a run recorded about the rows it actually read (an incremental window's bounds): it differs
# from run to run, so it is not part of what makes two runs comparable.
READ_BOUNDS = "read"
# The runs.scope key of a metadata pass (`profilemesh monitor`): the catalog it read.
METADATA_PASS = "metadata"
# What a run's statements read and cost (rows, bytes, credits: profiling/cost.py) and what it noted
# (distinct counts switched to approximate, columns skipped): facts of one run, like READ_BOUNDS.
COST = "cost"
NOTES = "notes"
RUN_FACTS = (READ_BOUNDS, COST, NOTES)


def stored_scope(stored: Any) -> dict[str, Any] | None:
    """runs.scope as read back: TEXT on PostgreSQL and DuckDB, VARIANT (a mapping or its JSON) on
    Snowflake; None for a full read."""
    if stored is None or stored == "":
        return None
    value = json.loads(stored) if isinstance(stored, str) else dict(stored)
    return value or None


def stored_cost(stored: Any) -> dict[str, Any]:
    """rows_read, bytes_read and credits as a run recorded them in runs.scope (None where not reported,
    and for runs written before runs recorded their cost)."""
    cost = (stored_scope(stored) or {}).get(COST) or {}
    return {name: cost.get(name) for name in ("rows_read", "bytes_read", "credits")}


def scope_key(stored: Any) -> str | None:
    """runs.scope as one comparable text, without the facts of one run (the window's bounds, the cost,
    the notes); None for a full read."""
    value = dict(stored_scope(stored) or {})
    for fact in RUN_FACTS:
        value.pop(fact, None)
    return json.dumps(value, sort_keys=True) if value else None


def newest_first(runs: sa.TableClause) -> sa.Label[int]:
    """Each run's position among its table's runs, newest first (1: the table's latest run), by
    profiled_at and then run_id, so ties are broken the same way everywhere."""
    return (
        sa.func.row_number()
        .over(
            partition_by=(runs.c.schema_name, runs.c.dataset_name),
            order_by=(runs.c.profiled_at.desc(), runs.c.run_id.desc()),
        )
        .label("position")
    )
