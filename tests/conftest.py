"""Shared fixtures: a throwaway PostgreSQL cluster on loopback, fresh stores per test, and helpers
to run the real CLI (in-process and as subprocesses). No database or dbt is mocked."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

from profilemesh import dbt_parse_cache
from profilemesh.cli.main import main as cli_main
from profilemesh.config import load_config
from profilemesh.connection import StorageTarget, resolve_storage

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import pgcluster  # noqa: E402  (scripts/ is not a package; shared with the benchmarks)

# dbt's saved parse is shared between processes (profilemesh/dbt_parse_cache.py): the run's own directory,
# shared by its workers, so the tests never read or fill the user's cache.
os.environ[dbt_parse_cache.CACHE_ENV] = str(
    Path(tempfile.gettempdir()) / f"profilemesh-test-dbt-cache-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"
)

PG_SUPERUSER = pgcluster.SUPERUSER
PG_PASSWORD = pgcluster.PASSWORD  # loopback TCP connections need a password, so wrong passwords are really refused
_free_port = pgcluster.free_port


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int

    def connect(self, dbname: str = "postgres", **kwargs: Any):
        params = {
            "host": self.host,
            "port": self.port,
            "user": PG_SUPERUSER,
            "password": PG_PASSWORD,
            "dbname": dbname,
            **kwargs,
        }
        return psycopg2.connect(**params)


@pytest.fixture(scope="session", autouse=True)
def _dbt_parse_cache_removed_at_the_end() -> Iterator[None]:
    yield
    shutil.rmtree(os.environ[dbt_parse_cache.CACHE_ENV], ignore_errors=True)  # another worker only misses it


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL cluster of our own on 127.0.0.1, stopped (and deleted) after the session."""
    if os.environ.get("PROFILEMESH_TEST_PG_PORT"):
        yield PgServer("127.0.0.1", int(os.environ["PROFILEMESH_TEST_PG_PORT"]))
        return
    with pgcluster.throwaway_cluster() as cluster:
        yield PgServer(cluster.host, cluster.port)


@dataclass
class Store:
    """One storage location under test, with its config file."""

    kind: str
    config_path: Path
    target: StorageTarget
    pg: PgServer | None = None
    database: str | None = None

    def write_config(self, **storage_overrides: Any) -> Path:
        data = yaml.safe_load(self.config_path.read_text())
        data["storage"].update(storage_overrides)
        self.config_path.write_text(yaml.safe_dump(data))
        self.target = resolve_storage(load_config(self.config_path))
        return self.config_path

    def sql(self, statement: str, params: Any = None) -> list[tuple]:
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

            from profilemesh.connection import snowflake_connect_args

            conn = snowflake.connector.connect(**snowflake_connect_args(self.target.connection))
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
        return self.target.schema

    def ident(self, name: str) -> str:
        """A quoted identifier naming what ProfileMesh creates (upper case on Snowflake, which folds)."""
        return f'"{name.upper()}"' if self.kind == "snowflake" else f'"{name}"'

    def qualified(self, table: str) -> str:
        return f'"{self.schema}".{self.ident(table)}'


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def make_duckdb_store(directory: Path, schema: str = "main") -> Store:
    path = _write_yaml(
        directory / "profilemesh.yml",
        {
            "environment": "test",
            "storage": {
                "connection": {"type": "duckdb", "filepath": str(directory / "store.duckdb"), "schema": schema}
            },
        },
    )
    return Store("duckdb", path, resolve_storage(load_config(path)))


def make_postgres_store(
    directory: Path, pg: PgServer, schema: str = "profilemesh", database: str | None = None
) -> Store:
    """A store in a new database (`database` names it: one of that name is dropped first)."""
    database = database or f"pm_{uuid.uuid4().hex[:12]}"
    conn = pg.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{database}"')
    conn.close()
    path = _write_yaml(
        directory / "profilemesh.yml",
        {
            "environment": "test",
            "storage": {
                "connection": {
                    "type": "postgres",
                    "host": pg.host,
                    "port": pg.port,
                    "database": database,
                    "username": PG_SUPERUSER,
                    "password": PG_PASSWORD,
                    "schema": schema,
                }
            },
        },
    )
    return Store("postgres", path, resolve_storage(load_config(path)), pg=pg, database=database)


