"""`profilemesh query` against known rows on DuckDB and PostgreSQL: every subcommand in every format,
filters, stable paging, NULL/zero/unicode values, and the views and the N-1 fallback agreeing.

One store per warehouse for the whole module (one `migrate apply`, so one dbt build each); the tests
here only read it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profilemesh.query import fallback, queries
from profilemesh.query.queries import DRIFT_COLUMNS, HISTORY_COLUMNS, METRICS_COLUMNS, RUNS_COLUMNS
from profilemesh.query.reader import Reader, open_reader
from tests.support.cli import run_cli
from tests.support.query_data import (
    NOW,
    OLD,
    PAGING_EVENTS,
    PAGING_RUNS,
    T1,
    T2,
    drift_model,
    runs_model,
    runs_order,
    seed,
)
from tests.support.stores import Store


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, store_pool) -> Iterator[Store]:
    """A store at head (a copy of the worker's template) of this module's own, with the known rows."""
    if request.param == "postgres":
        store_pool.pg = request.getfixturevalue("pg_server")
    directory = tmp_path_factory.mktemp(f"query-{request.param}")
    store = store_pool.copy_at_head(request.param, directory, "pm_query_module")
    assert "profilemesh_runs_v" in {
        r[0]
        for r in store.sql(f"SELECT table_name FROM information_schema.views WHERE table_schema = '{store.schema}'")
    }  # the views the template's `migrate apply` built
    seed(store)
    yield store


def q(store: Store, *args: str):
    return run_cli("query", *args, "-c", str(store.config_path))


def ok(store: Store, *args: str):
    result = q(store, *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # at head: no warning
    return result


def recent(rows, days=30):
    return [r for r in rows if (NOW - r["profiled_at"]).days < days]


def iso(value) -> str:
    return value.isoformat() + "Z"


# --- runs ---


def test_runs_json_is_the_model_in_stable_order(seeded: Store) -> None:
    data = json.loads(ok(seeded, "runs", "--format", "json").stdout)
    expected = sorted(recent(runs_model()), key=runs_order)
    assert data["total"] == len(expected) and data["offset"] == 0 and data["limit"] == 100
    assert [(r["run_id"], r["dataset_name"]) for r in data["rows"]] == [
        (r["run_id"], r["dataset_name"]) for r in expected
    ]
    by_key = {(r["run_id"], r["dataset_name"]): r for r in data["rows"]}
    for row in expected:
        got = by_key[(row["run_id"], row["dataset_name"])]
        assert list(got) == list(RUNS_COLUMNS)
        assert got["profiled_at"] == iso(row["profiled_at"])
        for key in ("row_count", "column_count", "metric_count", "drift_event_count", "max_drift_severity", "status"):
            assert got[key] == row[key], key
        assert got["error_message"] == row["error_message"]
    assert by_key[("run-a", "customers")]["row_count"] == 0  # zero stays zero
    assert by_key[("run-c", "orders")]["row_count"] is None  # NULL stays null
    assert by_key[("run-d", "orders")]["drift_event_count"] == 2
    assert by_key[("run-d", "orders")]["max_drift_severity"] == "high"
    assert by_key[("run-b", "orders")]["drift_event_count"] == 1  # the lifecycle event is not drift
    assert by_key[("run-a", "orders")]["metric_count"] == 4


def test_runs_csv_round_trips_through_csv_reader(seeded: Store) -> None:
    text = ok(seeded, "runs", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(RUNS_COLUMNS)
    records = {(r[0], r[1]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(records) == len(recent(runs_model()))
    assert records[("run-a", "customers")]["row_count"] == "0"
    assert records[("run-a", "customers")]["duration_seconds"] == "0.0"
    assert records[("run-c", "orders")]["row_count"] == ""
    assert records[("run-c", "orders")]["error_message"] == 'boom, "quoted"\nsecond line'
    assert records[("run-b", "kunden_ü")]["schema_name"] == "vertrieb"
    assert records[("run-b", "kunden_ü")]["duration_seconds"] == ""
    assert records[("run-d", "orders")]["profiled_at"] == iso(T1)


def test_runs_ndjson_one_object_per_line(seeded: Store) -> None:
    lines = ok(seeded, "runs", "--format", "ndjson").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == len(recent(runs_model()))
    assert all(list(r) == list(RUNS_COLUMNS) for r in rows)
    assert rows == json.loads(ok(seeded, "runs", "--format", "json").stdout)["rows"]


def test_runs_table_shows_rows_and_the_total(seeded: Store) -> None:
    total = len(recent(runs_model()))
    out = ok(seeded, "runs", "--limit", "5").stdout
    assert f"runs 1-5 of {total} (next page: --offset 5)" in out
    assert "run_id" in out and "max_drift_severity" in out
    last = ok(seeded, "runs", "--limit", "5", "--offset", str(total - 2)).stdout
    assert f"runs {total - 1}-{total} of {total}" in last and "next page" not in last
    unicode = ok(seeded, "runs", "--table", "kunden_ü").stdout
    assert "kunden_ü" in unicode and "runs 1-1 of 1" in unicode
    assert "None" not in out and "nan" not in out.lower()  # no Python repr


@pytest.mark.parametrize(
    "args, predicate",
    [
        (["--schema", "sales"], lambda r: r["schema_name"] == "sales"),
        (["--table", "orders"], lambda r: r["dataset_name"] == "orders"),
        (["--status", "failed"], lambda r: r["status"] == "failed"),
        (["--environment", "dev"], lambda r: r["environment"] == "dev"),
        (["--table", "orders", "--schema", "other"],
         lambda r: r["dataset_name"] == "orders" and r["schema_name"] == "other"),
        (["--table", "orders", "--status", "completed", "--environment", "prod"],
         lambda r: r["dataset_name"] == "orders" and r["status"] == "completed" and r["environment"] == "prod"),
        (["--schema", "sales", "--status", "failed", "--environment", "dev"], lambda r: False),
    ],
)  # fmt: skip
def test_runs_filters_alone_and_combined(seeded: Store, args: list[str], predicate) -> None:
    data = json.loads(ok(seeded, "runs", *args, "--format", "json").stdout)
    expected = sorted((r for r in recent(runs_model()) if predicate(r)), key=runs_order)
    assert [(r["run_id"], r["dataset_name"]) for r in data["rows"]] == [
        (r["run_id"], r["dataset_name"]) for r in expected
    ]
    assert data["total"] == len(expected)


def test_runs_days_window(seeded: Store) -> None:
    two = json.loads(ok(seeded, "runs", "--days", "2", "--format", "json").stdout)
    assert {r["run_id"] for r in two["rows"]} >= {"run-c", "run-d"}
    assert not {"run-a", "run-b", "run-old"} & {r["run_id"] for r in two["rows"]}
    everything = json.loads(ok(seeded, "runs", "--days", "0", "--limit", "1000", "--format", "json").stdout)
    assert everything["total"] == len(runs_model())
    assert everything["rows"][-1]["run_id"] == "run-old" and everything["rows"][-1]["profiled_at"] == iso(OLD)


def test_empty_results_are_friendly(seeded: Store) -> None:
    out = ok(seeded, "runs", "--table", "no_such_table").stdout
    assert out == "no runs found in the last 30 days\n"
    assert json.loads(ok(seeded, "runs", "--table", "nope", "--format", "json").stdout)["rows"] == []
    assert ok(seeded, "runs", "--table", "nope", "--format", "csv").stdout == ",".join(RUNS_COLUMNS) + "\n"
    assert ok(seeded, "runs", "--table", "nope", "--format", "ndjson").stdout == ""
    beyond = ok(seeded, "runs", "--offset", "500").stdout
    assert beyond.startswith("no runs found in the last 30 days at offset 500")
    assert ok(seeded, "drift", "--table", "nope").stdout == "no drift events found in the last 30 days\n"
    assert ok(seeded, "table", "--table", "nope").stdout == "no history for table nope in the last 30 days\n"


def test_bad_flags_are_usage_errors(seeded: Store) -> None:
    for args in (["runs", "--limit", "0"], ["runs", "--status", "exploded"], ["drift", "--severity", "huge"],
                 ["runs", "--days", "-1"], ["run"], ["table"], ["runs", "--format", "xml"]):  # fmt: skip
        result = q(seeded, *args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.stderr


# --- paging ---


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.integers(min_value=1, max_value=30))
def test_pages_cover_every_run_exactly_once(seeded: Store, page_size: int) -> None:
    with open_reader(seeded.ctx) as reader:
        full = queries.list_runs(reader, schema="paging", limit=1000)
        seen = []
        offset = 0
        while True:
            page = queries.list_runs(reader, schema="paging", limit=page_size, offset=offset)
            assert page.total == full.total == len(PAGING_RUNS)
            if not page.rows:
                break
            seen.extend((r["run_id"], r["dataset_name"]) for r in page.rows)
            offset += page_size
    assert seen == [(r["run_id"], r["dataset_name"]) for r in full.rows]
    assert len(set(seen)) == len(seen) == len(PAGING_RUNS)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.integers(min_value=1, max_value=20))
def test_drift_pages_cover_every_event_exactly_once(seeded: Store, page_size: int) -> None:
    with open_reader(seeded.ctx) as reader:
        full = queries.list_drift(reader, table="ticks", limit=1000)
        seen = []
        for offset in range(0, full.total + page_size, page_size):
            seen.extend(
                r["event_id"] for r in queries.list_drift(reader, table="ticks", limit=page_size, offset=offset).rows
            )
    assert seen == [r["event_id"] for r in full.rows]
    assert sorted(seen) == sorted(e[0] for e in PAGING_EVENTS)


# --- drift ---


def test_drift_is_drift_events_only_with_run_context(seeded: Store) -> None:
    data = json.loads(ok(seeded, "drift", "--format", "json").stdout)
    expected = [e for e in drift_model() if (NOW - e["timestamp"]).days < 30]
    expected.sort(key=lambda e: (-e["timestamp"].timestamp(), e["event_id"]))
    assert [r["event_id"] for r in data["rows"]] == [e["event_id"] for e in expected]
    assert {r["event_type"] for r in data["rows"]} <= {"DataDriftDetected", "SchemaChangeDetected"}
    rows = {r["event_id"]: r for r in data["rows"]}
    assert "ev-3" not in rows and "ev-6" not in rows and "ev-old" not in rows
    assert list(rows["ev-1"]) == list(DRIFT_COLUMNS)
    assert rows["ev-1"]["environment"] == "prod" and rows["ev-1"]["profiled_at"] == iso(T2)
    assert rows["ev-1"]["detected_at"] == iso(T2)
    assert json.loads(rows["ev-1"]["metadata"]) == {"strategy": "threshold"}
    assert rows["ev-4"]["baseline_value"] == 0 and rows["ev-4"]["change_percent"] == 0  # zeros stay zeros
    assert rows["ev-5"]["run_id"] is None and rows["ev-5"]["environment"] is None  # no run to join
    assert rows["ev-2"]["metric_name"] is None


def test_drift_filters_and_formats(seeded: Store) -> None:
    high = json.loads(ok(seeded, "drift", "--severity", "high", "--format", "json").stdout)
    assert [r["event_id"] for r in high["rows"]] == ["ev-4"]
    both = json.loads(
        ok(seeded, "drift", "--table", "orders", "--severity", "low", "--days", "0", "--format", "json").stdout
    )
    assert [r["event_id"] for r in both["rows"]] == ["ev-2", "ev-5", "ev-old"]
    rows = list(csv.reader(io.StringIO(ok(seeded, "drift", "--table", "orders", "--format", "csv").stdout)))
    assert rows[0] == list(DRIFT_COLUMNS)
    ev4 = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == "ev-4")
    assert ev4["baseline_value"] == "0.0" and ev4["change_percent"] == "0.0" and ev4["metadata"] == ""
    nd = [
        json.loads(line) for line in ok(seeded, "drift", "--table", "orders", "--format", "ndjson").stdout.splitlines()
    ]
    assert [r["event_id"] for r in nd] == [r[0] for r in rows[1:]]
    table = ok(seeded, "drift", "--table", "orders").stdout
    assert "events 1-4 of 4" in table and "SchemaChangeDetected" in table and "ProfilingCompleted" not in table


# --- run ---


def test_run_shows_every_table_and_metric(seeded: Store) -> None:
    data = json.loads(ok(seeded, "run", "--run-id", "run-a", "--format", "json").stdout)
    assert data["run_id"] == "run-a"
    assert [t["dataset_name"] for t in data["tables"]] == ["customers", "orders"]
    orders = data["tables"][1]
    assert orders["row_count"] == 100 and orders["profiled_at"].endswith("Z")
    columns = {c["column_name"]: c for c in orders["columns"]}
    assert columns["amount"]["metrics"] == {"histogram": '{"bins": [1, 2]}', "mean": 12.5, "null_count": 0}
    assert columns["status"]["metrics"] == {"top_value": 'shipped, "fast"'}
    assert data["tables"][0]["columns"][0]["metrics"] == {"distinct_count": 0}

    one = json.loads(ok(seeded, "run", "--run-id", "run-a", "--table", "customers", "--format", "json").stdout)
    assert [t["dataset_name"] for t in one["tables"]] == ["customers"]

    rows = list(csv.reader(io.StringIO(ok(seeded, "run", "--run-id", "run-a", "--format", "csv").stdout)))
    assert rows[0] == list(METRICS_COLUMNS)
    assert len(rows) == 1 + 5
    top = next(
        row for row in (dict(zip(rows[0], r, strict=True)) for r in rows[1:]) if row["metric_name"] == "top_value"
    )
    assert top["metric_value"] == 'shipped, "fast"' and top["metric_value_numeric"] == ""
    nd = ok(seeded, "run", "--run-id", "run-b", "--table", "kunden_ü", "--format", "ndjson").stdout
    assert [json.loads(line)["metric_value"] for line in nd.splitlines()] == ["Grüße 👋"]

    text = ok(seeded, "run", "--run-id", "run-c").stdout  # failed: NULL counts, no metrics, no crash
    assert "boom" in text and "no metrics stored" in text and "None" not in text

    # Quantiles, top values and segments: in the JSON as stored, in the table one line per column.
    shapes = data["tables"][1]["distributions"]
    first = [(s["column_name"], s["kind"], s["label"]) for s in shapes][:2]
    assert first == [("amount", "quantile", "p1"), ("amount", "quantile", "p50")]
    text = ok(seeded, "run", "--run-id", "run-a").stdout
    assert "p1 1.5, p50 12.0 (exact)" in text and """'shipped, "fast"' 60.0%, 'open' 30.0%, other 10.0%""" in text
    table = ok(seeded, "table", "--table", "orders", "--schema", "sales", "--days", "0").stdout
    assert "distributions in the newest completed run (run-d)" in table
    assert "'nord' 75.0% (90 rows), NULL 25.0% (30 rows)" in table and "p50 13.0 (approximate)" in table


def test_unknown_run_and_table_are_check_failures(seeded: Store) -> None:
    missing = q(seeded, "run", "--run-id", "no-such-run")
    assert missing.exit_code == 1
    assert missing.stderr == "error: run no-such-run not found\n" and missing.stdout == ""
    wrong_table = q(seeded, "run", "--run-id", "run-a", "--table", "nope")
    assert wrong_table.exit_code == 1
    assert "run run-a has no table nope (it profiled: sales.customers, sales.orders)" in wrong_table.stderr


def test_schema_dot_table_and_schema_select_the_same_in_every_subcommand(seeded: Store) -> None:
    def rows(*args: str) -> list[dict]:
        return json.loads(ok(seeded, *args, "--format", "json").stdout)["rows"]

    sales = rows("drift", "--table", "sales.orders", "--days", "0")
    assert sorted(r["event_id"] for r in sales) == ["ev-1", "ev-2", "ev-4", "ev-old"]  # not ev-5: no schema known
    assert rows("drift", "--table", "orders", "--schema", "sales", "--days", "0") == sales
    assert rows("drift", "--table", "other.orders", "--days", "0") == []  # the same name, another table
    assert [(r["run_id"], r["schema_name"]) for r in rows("runs", "--table", "other.orders", "--days", "0")] == [
        ("run-e", "other")
    ]
    assert "history of other.orders" in ok(seeded, "table", "--table", "other.orders", "--days", "0").stdout
    run = json.loads(ok(seeded, "run", "--run-id", "run-e", "--table", "other.orders", "--format", "json").stdout)
    assert [(t["schema_name"], t["dataset_name"]) for t in run["tables"]] == [("other", "orders")]
    conflict = q(seeded, "drift", "--table", "sales.orders", "--schema", "other")
    assert conflict.exit_code == 2 and "--table sales.orders names schema sales, --schema says other" in conflict.stderr


# --- table ---


def test_table_history_deltas_and_trend(seeded: Store) -> None:
    ambiguous = q(seeded, "table", "--table", "orders")
    assert ambiguous.exit_code == 2 and "several schemas (other, sales): pass --schema" in ambiguous.stderr

    data = json.loads(ok(seeded, "table", "--table", "orders", "--schema", "sales", "--format", "json").stdout)
    assert [r["run_id"] for r in data["rows"]] == ["run-a", "run-b", "run-c", "run-d"]  # oldest first; tie by run_id
    assert list(data["rows"][0]) == list(HISTORY_COLUMNS)
    a, b, c, d = data["rows"]
    assert a["previous_run_id"] == "run-old" and a["row_count_change"] == 50  # history reaches before --days
    assert a["row_count_change_percent"] == 100.0
    assert b["previous_run_id"] == "run-a" and b["row_count_change"] == 50 and b["row_count_change_percent"] == 50.0
    assert c["row_count"] is None and c["row_count_change"] is None
    assert d["previous_run_id"] == "run-c" and d["row_count_change"] is None and d["column_count_change"] is None
    assert d["drift_event_count"] == 2 and d["max_drift_severity"] == "high"
    assert data["trend"] == {"runs": 4, "first_row_count": 100, "last_row_count": 120, "sparkline": "▁█ ▄"}

    table = ok(seeded, "table", "--table", "orders", "--schema", "sales").stdout
    assert "history of sales.orders in the last 30 days: 4 runs" in table
    assert "row count trend: ▁█ ▄  (100 -> 120)" in table
    everything = ok(seeded, "table", "--table", "orders", "--schema", "sales", "--days", "0", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(everything)))
    assert rows[0] == list(HISTORY_COLUMNS) and [r[0] for r in rows[1:]] == [
        "run-old",
        "run-a",
        "run-b",
        "run-c",
        "run-d",
    ]
    assert rows[1][HISTORY_COLUMNS.index("previous_run_id")] == ""
    nd = ok(seeded, "table", "--table", "kunden_ü", "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line)["row_count"] for line in nd] == [7]


def test_output_file_holds_exactly_what_the_format_produces(seeded: Store, tmp_path: Path) -> None:
    for fmt in ("table", "json", "csv", "ndjson"):
        target = tmp_path / f"runs.{fmt}"
        written = ok(seeded, "runs", "--format", fmt, "-o", str(target))
        assert written.stdout == ""
        assert target.read_bytes().decode("utf-8") == ok(seeded, "runs", "--format", fmt).stdout
    bad = q(seeded, "runs", "-o", str(tmp_path / "no" / "such" / "dir" / "x.csv"))
    assert bad.exit_code == 2 and bad.stderr.startswith("error: cannot write")


# --- the views and the N-1 fallback are the same definitions ---


def test_views_and_table_fallback_agree(seeded: Store) -> None:
    def everything(from_tables: bool):
        with open_reader(seeded.ctx) as reader:
            assert reader.source == "views"
            if from_tables:  # the same store read through the views' Core definitions
                reader = Reader(reader.conn, fallback.relations(reader.conn, seeded.target), reader.plan)
            runs = queries.list_runs(reader, days=0, limit=1000).rows
            drift = queries.list_drift(reader, days=0, limit=1000).rows
            tables = [("orders", "sales"), ("orders", "other"), ("ticks", "paging"), ("customers", None)]
            history = [queries.table_history(reader, t, schema=s, days=0) for t, s in tables]
            details = [queries.run_details(reader, r) for r in ("run-a", "run-b", "run-c", "run-d")]
        shapes = [h.distributions for h in history]
        return runs, drift, [h.rows for h in history], [(d.tables, d.metrics, d.distributions) for d in details], shapes

    views, tables = everything(False), everything(True)
    assert views == tables
    assert len(views[3][0][2]) == 5 and views[4][0][0]["run_id"] == "run-d"  # run-a's shapes; orders' newest run
    assert len(views[0]) == len(runs_model()) and len(views[1]) == len(drift_model())


def test_latest_metrics_view_holds_the_newest_completed_value(seeded: Store) -> None:
    rows = seeded.sql(
        f"SELECT dataset_name, column_name, metric_name, run_id, metric_value_numeric "
        f"FROM {seeded.qualified('profilemesh_latest_metrics_v')} WHERE schema_name = 'sales' "
        "ORDER BY dataset_name, column_name, metric_name"
    )
    assert rows == [
        ("customers", "name", "distinct_count", "run-a", 0.0),
        ("orders", "amount", "histogram", "run-a", None),
        ("orders", "amount", "mean", "run-d", 13.0),  # run-d is newer than run-a
        ("orders", "amount", "null_count", "run-a", 0.0),
        ("orders", "status", "top_value", "run-a", None),
    ]
