"""Empty store -> head, idempotence, dry runs and status exit codes, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from profilemesh.api import migrate_apply, migrate_status, migrate_validate
from profilemesh.contract import VIEW_COLUMNS
from profilemesh.dbt.package import DbtPackage
from profilemesh.store import writes
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger
from tests.support.cli import run_cli
from tests.support.stores import Store

HEAD = DbtPackage.installed().head
STORAGE_TABLES = ["profilemesh_runs", "profilemesh_results", "profilemesh_events", "profilemesh_table_state"]


def table_names(store: Store) -> set[str]:
    rows = store.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
        if store.kind == "postgres"
        else "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
        [store.schema],
    )
    return {r[0] for r in rows}


def test_empty_store_goes_to_head_in_one_command(store: Store) -> None:
    before = run_cli("migrate", "status", "-c", str(store.config_path))
    assert before.exit_code == 1
    assert "version 0" in before.stdout

    result = run_cli("migrate", "apply", "-c", str(store.config_path))
    assert result.exit_code == 0, result.stderr
    assert f"storage is at version {HEAD}" in result.stdout

    assert set(STORAGE_TABLES) | {"profilemesh_schema_version"} <= table_names(store)
    ledger = read_ledger(store.target)
    assert [(a.version, a.status, a.operation) for a in ledger.attempts] == [
        (v, "succeeded", "apply") for v in range(1, HEAD + 1)
    ]
    for attempt in ledger.attempts:
        assert attempt.checksum and attempt.checksum.startswith("pm1:") and len(attempt.checksum) == 36
        assert attempt.dialect == store.kind
        assert attempt.profilemesh_version and attempt.profilemesh_version.startswith("profilemesh ")
        assert attempt.applied_by and attempt.execution_ms is not None
        assert attempt.steps_completed == attempt.steps_total and attempt.steps_total and attempt.steps_total > 0

    after = run_cli("migrate", "status", "-c", str(store.config_path), "--format", "json")
    assert after.exit_code == 0
    status = json.loads(after.stdout)
    assert status["db_version"] == status["head_version"] == HEAD
    assert status["state"] == "up_to_date" and status["pending"] == []
    assert status["last_attempt"]["started_at"].endswith("Z")


def test_second_apply_is_a_no_op(store: Store) -> None:
    first = migrate_apply(store.ctx)
    assert [m.version for m in first.applied] == list(range(1, HEAD + 1))
    attempts_before = read_ledger(store.target).attempts

    second = migrate_apply(store.ctx)
    assert second.applied == []
    assert second.from_version == second.to_version == HEAD
    assert read_ledger(store.target).attempts == attempts_before


def test_apply_to_an_intermediate_target_then_to_head(store: Store) -> None:
    migrate_apply(store.ctx, target_version=1)
    assert migrate_status(store.ctx).db_version == 1
    columns = {
        r[0]
        for r in store.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            if store.kind == "postgres"
            else "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [store.schema, "profilemesh_results"],
        )
    }
    assert "metric_value_numeric" not in columns

    result = run_cli("migrate", "apply", "-c", str(store.config_path))
    assert result.exit_code == 0
    assert migrate_status(store.ctx).db_version == HEAD


def test_dry_run_prints_sql_and_changes_nothing(store: Store) -> None:
    before = table_names(store) if store.kind == "postgres" else None
    result = run_cli("migrate", "apply", "--dry-run", "-c", str(store.config_path))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "CREATE TABLE IF NOT EXISTS" in out and "profilemesh_runs" in out
    assert "INSERT INTO" in out and "profilemesh_schema_version" in out  # ledger writes are shown
    assert "ALTER TABLE" in out and "metric_value_numeric" in out
    if store.kind == "duckdb":
        assert not Path(store.target.connection.filepath).exists()
    else:
        assert table_names(store) == before == set()
        assert store.sql("SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [store.schema]) == [
            (0,)
        ]


def test_dry_run_on_a_migrated_store_plans_nothing(store: Store) -> None:
    migrate_apply(store.ctx, target_version=1)
    plan = migrate_apply(store.ctx, dry_run=True)
    assert [m.version for m in plan.applied] == list(range(2, HEAD + 1))
    assert migrate_status(store.ctx).db_version == 1


def test_downgrade_and_unknown_target_are_refused(store_at_head: Store) -> None:
    store = store_at_head
    down = run_cli("migrate", "apply", "--target", "1", "-c", str(store.config_path))
    assert down.exit_code == 1
    assert "downgrading to 1 is not supported" in down.stderr
    assert down.stderr.count("\n") == 1  # one line, no traceback

    beyond = run_cli("migrate", "apply", "--target", str(HEAD + 5), "-c", str(store.config_path))
    assert beyond.exit_code == 2
    assert f"target version {HEAD + 5} does not exist" in beyond.stderr


def test_history_lists_every_attempt(store_at_head: Store) -> None:
    store = store_at_head
    result = run_cli("migrate", "history", "-c", str(store.config_path), "--format", "json")
    assert result.exit_code == 0
    attempts = json.loads(result.stdout)
    assert [a["attempt_id"] for a in attempts] == list(range(1, HEAD + 1))
    table = run_cli("migrate", "history", "-c", str(store.config_path))
    assert "succeeded" in table.stdout and "attempt_id" in table.stdout


def test_validate_passes_on_a_fresh_install(store_at_head: Store) -> None:
    store = store_at_head
    result = run_cli("migrate", "validate", "-c", str(store.config_path), "--format", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["problems"] == []


def test_validate_lists_every_problem_without_stopping(store_at_head: Store) -> None:
    store = store_at_head
    cascade = " CASCADE" if store.kind == "postgres" else ""  # the query views depend on the tables there
    store.sql(f"DROP TABLE {store.qualified('profilemesh_events')}{cascade}")
    store.sql(f"DROP TABLE {store.qualified('profilemesh_table_state')}")
    store.sql(f"ALTER TABLE {store.qualified('profilemesh_runs')} DROP COLUMN error_message{cascade}")
    result = run_cli("migrate", "validate", "-c", str(store.config_path), "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert "table profilemesh_events is missing" in problems
    assert "table profilemesh_table_state is missing" in problems
    assert "column profilemesh_runs.error_message is missing" in problems


def test_status_is_the_fast_path_and_never_imports_dbt(duck_at_head: Store) -> None:
    import subprocess
    import sys

    duck_store = duck_at_head
    script = (
        "import sys\n"
        "from profilemesh.cli.main import main\n"
        f"code = main(['migrate', 'status', '-c', {str(duck_store.config_path)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.'))\n"
        "print('DBT_MODULES', loaded)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "DBT_MODULES []" in result.stdout


def test_query_is_a_fast_path_and_never_imports_dbt(duck_at_head: Store) -> None:
    import subprocess
    import sys

    duck_store = duck_at_head
    script = (
        "import sys\n"
        "from profilemesh.cli.main import main\n"
        f"code = main(['query', 'runs', '-c', {str(duck_store.config_path)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.'))\n"
        "print('DBT_MODULES', loaded)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "no runs found" in result.stdout
    assert "DBT_MODULES []" in result.stdout


def test_row_counts_past_two_to_the_31st_are_stored_and_validate_checks_the_width(store_at_head: Store) -> None:
    """A table over 2^31 rows: its run row goes through the writers' bulk path (COPY, CSV) into a 64-bit
    row_count (version 3), reads back whole, and `migrate validate` notices a 32-bit column."""
    store = store_at_head
    rows = 3_000_000_000
    row = {"run_id": "big-run", "dataset_name": "events", "schema_name": "raw", "status": "completed",
           "profiled_at": dt.datetime(2026, 1, 1), "environment": "prod", "row_count": rows}  # fmt: skip
    with connect(store.target, read_only=False) as conn, conn.begin():
        writes.insert(conn, store.target, "runs", [row])
    shown = run_cli("query", "runs", "--days", "0", "--format", "json", "-c", str(store.config_path))
    assert [r["row_count"] for r in json.loads(shown.stdout)["rows"]] == [rows]
    assert migrate_validate(store.ctx).problems == []

    runs = store.qualified("profilemesh_runs")
    store.sql(f"DELETE FROM {runs}")
    for view in VIEW_COLUMNS:  # PostgreSQL binds views to the columns they read
        store.sql(f"DROP VIEW IF EXISTS {store.qualified(view)} CASCADE")
    store.sql(f"ALTER TABLE {runs} ALTER COLUMN row_count TYPE INTEGER")
    problems = migrate_validate(store.ctx).problems
    assert "column profilemesh_runs.row_count is a 32-bit integer, expected bigint" in problems