@pytest.fixture(params=["duckdb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty store on each warehouse the suite runs everywhere."""
    if request.param == "duckdb":
        return make_duckdb_store(tmp_path)
    return make_postgres_store(tmp_path, request.getfixturevalue("pg_server"))


@pytest.fixture
def pg_store(tmp_path: Path, pg_server: PgServer) -> Store:
    return make_postgres_store(tmp_path, pg_server)


@pytest.fixture
def duck_store(tmp_path: Path) -> Store:
    return make_duckdb_store(tmp_path)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """The real CLI entry point, in-process (dbtRunner included)."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    if env:
        os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return CliResult(code, out.getvalue(), err.getvalue())


def spawn_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as a separate process (for concurrency)."""
    return subprocess.Popen(
        [sys.executable, "-m", "profilemesh.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def copy_package(destination: Path) -> Path:
    """A private copy of the dbt package, for tests that add or edit migrations."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copytree(REPO_ROOT / "dbt_profilemesh", destination / "dbt_profilemesh")
    return destination


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


# --- Snowflake: the fakesnow emulator in server mode, or a real account when SNOWFLAKE_* is set ---

SNOWFLAKE_ENV = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_DATABASE")


def real_snowflake() -> bool:
    return all(os.environ.get(name) for name in SNOWFLAKE_ENV)


@pytest.fixture(scope="session", params=["emulator", "account"])
def snowflake_endpoint(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Connection settings shared by every Snowflake store of the session: the fakesnow emulator
    always, and a real account when SNOWFLAKE_ACCOUNT, _USER, _PASSWORD and _DATABASE are set."""
    if request.param == "account":
        if not real_snowflake():
            pytest.skip(
                "real Snowflake lane: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD and "
                "SNOWFLAKE_DATABASE are not set"
            )
        yield {
            "type": "snowflake",
            "account": os.environ["SNOWFLAKE_ACCOUNT"],
            "username": os.environ["SNOWFLAKE_USER"],
            "password": os.environ["SNOWFLAKE_PASSWORD"],
            "database": os.environ["SNOWFLAKE_DATABASE"],
            **{
                k: os.environ[f"SNOWFLAKE_{k.upper()}"]
                for k in ("warehouse", "role")
                if os.environ.get(f"SNOWFLAKE_{k.upper()}")
            },
        }
        return
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fakesnow", "-s", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def listening() -> bool:
        with contextlib.closing(socket.socket()) as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        if not wait_for(listening, timeout=60):
            raise RuntimeError("the fakesnow emulator did not start")
        yield {
            "type": "snowflake",
            "account": "fakesnow",
            "username": "fake",
            "password": "snow",
            "database": "PMTEST",
            "extra_params": {"host": "127.0.0.1", "port": port, "protocol": "http"},
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def make_snowflake_store(directory: Path, endpoint: dict[str, Any]) -> Store:
    suffix = uuid.uuid4().hex[:10].upper()
    connection = dict(endpoint)
    if connection["account"] != "fakesnow":
        connection["schema"] = f"PM_TEST_{suffix}"
    else:  # the emulator keeps each database apart; a fresh one per test
        connection["database"] = f"PM_{suffix}"
        connection["schema"] = "PROFILEMESH"
    path = _write_yaml(directory / "profilemesh.yml", {"environment": "test", "storage": {"connection": connection}})
    return Store("snowflake", path, resolve_storage(load_config(path)))


@pytest.fixture
def sf_store(tmp_path: Path, snowflake_endpoint: dict[str, Any]) -> Iterator[Store]:
    store = make_snowflake_store(tmp_path, snowflake_endpoint)
    yield store
    if snowflake_endpoint["account"] != "fakesnow":
        store.sql(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


def apply_storage_only(target: StorageTarget, **kwargs: Any) -> dict[str, Any]:
    """`migrate apply` without the view build, for tests that never read the query views."""
    from profilemesh.migrate import apply

    return apply(target, views=False, **kwargs)


@dataclass(frozen=True)
class QuickstartRun:
    directory: Path
    result: CliResult


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> QuickstartRun:
    """`profilemesh quickstart` once per test process, through the CLI. Read it; copy the directory
    (`shutil.copytree`) before running anything that writes."""
    directory = tmp_path_factory.mktemp("quickstart") / "demo"
    return QuickstartRun(directory, run_cli("quickstart", "--dir", str(directory)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the quickstart's store run on one xdist worker (scripts/test.sh: --dist loadgroup), so
    the ~20 s quickstart is built once per run rather than once per worker."""
    for item in items:
        if "quickstart_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("quickstart"))
