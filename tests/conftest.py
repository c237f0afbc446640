"""Fixtures: a throwaway PostgreSQL cluster on loopback, the Snowflake emulator, and stores on one location
per xdist worker (tests/support/stores.py). No database or dbt is mocked.

Markers (pyproject.toml): `duckdb`, `postgres` and `snowflake` are set from the stores a test uses, so
`pytest -m duckdb` or `-m "not snowflake"` picks a warehouse; `slow` marks tests that start processes or
tools (crash injection, concurrency, the quickstart, the benchmarks, the wheel build): `pytest -m "not
slow and not snowflake"` is the inner loop.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from profilemesh.dbt import parse_cache
from tests.support import pgcluster
from tests.support.cli import QuickstartRun, run_cli
from tests.support.snowflake_emulator import account_endpoint, emulator, is_emulator, real_snowflake, snowflake_store
from tests.support.stores import PgServer, Store, StorePool, copy_package, worker

# dbt's saved parse is shared between processes (profilemesh/dbt/parse_cache.py): the run's own directory,
# shared by its workers, so the tests never read or fill the user's cache.
os.environ[parse_cache.CACHE_ENV] = str(
    Path(tempfile.gettempdir()) / f"profilemesh-test-dbt-cache-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"
)


@pytest.fixture(scope="session", autouse=True)
def _dbt_parse_cache_removed_at_the_end() -> Iterator[None]:
    yield
    shutil.rmtree(os.environ[parse_cache.CACHE_ENV], ignore_errors=True)  # another worker only misses it


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL cluster of our own on 127.0.0.1, stopped (and deleted) after the session."""
    if os.environ.get("PROFILEMESH_TEST_PG_PORT"):
        yield PgServer("127.0.0.1", int(os.environ["PROFILEMESH_TEST_PG_PORT"]))
        return
    with pgcluster.throwaway_cluster() as cluster:
        yield PgServer(cluster.host, cluster.port)


