"""The benchmark scripts keep working (tiny sizes; never a timing)."""

from __future__ import annotations

import subprocess
import sys

from conftest import PG_PASSWORD, PG_SUPERUSER, REPO_ROOT, PgServer


def test_profile_plans_benchmark_runs_quick(pg_server: PgServer) -> None:
    dsn = f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@{pg_server.host}:{pg_server.port}/postgres"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "profile_plans.py"), "--quick", "--postgres-dsn", dsn],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for section in ("DuckDB", "PostgreSQL"):
        assert section in result.stdout
    assert result.stdout.count("ours (profilemesh)") == 2 and result.stdout.count("F0 read floor") == 2


def test_cli_start_imports_no_database_driver_or_dbt() -> None:
    """Cold start (issue 7, target +0.5 s over bare Python): the command group loads no driver, no
    SQLAlchemy and no dbt; each command imports what it needs when it runs."""
    script = (
        "import sys\n"
        "from profilemesh.cli.main import main\n"
        "code = main(['--version'])\n"
        "heavy = {'dbt', 'duckdb', 'sqlalchemy', 'psycopg2', 'agate'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout
