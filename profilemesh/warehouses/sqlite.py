"""SQLite: a file with no server, like DuckDB, through dbt-sqlite (the `sqlite` extra).

What SQLite lacks and what ProfileMesh does instead is listed in docs/guides/WAREHOUSES.md ("SQLite"):
one schema per file (`main`), no TABLESAMPLE, no HyperLogLog, no `stddev_samp` (a Python aggregate
registered on every connection), one writer at a time (the file's write lock is the migration lock).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilemesh.errors import ConfigError, UsageError
from profilemesh.warehouses.base import CONNECT_TIMEOUT_SECONDS, BusyHolder, ConnectionConfig, Warehouse

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL, Connection, Engine

DEFAULT_FILE = "profilemesh.db"
SCHEMA = "main"  # SQLite's name for the file a connection opens; dbt-sqlite's one required schema
# Another connection holds the file's write lock for longer than the busy timeout.
_FILE_BUSY = re.compile(r"database is locked|database table is locked")


class SampleStddev:
    """stddev_samp as a SQLite aggregate (SQLite has none): Welford's running mean and sum of squares,
    which stay exact where the textbook sum-of-squares formula cancels."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.squares = 0.0

    def step(self, value: Any) -> None:
        if value is None:
            return
        number = float(value)
        self.count += 1
        delta = number - self.mean
        self.mean += delta / self.count
        self.squares += delta * (number - self.mean)

    def finalize(self) -> float | None:
        return math.sqrt(self.squares / (self.count - 1)) if self.count > 1 else None


@functools.cache
def _date_time_type() -> type:
    import datetime as dt

    from sqlalchemy.dialects import sqlite

    class DateTime(sqlite.DATETIME):
        """SQLite's DATETIME, reading a value the driver has already parsed as it is."""

        def result_processor(self, dialect: Any, coltype: Any) -> Any:
            parse = super().result_processor(dialect, coltype)

            def process(value: Any) -> Any:
                if value is None or isinstance(value, dt.datetime) or parse is None:
                    return value
                return parse(value)

            return process

    return DateTime


