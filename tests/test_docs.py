"""The docs against the code: the generated CLI reference is current, every `profilemesh ...`
command shown in README.md and docs/ parses against the real click tree, and the concrete ones run
for real against the quickstart's DuckDB store and exit as documented."""

from __future__ import annotations

import itertools
import logging
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from profilemesh.api import migrate_apply
from profilemesh.quickstart.constants import DEFAULT_DIR
from profilemesh.quickstart.demo import CONFIG_FILE
from scripts import gen_cli_reference
from tests.support.cli import QuickstartRun, run_cli
from tests.support.docs_commands import (
    PLACEHOLDER,
    DocCommand,
    all_commands,
    check,
    macro_parameters,
    run_operations,
    synopsis_argv,
)
from tests.support.stores import REPO_ROOT, Store

# Shown in the docs, parsed but not run here, and why.
PARSE_ONLY = {
    ("quickstart",): "tests/test_quickstart.py runs it (twice)",
    ("migrate", "repair"): "needs a failed attempt; tests/test_checksums_and_repair.py runs repair",
    ("migrate", "repair", "--rollback"): "needs a failed attempt; tests/test_checksums_and_repair.py",
    ("migrate", "repair", "--dry-run"): "needs a failed attempt; tests/test_checksums_and_repair.py",
    ("profile", "--project-dir", ".", "-s", "tag:daily"): "needs a dbt project; tests/test_dbt_user_project.py",
    ("drift", "--project-dir", ".", "-s", "tag:daily"): "needs a dbt project; tests/test_dbt_meta.py reads one",
    ("profile", "--since", "2026-01-01"): "needs a table with granularity; tests/test_buckets.py backfills one",
}
# Text that reads like a command but is none, and what it is.
NOT_COMMANDS = {
    "profilemesh migrate user@host:pid": "the PostgreSQL application_name of a migration session",
}
# Documented exit codes other than 0, for commands run against the (healthy) quickstart store.
EXPECTED_EXIT: dict[tuple[str, ...], int] = {}


def test_cli_reference_is_current() -> None:
    current = gen_cli_reference.REFERENCE.read_text(encoding="utf-8")
    assert current == gen_cli_reference.render(), (
        f"docs/cli-reference.md is out of date: run `{gen_cli_reference.COMMAND}`"
    )


def test_cli_reference_covers_every_command() -> None:
    from profilemesh.cli.main import cli

    paths = [path for path, _ in gen_cli_reference.walk(cli)]
    text = gen_cli_reference.REFERENCE.read_text(encoding="utf-8")
    assert {"profilemesh quickstart", "profilemesh query table", "profilemesh migrate apply"} <= set(paths)
    for path in paths:
        assert f"\n## {path}\n" in text


def test_docs_commands_are_found() -> None:
    commands = all_commands()
    files = {c.file for c in commands}
    assert {"README.md", "docs/schemas/QUERY_EXAMPLES.md", "docs/schemas/MIGRATION_GUIDE.md"} <= files
    assert any(c.argv[:1] == ("quickstart",) and c.file == "README.md" for c in commands)


def test_the_parse_check_catches_drift() -> None:
    """The check below must be able to fail: unknown commands, options and choices are errors."""
    assert check(["query", "runs", "--days", "7"]) is None
    assert check(["query", "table", "--table", "T"]) is None  # T: a placeholder, filled in
    assert "No such option" in (check(["query", "runs", "--since", "7"]) or "")
    assert "No such command" in (check(["query", "events"]) or "")
    assert "--status" in (check(["query", "runs", "--status", "running"]) or "")
    assert "--days" in (check(["query", "runs", "--days", "soon"]) or "")
    assert check(synopsis_argv(("drift", "[--fail-on-drift", "[low|medium|high]]", "[--format", "table|json]"))) is None
    # A command to run must name required options; a mention in prose may leave them out.
    assert "--keep-days" in (check(["retention", "apply"]) or "")
    assert check(["retention", "apply"], partial_ok=True) is None
    assert "No such option" in (check(["retention", "apply", "--keep"], partial_ok=True) or "")


@pytest.mark.parametrize(
    "command", [c for c in all_commands() if c.text not in NOT_COMMANDS], ids=lambda c: f"{c.where} {c.text[:60]}"
)
def test_documented_command_parses(command: DocCommand) -> None:
    error = check(synopsis_argv(command.argv), partial_ok=not command.complete)
    assert error is None, f"{command.where}: `{command.text}` does not match the CLI: {error}"


def test_documented_run_operations_exist() -> None:
    """`dbt run-operation` lines name a macro of the package and only arguments it takes. (They run
    for real in tests/test_dbt_user_project.py and the migration tests; here the docs are checked.)"""
    operations = run_operations()
    assert {op.macro for op in operations} >= {"profilemesh_migrate", "profilemesh_migrate_repair"}
    for op in operations:
        parameters = macro_parameters(op.macro)
        assert parameters is not None, f"{op.where}: no macro {op.macro} in dbt_profilemesh/macros"
        args = yaml.safe_load(op.args) if op.args else {}
        assert isinstance(args, dict), f"{op.where}: --args is not a mapping"
        assert set(args) <= parameters, f"{op.where}: {op.macro} takes {sorted(parameters)}, not {sorted(args)}"


