"""Which relations `profilemesh query` reads, decided by the store's schema version (read N-1, write N;
store/state.py decides):

- At the code's head the query views must exist and say they were built for that version
  (`migrate apply` builds them); otherwise the error says how to build them.
- One version behind (or an unversioned ProfileMesh-era store that `apply` would adopt as version 1)
  the views cannot exist yet: the storage tables are read directly through the same definitions
  written in SQLAlchemy Core (`fallback`), with a one-line warning.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.context import Context
from profilemesh.contract import (
    COLUMN_METRICS_VIEW,
    DISTRIBUTIONS_VIEW,
    DRIFT_VIEW,
    RUNS_VIEW,
    TABLE_HISTORY_VIEW,
    VIEW_COLUMNS,
    VIEWS_INFO_VIEW,
)
from profilemesh.errors import CheckFailed, StoreMissing
from profilemesh.query import fallback
from profilemesh.query.relations import Relations
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger_on
from profilemesh.store.state import ReadPlan
from profilemesh.store.target import StorageTarget

BUILD_HINT = "run `profilemesh migrate apply` (or `dbt run -s profilemesh` in a dbt project that installs the package)"
READ_VIEWS = (  # what the CLI reads
    VIEWS_INFO_VIEW,
    RUNS_VIEW,
    DRIFT_VIEW,
    TABLE_HISTORY_VIEW,
    COLUMN_METRICS_VIEW,
    DISTRIBUTIONS_VIEW,
)


@dataclass
class Reader:
    conn: Connection
    relations: Relations
    plan: ReadPlan

    @property
    def source(self) -> str:
        return "views" if self.plan.from_views else "tables"

    @property
    def warning(self) -> str | None:
        return self.plan.warning


@contextlib.contextmanager
def open_reader(ctx: Context) -> Iterator[Reader]:
    """A read-only connection and the relations to read for the store's version."""
    target = ctx.target
    if target.absent():
        raise StoreMissing(f"no ProfileMesh store at {target.connection.filepath}: run `profilemesh migrate apply`")
    with connect(target) as conn:
        plan = ctx.store_state(read_ledger_on(conn, target)).read_plan()
        if not plan.from_views:
            yield Reader(conn, fallback.relations(conn, target), plan)
            return
        _check_views(conn, target, ctx.head)
        yield Reader(conn, view_relations(target.schema), plan)


def view_relations(schema: str) -> Relations:
    def view(name: str) -> sa.TableClause:
        return sa.table(name, *(sa.column(c) for c in VIEW_COLUMNS[name]), schema=schema)

    return Relations(
        runs=view(RUNS_VIEW),
        drift=view(DRIFT_VIEW),
        history=view(TABLE_HISTORY_VIEW),
        metrics=view(COLUMN_METRICS_VIEW),
        distributions=view(DISTRIBUTIONS_VIEW),
    )


def _check_views(conn: Connection, target: StorageTarget, head: int) -> None:
    present = target.warehouse.present_relations(conn, target.schema, READ_VIEWS)
    missing = [name for name in READ_VIEWS if name not in present]
    if missing:
        raise CheckFailed(f"the query views are missing in schema {target.schema} ({', '.join(missing)}): {BUILD_HINT}")
    info = sa.table(VIEWS_INFO_VIEW, sa.column("schema_version"), schema=target.schema)
    built_for = conn.execute(sa.select(sa.func.max(info.c.schema_version))).scalar()
    if built_for is None or int(built_for) != head:
        raise CheckFailed(
            f"the query views were built for schema version {built_for}, storage is at version {head}: "
            f"{BUILD_HINT} to rebuild them"
        )
