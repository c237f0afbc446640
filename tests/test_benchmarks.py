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
