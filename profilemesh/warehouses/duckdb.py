"""DuckDB: the embedded default, a file with no server."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilemesh.warehouses.base import BusyHolder, CatalogColumn, ConnectionConfig, Warehouse, sample_percent
from profilemesh.warehouses.csv_rows import csv_text

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL, Connection, Engine

DEFAULT_FILE = "profilemesh.duckdb"
# DuckDB grants read-write access to one process per file; the others get this error (with the
# holder's PID when DuckDB knows it).
_FILE_BUSY = re.compile(r"Could not set lock on file.*?(?:\(PID (\d+)\))?", re.DOTALL)


# One table's columns; then the logical types their type ids name, and this database's own ENUM types.
_COLUMNS = (
    "SELECT table_name, column_name AS name, data_type AS native_type, data_type_id, numeric_precision, "
    'numeric_scale, column_default AS "default", NOT is_nullable AS not_null, comment FROM duckdb_columns() '
    "WHERE database_name = current_database() AND schema_name = :schema AND table_name = :table ORDER BY column_index"
)
_TYPES = (
    "SELECT type_oid, logical_type, type_name, internal FROM duckdb_types() WHERE (internal AND type_oid IN :ids) "
    "OR (logical_type = 'ENUM' AND NOT internal AND database_name = current_database())"
)
# DuckDB's pg_catalog.format_pg_type: the PostgreSQL name its catalog emulation gives a logical type.
_PG_TYPE_NAMES = {
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "DECIMAL": "numeric",
    "VARCHAR": "varchar",
    "BLOB": "bytea",
    "TIMESTAMP": "timestamp",
    "TIME": "time",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME WITH TIME ZONE": "timetz",
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "BOOLEAN": "bool",
}


def _format_type(row: Any, logical_type: str, type_name: str) -> str:
    """What DuckDB's pg_catalog.format_type(atttypid, atttypmod) says of a column (its pg_attribute view:
    the PostgreSQL name of its type id's logical type, and a DECIMAL's precision and scale as the type
    modifier)."""
    logical = logical_type.upper()
    name = type_name.lower() if logical == "ENUM" else _PG_TYPE_NAMES.get(logical, logical.lower())
    precision, scale = row["numeric_precision"], row["numeric_scale"]
    if "decimal" in str(row["native_type"]).lower() and precision is not None and precision * 1000 + scale > 0:
        return f"{name}({precision},{scale})"
    return name


def _source_rows(operator: dict[str, Any]) -> int:
    """The rows the leaf operators (the scans) of a profiled plan produced."""
    children = operator.get("children") or []
    if not children:
        return int(operator.get("intermediate_rows", 0)) if operator.get("type") == "TABLE_SCAN" else 0
    return sum(_source_rows(child) for child in children)


class DuckDB(Warehouse):
    name = "duckdb"
    dialect_name = "duckdb"
    default_schema = "main"
    has_server = False
    has_roles = False
    single_writer_file = True
    held_while_connected = True
    # DuckDB hashes each column in parallel: one branch per column is fastest.
    exact_distinct_shape = "union_all"
    distinct_branches = None
    # Its approx_count_distinct has too few registers (up to 8% off exact, duckdb/duckdb#20916): a second
    # statement builds 2^14 registers per column in SQL instead (profiling/planner.py).
    approx_distinct_statement = True

    def complete(self, values: dict[str, Any], shown: str, key: str, base_dir: Path) -> dict[str, Any]:
        filepath = values.get("filepath") or values.get("database") or DEFAULT_FILE
        if filepath != ":memory:":
            filepath = str((base_dir / Path(filepath).expanduser()).resolve())
        return {**values, "filepath": filepath, "schema": values.get("schema") or self.default_schema}

    def database_names(self, conn: ConnectionConfig) -> dict[str, str]:
        # dbt-duckdb names the catalog after the file.
        if conn.filepath and conn.filepath != ":memory:":
            return {"filepath": Path(conn.filepath).stem}
        return {}

    def describe(self, conn: ConnectionConfig) -> str:
        return f"duckdb file {conn.filepath} (schema {conn.schema})"

    def url(self, conn: ConnectionConfig) -> URL:
        from sqlalchemy.engine import URL

        return URL.create("duckdb", database=conn.filepath)

    def connect_args(self, conn: ConnectionConfig, *, read_only: bool) -> dict[str, Any]:
        return {"read_only": read_only}

    def create_engine(self, conn: ConnectionConfig, *, read_only: bool = False) -> Engine:
        """Every connection with DuckDB's progress bar off: DuckDB prints it to the process's standard
        output (terminal or not) for any query over 2 s, into the middle of `--format json`. A SET on the
        connection, not a `config` at open: DuckDB refuses a second connection to a file with another
        configuration, and dbt opens the same file in this process."""
        import sqlalchemy as sa

        engine = super().create_engine(conn, read_only=read_only)
        sa.event.listen(engine, "connect", _quiet)
        return engine

    def store_absent(self, conn: ConnectionConfig) -> bool:
        return conn.filepath != ":memory:" and not Path(str(conn.filepath)).exists()

    def interrupted(self, exc: BaseException) -> bool:
        """DuckDB's client turns Ctrl-C into an interrupt of the running query, raised as
        RuntimeError('Query interrupted') (InterruptException in some versions), not as KeyboardInterrupt."""
        text = str(getattr(exc, "orig", None) or exc)
        return type(exc).__name__ == "InterruptException" or (
            isinstance(exc, RuntimeError) and text.startswith("Query interrupted")
        )

    def busy_holder(self, error_text: str) -> BusyHolder | None:
        match = _FILE_BUSY.search(error_text)
        if match is None:
            return None
        return BusyHolder(int(match.group(1)) if match.group(1) else None)

    def present_relations(self, conn: Connection, schema: str, names: Iterable[str]) -> set[str]:
        """One catalog query (SQLAlchemy's has_table costs a query per name here)."""
        import sqlalchemy as sa

        query = sa.text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = :schema AND table_name IN :names"
        ).bindparams(sa.bindparam("names", expanding=True))
        wanted = list(names)
        return set(conn.execute(query, {"schema": schema, "names": wanted}).scalars()) if wanted else set()

    def table_columns(self, conn: Connection, schema: str | None, table: str) -> list[CatalogColumn]:
        """The columns and types duckdb-engine's reflection gives, from two small catalog queries. Its
        get_multi_columns asks DuckDB's pg_catalog emulation (views over every relation, every column and
        every type) and then loads every enum: 60-130 ms a table, most of a small run's fixed cost
        (docs/benchmarks.md, section 8b). This reads duckdb_columns() and duckdb_types() for the table,
        names each type as DuckDB's format_type would, and hands the rows to the same type
        reconstruction duckdb-engine uses; tests/test_column_types.py holds the two equal for every
        type. A schema naming its database (`db.schema`), or none, is reflected as before."""
        import warnings

        import sqlalchemy as sa

        if schema is None or "." in schema:
            return super().table_columns(conn, schema, table)
        rows = conn.execute(sa.text(_COLUMNS), {"schema": schema, "table": table}).mappings().all()
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table}")
        types = sa.text(_TYPES).bindparams(sa.bindparam("ids", expanding=True))
        logical, own_enums = {}, False
        for type_oid, logical_type, type_name, internal in conn.execute(
            types, {"ids": sorted({r["data_type_id"] for r in rows})}
        ):
            if internal:
                logical[type_oid] = (str(logical_type), str(type_name))
            else:
                own_enums = True
        reflect = [
            {**row, "format_type": _format_type(row, *logical[row["data_type_id"]]), "generated": None,
             "identity_options": None, "collation": None}
            for row in rows
        ]  # fmt: skip
        dialect: Any = conn.dialect
        enums = {}
        # The enums duckdb-engine loads name a type only when the database has one of its own, or a column
        # is an ENUM (its catalog lists the built-in `enum` type among them): else none can match.
        if own_enums or any(row["format_type"] == "enum" for row in reflect):
            enums = {
                ((e["name"],) if e["visible"] else (e["schema"], e["name"])): e
                for e in dialect._load_enums(conn, schema="*")
            }
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            reflected = dialect._get_columns_info(reflect, {}, enums, schema)[(schema, table)]
        return [
            CatalogColumn(column["name"], column["type"], row["native_type"])
            for column, row in zip(reflected, rows, strict=True)
        ]

    def sampled(
        self, table: sa.TableClause, *, percent: float | None, rows: int | None, seed: int | None
    ) -> sa.FromClause:
        """DuckDB: BERNOULLI by percent (its bare number would mean rows), RESERVOIR for a row count."""
        import sqlalchemy as sa

        size = f"{float(percent)!r} PERCENT" if percent is not None else f"{int(rows or 0)} ROWS"
        method = sa.func.bernoulli if percent is not None else sa.func.reservoir
        return self._tablesample(table, method(sa.literal_column(size)), seed)

    def block_sampled(self, table: sa.TableClause, *, percent: float, seed: int) -> sa.FromClause | None:
        """DuckDB's SYSTEM sample keeps whole vectors (2,048 rows) and skips the rest in the scan of a
        table (measured: 0.004 s against 0.17 s for a 100k-row reservoir of 20M rows)."""
        import sqlalchemy as sa

        size = f"{sample_percent(percent)} PERCENT"
        return self._tablesample(table, sa.func.system(sa.literal_column(size)), seed)

    def bound_memory(self, conn: Connection, memory_bytes: int, temp_directory: Path | None) -> None:
        """DuckDB runs in this process: its memory_limit (its buffer manager's, which DuckDB's own default
        puts at 80% of the machine) and a directory of this process's own to spill to, so a hash
        aggregate larger than the limit goes to disk rather than taking the machine."""
        spill = (temp_directory or Path(tempfile.gettempdir()) / "profilemesh-spill") / str(os.getpid())
        conn.exec_driver_sql("SET memory_limit = ?", (f"{max(memory_bytes // 1024**2, 1)}MiB",))
        conn.exec_driver_sql("SET temp_directory = ?", (str(spill),))

    def meter_statements(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET enable_profiling = 'no_output'")

    def statement_cost(self, conn: Connection) -> dict[str, int] | None:
        """From DuckDB's profiler: the rows its scans read (a table's, or what a table function made),
        the bytes read from the database file (not from its buffer cache), the bytes spilled to the temp
        directory and the peak of its buffer memory. None for a statement it answered without running
        one (a count(*) from statistics)."""
        driver = conn.connection.driver_connection
        assert driver is not None
        info = json.loads(driver.get_profiling_information(format="json"))
        query, io, system = info.get("query"), info.get("io", {}), info.get("system", {})
        if not query:
            return None
        # A table function (range(), under a view) produces rows its profiler does not count as scanned.
        produced = sum(_source_rows(operator) for operator in info.get("operator") or [])
        return {
            "rows_read": max(int(query.get("total_rows_scanned", 0)), produced),
            "bytes_read": int(io.get("total_bytes_read", 0)),
            "bytes_spilled": int(system.get("total_bytes_spilled", 0)),
            "peak_memory_bytes": int(system.get("peak_buffer_memory", 0)),
        }

    def estimated_rows(self, conn: Connection, statement: sa.Select[Any]) -> int | None:
        """The top operator's `Estimated Cardinality` (a view over range() or a table function included)."""
        from profilemesh.warehouses.explain import Explain  # SQLAlchemy: not at CLI start-up

        plan = conn.execute(Explain(statement, "EXPLAIN (FORMAT JSON)")).one()[1]
        value = json.loads(plan)[0].get("extra_info", {}).get("Estimated Cardinality")
        return None if value is None else int(value)

    def primary_key(self, conn: Connection, schema: str, table: str) -> list[str]:
        """From information_schema: SQLAlchemy's PostgreSQL reflection, which duckdb-engine inherits, casts to
        REGCLASS, a type DuckDB lacks."""
        import sqlalchemy as sa

        query = sa.text(
            "SELECT k.column_name FROM information_schema.key_column_usage k "
            "JOIN information_schema.table_constraints t ON t.constraint_name = k.constraint_name "
            "AND t.table_catalog = k.table_catalog AND t.table_schema = k.table_schema AND t.table_name = k.table_name "
            "WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_catalog = current_database() "
            "AND t.table_schema = :schema AND t.table_name = :table ORDER BY k.ordinal_position"
        )
        return [str(name).lower() for name in conn.execute(query, {"schema": schema, "table": table}).scalars()]

    def dbt_output(self, conn: ConnectionConfig, password_ref: str) -> dict[str, Any]:
        output: dict[str, Any] = {
            "type": "duckdb",
            "path": conn.filepath,
            "schema": conn.schema,
            # Let go of the file between operations: DuckDB allows one writer per file.
            "keep_open": False,
            # dbt-duckdb SETs these on each cursor: the progress bar off, as on our own connections
            # (create_engine), unless the connection's own `settings` say otherwise.
            "settings": {"enable_progress_bar": False, **(conn.extra_params.get("settings") or {})},
        }
        return {**conn.extra_params, **output}

    def insert_rows(
        self, conn: Connection, table: sa.TableClause, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """An INSERT from a staged CSV file (measured: 0.12 s for 50,000 metric rows, against 24.9 s for
        one INSERT per row and 3.1 s for multi-row VALUES)."""
        if not rows:
            return
        handle, path = tempfile.mkstemp(prefix="profilemesh-stage-", suffix=".csv")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as staged:
                staged.write(csv_text(rows))
            preparer = conn.dialect.identifier_preparer
            target = preparer.format_table(table)
            column_list = ", ".join(preparer.quote(c) for c in columns)
            # `target` and `column_list` are quoted by the dialect's identifier preparer, the staged
            # file's path is bound; every staged column is read as text and cast by the INSERT. The CSV
            # dialect is given in full: sniffing misreads a quoted CR as a line end.
            types = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(columns))) + "}"
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            conn.exec_driver_sql(
                f"INSERT INTO {target} ({column_list}) SELECT {names} FROM read_csv(?, header = false, "
                f"columns = {types}, quote = '\"', escape = '\"', allow_quoted_nulls = false, delim = ',', "
                "new_line = '\\n', auto_detect = false)",
                (path,),
            )
        finally:
            os.unlink(path)

    def quantiles(
        self, value: sa.ColumnElement[Any], fractions: Sequence[float], *, exact: bool
    ) -> list[sa.ColumnElement[Any]]:
        import sqlalchemy as sa

        # One aggregate for all fractions: one sort per column.
        levels: sa.ColumnElement[Any] = sa.literal_column("[" + ", ".join(repr(float(f)) for f in fractions) + "]")
        return [sa.func.quantile_cont(value, levels)]

    # Approximate quantiles are exact ones of a row sample: at 1M rows x 29 columns, quantile_cont over a
    # 10 % BERNOULLI sample took 0.98 s, approx_quantile (a T-Digest) over every row 3.25 s.
    approx_quantiles_available = False


def _quiet(dbapi_connection: Any, _record: Any) -> None:
    """A new DuckDB connection's settings: no progress bar (DuckDB.create_engine)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET enable_progress_bar = false")
    finally:
        cursor.close()