class SQLite(Warehouse):
    name = "sqlite"
    dialect_name = "sqlite"
    default_schema = SCHEMA
    extra = "sqlite"
    modules = ()
    dbt_adapter = "dbt-sqlite"
    has_server = False
    has_roles = False
    # One writer at a time per file: a program reading and writing the same file does both through one
    # connection, so its own read never blocks its write.
    single_writer_file = True
    # The views are dropped before migrations and rebuilt after: SQLite's ALTER TABLE ... RENAME checks every
    # view of the file, and one reading a table a rebuild has just dropped fails it.
    views_bind_columns = True
    operation_is_one_transaction = True  # its lock is the file's write lock (macros/warehouses/sqlite.sql)
    integers_are_64_bit = True  # INTEGER is SQLite's only integer storage: 8 bytes

    def complete(self, values: dict[str, Any], shown: str, key: str, base_dir: Path) -> dict[str, Any]:
        filepath = values.get("filepath") or values.get("database") or DEFAULT_FILE
        if filepath == ":memory:":
            raise ConfigError(
                shown, f"{key}.filepath", "an in-memory SQLite database lasts one connection: name a file"
            )
        schema = values.get("schema") or SCHEMA
        if schema != SCHEMA:
            raise ConfigError(shown, f"{key}.schema", f"a SQLite file has one schema, {SCHEMA!r}; got {schema!r}")
        return {**values, "filepath": str((base_dir / Path(filepath).expanduser()).resolve()), "schema": SCHEMA}

    def database_names(self, conn: ConnectionConfig) -> dict[str, str]:
        return {}

    def describe(self, conn: ConnectionConfig) -> str:
        return f"sqlite file {conn.filepath}"

    def url(self, conn: ConnectionConfig) -> URL:
        from sqlalchemy.engine import URL

        return URL.create("sqlite", database=conn.filepath)

    def connect_args(self, conn: ConnectionConfig, *, read_only: bool) -> dict[str, Any]:
        # The busy timeout: how long a statement waits for another connection's write lock. Columns declared
        # TIMESTAMP are read back as datetimes (SQLite stores the text), as the other warehouses' drivers do.
        import sqlite3

        return {"timeout": CONNECT_TIMEOUT_SECONDS, "detect_types": sqlite3.PARSE_DECLTYPES}

    def create_engine(self, conn: ConnectionConfig, *, read_only: bool = False) -> Engine:
        """Each connection gets `stddev_samp`, and opens transactions itself: pysqlite's own BEGIN comes
        late (before the first write), so a transaction's reads would not be isolated from a writer."""
        import sqlalchemy as sa

        engine = super().create_engine(conn, read_only=read_only)
        # The driver parses columns declared TIMESTAMP (detect_types); SQLAlchemy's own DateTime then gets
        # a datetime where it expects the text, so this engine's DateTime takes either.
        engine.dialect.colspecs = {
            **engine.dialect.colspecs,
            sa.DateTime: _date_time_type(),
            sa.TIMESTAMP: _date_time_type(),
        }

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # no implicit BEGIN: SQLAlchemy's "begin" below
            dbapi_connection.create_aggregate("stddev_samp", 1, SampleStddev)

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine

    def store_absent(self, conn: ConnectionConfig) -> bool:
        return not Path(str(conn.filepath)).exists()

    def busy_holder(self, error_text: str) -> BusyHolder | None:
        # SQLite does not say who holds its write lock.
        return BusyHolder(None) if _FILE_BUSY.search(error_text) else None

    def native_column_types(self, conn: Connection, schema: str | None, table: str) -> dict[str, str]:
        """The declared types (SQLite keeps a column's type as written: `DECIMAL(12,2)`, `VARCHAR(8)`)."""
        import sqlalchemy as sa

        query = sa.text("SELECT name, type FROM pragma_table_info(:table, :schema)")
        return {
            str(name): str(kind) for name, kind in conn.execute(query, {"table": table, "schema": schema or SCHEMA})
        }

    def sampled(
        self, table: sa.TableClause, *, percent: float | None, rows: int | None, seed: int | None
    ) -> sa.FromClause:
        raise UsageError("sqlite has no TABLESAMPLE: profile the whole table (drop sample:), or narrow it with where:")

    def block_sampled(self, table: sa.TableClause, *, percent: float, seed: int) -> sa.FromClause | None:
        return None  # no TABLESAMPLE: a big table's distributions read every row

    def dbt_output(self, conn: ConnectionConfig, password_ref: str) -> dict[str, Any]:
        path = str(conn.filepath)
        return {
            **conn.extra_params,
            "type": "sqlite",
            "database": SCHEMA,
            "schema": SCHEMA,
            "schemas_and_paths": {SCHEMA: path},
            # dbt-sqlite attaches every *.db file in this directory as a schema: the store file itself is
            # no directory, so it attaches none.
            "schema_directory": path,
        }

    def upsert(self, conn: Connection, table: sa.TableClause, keys: Sequence[str], values: dict[str, Any]) -> None:
        from sqlalchemy.dialects import sqlite

        changes = {k: v for k, v in values.items() if k not in keys}
        conn.execute(sqlite.insert(table).values(values).on_conflict_do_update(index_elements=keys, set_=changes))

    def approx_distinct_available(self, conn: Connection) -> bool:
        return False

    def bucket_start(self, col: sa.ColumnElement[Any], unit: str, zone: str | None) -> sa.ColumnElement[Any]:
        """SQLite keeps times as text without a zone: the bucket's start as `YYYY-MM-DD HH:00:00` text."""
        import sqlalchemy as sa

        pattern = "%Y-%m-%d 00:00:00" if unit == "day" else "%Y-%m-%d %H:00:00"
        return sa.func.strftime(sa.literal_column(f"'{pattern}'"), col)

    def approx_distinct_unavailable_note(self) -> str:
        return "SQLite has no HyperLogLog; distinct values counted exactly instead"