def _runnable(commands: list[DocCommand]) -> list[tuple[str, ...]]:
    """The concrete commands shown to be run (no synopsis marks, RUN_ID aside), each once, minus
    PARSE_ONLY and those naming another warehouse's config."""
    seen: dict[tuple[str, ...], None] = {}
    for command in commands:
        if not command.complete:
            continue  # a mention in prose or output: parsed above, not a command line to run
        argv = tuple(command.argv)
        if any(a != "RUN_ID" and ("[" in a or "|" in a or "..." in a or PLACEHOLDER.match(a)) for a in argv):
            continue
        if len(argv) < 2 and argv[:1] != ("profile",):
            continue  # a bare group named in prose ("`profilemesh query` reads ...")
        if argv in PARSE_ONLY or _other_config(argv):
            continue
        seen[argv] = None
    return list(seen)


def _other_config(argv: tuple[str, ...]) -> bool:
    """A command naming a config other than the quickstart's (a PostgreSQL or Snowflake store in the
    docs' examples) is parsed only: there is no such warehouse here. tests/test_retention.py,
    test_migrate_apply.py and the query tests run the same commands on PostgreSQL and the emulator."""
    for flag, value in itertools.pairwise(argv):
        if flag in ("-c", "--config"):
            return value not in (CONFIG_FILE, f"{DEFAULT_DIR}/{CONFIG_FILE}")
    return False


def test_parse_only_commands_are_documented() -> None:
    """Every PARSE_ONLY and NOT_COMMANDS entry is still shown somewhere (no stale exemptions)."""
    shown = {tuple(c.argv) for c in all_commands()}
    assert set(PARSE_ONLY) <= shown
    assert set(NOT_COMMANDS) <= {c.text for c in all_commands()}


