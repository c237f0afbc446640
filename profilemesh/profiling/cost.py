"""What one table's profiling cost (runs.scope's `cost`, docs/guides/PROFILING.md "What a run costs"):
the rows and bytes its statements read and, where the warehouse reports them, the bytes spilled, the
peak memory and credits. Each warehouse reports what it can (warehouses/): DuckDB per statement (its
profiler), PostgreSQL as the difference of the table's statistics counters; a figure the warehouse
does not report is NULL, never a guess."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from profilemesh.warehouses import warehouse_of_dialect

# Per-statement figures add up over a table's statements, except a peak, which is the largest.
_PEAKS = ("peak_memory_bytes",)


def meter_statements(conn: Connection) -> None:
    """Turn on what the warehouse reports per statement (DuckDB's profiler), once per source connection."""
    warehouse_of_dialect(conn.dialect.name).meter_statements(conn)


class CostMeter:
    """Started before a table's statements, told after each one, read once they are done."""

    def __init__(self, conn: Connection, schema: str | None, table: str) -> None:
        self._conn, self._schema, self._table = conn, schema, table
        self._warehouse = warehouse_of_dialect(conn.dialect.name)
        self._before = self._warehouse.table_counters(conn, schema, table)
        self._statements: dict[str, int] = {}

    def statement_done(self) -> None:
        figures = self._warehouse.statement_cost(self._conn)
        for name, value in (figures or {}).items():
            previous = self._statements.get(name, 0)
            self._statements[name] = max(previous, value) if name in _PEAKS else previous + value

    def figures(self) -> dict[str, Any]:
        """rows_read, bytes_read and credits (None where not reported), and whatever else was reported."""
        measured: dict[str, Any] = dict(self._statements)
        after = self._warehouse.table_counters(self._conn, self._schema, self._table) if self._before else None
        if self._before and after:
            measured.update({name: after[name] - self._before[name] for name in self._before})
        return {"rows_read": None, "bytes_read": None, "credits": None, **measured}
