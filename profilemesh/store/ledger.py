"""Reading the migration ledger with SQLAlchemy Core (no dbt: the fast path).

The ledger's DDL lives in the dbt package; here we only read, selecting whichever known columns the
store's ledger has, so an older ledger is still readable. One row per attempt, never deleted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.contract import DEFAULT_TABLE_NAMES, LEDGER_TABLE, STORAGE_COLUMNS
from profilemesh.errors import DatabaseError
from profilemesh.store.connect import connect
from profilemesh.store.target import StorageTarget

LEDGER_COLUMNS = STORAGE_COLUMNS["schema_version"]


@dataclass(frozen=True)
class Attempt:
    """One row of the ledger: an apply, adoption or repair of one version, and how it ended."""

    attempt_id: int
    version: int
    status: str  # started | succeeded | failed (| resolved attempts keep their status)
    operation: str | None = None  # apply | adopt | repair
    description: str | None = None
    migration_script: str | None = None
    checksum: str | None = None
    started_at: dt.datetime | None = None
    applied_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    execution_ms: int | None = None
    steps_total: int | None = None
    steps_completed: int | None = None
    failed_step: str | None = None
    error_message: str | None = None
    resolved_by: int | None = None
    applied_by: str | None = None
    profilemesh_version: str | None = None
    dialect: str | None = None

    @property
    def unresolved(self) -> bool:
        """Started or failed, and no later repair resolved it: it blocks apply until `migrate repair`."""
        return self.status in ("started", "failed") and self.resolved_by is None

    def how_it_ended(self) -> str:
        """'failed at step X' or 'did not finish', for an unresolved attempt."""
        return f"failed at step {self.failed_step}" if self.status == "failed" else "did not finish"

    def label(self) -> str:
        """'attempt 3 (apply of version 2)'."""
        return f"attempt {self.attempt_id} ({self.operation} of version {self.version})"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_INTEGER_FIELDS = ("attempt_id", "version", "resolved_by", "steps_total", "steps_completed", "execution_ms")


@dataclass(frozen=True)
class LedgerSnapshot:
    exists: bool
    attempts: tuple[Attempt, ...]
    storage_tables: tuple[str, ...]  # which storage tables exist (the ledger aside)

    @property
    def current_version(self) -> int:
        return max((a.version for a in self.attempts if a.status == "succeeded"), default=0)

    @property
    def unresolved(self) -> tuple[Attempt, ...]:
        return tuple(a for a in self.attempts if a.unresolved)

    @property
    def unversioned(self) -> bool:
        """Storage tables and no ledger rows: a store written before versioning (`apply` adopts it)."""
        return not self.attempts and bool(self.storage_tables)

    def applied_checksums(self) -> dict[int, str | None]:
        return {a.version: a.checksum for a in self.attempts if a.status == "succeeded"}


def read_ledger(target: StorageTarget) -> LedgerSnapshot:
    """The ledger's attempts, oldest first, and which storage tables exist. Never creates anything."""
    if target.absent():
        return LedgerSnapshot(exists=False, attempts=(), storage_tables=())
    with connect(target) as conn:
        return read_ledger_on(conn, target)


def read_ledger_on(conn: Connection, target: StorageTarget) -> LedgerSnapshot:
    names = [target.table_name(table) for table in DEFAULT_TABLE_NAMES]
    present = target.warehouse.present_relations(conn, target.schema, [*names, LEDGER_TABLE])
    storage_tables = tuple(name for name in names if name in present)
    if LEDGER_TABLE not in present:
        return LedgerSnapshot(exists=False, attempts=(), storage_tables=storage_tables)
    # The ledger's columns from an empty SELECT: reflection (get_columns) costs ~0.4 s on DuckDB.
    probe: sa.Select[Any] = (
        sa.select(sa.literal_column("*")).select_from(sa.table(LEDGER_TABLE, schema=target.schema)).limit(0)
    )
    try:
        available = {name.lower() for name in conn.execute(probe).keys()}  # noqa: SIM118 (a Result, not a dict)
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        problem = target.warehouse.access_problem(conn, target.schema)
        if problem is not None:
            raise DatabaseError(problem) from exc
        raise
    columns = [name for name in LEDGER_COLUMNS if name in available]
    table = sa.table(LEDGER_TABLE, *(sa.column(name) for name in columns), schema=target.schema)
    rows = conn.execute(sa.select(*table.c).order_by(table.c.attempt_id))
    return LedgerSnapshot(
        exists=True,
        attempts=tuple(_attempt(dict(zip(columns, row, strict=True))) for row in rows),
        storage_tables=storage_tables,
    )


def _attempt(values: dict[str, Any]) -> Attempt:
    for key in _INTEGER_FIELDS:
        if values.get(key) is not None:
            values[key] = int(values[key])
    return Attempt(**values)
