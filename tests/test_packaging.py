"""The wheel carries the dbt package, so `pip install profilemesh` alone can migrate a store, and the
Python side and the dbt side agree on what the package holds."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import profilemesh
import profilemesh.contract
from profilemesh.api import describe_schema
from profilemesh.dbt.package import DbtPackage
from tests.support.stores import REPO_ROOT, Store


@pytest.mark.slow  # builds the wheel
def test_wheel_ships_the_dbt_package_and_migrates_without_a_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO_ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("profilemesh-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "profilemesh/dbt_package/dbt_project.yml" in names
    assert "profilemesh/py.typed" in names  # the library API's type hints reach its users
    assert not [n for n in names if n.startswith("tests/") or "testhooks" in n or "faults" in n]  # no test hooks
    for migration in DbtPackage.installed().migrations:
        assert f"profilemesh/dbt_package/dbt_profilemesh/macros/migrations/{migration.path.name}" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import sys, profilemesh\n"
        "from profilemesh.dbt.package import DbtPackage\n"
        f"assert profilemesh.__file__.startswith({str(site)!r}), profilemesh.__file__\n"
        f"assert str(DbtPackage.installed().root).startswith({str(site)!r}), DbtPackage.installed().root\n"
        "from profilemesh.cli.main import main\n"
        "sys.exit(main(['migrate', 'apply']) or main(['migrate', 'status']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (work / "profilemesh.duckdb").exists()
    assert not any(site.rglob("target")), "dbt must not write into the installed package"


def test_python_and_dbt_agree_on_the_migrations_and_the_version(duck_store: Store) -> None:
    code = describe_schema(duck_store.ctx)
    files = DbtPackage.installed().migrations
    assert [m["version"] for m in code.migrations] == [f.version for f in files]
    assert [Path(m["script"]).name for m in code.migrations] == [f.path.name for f in files]
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    dbt_project = (REPO_ROOT / "dbt_project.yml").read_text()
    assert profilemesh.contract.PACKAGE_VERSION == profilemesh.__version__ == pyproject["project"]["version"]
    assert f'version: "{profilemesh.__version__}"' in dbt_project
