"""What every warehouse class answers. A difference between warehouses in Python lives in one method
of one class here, never in an `if dialect == ...` elsewhere (the Jinja side has one dispatched macro
per difference, the same rule).

`ConnectionConfig` is the one description of a connection; SQLAlchemy engines (reads, writes) and
dbt profiles (migrations) are both rendered from it by the warehouse class.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from profilemesh.errors import ConfigError, UsageError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL, Connection, Engine

# Seconds to wait for a server to answer a connection attempt (SQLAlchemy and dbt alike).
CONNECT_TIMEOUT_SECONDS = 10
MAX_NAME_CHARS = 255


@dataclass(frozen=True)
class ConnectionConfig:
    """One warehouse connection. The password never appears in repr() or logs."""

    type: str
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    filepath: str | None = None
    account: str | None = None
    warehouse: str | None = None
    role: str | None = None
    extra_params: dict[str, Any] = field(default_factory=dict)

    def same_database(self, other: ConnectionConfig) -> bool:
        """Both name the same database (schemas aside): one DuckDB file, one server database."""
        keys = ("type", "host", "port", "database", "filepath", "account")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


class CatalogColumn(NamedTuple):
    """One column of a table as the profile plans it: its name, its type as SQLAlchemy reflects it (what
    the plan's metrics and `results.column_type` come from) and as the catalog names it (`column_native_type`)."""

    name: str
    type: sa.types.TypeEngine[Any]
    native_type: str | None


@dataclass(frozen=True)
class BusyHolder:
    """Who holds a store that refused us because another process has it (DuckDB's one-writer rule)."""

    pid: int | None

    def describe(self) -> str:
        return "another process" if self.pid is None else f"process {self.pid}"


def access_denied_message(role: str, schema: str) -> str:
    """A store the role may not read; the dbt package words it the same (access_denied_message)."""
    return (
        f"role {role} cannot read schema {schema} (permission denied): grant it USAGE on the schema and SELECT "
        "on its tables (docs/configuration.md, Permissions)"
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _distributed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


class Warehouse:
    """One warehouse: its connection rules, engines, dbt profile, names, bulk writes and profiling plan."""

    name: ClassVar[str]  # the config's connection type and dbt's adapter type
    dialect_name: ClassVar[str]  # SQLAlchemy's dialect name
    default_schema: ClassVar[str]
    # The pip extra that installs this warehouse's drivers and dbt adapter (`profilemesh[postgres]`), the
    # driver modules and the dbt adapter's distribution it installs (looked up without importing dbt, which
    # the quick commands never load); None and () for the embedded default, which the base install carries.
    extra: ClassVar[str | None] = None
    modules: ClassVar[tuple[str, ...]] = ()
    dbt_adapter: ClassVar[str | None] = None
    required_keys: ClassVar[tuple[str, ...]] = ()
    # The database is a file one process opens read-write at a time (DuckDB): a program that reads and
    # writes the same file must do both through one connection.
    single_writer_file: ClassVar[bool] = False
    # A read-write connection holds the file for as long as it is open (DuckDB; SQLite locks it per
    # transaction): no other process can migrate the store meanwhile, so a version check made on that
    # connection holds until it closes.
    held_while_connected: ClassVar[bool] = False
    # A server warehouse is reached before dbt starts, for a fast one-line error when it is down.
    has_server: ClassVar[bool] = True
    # The migration lock outlives an operation that died on a SQL error (a lease), so the CLI hands it
    # back at once rather than letting it expire; a session lock or a file lock ends with its holder.
    lock_outlives_session: ClassVar[bool] = False
    # A migration operation (apply, repair, retention) is one transaction, its migrations included (SQLite):
    # a failure rolls back the whole operation and leaves no attempt to record or repair.
    operation_is_one_transaction: ClassVar[bool] = False
    # A view pins the columns it reads (PostgreSQL refuses to drop or retype them), so the query views
    # are dropped before migrations run and rebuilt after.
    views_bind_columns: ClassVar[bool] = False
    # Reflected names are the catalog's exact spelling, so the profiling SQL quotes every one of them:
    # SQLAlchemy's list of reserved words misses some (a PostgreSQL column named `collation` broke the
    # whole table). Snowflake reflects case-insensitive names in lower case and relies on folding.
    quote_reflected_names: ClassVar[bool] = True
    # Access is granted to database roles (`migrate apply --grant-read`); DuckDB has none (file permissions).
    has_roles: ClassVar[bool] = True
    # Every integer column holds 64 bits whatever its declared type (SQLite): nothing to widen.
    integers_are_64_bit: ClassVar[bool] = False
    # The family migrate validate expects for a `json` storage column (TEXT holding JSON, or VARIANT).
    json_family: ClassVar[str] = "string"
    # Profiling (docs/guides/PROFILING.md): how exact distinct counts are computed. "union_all": a second
    # statement of UNION ALL branches, each scanning the table once for its columns; "inline": in the
    # one aggregate query. distinct_branches: None is one branch per column.
    exact_distinct_shape: ClassVar[str] = "inline"
    distinct_branches: ClassVar[int | None] = None
    # Approximate distinct counts estimated by a second statement (SQL HyperLogLog) rather than inline.
    approx_distinct_statement: ClassVar[bool] = False
    # A string column's lengths are computed in its exact distinct branch, from each value read once
    # (PostgreSQL: a value stored out of line is fetched per expression that reads it).
    lengths_in_distinct_branch: ClassVar[bool] = False

    # --- installation ----------------------------------------------------------------------------

    def install_problem(self) -> str | None:
        """Why this warehouse cannot run here (its extra is not installed), naming the extra; or None. A
        config that names the warehouse fails on this, in one line, rather than at a driver's import."""
        missing = [f"module {module}" for module in self.modules if not _installed(module)]
        if self.dbt_adapter and not _distributed(self.dbt_adapter):
            missing.append(f"package {self.dbt_adapter}")
        if not missing:
            return None
        return (
            f"{self.name} needs the {self.extra} extra, which is not installed (no {missing[0]}): "
            f"pip install 'profilemesh[{self.extra}]'"
        )

    # --- configuration ---------------------------------------------------------------------------

    def complete(self, values: dict[str, Any], shown: str, key: str, base_dir: Path) -> dict[str, Any]:
        """The connection's values with defaults filled in; a ConfigError naming a missing key."""
        for required in self.required_keys:
            if not values.get(required):
                raise ConfigError(shown, f"{key}.{required}", f"required for a {self.name} connection")
        return {**values, "schema": values.get("schema") or self.default_schema}

    def name_problem(self, name: str) -> str | None:
        """Why `name` cannot name a storage schema or table here beyond the common rules, or None."""
        return None

    def database_names(self, conn: ConnectionConfig) -> dict[str, str]:
        """Config key (under the connection) -> the names dbt renders for the database itself."""
        return {"database": conn.database} if conn.database else {}

    def describe(self, conn: ConnectionConfig) -> str:
        """Where a store is, for messages; never includes the password."""
        raise NotImplementedError

    # --- connecting --------------------------------------------------------------------------------

    def url(self, conn: ConnectionConfig) -> URL:
        raise NotImplementedError

    def connect_args(self, conn: ConnectionConfig, *, read_only: bool) -> dict[str, Any]:
        return {}

    def create_engine(self, conn: ConnectionConfig, *, read_only: bool = False) -> Engine:
        """A SQLAlchemy engine without a pool: every connection is closed for real, so a DuckDB file
        is let go of before dbt opens it."""
        import sqlalchemy as sa

        return sa.create_engine(
            self.url(conn), connect_args=self.connect_args(conn, read_only=read_only), poolclass=sa.pool.NullPool
        )

    def store_absent(self, conn: ConnectionConfig) -> bool:
        """True when nothing can be there without connecting (a DuckDB file that does not exist)."""
        return False

    def busy_holder(self, error_text: str) -> BusyHolder | None:
        """The holder named by an error that means "another process has the store", or None."""
        return None

    def access_problem(self, conn: Connection, schema: str) -> str | None:
        """Why the connected role cannot read a store that is there, or None (no such check here)."""
        return None

    def interruptible(self) -> AbstractContextManager[None]:
        """While reading the source: Ctrl-C stops the running statement at once (where the driver
        would otherwise finish it first), and the statement's error says it was interrupted."""
        return contextlib.nullcontext()

    def interrupted(self, exc: BaseException) -> bool:
        """Whether `exc` is how this warehouse's driver reports a statement stopped by Ctrl-C."""
        return False

    def dbt_output(self, conn: ConnectionConfig, password_ref: str) -> dict[str, Any]:
        """The dbt target for this connection; the password is `password_ref` (an env_var() call)."""
        raise NotImplementedError

    def present_relations(self, conn: Connection, schema: str, names: Iterable[str]) -> set[str]:
        """The subset of `names` that exist in `schema`, as tables or views (no error for a missing schema)."""
        import sqlalchemy as sa

        inspector = sa.inspect(conn)
        return {name for name in names if inspector.has_table(name, schema=schema)}

    def primary_key(self, conn: Connection, schema: str, table: str) -> list[str]:
        """Lower-cased names of a table's primary key columns, in key order ([] without one)."""
        import sqlalchemy as sa

        return [
            name.lower() for name in sa.inspect(conn).get_pk_constraint(table, schema=schema)["constrained_columns"]
        ]

    def sampled(
        self, table: sa.TableClause, *, percent: float | None, rows: int | None, seed: int | None
    ) -> sa.FromClause:
        """The table read through the warehouse's own sampling (PostgreSQL: TABLESAMPLE BERNOULLI, by
        percent only; a row count needs an extension, tsm_system_rows, that a warehouse may not have)."""
        import sqlalchemy as sa

        if percent is None:
            raise UsageError(f"{self.name} samples by percent: use sample: {{percent: N}}, not {rows} rows")
        return self._tablesample(table, sa.func.bernoulli(sa.literal_column(repr(float(percent)))), seed)

    def block_sampled(self, table: sa.TableClause, *, percent: float, seed: int) -> sa.FromClause | None:
        """About `percent` of the table's rows, whole storage blocks of them, reading only those blocks
        (TABLESAMPLE SYSTEM: PostgreSQL's pages, Snowflake's micro-partitions): what bounds the read of
        a big table's distributions. None where the warehouse has no block sampling."""
        import sqlalchemy as sa

        return self._tablesample(table, sa.func.system(sa.literal_column(sample_percent(percent))), seed)

    @staticmethod
    def _tablesample(table: sa.TableClause, method: sa.Function[Any], seed: int | None) -> sa.FromClause:
        import sqlalchemy as sa

        repeatable: sa.ColumnElement[Any] | None = None if seed is None else sa.literal_column(str(int(seed)))
        return sa.tablesample(table, method, name="pm_sample", seed=repeatable)

    def table_columns(self, conn: Connection, schema: str | None, table: str) -> list[CatalogColumn]:
        """A table's (or view's) columns in order: SQLAlchemy's reflection and native_column_types. Raises
        SQLAlchemy's NoSuchTableError for a relation that is not there."""
        import warnings

        import sqlalchemy as sa

        with warnings.catch_warnings():
            # A type the dialect does not know (point, xml, an extension's) reflects as NullType and gets the
            # counts every column gets; SQLAlchemy's warning about it would only be noise on stderr.
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            reflected = sa.inspect(conn).get_columns(table, schema=schema)
        native = self.native_column_types(conn, schema, table)
        return [CatalogColumn(c["name"], c["type"], native.get(c["name"])) for c in reflected]

    def native_column_types(self, conn: Connection, schema: str | None, table: str) -> dict[str, str]:
        """{reflected column name: its type as the catalog names it}, from information_schema (DuckDB gives
        `DECIMAL(12,2)`, `ENUM('a', 'b')`, `STRUCT(a INTEGER)`; Snowflake its base names, `NUMBER`, `TEXT`)."""
        import sqlalchemy as sa

        dialect = conn.dialect
        # The catalog's spelling of reflected names: upper case where they fold (Snowflake), else as is.
        folds = dialect.requires_name_normalize

        def catalog(name: str) -> str:
            return str(dialect.denormalize_name(name)) if folds else name

        def reflected(name: str) -> str:
            return str(dialect.normalize_name(name)) if folds else name

        query = sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = coalesce(:schema, current_schema()) AND table_name = :table"
        )
        names = {"schema": catalog(schema) if schema else None, "table": catalog(table)}
        return {reflected(str(name)): str(kind) for name, kind in conn.execute(query, names)}

    # --- writing -----------------------------------------------------------------------------------

    def insert_rows(
        self, conn: Connection, table: sa.TableClause, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows inside the caller's transaction, through the warehouse's fast path."""
        import sqlalchemy as sa

        if rows:
            conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])

    def upsert(self, conn: Connection, table: sa.TableClause, keys: Sequence[str], values: dict[str, Any]) -> None:
        """Insert `values`, or update the row with the same `keys` columns, atomically."""
        from sqlalchemy.dialects import postgresql

        changes = {k: v for k, v in values.items() if k not in keys}
        statement = postgresql.insert(table).values(values).on_conflict_do_update(index_elements=keys, set_=changes)
        conn.execute(statement)

    # --- profiling ---------------------------------------------------------------------------------

    def bound_memory(self, conn: Connection, memory_bytes: int, temp_directory: Path | None) -> None:
        """Bound what profiling through `conn` may take of this machine's memory (profiling.limits: a
        memory limit in bytes, a directory to spill to; None: the system temp directory's). A
        server warehouse bounds its own (PostgreSQL's work_mem per sort or hash, spilling to temp files;
        Snowflake's warehouse, spilling to storage): nothing comes back to this process but aggregates."""

    def estimated_rows(self, conn: Connection, statement: sa.Select[Any]) -> int | None:
        """The planner's estimate of the rows `statement` returns, without running it; None where the
        warehouse gives none."""
        return None

    def meter_statements(self, conn: Connection) -> None:
        """Turn on what statement_cost reads (DuckDB's profiler), once per source connection."""

    def statement_cost(self, conn: Connection) -> dict[str, int] | None:
        """What the last statement on `conn` read, as the warehouse reports it (rows_read, bytes_read, ...)."""
        return None

    def table_counters(self, conn: Connection, schema: str | None, table: str) -> dict[str, int] | None:
        """The warehouse's cumulative read counters of one table (PostgreSQL's statistics views), taken
        before and after its profiling: the difference is what the profiling read. May end the
        transaction. None where there are none (a view, DuckDB, Snowflake)."""
        return None

    def plan_settings(self) -> tuple[str, ...]:
        """Statements run before a table's profiling queries, in their transaction."""
        return ()

    def distinct_operand(
        self, col: sa.ColumnElement[Any], *, plain_text: bool, collated: bool
    ) -> sa.ColumnElement[Any]:
        """The expression whose exact distinct values are counted (a cheaper equivalent may be used)."""
        return col

    def approx_distinct_available(self, conn: Connection) -> bool:
        """Whether approximate distinct counts can be computed here (an extension may be needed)."""
        return True

    def approx_distinct_unavailable_note(self) -> str:
        return ""

    def approx_distinct(self, col: sa.ColumnElement[Any], *, integer: bool, plain_text: bool) -> sa.ColumnElement[Any]:
        """An aggregate estimating the distinct count of `col` inside the aggregate query."""
        import sqlalchemy as sa

        return sa.func.approx_count_distinct(col)

    def bucket_start(self, col: sa.ColumnElement[Any], unit: str, zone: str | None) -> sa.ColumnElement[Any]:
        """The start of the day or hour `col` falls in, as a timestamp in the wall time of `zone` (a
        column with a time zone), or of the values as stored (zone None). PostgreSQL and DuckDB:
        `date_trunc(unit, timezone(zone, col))`; `timezone()` of a timestamptz is its local time there."""
        import sqlalchemy as sa

        local = col if zone is None else sa.func.timezone(sa.literal(zone), col)
        return sa.func.date_trunc(sa.literal_column(f"'{unit}'"), local)

    # --- distributions (profiling/distributions/) --------------------------------------------------

    # Approximate quantiles from the warehouse's sketch (True), or exact quantiles of a row sample (False).
    approx_quantiles_available: ClassVar[bool] = True

    def epoch_seconds(self, col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A date or time column's values as seconds since 1970-01-01 (UTC for values without a zone)."""
        import sqlalchemy as sa

        return sa.extract("epoch", col)

    def quantiles(
        self, value: sa.ColumnElement[Any], fractions: Sequence[float], *, exact: bool
    ) -> list[sa.ColumnElement[Any]]:
        """Aggregates giving `value`'s quantiles at `fractions`: one list-valued aggregate, or one per fraction."""
        import sqlalchemy as sa

        return [sa.func.percentile_cont(f).within_group(value) for f in fractions]


def sample_percent(percent: float) -> str:
    """A sample's percent as SQL: fixed-point (no exponent), at least one millionth of a percent."""
    return f"{min(max(percent, 1e-6), 100.0):.6f}"
