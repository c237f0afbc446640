"""One connection description drives both SQLAlchemy (reads, status) and dbt (migrations).

`StorageTarget` is what every command works against: the resolved connection (from
`storage.connection`, or read out of an existing dbt profile) plus the storage table names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from profilemesh.config import Config, ConnectionConfig, StorageConfig
from profilemesh.dbt_profiles import connection_from_dbt_profile
from profilemesh.errors import UsageError
from profilemesh.names import check_storage_names

# The password reaches dbt through this variable, never through a file on disk.
DBT_PASSWORD_ENV = "PROFILEMESH__DBT_PASSWORD"
CONNECT_TIMEOUT_SECONDS = 10
LOCK_TTL_ENV = "PROFILEMESH_LOCK_TTL_SECONDS"


def lock_ttl_seconds(text: str) -> int:
    """PROFILEMESH_LOCK_TTL_SECONDS: a whole number of seconds, at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"{LOCK_TTL_ENV} must be a whole number of seconds (1 or more), got {text!r}")
    return int(text)


@dataclass(frozen=True)
class StorageTarget:
    connection: ConnectionConfig
    storage: StorageConfig
    environment: str = "default"

    @property
    def dialect(self) -> str:
        return self.connection.type

    @property
    def schema(self) -> str:
        assert self.connection.schema is not None
        return self.connection.schema

    def dbt_vars(self) -> dict[str, Any]:
        values: dict[str, Any] = {"profilemesh_schema": self.schema}
        values.update(self.storage.table_vars())
        ttl = os.environ.get(LOCK_TTL_ENV)
        if ttl:  # the Snowflake migration lease's TTL (default 300 s); see docs/schemas/MIGRATION_GUIDE.md
            values["profilemesh_lock_ttl_seconds"] = lock_ttl_seconds(ttl)
        return values

    def describe(self) -> str:
        """Where the store is, for messages; never includes the password."""
        c = self.connection
        if c.type == "duckdb":
            return f"duckdb file {c.filepath} (schema {c.schema})"
        if c.type == "postgres":
            return f"postgres {c.username}@{c.host}:{c.port or 5432}/{c.database} (schema {c.schema})"
        return f"snowflake {c.account or c.extra_params.get('host')}/{c.database} (schema {c.schema})"


def resolve_storage(config: Config) -> StorageTarget:
    storage = config.storage
    if storage.dbt_profile is not None:
        connection = connection_from_dbt_profile(storage.dbt_profile, config.path)
    else:
        assert storage.connection is not None
        connection = storage.connection
    check_storage_names(config.path, connection.type, _storage_names(storage, connection))
    return StorageTarget(connection=connection, storage=storage, environment=config.environment)


def _storage_names(storage: StorageConfig, connection: ConnectionConfig) -> dict[str, str]:
    """Config key -> every name dbt renders for the store: schema, tables, and the database (on DuckDB
    the catalog is named after the file)."""
    prefix = "storage.dbt_profile" if storage.dbt_profile is not None else "storage.connection"
    names = {f"{prefix}.schema": connection.schema or ""}
    if connection.type == "duckdb" and connection.filepath and connection.filepath != ":memory:":
        names[f"{prefix}.filepath"] = Path(connection.filepath).stem
    elif connection.database:
        names[f"{prefix}.database"] = connection.database
    names.update({f"storage.{key.removeprefix('profilemesh_')}": name for key, name in storage.table_vars().items()})
    return names


def sqlalchemy_url(conn: ConnectionConfig) -> URL:
    """A URL with every part escaped by SQLAlchemy (passwords may hold '@', '/', '%' ...)."""
    if conn.type == "duckdb":
        return URL.create("duckdb", database=conn.filepath)
    if conn.type == "postgres":
        query = {k: str(v) for k, v in conn.extra_params.items() if k in _POSTGRES_QUERY_KEYS}
        return URL.create(
            "postgresql+psycopg2",
            username=conn.username,
            password=conn.password,
            host=conn.host,
            port=conn.port or 5432,
            database=conn.database,
            query=query,
        )
    return URL.create("snowflake")


_POSTGRES_QUERY_KEYS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "options"}


def create_engine(conn: ConnectionConfig, *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine. Callers dispose it before dbt opens a DuckDB file (one writer per file)."""
    url = sqlalchemy_url(conn)
    if conn.type == "duckdb":
        return sa.create_engine(url, connect_args={"read_only": read_only}, poolclass=sa.pool.NullPool)
    if conn.type == "postgres":
        return sa.create_engine(
            url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, poolclass=sa.pool.NullPool
        )
    return sa.create_engine(url, connect_args=snowflake_connect_args(conn), poolclass=sa.pool.NullPool)


def snowflake_connect_args(conn: ConnectionConfig) -> dict[str, Any]:
    args: dict[str, Any] = {
        "account": conn.account or "fakesnow",
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
    args.update(conn.extra_params)
    return args


def dbt_profile_output(conn: ConnectionConfig) -> dict[str, Any]:
    """The dbt target for this connection. The password is an env_var() reference."""
    password = "{{ env_var('" + DBT_PASSWORD_ENV + "', '') }}"
    if conn.type == "duckdb":
        out: dict[str, Any] = {
            "type": "duckdb",
            "path": conn.filepath,
            "schema": conn.schema,
            # Let go of the file between operations: DuckDB allows one writer per file.
            "keep_open": False,
        }
    elif conn.type == "postgres":
        out = {
            "type": "postgres",
            "host": conn.host,
            "port": conn.port or 5432,
            "user": conn.username,
            "password": password,
            "dbname": conn.database,
            "schema": conn.schema,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "retries": 0,
        }
    else:
        out = {
            "type": "snowflake",
            "account": conn.account or "fakesnow",
            "user": conn.username,
            "password": password,
            "database": conn.database,
            "schema": conn.schema,
            "login_timeout": CONNECT_TIMEOUT_SECONDS,
            "connect_retries": 0,
        }
        if conn.warehouse:
            out["warehouse"] = conn.warehouse
        if conn.role:
            out["role"] = conn.role
    for key, value in conn.extra_params.items():
        out.setdefault(key, value)
    out["threads"] = 1
    return out


def with_schema(target: StorageTarget, schema: str) -> StorageTarget:
    return replace(target, connection=replace(target.connection, schema=schema))


def duckdb_file_exists(conn: ConnectionConfig) -> bool:
    return conn.type != "duckdb" or conn.filepath == ":memory:" or Path(str(conn.filepath)).exists()
