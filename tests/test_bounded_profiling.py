"""Profiling in bounded memory, with a record of what it cost (profiling.limits, runs.scope's `cost`
and `notes`; docs/guides/PROFILING.md "Big tables" and "What a run costs").

A DuckDB view over range() stands in for a table too large to count exactly in the memory allowed:
20 million unique values need at least 160 MB of hash table, the limit is 64 MB. The run happens in a
child process, so its peak resident memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from profilemesh.api import profile
from profilemesh.cli.main import main
from profilemesh.errors import ConfigError
from tests.support.stores import Store, profiling_context

ROWS = 20_000_000
MEMORY = "64MB"
# What profiling may add to the child's resident memory over its imports (about 210 MB, measured before
# the run starts): DuckDB at 64 MB and the run's own objects stayed within 0 to 220 MB of it; an exact
# count of the view's 20 million unique values without a limit peaked at 915 MB, some 700 MB over it.
GROWTH_CEILING_MB = 400

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from profilemesh.api import profile
    from profilemesh.context import Context
    ctx = Context.load(sys.argv[1])
    import duckdb, sqlalchemy  # what profile() imports, loaded before the baseline is read
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    report = profile(ctx)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"report": report.to_dict(), "base_rss_mb": base, "peak_rss_mb": peak}, default=str))
    """
)


def _stored_scope(store: Store, run_id: str) -> dict[str, Any]:
    (row,) = store.sql(f"SELECT scope FROM {store.qualified('profilemesh_runs')} WHERE run_id = {store.ph}", [run_id])
    return json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])


@pytest.mark.slow  # a child process, whose peak memory is its own
def test_a_view_too_large_to_count_exactly_is_profiled_in_bounded_memory(duck_at_head: Store, tmp_path: Path) -> None:
    store = duck_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(f'CREATE VIEW "src"."huge" AS SELECT range AS id FROM range({ROWS})')
    limits = {"memory": MEMORY, "temp_directory": str(tmp_path / "spill"), "exact_distinct_rows": 1_000_000}
    profiling = {"tables": ["src.huge"], "limits": limits}
    config = profiling_context(store, tmp_path, [], source_schema="src", profiling=profiling).config.path

    child = subprocess.run([sys.executable, "-c", _CHILD, config], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout.splitlines()[-1])
    (table,) = out["report"]["tables"]
    assert (table["status"], table["row_count"], table["distinct_mode"]) == ("completed", ROWS, "approximate")
    assert out["peak_rss_mb"] - out["base_rss_mb"] < GROWTH_CEILING_MB, out
    note = "distinct counts approximate: about 20,000,000 rows to read (the planner's estimate) is above "
    assert table["notes"][0].startswith(note)

    stored = _stored_scope(store, out["report"]["run_id"])
    assert stored["notes"] == table["notes"]
    cost = stored["cost"]
    assert cost["estimated_rows"] == ROWS and cost["credits"] is None
    assert 0 < cost["peak_memory_bytes"] <= 64 * 1000**2  # DuckDB's own count: its buffers stayed in the limit
    (estimate,) = store.sql(
        f"SELECT metric_value_numeric FROM {store.qualified('profilemesh_results')} "
        f"WHERE run_id = {store.ph} AND metric_name = 'distinct_count_approx'",
        [out["report"]["run_id"]],
    )
    assert abs(estimate[0] - ROWS) / ROWS < 0.02


