"""`profile` and `drift` on Snowflake (the fakesnow emulator, or a real account with SNOWFLAKE_*)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from profilemesh.api import Context, migrate_apply, profile
from profilemesh.api import detect_drift as detect
from tests.support.stores import Store

pytestmark = pytest.mark.snowflake


def test_profile_and_drift_on_snowflake(sf_store: Store, tmp_path: Path) -> None:
    migrate_apply(sf_store.ctx, build_views=False)
    sf_store.sql("CREATE SCHEMA IF NOT EXISTS SRC")
    sf_store.sql("CREATE TABLE SRC.KNOWN (ID INTEGER, AMOUNT FLOAT, NAME VARCHAR(20), FLAG BOOLEAN)")
    sf_store.sql(
        "INSERT INTO SRC.KNOWN VALUES (1, 1.5, 'a', TRUE), (2, 2.5, 'bb', FALSE), (3, NULL, NULL, NULL), "
        "(4, 4.0, 'dddd', TRUE)"
    )
    data = yaml.safe_load(sf_store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"], schema="SRC")
    data["profiling"] = {"tables": [{"schema": "SRC", "table": "KNOWN"}]}
    path = tmp_path / "sf.yml"
    path.write_text(yaml.safe_dump(data))
    config = Context.load(path)

    first = profile(config)
    (known,) = first.tables
    assert (known.status, known.row_count, known.query_count) == ("completed", 4, 1)  # one billed scan
    rows = sf_store.sql(
        f"SELECT COLUMN_NAME, METRIC_NAME, METRIC_VALUE_NUMERIC FROM "
        f"{sf_store.qualified('profilemesh_results')} WHERE RUN_ID = %s",
        [first.run_id],
    )
    metrics = {(c.lower(), m): v for c, m, v in rows}
    assert metrics[("amount", "mean")] == pytest.approx(8 / 3)
    assert metrics[("name", "distinct_count")] == 3 and metrics[("flag", "true_count")] == 2
    assert metrics[("id", "null_percent")] == 0
    shapes = sf_store.sql(
        f"SELECT COLUMN_NAME, KIND, LABEL, VALUE_NUMERIC, ROW_COUNT, MODE FROM "
        f"{sf_store.qualified('profilemesh_distributions')} WHERE RUN_ID = %s",
        [first.run_id],
    )
    by = {(c.lower(), k, label): (v, n, mode) for c, k, label, v, n, mode in shapes}
    assert by[("id", "quantile", "p50")][0] == pytest.approx(2.5) and by[("id", "quantile", "p50")][2] == "exact"
    assert by[("name", "top_value", "bb")][1] == 1 and by[("flag", "top_value", "true")][1] == 2

    sf_store.sql("DELETE FROM SRC.KNOWN WHERE ID > 2")
    profile(config)
    report = detect(config)
    assert any(e.metric == "row_count" and e.severity == "high" for e in report.events)
    assert report.written == len(report.events)
    state = sf_store.sql(f"SELECT TABLE_NAME, ROW_COUNT FROM {sf_store.qualified('profilemesh_table_state')}")
    assert state == [("KNOWN", 2)]  # merged, not duplicated

    # A table above sample_above_rows: quantiles, shares, segments and segment metrics from one statement
    # over a block sample (TABLESAMPLE SYSTEM ... REPEATABLE), every item `sampled`.
    sf_store.sql(
        "CREATE TABLE SRC.BIG AS SELECT SEQ4() AS X, IFF(SEQ4() % 10 < 7, 'n', 's') AS REGION, "
        "IFF(SEQ4() % 4 = 0, NULL, SEQ4() % 100) AS AMOUNT FROM TABLE(GENERATOR(ROWCOUNT => 50000))"
    )
    entry = {"schema": "SRC", "table": "BIG", "segment_by": "REGION", "segment_metrics": {"AMOUNT": "null_percent"}}
    data["profiling"] = {
        "tables": [entry],
        "distributions": {"sample_above_rows": 10_000, "sample_rows": 5_000, "max_categories": 5},
    }
    path.write_text(yaml.safe_dump(data))
    (big,) = profile(Context.load(path)).tables
    assert big.status == "completed" and any("block sample" in note for note in big.notes), big.notes
    assert {item.mode for item in big.distributions} == {"sampled"}
    nulls = {i.label: i.value for i in big.distributions if i.kind == "segment_metric"}
    assert nulls == pytest.approx({"region=n": 400 / 14, "region=s": 100 / 6}, abs=3)
