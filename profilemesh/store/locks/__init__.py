"""The migration lock, one module per warehouse (see base.py for what each answers); run_lock.py: one run
of a command at a time on a store (`alert`)."""

from __future__ import annotations

from profilemesh.store.locks.base import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STALE_AFTER,
    LockHolder,
    MigrationLock,
    Release,
)
from profilemesh.store.locks.duckdb import DuckDBFileLock
from profilemesh.store.locks.postgres import PostgresAdvisoryLock
from profilemesh.store.locks.snowflake import SnowflakeLease
from profilemesh.store.locks.sqlite import SQLiteWriteLock
from profilemesh.store.target import StorageTarget

_LOCKS: dict[str, type[MigrationLock]] = {
    "duckdb": DuckDBFileLock,
    "postgres": PostgresAdvisoryLock,
    "snowflake": SnowflakeLease,
    "sqlite": SQLiteWriteLock,
}


def migration_lock(target: StorageTarget) -> MigrationLock:
    """The migration lock of this store, by its warehouse."""
    return _LOCKS[target.warehouse.name](target)


__all__ = ["DEFAULT_LOCK_TIMEOUT", "DEFAULT_STALE_AFTER", "LockHolder", "MigrationLock", "Release", "migration_lock"]
