"""Distributions (profilemesh_distributions, schema version 7): quantiles, histograms, top values and
segment counts computed in the warehouse, against ground truth, on DuckDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from profilemesh.api import Context, profile, query_run
from profilemesh.config.loader import load_config
from profilemesh.errors import ConfigError, UsageError
from profilemesh.query.queries import shape_summary
from tests.support.stores import Store

SRC = "src"


def _config(store: Store, tmp_path: Path, tables: list[dict], **profiling: object) -> Path:
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"], schema=SRC)
    data["profiling"] = {"tables": tables, **profiling}
    path = tmp_path / "dist.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _items(store: Store, run_id: str) -> dict[tuple[str, str], list[tuple]]:
    rows = store.sql(
        f"SELECT column_name, kind, position, label, value_numeric, value_upper, value_text, share_percent, "
        f"row_count, mode FROM {store.qualified('profilemesh_distributions')} WHERE run_id = {store.ph} "
        "ORDER BY column_name, kind, position",
        [run_id],
    )
    out: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        out.setdefault((r[0], r[1]), []).append(tuple(r[2:]))
    return out


@pytest.fixture
def profiled(store_at_head: Store, tmp_path: Path):
    store = store_at_head
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {SRC}")
    # x: 1..100; cat: 'a' x 50, 'b' x 30, 'c' x 20 (and no NULL); region: 'n' x 70, 's' x 30;
    # seen: one day per 10 rows; uid: 100 distinct values (not low-cardinality under a limit of 5).
    store.sql(f"CREATE TABLE {SRC}.facts (x INTEGER, cat VARCHAR(5), region VARCHAR(5), seen TIMESTAMP, uid INTEGER)")
    values = ", ".join(
        f"({i}, '{'a' if i <= 50 else 'b' if i <= 80 else 'c'}', '{'n' if i % 10 < 7 else 's'}', "
        f"TIMESTAMP '2024-01-{1 + (i - 1) // 10:02d} 00:00:00', {i})"
        for i in range(1, 101)
    )
    store.sql(f"INSERT INTO {SRC}.facts VALUES {values}")
    path = _config(
        store,
        tmp_path,
        [{"schema": SRC, "table": "facts", "segment_by": ["region"]}],
        distributions={"max_categories": 5, "top_values": 2, "bins": 4},
    )
    report = profile(Context.load(path))
    return store, report, path


def test_quantiles_histograms_top_values_and_segments_are_exact(profiled) -> None:
    store, report, _ = profiled
    (facts,) = report.tables
    assert facts.status == "completed" and not facts.notes
    items = _items(store, report.run_id)
    quantiles = {row[1]: row[2] for row in items[("x", "quantile")]}
    # Linear interpolation between order statistics (quantile_cont / percentile_cont): 1 + f * 99.
    assert quantiles == pytest.approx({"p1": 1.99, "p5": 5.95, "p25": 25.75, "p50": 50.5, "p75": 75.25,
                                       "p95": 95.05, "p99": 99.01})  # fmt: skip
    assert {row[-1] for row in items[("x", "quantile")]} == {"exact"}
    # 4 equal-width bins over 1..100 (width 24.75); the last bin holds the max.
    bins = items[("x", "histogram")]
    assert [row[-2] for row in bins] == [25, 25, 25, 25]  # x - 1 < 24.75, < 49.5, < 74.25, <= 99
    assert bins[0][2] == pytest.approx(1.0) and bins[-1][3] == pytest.approx(100.0)
    assert sum(row[-3] for row in bins) == pytest.approx(100.0)
    # A temporal column's quantiles are its values as epoch seconds, and as text.
    seen = {row[1]: row for row in items[("seen", "quantile")]}
    assert seen["p50"][4] == "2024-01-05T12:00:00"  # halfway between the 50th (Jan 5) and 51st (Jan 6) rows
    # Top values of a low-cardinality column: the 2 most common, and the rest as other.
    assert [(r[1], r[5], r[-3]) for r in items[("cat", "top_value")]] == [("a", 50, 50.0), ("b", 30, 30.0)]
    assert [(r[5], r[-3]) for r in items[("cat", "other")]] == [(20, 20.0)]
    assert ("uid", "top_value") not in items  # 100 distinct values: over max_categories
    # The segment column's row counts, and its values as top values too (2 distinct values).
    assert [(r[1], r[5]) for r in items[("region", "segment")]] == [("n", 70), ("s", 30)]
    assert [(r[5]) for r in items[("region", "segment_other")]] == [0]


def test_segment_by_names_a_missing_column_and_config_is_validated(profiled, tmp_path: Path) -> None:
    store, _, _ = profiled
    path = _config(store, tmp_path, [{"schema": SRC, "table": "facts", "segment_by": ["nope"]}])
    with pytest.raises(UsageError, match="segment_by nope is not a profiled column"):
        profile(Context.load(path))
    path = _config(store, tmp_path, [{"schema": SRC, "table": "facts", "segment_by": ["region"],
                                      "segment_metrics": {"cat": ["mean"]}}])  # fmt: skip
    with pytest.raises(UsageError, match="segment_metrics cat: mean needs a numeric column"):
        profile(Context.load(path))
    for bad, key in (
        ({"segment_by": 3}, "segment_by"),
        ({"segment_by": ["a", "A"]}, "segment_by"),
        ({"segment_metrics": {"x": ["mean"]}}, "segment_metrics.*needs segment_by"),
        ({"segment_by": "region", "segment_metrics": {"x": ["median"]}}, "unknown segment metric.*median"),
        ({"segment_by": "region", "segment_metrics": ["x"]}, "segment_metrics.*mapping"),
    ):
        path = _config(store, tmp_path, [{"schema": SRC, "table": "facts", **bad}])
        with pytest.raises(ConfigError, match=key):
            load_config(path)
    for bad, key in (
        ({"quantiles": "fast"}, "distributions.quantiles"),
        ({"bins": 0}, "distributions.bins"),
        ({"sample_above_rows": 0}, "distributions.sample_above_rows"),
        ({"sample_rows": "many"}, "distributions.sample_rows"),
        ({"colour": 1}, "colour"),
    ):
        path = _config(store, tmp_path, [{"schema": SRC, "table": "facts"}], distributions=bad)
        with pytest.raises(ConfigError, match=key):
            load_config(path)


def test_a_quantity_with_few_distinct_values_is_not_a_category(profiled, tmp_path: Path) -> None:
    """10 readings: a temperature with 8 distinct values (under max_categories, but values that do not
    repeat: a quantity, graded by its quantiles), a code with 3 and a name with 8 (shares)."""
    store, _, _ = profiled
    store.sql(f"CREATE TABLE {SRC}.readings (temp DOUBLE PRECISION, code INTEGER, name VARCHAR(5))")
    temps = [17.1, 17.2, 17.2, 17.4, 17.5, 17.5, 17.6, 17.8, 18.0, 18.1]
    rows = ", ".join(f"({t}, {i % 3}, 'n{i % 8}')" for i, t in enumerate(temps))
    store.sql(f"INSERT INTO {SRC}.readings VALUES {rows}")
    path = _config(store, tmp_path, [{"schema": SRC, "table": "readings"}], distributions={"max_categories": 10})
    report = profile(Context.load(path))
    items = _items(store, report.run_id)
    assert ("temp", "quantile") in items and ("temp", "top_value") not in items
    assert len(items[("code", "top_value")]) == 3
    assert len(items[("name", "top_value")]) == 8


BIG = 400_000  # rows of the block-sampled table: 195 DuckDB vectors, about 2,000 PostgreSQL pages


def test_a_big_table_s_distributions_read_one_bounded_block_sample(store_at_head: Store, tmp_path: Path) -> None:
    """Above sample_above_rows, quantiles, top values, segments and segment metrics come from ONE
    statement over a block sample: what it reads is about sample_rows rows, not the table; every item
    says `sampled`, and the quantiles' row_count is the sample's size. Below, every row is read."""
    store = store_at_head
    store.sql(f"CREATE SCHEMA IF NOT EXISTS {SRC}")
    store.sql(
        f"CREATE TABLE {SRC}.big AS SELECT i AS x, CASE WHEN i % 10 < 7 THEN 'n' ELSE 's' END AS region, "
        f"CASE WHEN i % 4 = 0 THEN NULL ELSE i % 100 END AS amount FROM generate_series(1, {BIG}) AS g(i)"
    )
    if store.kind == "postgres":
        store.sql(f"ANALYZE {SRC}.big")
    # Two segment columns measuring one column: its segment metrics are numbered across both (the key).
    segments = {"segment_by": ["region", "amount"], "segment_metrics": {"amount": ["null_percent"]}}
    entry = {"schema": SRC, "table": "big", **segments}
    sampled = {"max_categories": 5, "sample_above_rows": 100_000, "sample_rows": 20_000}

    def read(distributions: object) -> tuple[int, Any, str]:
        report = profile(Context.load(_config(store, tmp_path, [entry], distributions=distributions)))
        (outcome,) = report.tables
        assert outcome.status == "completed", outcome.error
        return outcome.cost["rows_read"], outcome, report.run_id

    alone, _, _ = read({"enabled": False, "sample_above_rows": 100_000})
    full, every_row, _ = read({**sampled, "sample_above_rows": None})
    block, outcome, run_id = read(sampled)
    assert full - alone >= BIG  # the value shares and segments read every row
    assert block - alone <= BIG // 4, (alone, block)  # one block sample of about 20,000 rows
    assert any("block sample of about 20,000 rows" in note for note in outcome.notes)
    items = outcome.distributions
    assert {i.mode for i in items} == {"sampled"}
    (size,) = {i.rows for i in items if i.kind == "quantile"}
    assert 5_000 <= size <= 60_000
    x = {i.label: i.value for i in items if i.kind == "quantile" and i.column == "x"}
    assert abs(x["p50"] - BIG / 2) < BIG * 0.2  # whole blocks of a sequential column: a coarse median
    shares = {i.label: i.share_percent for i in items if i.kind == "segment" and i.column == "region"}
    assert shares["n"] == pytest.approx(70, abs=3)
    nulls = {i.label: i.value for i in items if i.kind == "segment_metric" and i.label.startswith("region=")}
    assert {i.value for i in items if i.kind == "segment_metric" and i.label.startswith("amount=")} <= {0.0, 100.0}
    # NULL when i % 4 = 0: 4 of every 14 rows of 'n' (i % 10 in 0, 2, 4, 6 of 0..6), 1 of every 6 of 's'.
    assert nulls == pytest.approx({"region=n": 400 / 14, "region=s": 100 / 6}, abs=2)
    assert {i.mode for i in every_row.distributions} == {"exact", "approximate"}
    if store.kind == "postgres":  # PostgreSQL samples no view: every row is read, as below the switch
        store.sql(f"CREATE VIEW {SRC}.big_v AS SELECT * FROM {SRC}.big")
        report = profile(Context.load(_config(store, tmp_path, [{**entry, "table": "big_v"}], distributions=sampled)))
        (view,) = report.tables
        assert any("the block sample was refused (TABLESAMPLE" in note for note in view.notes), view.notes
        assert [i.share_percent for i in view.distributions if i.kind == "segment" and i.column == "region"] == [
            70.0,
            30.0,
        ]
    # `query run` shows them, from the stored rows (the views).
    ctx = Context.load(tmp_path / "dist.yml")
    shown = {(r["column_name"], r["shape"]): r["summary"] for r in shape_summary(query_run(ctx, run_id).distributions)}
    assert shown[("amount", "segment metrics")].startswith("region=n null_percent 28.")
    assert shown[("region", "segments")].endswith("(sampled)") and "(sampled)" in shown[("x", "quantiles")]
