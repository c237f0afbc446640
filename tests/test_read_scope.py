"""What a run reads of a table (profiling.tables[].where, columns, exclude_columns, sample): the SQL
narrows every statement, the run records it (runs.scope, shown by `query runs`), drift compares a run
only with runs that read the same way, and bad scopes are clear errors. Checked against what the
warehouse itself computes with the same predicate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from profilemesh.api import Context, detect_drift, migrate_apply, profile, query_runs
from profilemesh.errors import ConfigError, UsageError
from tests.support.cli import run_cli
from tests.support.stores import Store

ROWS = 400


def _orders(store: Store, upper: bool = False) -> None:
    def q(name: str) -> str:
        return store.ident(name.upper() if upper else name)

    table = f"{q('src')}.{q('orders')}"
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {q('src')}")
    store.sql(
        f"CREATE TABLE {table} ({q('id')} INTEGER, {q('amount')} FLOAT, {q('status')} VARCHAR(10), "
        f"{q('secret_key')} VARCHAR(10), {q('secret_hash')} VARCHAR(10))"
    )
    values = ", ".join(
        f"({i}, {'NULL' if i % 10 == 0 else i * 1.5}, '{'void' if i % 4 == 0 else 'paid'}', 'k{i}', 'h{i}')"
        for i in range(ROWS)
    )
    store.sql(f"INSERT INTO {table} VALUES {values}")


def _config(store: Store, tmp_path: Path, table: dict[str, Any], top: dict[str, Any] | None = None) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"])
    data["profiling"] = {"tables": [table], **(top or {})}
    data["drift_detection"] = {"strategy": "threshold"}
    path = tmp_path / f"scope{len(list(tmp_path.glob('scope*.yml')))}.yml"
    path.write_text(yaml.safe_dump(data))
    return Context.load(path)


def _metrics(store: Store, run_id: str) -> dict[tuple[str, str], float | None]:
    rows = store.sql(
        f"SELECT column_name, metric_name, metric_value_numeric FROM {store.qualified('profilemesh_results')} "
        f"WHERE run_id = {store.ph}",
        [run_id],
    )
    return {(str(c).lower(), m): v for c, m, v in rows}


def _scope(store: Store, run_id: str) -> Any:
    """What the run recorded of its read as configured: runs.scope without what it cost and noted."""
    (stored,) = store.sql(
        f"SELECT scope FROM {store.qualified('profilemesh_runs')} WHERE run_id = {store.ph}", [run_id]
    )
    return _configured(stored[0])


def _configured(stored: Any) -> Any:
    scope = json.loads(stored) if isinstance(stored, str) else dict(stored)
    return {k: v for k, v in scope.items() if k not in ("cost", "notes")} or None


def test_where_and_columns_narrow_the_read_and_are_recorded(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _orders(store)
    where = "status <> 'void' AND id < 300"
    ctx = _config(
        store, tmp_path, {"schema": "src", "table": "orders", "where": where, "exclude_columns": ["secret_*"]}
    )
    report = profile(ctx)
    (outcome,) = report.tables
    assert outcome.status == "completed", outcome.error
    (expected_rows, expected_nulls, expected_mean) = store.sql(
        f'SELECT count(*), count(*) - count(amount), avg(amount) FROM "src"."orders" WHERE {where}'
    )[0]
    assert outcome.row_count == expected_rows == 225
    metrics = _metrics(store, report.run_id)
    assert metrics[("amount", "null_count")] == expected_nulls
    assert metrics[("amount", "mean")] == pytest.approx(expected_mean)
    assert metrics[("status", "distinct_count")] == 1  # only 'paid' passes the filter
    assert not [k for k in metrics if k[0].startswith("secret_")]
    recorded = {"where": where, "exclude_columns": ["secret_*"]}
    assert _scope(store, report.run_id) == recorded
    (row,) = query_runs(ctx, table="src.orders").rows
    assert _configured(row["scope"]) == recorded

    # Only the columns named (a glob), the rest of the table's defaults from the top level.
    ctx = _config(store, tmp_path, {"schema": "src", "table": "orders", "columns": ["id", "amo*"]})
    report = profile(ctx)
    assert {k[0] for k in _metrics(store, report.run_id)} == {"id", "amount"}
    assert _scope(store, report.run_id) == {"columns": ["id", "amo*"]}


def test_drift_compares_a_run_only_with_runs_that_read_the_same_way(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _orders(store)
    full = _config(store, tmp_path, {"schema": "src", "table": "orders"})
    profile(full)
    profile(full)
    filtered = _config(store, tmp_path, {"schema": "src", "table": "orders", "where": "id < 40"})
    profile(filtered)
    report = detect_drift(filtered)
    assert [e for e in report.events if e.metric == "row_count"] == []  # 40 of 400 rows is no drift here
    assert any("no earlier run to compare with" in note for note in report.notes)
    assert profile(full).tables[0].row_count == ROWS
    assert [e for e in detect_drift(full).events if e.metric == "row_count"] == []  # against the full runs


def test_a_sample_reads_part_of_the_table_and_says_how(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _orders(store)
    ctx = _config(store, tmp_path, {"schema": "src", "table": "orders", "sample": {"percent": 50, "seed": 7}})
    first = profile(ctx).tables[0]
    assert first.status == "completed", first.error
    assert 120 < (first.row_count or 0) < 280  # Bernoulli: about half of 400
    assert first.scope == {"sample": {"percent": 50.0, "seed": 7}}
    rows = _config(store, tmp_path, {"schema": "src", "table": "orders", "sample": {"rows": 25}})
    if store.kind == "duckdb":
        assert profile(rows).tables[0].row_count == 25  # reservoir sampling: exactly that many
    else:
        with pytest.raises(UsageError, match="postgres samples by percent"):
            profile(rows)


def test_bad_scopes_are_clear_errors(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    _orders(store)
    # A predicate the warehouse refuses: the table fails with the warehouse's message; the run is stored.
    ctx = _config(store, tmp_path, {"schema": "src", "table": "orders", "where": "no_such_column > 1"})
    report = profile(ctx)
    (outcome,) = report.tables
    assert outcome.status == "failed" and "no_such_column" in (outcome.error or "").lower()
    # Globs that leave nothing, and config that cannot be right, before anything is read.
    nothing = _config(store, tmp_path, {"schema": "src", "table": "orders", "columns": ["nope*"]})
    with pytest.raises(UsageError, match=r"table src.orders: columns \[nope\*\] .* leave no column"):
        profile(nothing)
    for table, top, key in (
        ({"schema": "src", "table": "orders"}, {"where": "id > 1"}, "profiling.where"),
        ({"schema": "src", "table": "orders", "sample": {"percent": 0}}, None, "profiling.tables[0].sample.percent"),
        ({"schema": "src", "table": "orders", "sample": {"percent": 5, "rows": 5}}, None, "profiling.tables[0].sample"),
        ({"schema": "src", "table": "orders", "columns": []}, None, "profiling.tables[0].columns"),
    ):
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            _config(store, tmp_path, table, top)
    bad = tmp_path / "bad.yml"
    data = yaml.safe_load(store.config_path.read_text())
    data["profiling"] = {"tables": [{"table": "orders", "sample": {"percent": 150}}]}
    bad.write_text(yaml.safe_dump(data))
    refused = run_cli("profile", "-c", str(bad))
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "profiling.tables[0].sample.percent" in refused.stderr


@pytest.mark.snowflake
def test_where_and_sample_on_snowflake(sf_store: Store, tmp_path: Path) -> None:
    migrate_apply(sf_store.ctx, build_views=False)
    _orders(sf_store, upper=True)
    where = "STATUS <> 'void'"
    ctx = _config(sf_store, tmp_path, {"schema": "SRC", "table": "ORDERS", "where": where})
    (outcome,) = profile(ctx).tables
    assert (outcome.status, outcome.row_count) == ("completed", 300), outcome.error
    sampled = _config(sf_store, tmp_path, {"schema": "SRC", "table": "ORDERS", "sample": {"percent": 50}})
    (half,) = profile(sampled).tables
    assert half.status == "completed", half.error
    assert 120 < (half.row_count or 0) < 280
    _buckets_on_snowflake(sf_store, tmp_path)  # the store's migration is the slow part: shared here


def _buckets_on_snowflake(store: Store, tmp_path: Path) -> None:
    """granularity on Snowflake (tests/test_buckets.py on DuckDB and PostgreSQL): one grouped aggregate
    for every bucket, a TIMESTAMP_TZ column's days cut in the configured zone."""
    store.sql('CREATE TABLE "SRC"."EVENTS" ("ID" INTEGER, "PLACED_AT" TIMESTAMP_TZ, "AMOUNT" FLOAT)')
    store.sql(
        """INSERT INTO "SRC"."EVENTS" VALUES (1, '2024-03-01 10:00:00+00:00', 1), (2, '2024-03-01 23:30:00+00:00', 2),
        (3, '2024-03-02 12:00:00+00:00', 3), (4, '2024-03-04 12:00:00+00:00', 4)"""
    )
    table = {"schema": "SRC", "table": "EVENTS", "time_column": "PLACED_AT", "granularity": "day"}
    # Distributions per bucket are tested on DuckDB and PostgreSQL; each statement costs the emulator ~1 s.
    ctx = _config(store, tmp_path, {**table, "timezone": "Europe/Paris"}, {"distributions": False})
    report = profile(ctx, as_of=dt.datetime(2024, 3, 5, 12), since=dt.date(2024, 3, 1))
    assert [(t.bucket, t.status, t.row_count) for t in report.tables] == [
        ("2024-03-01", "completed", 1),
        ("2024-03-02", "completed", 2),  # 23:30 UTC on the 1st is the 2nd in Paris
        ("2024-03-03", "completed", 0),
        ("2024-03-04", "completed", 1),
    ], [t.error for t in report.tables]
    assert {t.query_count for t in report.tables} == {1}