def test_documented_commands_run(quickstart_run: QuickstartRun, tmp_path: Path, monkeypatch) -> None:
    """Each concrete command of the docs exits as documented, run where a user who ran the quickstart
    would be: ./profilemesh-quickstart holds the demo (a copy: some commands write), and
    ./profilemesh.yml points at it. RUN_ID becomes the newest run."""
    assert quickstart_run.result.exit_code == 0, quickstart_run.result.stderr
    shutil.copytree(quickstart_run.directory, tmp_path / DEFAULT_DIR)
    config = (quickstart_run.directory / CONFIG_FILE).read_text(encoding="utf-8")
    (tmp_path / CONFIG_FILE).write_text(re.sub(r"filepath: ", f"filepath: {DEFAULT_DIR}/", config), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run_id = re.search(r"query run --run-id (\S+)", quickstart_run.result.stdout).group(1)  # type: ignore[union-attr]
    runnable = _runnable(all_commands())
    assert len(runnable) >= 10
    root = logging.getLogger()
    failures = []
    for argv in runnable:
        args = [run_id if a == "RUN_ID" else a for a in argv]
        level, handlers = root.level, list(root.handlers)
        try:
            result = run_cli(*args)
        finally:  # --debug configures logging for the process; put it back
            root.handlers[:] = handlers
            root.setLevel(level)
        expected = EXPECTED_EXIT.get(argv, 0)
        if result.exit_code != expected or ("Traceback" in result.stderr and "--debug" not in argv):
            failures.append(
                f"profilemesh {' '.join(argv)}: exit {result.exit_code}, expected {expected}: "
                f"{result.stderr.strip()[-300:]}"
            )
    assert failures == []
    # The quickstart's next steps and the query examples read the demo's data, not an empty store.
    assert (tmp_path / "orders_drift.csv").read_text(encoding="utf-8").count("\n") > 1


def test_schema_reference_queries_run(quickstart_run: QuickstartRun) -> None:
    """Every SQL statement in SCHEMA_REFERENCE.md runs against the quickstart's DuckDB store, and
    each returns rows (the failed-runs example aside: the demo has none)."""
    statements = _sql_statements("docs/schemas/SCHEMA_REFERENCE.md")
    assert len(statements) >= 6
    store = quickstart_run.directory / "profilemesh.duckdb"
    with duckdb.connect(str(store), read_only=True) as conn:
        for statement in statements:
            rows = conn.execute(statement).fetchall()
            if "status = 'failed'" not in statement:
                assert rows, f"no rows from:\n{statement}"


SEED_DOCS = (
    "docs/schemas/SCHEMA_REFERENCE.md",
    "docs/schemas/MIGRATION_GUIDE.md",
    "docs/schemas/QUERY_EXAMPLES.md",
    "docs/guides/DATA_RETENTION.md",
    "CHANGELOG.md",
)


def test_the_seed_documentation_set_is_there_and_linked() -> None:
    """The seed's documentation list exists, and docs/index.md points at every page under docs/."""
    for name in SEED_DOCS:
        assert (REPO_ROOT / name).is_file(), f"{name} is missing"
    index = (REPO_ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in (REPO_ROOT / "docs").rglob("*.md"):
        relative = page.relative_to(REPO_ROOT / "docs").as_posix()
        if relative != "index.md":
            assert f"]({relative})" in index, f"docs/index.md does not link {relative}"


def test_relative_links_resolve() -> None:
    """Every relative link in README.md and docs/ names a file that exists (anchors not checked)."""
    broken = []
    for path in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(REPO_ROOT)}: {target}")
    assert broken == []


def _sql_statements(doc: str, section: str | None = None) -> list[str]:
    text = (REPO_ROOT / doc).read_text(encoding="utf-8")
    if section:
        text = text.split(section, 1)[1]
    blocks = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    return [s.strip() for block in blocks for s in block.split(";") if s.strip()]


BI_SQL = ("docs/schemas/QUERY_EXAMPLES.md", "## SQL for BI tools")


def test_query_examples_sql_runs_on_duckdb(quickstart_run: QuickstartRun) -> None:
    """The BI queries over the views, with the DuckDB default schema `main` as the doc says, return
    the quickstart's rows (the failed-runs question aside: the demo has none)."""
    statements = _sql_statements(*BI_SQL)
    assert len(statements) >= 5
    with duckdb.connect(str(quickstart_run.directory / "profilemesh.duckdb"), read_only=True) as conn:
        for statement in statements:
            rows = conn.execute(statement.replace("profilemesh.profilemesh_", "main.profilemesh_")).fetchall()
            if "status = 'failed'" not in statement:
                assert rows, f"no rows from:\n{statement}"


def test_query_examples_sql_runs_on_postgres(pg_store: Store) -> None:
    """The same statements, as written (storage schema `profilemesh`), are valid on PostgreSQL."""
    assert "profilemesh_latest_metrics_v" in migrate_apply(pg_store.ctx).views
    for statement in _sql_statements(*BI_SQL):
        pg_store.sql(statement)


def _documented_columns(doc: str, heading: str) -> list[str]:
    """The first column of the first Markdown table under `heading` (up to the next heading)."""
    text = (REPO_ROOT / doc).read_text(encoding="utf-8")
    section = re.split(r"\n#{2,3} ", text.split(f"\n{heading}\n", 1)[1], maxsplit=1)[0]
    names = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells and cells[0] not in ("column", "") and not set(cells[0]) <= set("-: "):
            names.extend(n.strip(" `") for n in cells[0].split("/"))  # "steps_total / steps_completed"
        elif names:
            break
    return names


def _live_columns(store: Path, relation: str) -> list[str]:
    with duckdb.connect(str(store), read_only=True) as conn:
        return [row[0] for row in conn.execute(f'DESCRIBE main."{relation}"').fetchall()]


@pytest.mark.parametrize(
    ("doc", "heading", "relation"),
    [
        ("docs/schemas/SCHEMA_REFERENCE.md", "## profilemesh_runs", "profilemesh_runs"),
        ("docs/schemas/SCHEMA_REFERENCE.md", "## profilemesh_results", "profilemesh_results"),
        ("docs/schemas/SCHEMA_REFERENCE.md", "## profilemesh_events", "profilemesh_events"),
        ("docs/schemas/SCHEMA_REFERENCE.md", "## profilemesh_table_state", "profilemesh_table_state"),
        (
            "docs/schemas/SCHEMA_REFERENCE.md",
            "## profilemesh_schema_version (the ledger)",
            "profilemesh_schema_version",
        ),
        ("docs/schemas/QUERY_EXAMPLES.md", "### `profilemesh_runs_v`", "profilemesh_runs_v"),
        ("docs/schemas/QUERY_EXAMPLES.md", "### `profilemesh_drift_v`", "profilemesh_drift_v"),
        ("docs/schemas/QUERY_EXAMPLES.md", "### `profilemesh_table_history_v`", "profilemesh_table_history_v"),
        ("docs/schemas/QUERY_EXAMPLES.md", "### `profilemesh_column_metrics_v`", "profilemesh_column_metrics_v"),
        ("docs/schemas/QUERY_EXAMPLES.md", "### `profilemesh_views_info`", "profilemesh_views_info"),
    ],
)
def test_documented_columns_match_the_store(
    quickstart_run: QuickstartRun, doc: str, heading: str, relation: str
) -> None:
    """Each table and view's column list in the docs is exactly what a store at head has."""
    documented = _documented_columns(doc, heading)
    live = _live_columns(quickstart_run.directory / "profilemesh.duckdb", relation)
    assert sorted(documented) == sorted(live), f"{doc} {heading}"
