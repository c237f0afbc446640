"""Snowflake: tested on the fakesnow emulator, and on a real account when credentials are given."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profilemesh.errors import ConfigError, UsageError
from profilemesh.warehouses.base import CONNECT_TIMEOUT_SECONDS, ConnectionConfig, Warehouse

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL, Connection

# Snowflake folds unquoted names and dbt-snowflake leaves relations unquoted: storage names must be
# plain identifiers there.
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class Snowflake(Warehouse):
    name = "snowflake"
    dialect_name = "snowflake"
    default_schema = "PUBLIC"
    extra = "snowflake"
    modules = ("snowflake.connector", "snowflake.sqlalchemy")
    dbt_adapter = "dbt-snowflake"
    required_keys = ("account", "username", "database")
    json_family = "json"  # VARIANT
    lock_outlives_session = True  # the migration lock is a lease row
    quote_reflected_names = False  # SQLAlchemy lower-cases case-insensitive names; quoting them would miss
    # Snowflake bills every scan, so exact distinct counts ride in the one aggregate query.
    exact_distinct_shape = "inline"

    def complete(self, values: dict[str, Any], shown: str, key: str, base_dir: Path) -> dict[str, Any]:
        if not values.get("account"):
            raise ConfigError(shown, f"{key}.account", "required for a snowflake connection (the account identifier)")
        return super().complete(values, shown, key, base_dir)

    def sampled(
        self, table: sa.TableClause, *, percent: float | None, rows: int | None, seed: int | None
    ) -> sa.FromClause:
        """Snowflake: BERNOULLI by percent or by a row count; a fixed-size sample takes no seed."""
        import sqlalchemy as sa

        if percent is not None:
            return self._tablesample(table, sa.func.bernoulli(sa.literal_column(repr(float(percent)))), seed)
        if seed is not None:
            raise UsageError("snowflake draws a sample of a number of rows without a seed: drop sample.seed")
        return self._tablesample(table, sa.func.bernoulli(sa.literal_column(f"{int(rows or 0)} ROWS")), None)

    def bucket_start(self, col: sa.ColumnElement[Any], unit: str, zone: str | None) -> sa.ColumnElement[Any]:
        """Snowflake: CONVERT_TIMEZONE gives a TIMESTAMP_TZ's local time in the zone; truncated as NTZ."""
        import sqlalchemy as sa

        local = col if zone is None else sa.func.to_timestamp_ntz(sa.func.convert_timezone(sa.literal(zone), col))
        return sa.func.date_trunc(sa.literal_column(f"'{unit}'"), local)

    def name_problem(self, name: str) -> str | None:
        if not _PLAIN_IDENTIFIER.match(name):
            return "must be a plain identifier on Snowflake (letters, digits, _ and $, not starting with a digit)"
        return None

    def describe(self, conn: ConnectionConfig) -> str:
        return f"snowflake {conn.account}/{conn.database} (schema {conn.schema})"

    def url(self, conn: ConnectionConfig) -> URL:
        from sqlalchemy.engine import URL

        return URL.create("snowflake")

    def connect_args(self, conn: ConnectionConfig, *, read_only: bool) -> dict[str, Any]:
        """The connector's own arguments (also what a test passes to snowflake.connector.connect)."""
        args: dict[str, Any] = {
            "account": conn.account,
            "user": conn.username,
            "password": conn.password,
            "database": conn.database,
            "schema": conn.schema,
            "login_timeout": CONNECT_TIMEOUT_SECONDS,
        }
        if conn.warehouse:
            args["warehouse"] = conn.warehouse
        if conn.role:
            args["role"] = conn.role
        return {**args, **conn.extra_params}

    def dbt_output(self, conn: ConnectionConfig, password_ref: str) -> dict[str, Any]:
        output: dict[str, Any] = {
            "type": "snowflake",
            "account": conn.account,
            "user": conn.username,
            "password": password_ref,
            "database": conn.database,
            "schema": conn.schema,
            "login_timeout": CONNECT_TIMEOUT_SECONDS,
            "connect_retries": 0,
        }
        if conn.warehouse:
            output["warehouse"] = conn.warehouse
        if conn.role:
            output["role"] = conn.role
        return {**conn.extra_params, **output}

    def upsert(self, conn: Connection, table: sa.TableClause, keys: Sequence[str], values: dict[str, Any]) -> None:
        """MERGE: Snowflake does not enforce primary keys, so a plain insert could duplicate."""
        import sqlalchemy as sa
        from snowflake.sqlalchemy import MergeInto

        changes = [k for k in values if k not in keys]
        source = sa.select(*(sa.literal(v).label(k) for k, v in values.items())).subquery("incoming")
        merge = MergeInto(table, source, sa.and_(*(table.c[k] == source.c[k] for k in keys)))
        merge.when_matched_then_update().values(**{k: source.c[k] for k in changes})
        merge.when_not_matched_then_insert().values(**{k: source.c[k] for k in values})
        conn.execute(merge)

    def epoch_seconds(self, col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        import sqlalchemy as sa

        return sa.func.date_part(sa.literal_column("epoch_second"), col)

    def quantiles(
        self, value: sa.ColumnElement[Any], fractions: Sequence[float], *, exact: bool
    ) -> list[sa.ColumnElement[Any]]:
        import sqlalchemy as sa

        if exact:
            return super().quantiles(value, fractions, exact=True)
        return [sa.func.approx_percentile(value, f) for f in fractions]  # a T-Digest per fraction
