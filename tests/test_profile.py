"""`profilemesh profile` against exact ground truth, on DuckDB (source and storage in one file) and
PostgreSQL (source schema next to the storage schema)."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
import yaml

from profilemesh.api import Context, migrate_apply, profile
from tests.support.cli import run_cli
from tests.support.migrations import HEAD
from tests.support.stores import Store

SRC = "src"
WEIRD_TABLE = 'Weird "Table"; --'


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_sources(store: Store) -> None:
    s = q(SRC)
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {s}")
    store.sql(
        f"CREATE TABLE {s}.known (id INTEGER, amount DOUBLE PRECISION, name VARCHAR(20), "
        f"created TIMESTAMP, flag BOOLEAN)"
    )
    store.sql(f"""INSERT INTO {s}.known VALUES
        (1, 1.5, 'a', TIMESTAMP '2024-01-01 00:00:00', TRUE),
        (2, 2.5, 'bb', TIMESTAMP '2024-01-02 00:00:00', FALSE),
        (3, NULL, NULL, NULL, NULL),
        (4, 4.0, 'dddd', TIMESTAMP '2024-03-01 12:30:00', TRUE),
        (5, NULL, 'bb', TIMESTAMP '2024-01-02 00:00:00', TRUE)""")
    store.sql(f"CREATE TABLE {s}.empty_table (x INTEGER, y VARCHAR(5))")
    store.sql(f"CREATE TABLE {s}.all_null (x INTEGER, y VARCHAR(5))")
    store.sql(f"INSERT INTO {s}.all_null VALUES (NULL, NULL), (NULL, NULL), (NULL, NULL)")
    store.sql(f"CREATE TABLE {s}.single_row (x INTEGER)")
    store.sql(f"INSERT INTO {s}.single_row VALUES (42)")
    store.sql(
        f'CREATE TABLE {s}.{q(WEIRD_TABLE)} ("select" INTEGER, "ü Col" VARCHAR(10), "MixedCase" INTEGER, '
        f'"1st; DROP TABLE x --" INTEGER)'
    )
    store.sql(f"INSERT INTO {s}.{q(WEIRD_TABLE)} VALUES (1, 'ü', 7, 0), (2, NULL, 7, 0)")
    # A view that fails when read: one failed table next to the ones that succeed.
    store.sql(f"CREATE VIEW {s}.broken AS SELECT CAST(v AS INTEGER) AS v FROM (VALUES ('not a number')) t(v)")


def write_config(store: Store, tmp_path: Path, **profiling) -> Path:
    data = yaml.safe_load(store.config_path.read_text())
    source = dict(data["storage"]["connection"], schema=SRC)
    data["source"] = source
    data["profiling"] = {"tables": [{"schema": SRC, "table": "*"}], **profiling}
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def metrics_of(store: Store, run_id: str, table: str) -> dict[tuple[str, str], tuple]:
    rows = store.sql(
        f"SELECT column_name, metric_name, metric_value, metric_value_numeric FROM "
        f"{store.qualified('profilemesh_results')} WHERE run_id = {store.ph} AND dataset_name = {store.ph}",
        [run_id, table],
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


@pytest.fixture
def profiled(store_at_head: Store, tmp_path: Path):
    store = store_at_head
    create_sources(store)
    config_path = write_config(store, tmp_path)
    report = profile(Context.load(config_path))
    return store, report, config_path


def test_known_values_are_exact(profiled) -> None:
    store, report, _ = profiled
    by_table = {t.table: t for t in report.tables}
    assert by_table["known"].status == "completed" and by_table["known"].row_count == 5
    assert by_table["known"].query_count == 2  # one aggregate scan + one statement of distinct counts
    m = metrics_of(store, report.run_id, "known")

    def num(column: str, metric: str) -> float | None:
        return m[(column, metric)][1]

    assert num("id", "count") == 5 and num("id", "null_count") == 0 and num("id", "distinct_count") == 5
    assert (num("id", "min"), num("id", "max"), num("id", "mean")) == (1, 5, 3)
    assert num("id", "stddev") == pytest.approx(statistics.stdev([1, 2, 3, 4, 5]))
    assert num("amount", "count") == 3 and num("amount", "null_count") == 2
    assert num("amount", "null_percent") == pytest.approx(40.0)
    assert num("amount", "distinct_percent") == pytest.approx(100.0)
    assert num("amount", "mean") == pytest.approx(8 / 3)
    assert num("amount", "stddev") == pytest.approx(statistics.stdev([1.5, 2.5, 4.0]))
    assert (num("amount", "min"), num("amount", "max")) == (1.5, 4.0)
    assert num("name", "distinct_count") == 3 and num("name", "distinct_percent") == pytest.approx(75.0)
    assert (num("name", "min_length"), num("name", "max_length")) == (1, 4)
    assert num("name", "mean_length") == pytest.approx(2.25)
    assert m[("created", "min")] == ("2024-01-01T00:00:00", None)
    assert m[("created", "max")] == ("2024-03-01T12:30:00", None)
    assert num("created", "distinct_count") == 3
    assert num("flag", "true_count") == 3 and num("flag", "distinct_count") == 2 and num("flag", "null_count") == 1
    assert ("name", "mean") not in m and ("id", "mean_length") not in m  # metrics follow reflected types
    assert m[("id", "count")][0] == "5"  # the text value is kept alongside the number


def test_empty_all_null_and_single_row_tables(profiled) -> None:
    store, report, _ = profiled
    empty = metrics_of(store, report.run_id, "empty_table")
    assert empty[("x", "count")] == ("0", 0.0)
    assert empty[("x", "null_percent")] == (None, None)  # 0 of 0 rows is not a percentage
    assert empty[("x", "mean")] == (None, None)
    all_null = metrics_of(store, report.run_id, "all_null")
    assert all_null[("x", "null_percent")][1] == 100.0 and all_null[("x", "distinct_count")][1] == 0
    assert all_null[("x", "distinct_percent")] == (None, None) and all_null[("x", "min")] == (None, None)
    single = metrics_of(store, report.run_id, "single_row")
    assert single[("x", "mean")][1] == 42 and single[("x", "stddev")] == (None, None)


def test_hostile_identifiers_are_quoted(profiled) -> None:
    store, report, _ = profiled
    weird = metrics_of(store, report.run_id, WEIRD_TABLE)
    assert weird[("select", "max")][1] == 2
    assert weird[("ü Col", "null_count")][1] == 1
    assert weird[("MixedCase", "distinct_count")][1] == 1
    assert weird[("1st; DROP TABLE x --", "count")][1] == 2


def test_failed_table_is_recorded_and_others_kept(profiled) -> None:
    store, report, _ = profiled
    statuses = {t.table: t.status for t in report.tables}
    assert statuses["broken"] == "failed"
    assert all(status == "completed" for name, status in statuses.items() if name != "broken")
    assert report.exit_code == 1
    runs = {
        r[0]: r[1:]
        for r in store.sql(
            f"SELECT dataset_name, status, error_message, row_count FROM {store.qualified('profilemesh_runs')} "
            f"WHERE run_id = {store.ph}",
            [report.run_id],
        )
    }
    assert set(runs) == {"known", "empty_table", "all_null", "single_row", WEIRD_TABLE, "broken"}
    assert runs["broken"][0] == "failed"
    assert "not a number" in runs["broken"][1].lower()  # the database's own error message is kept
    assert runs["known"] == ("completed", None, 5)
    assert metrics_of(store, report.run_id, "broken") == {}
    state = dict(store.sql(f"SELECT table_name, row_count FROM {store.qualified('profilemesh_table_state')}"))
    assert state["known"] == 5 and "broken" not in state


def test_cli_exit_code_summary_json_output_and_table_state_upsert(profiled, tmp_path: Path) -> None:
    store, first, config_path = profiled
    out = tmp_path / "run.json"
    table = run_cli("profile", "-c", str(config_path), "--table", f"{SRC}.known")
    assert table.exit_code == 0, table.stderr
    assert "1 table(s) profiled, 0 failed" in table.stdout
    result = run_cli("profile", "-c", str(config_path), "--table", f"{SRC}.known", "--format", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == "", result.stderr  # -o: the output goes to the file instead
    report = json.loads(out.read_text())
    assert [t["table"] for t in report["tables"]] == ["known"] and report["run_id"] != first.run_id
    state = store.sql(
        f"SELECT last_run_id FROM {store.qualified('profilemesh_table_state')} WHERE table_name = 'known'"
    )
    assert state == [(report["run_id"],)]  # upserted, not duplicated

    failing = run_cli("profile", "-c", str(config_path))
    assert failing.exit_code == 1 and "1 failed" in failing.stdout


def test_dry_run_shows_the_plan_and_writes_nothing(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    create_sources(store)
    config_path = write_config(store, tmp_path)
    result = run_cli("profile", "-c", str(config_path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "-- src.known: 5 column(s), 2 queries" in result.stdout
    assert "count(DISTINCT" in result.stdout
    assert store.sql(f"SELECT count(*) FROM {store.qualified('profilemesh_runs')}") == [(0,)]


def test_wide_table_is_one_scan_plus_one_distinct_statement(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {q(SRC)}")
    columns = ", ".join(f"c{i} INTEGER" for i in range(200))
    store.sql(f"CREATE TABLE {q(SRC)}.wide ({columns})")
    store.sql(f"INSERT INTO {q(SRC)}.wide VALUES ({', '.join(str(i) for i in range(200))})")
    report = profile(Context.load(write_config(store, tmp_path)))
    (wide,) = report.tables
    assert (wide.status, wide.column_count, wide.query_count) == ("completed", 200, 2)
    metrics = metrics_of(store, report.run_id, "wide")
    assert len(metrics) == 200 * 9
    assert metrics[("c199", "max")][1] == 199


def test_store_behind_or_ahead_refuses_to_write(store: Store, tmp_path: Path) -> None:
    migrate_apply(store.ctx, target_version=1, build_views=False)
    create_sources(store)
    config_path = write_config(store, tmp_path)
    behind = run_cli("profile", "-c", str(config_path))
    assert behind.exit_code == 1
    assert f"storage is at version 1, ProfileMesh needs {HEAD}: run `profilemesh migrate apply`" in behind.stderr

    migrate_apply(store.ctx, build_views=False)
    store.sql(
        f"INSERT INTO {store.qualified('profilemesh_schema_version')} (attempt_id, version, checksum, "
        f"operation, status, started_at) VALUES (99, 99, 'pm1:x', 'apply', 'succeeded', '2030-01-01 00:00:00')"
    )
    ahead = run_cli("profile", "-c", str(config_path))
    assert ahead.exit_code == 1 and "upgrade profilemesh" in ahead.stderr
    assert store.sql(f"SELECT count(*) FROM {store.qualified('profilemesh_runs')}") == [(0,)]


def test_nothing_to_profile_and_bad_profiling_config(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {q(SRC)}")
    empty = run_cli("profile", "-c", str(write_config(store, tmp_path)))
    assert empty.exit_code == 2 and "table selector src.* matched no table or view in the source" in empty.stderr
    bad = run_cli("profile", "-c", str(write_config(store, tmp_path, metrics=["mean", "median"])))
    assert bad.exit_code == 2 and "profiling.metrics" in bad.stderr and "median" in bad.stderr
    nowhere = write_config(store, tmp_path, tables=[{"schema": "nosuch", "table": "*"}])
    missing_schema = run_cli("profile", "-c", str(nowhere))
    assert missing_schema.exit_code == 2 and missing_schema.stderr.count("\n") == 1
    assert "table selector nosuch.*: schema nosuch does not exist in the source" in missing_schema.stderr


def test_source_errors_name_the_source_not_the_store(pg_at_head: Store, tmp_path: Path) -> None:
    path = write_config(pg_at_head, tmp_path)
    data = yaml.safe_load(path.read_text())
    data["source"]["database"] = "no_such_database"
    path.write_text(yaml.safe_dump(data))
    result = run_cli("profile", "-c", str(path))
    assert result.exit_code == 3 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: source postgres ") and "/no_such_database" in result.stderr
    assert "does not exist" in result.stderr


def test_values_keep_text_and_only_finite_numbers() -> None:
    from profilemesh.profiling.execute import _encode

    assert _encode(float("nan")) == ("nan", None) and _encode(0) == ("0", 0.0)
    assert math.isclose(_encode(1.25)[1], 1.25) and _encode(True) == ("true", None)


def test_approximate_distinct_counts_are_marked_and_close(store_at_head: Store, tmp_path: Path) -> None:
    """HyperLogLog on DuckDB (in SQL, a second statement) and PostgreSQL (the hll extension, in the one
    scan); the store records the estimates under their own metric names, within 2% of the truth."""
    store = store_at_head
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {q(SRC)}")
    store.sql(
        f"CREATE TABLE {q(SRC)}.many AS SELECT i AS id, i % 1000 AS bucket FROM generate_series(1, 20000) AS g(i)"
    )
    if store.kind == "postgres":
        store.sql("CREATE EXTENSION IF NOT EXISTS hll")
    report = profile(Context.load(write_config(store, tmp_path, distinct="approximate")))
    (many,) = report.tables
    assert many.distinct_mode == "approximate"
    assert many.query_count == (2 if store.kind == "duckdb" else 1)
    metrics = metrics_of(store, report.run_id, "many")
    assert ("id", "distinct_count") not in metrics
    assert metrics[("id", "distinct_count_approx")][1] == pytest.approx(20000, rel=0.02)
    assert metrics[("bucket", "distinct_count_approx")][1] == pytest.approx(1000, rel=0.02)


def test_approximate_without_hll_on_postgres_falls_back_to_exact(pg_at_head: Store, tmp_path: Path) -> None:
    pg_store = pg_at_head
    pg_store.sql(f"CREATE SCHEMA IF NOT EXISTS {q(SRC)}")
    pg_store.sql(f"CREATE TABLE {q(SRC)}.few AS SELECT i AS id FROM generate_series(1, 10) AS g(i)")
    result = run_cli("profile", "-c", str(write_config(pg_store, tmp_path, distinct="approximate")))
    assert result.exit_code == 0, result.stderr
    assert "CREATE EXTENSION hll" in result.stdout  # said clearly, in the summary's note
    assert metrics_of(pg_store, _last_run(pg_store), "few")[("id", "distinct_count")][1] == 10


def _last_run(store: Store) -> str:
    return store.sql(f"SELECT run_id FROM {store.qualified('profilemesh_runs')} ORDER BY profiled_at DESC")[0][0]


def test_glob_in_the_storage_schema_skips_profilemeshs_own_tables(duck_at_head: Store, tmp_path: Path) -> None:
    """Source and storage in one DuckDB file and one schema: one connection serves both."""
    duck_store = duck_at_head
    duck_store.sql("CREATE TABLE main.orders AS SELECT 1 AS id")
    data = yaml.safe_load(duck_store.config_path.read_text())
    data["profiling"] = {"tables": ["main.*"]}
    path = tmp_path / "same.yml"
    path.write_text(yaml.safe_dump(data))
    report = profile(Context.load(path))
    assert [t.table for t in report.tables] == ["orders"]
    assert report.tables[0].status == "completed"
