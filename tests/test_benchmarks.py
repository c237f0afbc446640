"""The benchmark scripts keep working (tiny sizes; never a timing)."""

from __future__ import annotations

import collections
import re
import subprocess
import sys

import pytest

from tests.support.stores import PG_PASSWORD, PG_SUPERUSER, REPO_ROOT, PgServer


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


@pytest.mark.slow  # every benchmark script, at tiny sizes
def test_run_all_quick_writes_every_section(pg_server: PgServer, tmp_path) -> None:
    """`benchmarks/run_all.py --quick`: every section and the targets summary, in the file given by --out,
    marked as not a timing; no section failed."""
    dsn = f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@{pg_server.host}:{pg_server.port}/postgres"
    out = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "run_all.py"), "--quick", "--postgres-dsn", dsn, "--out", out],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "These figures are not timings" in text
    sections = ["1. Profiling", "2. Writes", "3. Queries", "4. Migrations", "5. How cost grows"]
    sections += ["6. Cold start of the quick commands", "7. Drift quality on real data", "8. Incremental profiling"]
    sections += ["10. Metadata monitoring", "11. Distributions' cost"]
    sections += ["What the measurements changed", "Targets"]
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == sections
    assert "This section failed" not in text
    for expected in ("| ours ", "query run --run-id", "CLI cold start", "apply / by hand", "Queries, by runs",
                     "profilemesh migrate status", "import duckdb_engine", "calibrated (default)",
                     "elementary-style z", "quiet days alarmed", "incremental / full", "pass / floor",
                     "profile + distributions, quantiles: exact", "block-sampled"):  # fmt: skip
        assert expected in text, expected
    # Section 1 (profile_plans.py): every plan on both engines, the approximate errors and the targets.
    for engine in ("DuckDB", "PostgreSQL"):
        assert f"#### {engine}, 10 columns" in text
    rows = collections.Counter(re.findall(r"^\| (.+?)\s+\|", text, re.MULTILINE))
    for plan in ("F0", "F1", "F1 approx", "UNION ALL per column", "query per column", "old ProfileMesh", "ours, exact"):
        assert rows[plan] == 2, plan  # one row per engine
    assert rows["SUMMARIZE"] == 1 and rows["UNION ALL per column, jit off"] == 1
    assert rows["ours, approximate"] == 2  # the hll extension is installed with the server
    assert text.count("Approximate distinct counts against ours exact") == 2
    assert "#### Targets" in text and "non-distinct metrics in one scan" in text


@pytest.mark.slow  # two standalone benchmark scripts, at tiny sizes
def test_pg_wide_and_fixed_cost_scripts_run(pg_server: PgServer, tmp_path) -> None:
    """benchmarks/pg_wide.py (section 1b), duckdb_mixes.py (1c) and fixed_cost.py (8b) print their tables."""
    dsn = f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@{pg_server.host}:{pg_server.port}/postgres"
    scripts = {
        "pg_wide.py": ["--rows", "200", "--postgres-dsn", dsn],
        "fixed_cost.py": ["--repeat", "1"],
        "duckdb_mixes.py": ["--rows", "1000", "--columns", "8", "--repeat", "1"],
    }
    for script, arguments in scripts.items():
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "benchmarks" / script), *arguments],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        expected = {
            "pg_wide.py": "200 columns take",
            "fixed_cost.py": "from duckdb_columns()",
            "duckdb_mixes.py": "ours / best hand-written",
        }[script]
        assert expected in result.stdout, result.stdout