@pytest.fixture(scope="session")
def store_pool(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> StorePool:
    """This worker's store locations (PostgreSQL only when a test of the session asks for it)."""
    return StorePool(tmp_path_factory.getbasetemp() / f"stores-{worker()}")


def _pool(request: pytest.FixtureRequest, kind: str) -> StorePool:
    pool: StorePool = request.getfixturevalue("store_pool")
    if kind == "postgres" and pool.pg is None:
        pool.pg = request.getfixturevalue("pg_server")
    return pool


class Stores:
    """The worker's store location, emptied or filled at head on demand, for a test that needs both in turn
    (one location: the second call replaces the first's store)."""

    def __init__(self, request: pytest.FixtureRequest, directory: Path):
        self.request = request
        self.directory = directory

    def empty(self, kind: str) -> Store:
        return _pool(self.request, kind).empty(kind, self.directory)

    def at_head(self, kind: str) -> Store:
        return _pool(self.request, kind).at_head(kind, self.directory)

    def built(self, kind: str, name: str, build: Callable[[Store], object]) -> Store:
        """A copy of the worker's template `name`, which `build` makes from an empty store on first use."""
        return _pool(self.request, kind).built(kind, self.directory, name, build)


@pytest.fixture
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    return Stores(request, tmp_path)


@pytest.fixture(params=["duckdb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """An empty store (no schema, no ledger) on each warehouse the suite runs everywhere."""
    return _pool(request, request.param).empty(request.param, tmp_path)


@pytest.fixture(params=["duckdb", "postgres"])
def store_at_head(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A store at the package's head version with its query views, on each warehouse."""
    return _pool(request, request.param).at_head(request.param, tmp_path)


@pytest.fixture
def package_copy(store_pool: StorePool) -> Path:
    """A private copy of the dbt package, at this worker's one location (so dbt parses it partially)."""
    return copy_package(store_pool.root / "package")


@pytest.fixture
def duck_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _pool(request, "duckdb").empty("duckdb", tmp_path)


@pytest.fixture
def pg_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _pool(request, "postgres").empty("postgres", tmp_path)


@pytest.fixture
def duck_at_head(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _pool(request, "duckdb").at_head("duckdb", tmp_path)


@pytest.fixture
def pg_at_head(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _pool(request, "postgres").at_head("postgres", tmp_path)


# --- Snowflake: the fakesnow emulator always, and a real account when SNOWFLAKE_* is set -------------


@pytest.fixture(scope="session", params=["emulator", "account"])
def snowflake_endpoint(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    if request.param == "account":
        if not real_snowflake():
            pytest.skip(
                "real Snowflake lane: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD and "
                "SNOWFLAKE_DATABASE are not set"
            )
        yield account_endpoint()
        return
    with emulator() as endpoint:
        yield endpoint


@pytest.fixture
def sf_store(tmp_path: Path, snowflake_endpoint: dict[str, Any]) -> Iterator[Store]:
    store = snowflake_store(tmp_path, snowflake_endpoint)
    yield store
    if not is_emulator(snowflake_endpoint):
        store.sql(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')


# --- the quickstart ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> QuickstartRun:
    """`profilemesh quickstart` once per test process, through the CLI. Read it; copy the directory
    (`shutil.copytree`) before running anything that writes."""
    directory = tmp_path_factory.mktemp("quickstart") / "demo"
    return QuickstartRun(directory, run_cli("quickstart", "--dir", str(directory)))


_STORE_MARKERS = {
    "store": ("duckdb", "postgres"),
    "store_at_head": ("duckdb", "postgres"),
    "duck_store": ("duckdb",),
    "duck_at_head": ("duckdb",),
    "pg_store": ("postgres",),
    "pg_at_head": ("postgres",),
    "pg_server": ("postgres",),
    "sf_store": ("snowflake",),
    "seeded": ("duckdb", "postgres"),
    "snowflake_endpoint": ("snowflake",),
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (and before `-m` reads the markers)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The SQLite tests deselected where dbt-sqlite is not installed (they run in the SQLite lane's
    virtualenv, .venv-sqlite: its dbt-adapters pin conflicts with dbt-postgres'); warehouse markers from
    the fixtures a test uses (a parametrised `store` marks each case by its
    warehouse); the quickstart's tests on one xdist worker (scripts/test.sh: --dist loadgroup), so the
    ~20 s quickstart is built once per run rather than once per worker; the emulator's tests on two
    workers (the `[snowflake]` clean install's too: it uses that worker's emulator), the crash cases on
    DuckDB and PostgreSQL on one, and the other clean installs on one (the wheel built once)."""
    if importlib.util.find_spec("dbt.adapters.sqlite") is None:
        lane = [item for item in items if item.get_closest_marker("sqlite") is not None]
        if lane:
            config.hook.pytest_deselected(items=lane)
            items[:] = [item for item in items if item.get_closest_marker("sqlite") is None]
    for item in items:
        names = getattr(item, "fixturenames", ())
        param = getattr(getattr(item, "callspec", None), "params", {})
        for fixture, kinds in _STORE_MARKERS.items():
            if fixture in names:
                for kind in (param[fixture],) if param.get(fixture) in kinds else kinds:
                    item.add_marker(getattr(pytest.mark, kind))
        if "quickstart_run" in names:
            item.add_marker(pytest.mark.xdist_group("quickstart"))
            item.add_marker(pytest.mark.slow)
        elif item.get_closest_marker("snowflake") is not None:
            # The emulator's tests on two workers, not on every one: each emulator costs a dbt parse
            # of the package and a template store; one worker alone would be the run's long pole
            # (~400 s of tests). Its crash and lease tests on one, the rest on the other.
            heavy = item.nodeid.startswith(("tests/test_crash_injection.py", "tests/test_lock_contract.py"))
            item.add_marker(pytest.mark.xdist_group("snowflake-crash" if heavy else "snowflake"))
        elif item.nodeid.startswith("tests/test_crash_injection.py"):
            # The crash cases start from templates of the store before each version (five per
            # warehouse) and a clean catalog: built once on one worker, not once on every worker.
            item.add_marker(pytest.mark.xdist_group("crash"))
        elif "wheel_build" in names:
            # The wheel is built and installed once per worker that runs a clean install
            # (tests/test_packaging.py).
            item.add_marker(pytest.mark.xdist_group("packaging"))


def pytest_configure(config: pytest.Config) -> None:
    """Under `--dist loadgroup` (scripts/test.sh), xdist 3.8 learns a test's group from a suffix it
    writes into the test's node id; pytest 9.2 ignores that write (pytest-dev/pytest-xdist#1386), and
    every group is then silently spread over all workers (the quickstart, the emulator, the crash
    templates built on each). Refuse that pair at the start (a worker's own error would be lost in an
    INTERNALERROR); the test extra pins pytest below 9.2 until xdist follows."""
    if config.getoption("dist", "no") != "loadgroup":
        return
    import xdist
    from packaging.version import Version

    if Version(pytest.__version__) >= Version("9.2") and Version(xdist.__version__) <= Version("3.8.0"):
        raise pytest.UsageError(
            f"--dist loadgroup does not group on pytest {pytest.__version__} with pytest-xdist "
            f"{xdist.__version__} (pytest-dev/pytest-xdist#1386): install the test extra's 'pytest<9.2'"
        )
