"""Stores under test, one location per xdist worker.

dbt hashes the connection into its saved parse (the DuckDB path, the PostgreSQL database and schema),
so a store at a new location costs a full parse of the package (~2 s of CPU) on its first dbt call. The
tests therefore reuse one location per worker, emptied before each test; a store already at head comes
from a template built once per worker (a copied DuckDB file, `CREATE DATABASE ... TEMPLATE` on
PostgreSQL) instead of migrating from zero in every test.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import yaml

from profilemesh.api import Context, migrate_apply
from profilemesh.dbt.package import DbtPackage
from tests.support import pgcluster

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_SUPERUSER = pgcluster.SUPERUSER
PG_PASSWORD = pgcluster.PASSWORD  # loopback TCP connections need a password, so wrong passwords are really refused


def worker() -> str:
    """This xdist worker's name (gw0, gw1, ...), or `main` without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> Any:
        params = {
            "host": self.host,
            "port": self.port,
            "user": PG_SUPERUSER,
            "password": PG_PASSWORD,
            "dbname": dbname,
            **kwargs,
        }
        return psycopg2.connect(**params)

    def execute(self, *statements: str, dbname: str = "postgres") -> None:
        conn = self.connect(dbname)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()


@dataclass
class Store:
    """One storage location under test, with its config file."""

    kind: str
    config_path: Path
    pg: PgServer | None = None
    database: str | None = None
    package: DbtPackage | None = None

    @property
    def ctx(self) -> Context:
        """A Context on this store, read from its config file now (tests rewrite it)."""
        return Context.load(self.config_path, package=self.package)

    def with_package(self, package: Path) -> Store:
        """The same store, driven by another copy of the dbt package (tests that add or edit migrations)."""
        return dataclasses.replace(self, package=DbtPackage(package))

    @property
    def target(self) -> Any:
        return self.ctx.target

    def write_config(self, **storage_overrides: Any) -> Path:
        data = yaml.safe_load(self.config_path.read_text())
        data["storage"].update(storage_overrides)
        self.config_path.write_text(yaml.safe_dump(data))
        return self.config_path

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run SQL directly on the store (outside ProfileMesh), returning rows."""
        if self.kind == "postgres":
            assert self.pg is not None
            conn = self.pg.connect(self.database)
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute(statement, params)
                    return cur.fetchall() if cur.description else []
            finally:
                conn.close()
        if self.kind == "snowflake":
            import snowflake.connector

            target = self.target
            conn = snowflake.connector.connect(**target.warehouse.connect_args(target.connection, read_only=False))
            try:
                cur = conn.cursor()
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
            finally:
                conn.close()
        import duckdb

        conn = duckdb.connect(self.target.connection.filepath)
        try:
            result = conn.execute(statement, params or [])
            return result.fetchall() if result.description else []
        finally:
            conn.close()

    @property
    def ph(self) -> str:
        """The placeholder of this store's driver."""
        return "?" if self.kind == "duckdb" else "%s"

    @property
    def schema(self) -> str:
        return str(self.target.schema)

    def ident(self, name: str) -> str:
        """A quoted identifier naming what ProfileMesh creates (upper case on Snowflake, which folds)."""
        return f'"{name.upper()}"' if self.kind == "snowflake" else f'"{name}"'

    def qualified(self, table: str) -> str:
        return f'"{self.schema}".{self.ident(table)}'


def write_config(directory: Path, connection: dict[str, Any], **top: Any) -> Path:
    path = directory / "profilemesh.yml"
    data = {"environment": "test", **top, "storage": {"connection": connection}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def duckdb_store(directory: Path, *, store_file: Path | None = None, schema: str = "main") -> Store:
    """A DuckDB store: its config in `directory`, its file at `store_file` (default directory/store.duckdb).
    An existing file there is removed first."""
    store_file = store_file or directory / "store.duckdb"
    for leftover in (store_file, store_file.with_name(store_file.name + ".wal")):
        leftover.unlink(missing_ok=True)
    connection = {"type": "duckdb", "filepath": str(store_file), "schema": schema}
    return Store("duckdb", write_config(directory, connection))


def postgres_store(
    directory: Path, pg: PgServer, *, database: str, schema: str = "profilemesh", template: str | None = None
) -> Store:
    """A PostgreSQL store in database `database`, dropped and created again first (from `template`, a
    database holding a store already, when given)."""
    recreate_database(pg, database, template)
    connection = {
        "type": "postgres",
        "host": pg.host,
        "port": pg.port,
        "database": database,
        "username": PG_SUPERUSER,
        "password": PG_PASSWORD,
        "schema": schema,
    }
    return Store("postgres", write_config(directory, connection), pg=pg, database=database)


def recreate_database(pg: PgServer, database: str, template: str | None = None) -> None:
    create = f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else "")
    for attempt in range(50):  # a template briefly still in use by a closing session is refused
        try:
            pg.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', create)
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == 49:
                raise
            time.sleep(0.1)


