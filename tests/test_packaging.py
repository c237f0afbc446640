"""The wheel carries the dbt package, so `pip install profilemesh` alone can migrate a store, and the
Python side and the dbt side agree on what the package holds."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import profilemesh
import profilemesh.contract
from profilemesh.api import describe_schema
from profilemesh.dbt.package import DbtPackage
from profilemesh.warehouses import WAREHOUSES
from tests.support.stores import REPO_ROOT, Store


def _uv(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "uv", *args], check=True, capture_output=True, text=True).stdout


@dataclass(frozen=True)
class CleanInstall:
    """A clean virtualenv with only the wheel (and an extra) installed."""

    venv: Path
    packages: dict[str, str]  # lower-cased distribution name -> version

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"}
        return subprocess.run(
            [str(self.venv / "bin" / "profilemesh"), *args], cwd=cwd, env=env, capture_output=True, text=True
        )


@dataclass(frozen=True)
class WheelBuild:
    """`python -m build`'s sdist and wheel, and the suite's own versions as constraints."""

    sdist: Path
    wheel: Path
    pins: Path

    def install(self, venv: Path, extra: str | None = None) -> CleanInstall:
        """A new virtualenv with the wheel (and `extra`), installed by uv offline: the dependencies come from
        the cache this suite's own install filled, at the versions the suite runs (so nothing is downloaded
        while it runs)."""
        _uv("venv", "-q", "--python", sys.executable, str(venv))
        python = str(venv / "bin" / "python")
        requirement = f"{self.wheel}[{extra}]" if extra else str(self.wheel)
        _uv("pip", "install", "-q", "--offline", "--python", python, "-c", str(self.pins), requirement)
        listed = json.loads(_uv("pip", "list", "--format", "json", "--python", python))
        return CleanInstall(venv, {p["name"].lower(): p["version"] for p in listed})


@pytest.fixture(scope="module")
def wheel_build(tmp_path_factory: pytest.TempPathFactory) -> WheelBuild:
    """`python -m build`: the sdist, then the wheel from it (once per worker: tests/conftest.py puts the tests
    that use it on one, except the `[snowflake]` one, which runs beside the emulator's tests)."""
    root = tmp_path_factory.mktemp("packaging")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    pins = root / "constraints.txt"
    frozen = _uv("pip", "freeze", "--python", sys.executable)
    pins.write_text("".join(line + "\n" for line in frozen.splitlines() if "==" in line and "profilemesh" not in line))
    return WheelBuild(next(dist.glob("profilemesh-*.tar.gz")), next(dist.glob("profilemesh-*.whl")), pins)


@pytest.fixture(scope="module")
def clean_install(wheel_build: WheelBuild, tmp_path_factory: pytest.TempPathFactory) -> CleanInstall:
    """`pip install <wheel>` (the base install: DuckDB only) in a new virtualenv."""
    return wheel_build.install(tmp_path_factory.mktemp("base") / "venv")


@pytest.mark.slow  # builds the sdist and the wheel (the tests below install it in clean virtualenvs)
def test_sdist_and_wheel_ship_the_dbt_package(wheel_build: WheelBuild) -> None:
    names = set(zipfile.ZipFile(wheel_build.wheel).namelist())
    assert "profilemesh/dbt_package/dbt_project.yml" in names
    assert "profilemesh/py.typed" in names  # the library API's type hints reach its users
    assert not [n for n in names if n.startswith("tests/") or "testhooks" in n or "faults" in n]  # no test hooks
    for migration in DbtPackage.installed().migrations:
        assert f"profilemesh/dbt_package/dbt_profilemesh/macros/migrations/{migration.path.name}" in names
    with tarfile.open(wheel_build.sdist) as sdist:
        members = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "dbt_project.yml", "README.md", "LICENSE"} <= members
    assert "dbt_profilemesh/macros/migrations/V0001__baseline.sql" in members
    metadata = (
        zipfile.ZipFile(wheel_build.wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    )
    for extra in ("postgres", "snowflake", "sqlite", "all"):
        assert f"Provides-Extra: {extra}" in metadata
    assert "Project-URL: Documentation" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata


@pytest.mark.slow
def test_the_base_install_is_duckdb_only_and_runs_the_quickstart(clean_install: CleanInstall, tmp_path: Path) -> None:
    """`pip install profilemesh`: the embedded DuckDB path, with no server driver and no cloud SDK; the
    quickstart runs from the installed package (its dbt package, not this checkout), and writes nothing
    into the installed files."""
    installed = clean_install.packages
    assert {"dbt-core", "dbt-duckdb", "duckdb", "sqlalchemy", "click"} <= set(installed)
    absent = {
        "psycopg2-binary",
        "psycopg2",
        "dbt-postgres",
        "dbt-snowflake",
        "snowflake-connector-python",
        "snowflake-sqlalchemy",
        "boto3",
        "botocore",
        "dbt-sqlite",
        "pytest",
    }
    assert not absent & set(installed)
    result = clean_install.run("quickstart", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "orders.amount" in result.stdout
    status = clean_install.run("migrate", "status", "-c", "demo/profilemesh.yml", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "up to date" in status.stdout
    site = next((clean_install.venv / "lib").glob("python3*/site-packages"))
    assert not any((site / "profilemesh").rglob("target")), "dbt must not write into the installed package"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("section", "kind", "extra"),
    [
        ("storage:\n  connection: {type: postgres, host: db, database: d, username: u}\n", "postgres", "postgres"),
        (
            "storage:\n  connection: {type: duckdb}\nsource: {type: snowflake, account: a, username: u, database: d}\n",
            "snowflake",
            "snowflake",
        ),
        ("storage:\n  connection: {type: sqlite, filepath: store.db}\n", "sqlite", "sqlite"),
    ],
)
def test_a_warehouse_without_its_extra_names_the_extra_to_install(
    clean_install: CleanInstall, tmp_path: Path, section: str, kind: str, extra: str
) -> None:
    (tmp_path / "profilemesh.yml").write_text(section)
    result = clean_install.run("profile", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{kind} needs the {extra} extra" in result.stderr
    assert f"pip install 'profilemesh[{extra}]'" in result.stderr


def _migrate_profile_drift_query(install: CleanInstall, config: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """The four commands of the done-when, in `install`'s virtualenv, with `config` as profilemesh.yml:
    migrate apply, profile, drift, query runs; the query's one run."""
    (cwd / "profilemesh.yml").write_text(yaml.safe_dump(config))
    for command in (["migrate", "apply"], ["profile"], ["drift"], ["query", "runs", "--format", "json"]):
        result = install.run(*command, cwd=cwd)
        assert result.returncode == 0, (command, result.stderr[-2000:])
    (run,) = json.loads(result.stdout)["rows"]
    return dict(run)


@pytest.mark.slow
def test_the_postgres_extra_alone_migrates_profiles_detects_drift_and_queries(
    wheel_build: WheelBuild, pg_store: Store, tmp_path: Path
) -> None:
    """`pip install 'profilemesh[postgres]'` in a clean virtualenv (no Snowflake package) against the real
    server: migrate apply, profile, drift, query."""
    install = wheel_build.install(tmp_path / "venv", "postgres")
    assert {"dbt-postgres", "psycopg2-binary"} <= set(install.packages)
    assert not {"dbt-snowflake", "snowflake-connector-python", "boto3"} & set(install.packages)
    pg_store.sql("CREATE TABLE public.orders AS SELECT g AS id, g * 1.5 AS amount FROM generate_series(1, 200) g")
    config = yaml.safe_load(pg_store.config_path.read_text())
    config["profiling"] = {"tables": [{"schema": "public", "table": "orders"}]}
    run = _migrate_profile_drift_query(install, config, tmp_path)
    assert (run["dataset_name"], run["row_count"], run["status"]) == ("orders", 200, "completed")


@pytest.mark.slow
def test_the_snowflake_extra_alone_migrates_profiles_detects_drift_and_queries(
    wheel_build: WheelBuild, sf_store: Store, tmp_path: Path
) -> None:
    """`pip install 'profilemesh[snowflake]'` in a clean virtualenv (no PostgreSQL package) against the
    emulator (or a real account with SNOWFLAKE_*): migrate apply (the views built once: the emulator
    fails an incremental model's second run), profile, drift, query."""
    install = wheel_build.install(tmp_path / "venv", "snowflake")
    assert {"dbt-snowflake", "snowflake-connector-python", "snowflake-sqlalchemy"} <= set(install.packages)
    assert not {"dbt-postgres", "psycopg2-binary", "psycopg2", "dbt-sqlite"} & set(install.packages)
    sf_store.sql("CREATE SCHEMA IF NOT EXISTS SRC")
    sf_store.sql("CREATE OR REPLACE TABLE SRC.ORDERS (ID INTEGER, AMOUNT FLOAT)")
    sf_store.sql("INSERT INTO SRC.ORDERS SELECT SEQ4(), SEQ4() * 1.5 FROM TABLE(GENERATOR(ROWCOUNT => 200))")
    config = yaml.safe_load(sf_store.config_path.read_text())
    config["source"] = dict(config["storage"]["connection"], schema="SRC")
    config["profiling"] = {"tables": [{"schema": "SRC", "table": "ORDERS"}]}
    run = _migrate_profile_drift_query(install, config, tmp_path)
    assert (run["dataset_name"].lower(), run["row_count"], run["status"]) == ("orders", 200, "completed")


def test_every_warehouse_names_an_extra_that_installs_its_modules() -> None:
    """The registry and pyproject.toml agree: each warehouse's extra exists and carries its dbt adapter, and
    in this (full) environment every module a warehouse checks for is importable."""
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for warehouse in WAREHOUSES.values():
        if warehouse.extra is None:
            continue
        assert any(req.startswith(f"{warehouse.dbt_adapter}>") for req in extras[warehouse.extra]), warehouse.name
        if warehouse.extra != "sqlite":  # the SQLite lane has a virtualenv of its own (dbt-adapters pins)
            assert warehouse.install_problem() is None, warehouse.install_problem()
            assert warehouse.extra in extras["all"][0], "`all` installs every warehouse that shares a virtualenv"


def test_checking_the_extras_imports_no_dbt(tmp_path: Path) -> None:
    """Reading a config that names PostgreSQL and Snowflake checks their extras without importing dbt (or a
    driver): the quick commands (`query`, `migrate status`) stay quick on every warehouse."""
    config = tmp_path / "profilemesh.yml"
    config.write_text(
        "storage:\n  connection: {type: postgres, host: db, database: d, username: u}\n"
        "source: {type: snowflake, account: a, username: u, database: d}\n"
    )
    script = (
        "import sys\nfrom profilemesh.config import load_config\n"
        f"load_config({str(config)!r})\n"
        "heavy = ('dbt', 'psycopg2')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('snowflake.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_python_and_dbt_agree_on_the_migrations_and_the_version(duck_store: Store) -> None:
    code = describe_schema(duck_store.ctx)
    files = DbtPackage.installed().migrations
    assert [m["version"] for m in code.migrations] == [f.version for f in files]
    assert [Path(m["script"]).name for m in code.migrations] == [f.path.name for f in files]
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    dbt_project = (REPO_ROOT / "dbt_project.yml").read_text()
    assert profilemesh.contract.PACKAGE_VERSION == profilemesh.__version__ == pyproject["project"]["version"]
    assert f'version: "{profilemesh.__version__}"' in dbt_project