@pytest.mark.parametrize("store_at_head", ["duckdb", "postgres"], indirect=True)
def test_each_run_records_what_it_read_and_counts_exactly_below_the_limit(
    store_at_head: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows and bytes read as the warehouse counts them (DuckDB's profiler; PostgreSQL's statistics
    counters, parallel workers included), the planner's estimate, and no note below the limit. Above it,
    PostgreSQL estimates with hll (installed with the test server)."""
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(
        'CREATE TABLE "src"."orders" AS SELECT i AS id, i % 7 AS kind FROM range(50000) t(i)'
        if store.kind == "duckdb"
        else 'CREATE TABLE "src"."orders" AS SELECT i AS id, i % 7 AS kind FROM generate_series(0, 49999) i'
    )
    if store.kind == "postgres":
        store.sql('ANALYZE "src"."orders"')
        store.sql("CREATE EXTENSION IF NOT EXISTS hll")
    ctx = profiling_context(store, tmp_path, ["src.orders"], source_schema="src")
    report = profile(ctx)
    (table,) = report.tables
    assert (table.status, table.distinct_mode, table.notes) == ("completed", "exact", [])
    cost = _stored_scope(store, report.run_id)["cost"]
    assert cost["estimated_rows"] == 50000 and cost["credits"] is None
    assert cost["rows_read"] >= 50000  # every statement reads the table once: one scan each, or more
    assert cost["bytes_read"] is not None and cost["bytes_read"] >= 0
    if store.kind == "postgres":
        assert cost["bytes_read"] > 0  # blocks read from disk or shared buffers

    # `query runs` shows what each run cost (the table format's last columns).
    assert main(["query", "runs", "-c", str(ctx.config.path)]) == 0
    header, first = capsys.readouterr().out.splitlines()[:3:2]
    assert header.split()[-4:] == ["seconds", "rows_read", "bytes_read", "credits"]
    assert first.split()[-2:] == [str(cost["rows_read"]), str(cost["bytes_read"])]  # credits: blank

    limited = profiling_context(
        store,
        tmp_path,
        ["src.orders"],
        source_schema="src",
        profiling={"tables": ["src.orders"], "limits": {"exact_distinct_rows": 1000}},
    )
    (table,) = profile(limited).tables
    assert table.distinct_mode == "approximate" and table.notes[0].startswith(
        "distinct counts approximate: about 50,000"
    )


def test_limits_are_validated(duck_at_head: Store, tmp_path: Path) -> None:
    for limits, key in (
        ({"memory": "lots"}, "profiling.limits.memory"),
        ({"memory": "0%"}, "profiling.limits.memory"),
        ({"exact_distinct_rows": 0}, "profiling.limits.exact_distinct_rows"),
        ({"temp_directory": ""}, "profiling.limits.temp_directory"),
        ({"memmory": "1GB"}, "profiling.limits.memmory"),
    ):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            profiling_context(duck_at_head, tmp_path, ["t"], profiling={"tables": ["t"], "limits": limits})


def test_postgres_counts_out_of_line_text_exactly(pg_at_head: Store, tmp_path: Path) -> None:
    """Values stored out of line (TOAST: rows past 2 kB) are made in-line before the distinct counts'
    sort (docs/benchmarks.md, PostgreSQL at 200 columns) and still counted exactly; char(n) values that
    differ only in padding are one value, as char(n) compares them."""
    store = pg_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(
        'CREATE TABLE "src"."wide" AS SELECT repeat(md5((i % 40)::text), 100) AS big, '
        "(CASE WHEN i % 2 = 0 THEN 'a' ELSE 'a  ' END)::char(3) AS padded FROM generate_series(1, 300) i"
    )
    store.sql('ALTER TABLE "src"."wide" ALTER COLUMN big SET STORAGE EXTERNAL')  # out of line, uncompressed
    store.sql('UPDATE "src"."wide" SET big = big || \'\'')  # rewritten under the new storage
    (toasted,) = store.sql(
        'SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = \'"src"."wide"\'::regclass'
    )
    assert toasted[0] > 0
    report = profile(profiling_context(store, tmp_path, ["src.wide"], source_schema="src"))
    (table,) = report.tables
    assert table.status == "completed", table.error
    counts = dict(
        store.sql(
            f"SELECT column_name, metric_value FROM {store.qualified('profilemesh_results')} "
            f"WHERE run_id = {store.ph} AND metric_name = 'distinct_count'",
            [report.run_id],
        )
    )
    assert counts == {"big": "40", "padded": "1"}
