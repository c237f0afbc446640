"""The benchmark scripts keep working (tiny sizes; never a timing)."""

from __future__ import annotations

import ast
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


# Every section of `run_all.py`, in the document's order.
SECTIONS = ["1. Profiling", "2. Writes", "3. Queries", "4. Migrations", "5. How cost grows"]
SECTIONS += ["6. Cold start of the quick commands", "7. Drift quality on real data", "8. Incremental profiling"]
SECTIONS += ["10. Metadata monitoring", "11. Distributions' cost"]
# The quick run in two halves (`--only`), so that xdist runs them side by side (one ran 80-130 s alone):
# the sections on the migrated stores' templates (stores.new_migrated_store: one `migrate apply` per
# engine, made once per process) in one, the others (their own stores) in the other: 30-45 s each alone.
HALVES = {"templated": (2, 3, 5, 6, 7, 8, 10), "own-stores": (1, 4, 11)}
# What each section must print (a row, a heading, a column).
EXPECTED = {
    1: ["#### DuckDB, 10 columns", "#### PostgreSQL, 10 columns", "#### Targets", "non-distinct metrics in one scan"],
    2: ["| ours "],
    3: ["query run --run-id", "CLI cold start", "profilemesh migrate status"],
    4: ["apply / by hand", "profilemesh migrate status"],
    5: ["Queries, by runs", "query run --run-id"],
    6: ["import duckdb_engine", "profilemesh migrate status"],
    7: ["calibrated (default)", "elementary-style z", "quiet days alarmed"],
    8: ["incremental / full"],
    10: ["pass / floor"],
    11: ["profile + distributions, quantiles: exact", "block-sampled"],
}


def test_the_halves_run_every_section_of_run_all() -> None:
    """The two halves below run every section `run_all.py` has (its SECTIONS, read without importing the
    benchmarks), each once."""
    tree = ast.parse((REPO_ROOT / "benchmarks" / "run_all.py").read_text(encoding="utf-8"))
    (declared,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["SECTIONS"]
    ]
    assert sorted(declared, key=lambda title: int(title.split(".")[0])) == SECTIONS
    numbers = [int(title.split(".")[0]) for title in SECTIONS]
    assert sorted(n for half in HALVES.values() for n in half) == numbers == sorted(EXPECTED)


@pytest.mark.slow  # every benchmark script, at tiny sizes
@pytest.mark.parametrize("half", list(HALVES))
def test_run_all_quick_writes_every_section(pg_server: PgServer, tmp_path, half: str) -> None:
    """`benchmarks/run_all.py --quick --only ...`: the half's sections, in order, and the targets summary, in
    the file given by --out, marked as not a timing; no section failed."""
    dsn = f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@{pg_server.host}:{pg_server.port}/postgres"
    out = tmp_path / "benchmarks.md"
    only = ",".join(str(n) for n in HALVES[half])
    argv = [sys.executable, str(REPO_ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", only]
    result = subprocess.run([*argv, "--postgres-dsn", dsn, "--out", out], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "These figures are not timings" in text
    sections = [title for title in SECTIONS if int(title.split(".")[0]) in HALVES[half]]
    sections += ["What the measurements changed", "Targets"]
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == sections
    assert "This section failed" not in text
    for number in HALVES[half]:
        for expected in EXPECTED[number]:
            assert expected in text, expected
    if 1 not in HALVES[half]:
        return
    # Section 1 (profile_plans.py): every plan on both engines, the approximate errors and the targets.
    rows = collections.Counter(re.findall(r"^\| (.+?)\s+\|", text, re.MULTILINE))
    for plan in ("F0", "F1", "F1 approx", "UNION ALL per column", "query per column", "old ProfileMesh", "ours, exact"):
        assert rows[plan] == 2, plan  # one row per engine
    assert rows["SUMMARIZE"] == 1 and rows["UNION ALL per column, jit off"] == 1
    assert rows["ours, approximate"] == 2  # the hll extension is installed with the server
    assert text.count("Approximate distinct counts against ours exact") == 2


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