class StorePool:
    """This worker's store locations: each test gets the same one, emptied (so every test shares dbt's
    parse), or filled from a template at head built on first use."""

    def __init__(self, root: Path, pg: PgServer | None = None):
        self.root = root
        self.pg = pg
        self._templates: dict[tuple[str, str], Any] = {}

    @property
    def duckdb_file(self) -> Path:
        (self.root / "duckdb").mkdir(parents=True, exist_ok=True)
        return self.root / "duckdb" / "store.duckdb"

    @property
    def pg_database(self) -> str:
        return f"pm_{worker()}"

    def empty(self, kind: str, config_dir: Path) -> Store:
        if kind == "duckdb":
            return duckdb_store(config_dir, store_file=self.duckdb_file)
        assert self.pg is not None, "postgres stores need the pg_server fixture"
        return postgres_store(config_dir, self.pg, database=self.pg_database)

    def _template(self, kind: str, config_dir: Path) -> Any:
        return self._built(kind, config_dir, "head", lambda store: migrate_apply(store.ctx))

    def _built(self, kind: str, config_dir: Path, name: str, build: Callable[[Store], object]) -> Any:
        """The template `name`: built once per worker at the worker's location by `build`, then saved."""
        if (kind, name) not in self._templates:
            store = self.empty(kind, config_dir)
            build(store)
            self._templates[kind, name] = self._save_template(kind, name)
        return self._templates[kind, name]

    def built(self, kind: str, config_dir: Path, name: str, build: Callable[[Store], object]) -> Store:
        """The worker's location holding a copy of template `name` (built by `build` on first use): tests
        that all start from the same prepared store (a legacy store migrated to version N) pay for it once."""
        template = self._built(kind, config_dir, name, build)
        return self._copy_to_location(kind, config_dir, template)

    def copy_at_head(self, kind: str, directory: Path, database: str) -> Store:
        """A store at head at a location of its own (`directory`, or PostgreSQL database `database`), for
        fixtures that outlive a test; copied from the template, so no dbt runs for it."""
        template = self._template(kind, directory)
        if kind == "duckdb":
            store = duckdb_store(directory)
            shutil.copyfile(template, directory / "store.duckdb")
            return store
        assert self.pg is not None
        return postgres_store(directory, self.pg, database=database, template=template)

    def at_head(self, kind: str, config_dir: Path) -> Store:
        """A store at the package's head version with its query views built."""
        return self._copy_to_location(kind, config_dir, self._template(kind, config_dir))

    def _copy_to_location(self, kind: str, config_dir: Path, template: Any) -> Store:
        if kind == "duckdb":
            store = duckdb_store(config_dir, store_file=self.duckdb_file)
            shutil.copyfile(template, self.duckdb_file)
            return store
        assert self.pg is not None
        return postgres_store(config_dir, self.pg, database=self.pg_database, template=template)

    def _save_template(self, kind: str, name: str) -> Any:
        if kind == "duckdb":
            template = self.root / f"duckdb-{name}.duckdb"
            shutil.copyfile(self.duckdb_file, template)
            return template
        assert self.pg is not None
        template = f"{self.pg_database}_{name}"
        recreate_database(self.pg, template, self.pg_database)
        return template


def copy_package(destination: Path) -> Path:
    """A private copy of the dbt package (replacing what is at `destination`), for tests that add or
    edit migrations."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copytree(REPO_ROOT / "dbt_profilemesh", destination / "dbt_profilemesh")
    return destination


def profiling_context(
    store: Store, directory: Path, tables: list[Any], *, source_schema: str | None = None, **top: Any
) -> Context:
    """The store's config with its storage connection as the source (in `source_schema`), these
    profiling.tables and any other top-level keys, written next to the test's files."""
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"], **({"schema": source_schema} if source_schema else {}))
    data["profiling"] = {"tables": tables}
    data.update(top)
    path = directory / f"profiling{len(list(directory.glob('profiling*.yml')))}.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)
