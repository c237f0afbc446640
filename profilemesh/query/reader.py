"""Which relations `profilemesh query` reads, decided by the store's schema version (read N-1, write N).

- At the code's head the query views must exist and say they were built for that version
  (`migrate apply` builds them); otherwise the error says how to build them.
- One version behind (today: version 1, or an unversioned ProfileMesh-era store that `apply` would
  adopt as version 1) the views cannot exist yet: the storage tables are read directly through the
  same definitions written in SQLAlchemy Core (`fallback`), with a one-line warning.
- Anything else is refused with what to run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.connection import StorageTarget, duckdb_file_exists
from profilemesh.errors import CheckFailed, StoreMissing
from profilemesh.migrate.ledger import connect, read_ledger_on
from profilemesh.package import head_version
from profilemesh.query import fallback
from profilemesh.query.views import (
    DRIFT_VIEW,
    HISTORY_VIEW,
    INFO_VIEW,
    METRICS_VIEW,
    RUNS_VIEW,
    VIEW_COLUMNS,
)

BUILD_HINT = "run `profilemesh migrate apply` (or `dbt run -s profilemesh` in a dbt project that installs the package)"


@dataclass
class Relations:
    """The four logical views, as selectables with the views' column names."""

    runs: sa.FromClause
    drift: sa.FromClause
    history: sa.FromClause
    metrics: sa.FromClause


@dataclass
class Reader:
    conn: Connection
    relations: Relations
    store_version: int
    source: str  # "views" or "tables"
    warning: str | None = None


def _view(name: str, schema: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in VIEW_COLUMNS[name]), schema=schema)


@contextlib.contextmanager
def open_reader(target: StorageTarget, *, prefer_tables: bool = False) -> Iterator[Reader]:
    """A read-only connection and the relations to read. `prefer_tables` reads the storage tables even
    when the views exist (tests use it to check that both paths agree)."""
    if not duckdb_file_exists(target.connection):
        raise StoreMissing(f"no ProfileMesh store at {target.connection.filepath}: run `profilemesh migrate apply`")
    with connect(target) as conn:
        yield _reader(conn, target, prefer_tables=prefer_tables)


def _reader(conn: Connection, target: StorageTarget, *, prefer_tables: bool) -> Reader:
    snapshot = read_ledger_on(conn, target)
    head = head_version()
    current = snapshot.current_version
    legacy = not snapshot.attempts and bool(snapshot.storage_tables)
    if legacy:
        current = 1  # what `migrate apply` would adopt it as
    elif not snapshot.exists or current == 0:
        raise StoreMissing(f"no ProfileMesh storage in {target.describe()}: run `profilemesh migrate apply`")
    if current > head:
        raise CheckFailed(
            f"storage is at version {current}, newer than this ProfileMesh reads ({head}): upgrade profilemesh"
        )
    if current < head - 1:
        raise CheckFailed(
            f"storage is at version {current}; this ProfileMesh reads versions {head - 1} and {head}: "
            "run `profilemesh migrate apply`"
        )
    unresolved = ""
    if snapshot.unresolved:
        attempt = snapshot.unresolved[-1]["attempt_id"]
        unresolved = f"; an unfinished migration attempt ({attempt}) needs `profilemesh migrate repair`"
    if current == head - 1 or prefer_tables:
        warning = None
        if current < head:
            what = "an unversioned ProfileMesh store (version 1)" if legacy else f"storage is at version {current}"
            warning = (
                f"warning: {what}, one behind this ProfileMesh ({head}): reading its tables directly; "
                f"run `profilemesh migrate apply` to upgrade{unresolved}"
            )
        return Reader(conn, fallback.relations(conn, target), current, "tables", warning)
    _check_views(conn, target, head)
    schema = target.schema
    relations = Relations(
        runs=_view(RUNS_VIEW, schema),
        drift=_view(DRIFT_VIEW, schema),
        history=_view(HISTORY_VIEW, schema),
        metrics=_view(METRICS_VIEW, schema),
    )
    warning = f"warning: {unresolved[2:]}" if unresolved else None
    return Reader(conn, relations, current, "views", warning)


READ_VIEWS = (INFO_VIEW, RUNS_VIEW, DRIFT_VIEW, HISTORY_VIEW, METRICS_VIEW)  # what the CLI reads


def missing_views(conn: Connection, schema: str | None, names: tuple[str, ...] = READ_VIEWS) -> list[str]:
    """The named views that are not in the schema."""
    inspector = sa.inspect(conn)
    return [name for name in names if not inspector.has_table(name, schema=schema)]


def _check_views(conn: Connection, target: StorageTarget, head: int) -> None:
    missing = missing_views(conn, target.schema)
    if missing:
        raise CheckFailed(f"the query views are missing in schema {target.schema} ({', '.join(missing)}): {BUILD_HINT}")
    info = _view(INFO_VIEW, target.schema)
    built_for = conn.execute(sa.select(sa.func.max(info.c.schema_version))).scalar()
    if built_for is None or int(built_for) != head:
        raise CheckFailed(
            f"the query views were built for schema version {built_for}, storage is at version {head}: "
            f"{BUILD_HINT} to rebuild them"
        )
