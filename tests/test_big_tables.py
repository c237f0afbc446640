"""A table past 2^31 rows: profiled, its row count stored exactly (runs.row_count is 64-bit since schema
version 3) and read back through the views. A view over DuckDB's range() stands in for the table, so
the test costs no disk."""

from __future__ import annotations

from pathlib import Path

from profilemesh.api import profile, query_runs
from tests.support.stores import Store, profiling_context

ROWS = 2**31 + 1_000


def test_a_view_over_more_than_2_to_the_31_rows_is_profiled_and_stored_exactly(
    duck_at_head: Store, tmp_path: Path
) -> None:
    store = duck_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(f'CREATE VIEW "src"."huge" AS SELECT 1 AS one FROM range({ROWS})')
    # The row count and the counts past 2^31 are what is tested; the distributions (on by default) add
    # ONE statement over a block sample of about 100,000 rows (sample_above_rows: 10M by default), where
    # they used to add two full reads (a BERNOULLI sample and the constant column's value shares).
    tables = [{"schema": "src", "table": "huge"}]
    ctx = profiling_context(store, tmp_path, [], source_schema="src", profiling={"tables": tables})

    report = profile(ctx)
    (outcome,) = report.tables
    assert (outcome.status, outcome.row_count) == ("completed", ROWS), outcome.error
    # The profile's two reads (its aggregate and the HyperLogLog statement of approximate distinct
    # counts) and the sample's one: range() under a view makes every row for the sample to skip (a
    # table's scan skips the unsampled blocks: test_distributions.py); the old design made four.
    assert outcome.cost["rows_read"] <= 3 * ROWS
    assert {item.mode for item in outcome.distributions} == {"sampled"}
    (sampled,) = {item.rows for item in outcome.distributions if item.kind == "quantile"}
    assert 20_000 <= sampled <= 500_000
    assert outcome.cost["peak_memory_bytes"] < 256 * 1024**2  # bounded: a sample, never the table
    stored = store.sql(
        f"SELECT row_count FROM {store.qualified('profilemesh_runs')} WHERE run_id = {store.ph}", [report.run_id]
    )
    assert stored == [(ROWS,)]
    counts = dict(
        store.sql(
            f"SELECT metric_name, metric_value FROM {store.qualified('profilemesh_results')} "
            f"WHERE run_id = {store.ph} AND column_name = 'one'",
            [report.run_id],
        )
    )
    assert counts["count"] == str(ROWS) and counts["null_count"] == "0"
    assert [row["row_count"] for row in query_runs(ctx, table="src.huge").rows] == [ROWS]


def test_result_ids_go_past_2_to_the_31(store_at_head: Store, tmp_path: Path) -> None:
    """results.id is 64-bit since schema version 4: on PostgreSQL the identity's sequence follows the
    column (the next profile is numbered past 2^31); on DuckDB the rebuilt table keeps its sequence
    default and takes such an id."""
    store = store_at_head
    results = store.qualified("profilemesh_results")
    big = 2**31 + 5
    if store.kind == "postgres":
        store.sql(f"SELECT setval(pg_get_serial_sequence({store.ph}, 'id'), {big})", [results])
        store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
        store.sql('CREATE TABLE "src"."small" AS SELECT 1 AS one')
        report = profile(profiling_context(store, tmp_path, [{"schema": "src", "table": "small"}], source_schema="src"))
        ids = [r[0] for r in store.sql(f"SELECT id FROM {results} WHERE run_id = {store.ph}", [report.run_id])]
        assert ids and min(ids) > big
    else:
        at = "CAST('2024-01-01 00:00:00' AS TIMESTAMP)"
        store.sql(
            f"INSERT INTO {results} (id, run_id, dataset_name, schema_name, column_name, metric_name, profiled_at) "
            f"VALUES ({big}, 'r', 't', 's', 'c', 'count', {at})"
        )
        store.sql(
            f"INSERT INTO {results} (run_id, dataset_name, schema_name, column_name, metric_name, profiled_at) "
            f"VALUES ('r', 't', 's', 'c', 'null_count', {at})"
        )  # the sequence default survived the rebuild
        assert sorted(r[0] for r in store.sql(f"SELECT id FROM {results}"))[-1] == big
        assert len(store.sql(f"SELECT id FROM {results}")) == 2
