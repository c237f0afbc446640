"""One class per warehouse (DuckDB, PostgreSQL, Snowflake, SQLite), looked up by the connection's type.

This is the Python counterpart of the dbt package's `adapter.dispatch`: every warehouse difference is
one method of these classes (see base.py), so nothing else branches on a warehouse's name.
"""

from __future__ import annotations

from profilemesh.errors import UsageError
from profilemesh.warehouses.base import BusyHolder, ConnectionConfig, Warehouse
from profilemesh.warehouses.duckdb import DuckDB
from profilemesh.warehouses.postgres import PostgreSQL
from profilemesh.warehouses.snowflake import Snowflake
from profilemesh.warehouses.sqlite import SQLite

WAREHOUSES: dict[str, Warehouse] = {w.name: w for w in (DuckDB(), PostgreSQL(), Snowflake(), SQLite())}
WAREHOUSE_TYPES = tuple(WAREHOUSES)


def warehouse_for(type_name: str) -> Warehouse:
    """The warehouse class for a connection type (`duckdb`, `postgres`, `snowflake`, `sqlite`)."""
    try:
        return WAREHOUSES[type_name]
    except KeyError:
        raise UsageError(f"unknown warehouse type {type_name!r} (known: {', '.join(WAREHOUSE_TYPES)})") from None


def warehouse_of_dialect(dialect_name: str) -> Warehouse:
    """The warehouse class for a SQLAlchemy dialect name (`postgresql`, ...), for code holding a connection."""
    for warehouse in WAREHOUSES.values():
        if warehouse.dialect_name == dialect_name:
            return warehouse
    raise UsageError(f"unsupported SQLAlchemy dialect {dialect_name!r}")


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, however the driver that was running a statement reports it (any warehouse's way)."""
    seen: BaseException | None = exc
    for _ in range(10):  # the exception and what it was raised from
        if seen is None:
            break
        if isinstance(seen, KeyboardInterrupt) or any(w.interrupted(seen) for w in WAREHOUSES.values()):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


__all__ = [
    "WAREHOUSES",
    "WAREHOUSE_TYPES",
    "BusyHolder",
    "ConnectionConfig",
    "Warehouse",
    "is_interrupt",
    "warehouse_for",
    "warehouse_of_dialect",
]
