"""ProfileMesh settings in a dbt project: the `profilemesh` meta of models, seeds, snapshots and sources,
read through dbt's own selection (`dbt ls`, in-process), validated by profilemesh.yml's parsers and
merged with profilemesh.yml in the documented order, conflicts reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from profilemesh.config import load_config
from profilemesh.config.dbt_meta import DbtNode, merge_dbt_nodes
from profilemesh.config.read_scope import Sample, Window
from profilemesh.dbt.project import DbtSelection, read_project
from profilemesh.errors import ConfigError, UsageError
from tests.support.cli import run_cli

PROJECT = {
    "name": "shop",
    "version": "1.0.0",
    "config-version": 2,
    "profile": "shop",
    "models": {"shop": {"marts": {"+tags": ["daily"]}}},
    "seeds": {"shop": {"+meta": {"profilemesh": {"metrics": ["count", "distinct_count"]}}}},
}
PROPERTIES = {
    "version": 2,
    "sources": [
        {
            "name": "raw",
            "schema": "landing",
            "tables": [
                {
                    "name": "events",
                    "identifier": "raw_events",
                    "config": {"meta": {"profilemesh": {"time_column": "ts", "window": {"last": "1 day"}}}},
                },
                {"name": "clicks", "config": {"meta": {"profilemesh": {"enabled": False}}}},
            ],
        }
    ],
    "models": [
        {
            "name": "orders",
            "config": {
                "alias": "fct_orders",
                "meta": {"profilemesh": {"sample": {"percent": 10}, "drift": {"warmup_runs": 3}, "owner": "team"}},
            },
        },
    ],
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dbt project with a mart model (tagged by its folder), a staging model reading a source, an
    ephemeral model, a seed and a snapshot; its profile on a DuckDB file that dbt ls never opens."""
    root = tmp_path_factory.mktemp("dbt-meta")
    (root / "dbt_project.yml").write_text(yaml.safe_dump(PROJECT))
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {"shop": {"target": "dev", "outputs": {"dev": {"type": "duckdb", "path": str(root / "wh.duckdb")}}}}
        )
    )
    for path, text in {
        "models/marts/orders.sql": "select * from {{ ref('stg_events') }}",
        "models/marts/_marts.yml": yaml.safe_dump(PROPERTIES),
        "models/staging/stg_events.sql": "select * from {{ source('raw', 'events') }}",
        "models/staging/helper.sql": "{{ config(materialized='ephemeral') }} select 1 as x",
        "seeds/countries.csv": "code,name\nfr,France\n",
        "snapshots/orders_snapshot.yml": yaml.safe_dump(
            {
                "snapshots": [
                    {
                        "name": "orders_snapshot",
                        "relation": "ref('orders')",
                        "config": {"schema": "snapshots", "unique_key": "id", "strategy": "check", "check_cols": "all"},
                    }
                ]
            }
        ),
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def ids(shop: Path, *select: str, exclude: tuple[str, ...] = ()) -> list[str]:
    project = read_project(DbtSelection(shop, select, exclude, profiles_dir=shop))
    return [node.unique_id for node in project.nodes]


def test_dbt_selects_and_resolves_each_node_to_its_relation(shop: Path) -> None:
    project = read_project(DbtSelection(shop, profiles_dir=shop))
    nodes = {node.unique_id: node for node in project.nodes}
    assert project.profile == "shop"
    assert project.ephemeral == ("model.shop.helper",)  # no relation to profile
    orders = nodes["model.shop.orders"]
    assert (orders.schema, orders.name, orders.database) == ("main", "fct_orders", "wh")  # the alias
    events = nodes["source.shop.raw.events"]
    assert (events.schema, events.name) == ("landing", "raw_events")  # the identifier
    assert events.meta == {"time_column": "ts", "window": {"last": "1 day"}}
    assert nodes["seed.shop.countries"].meta == {"metrics": ["count", "distinct_count"]}  # dbt_project.yml +meta
    assert nodes["snapshot.shop.orders_snapshot"].schema == "main_snapshots"  # dbt's generate_schema_name

    # dbt's own selection syntax, not a copy of it.
    assert ids(shop, "tag:daily") == ["model.shop.orders"]
    downstream = ["model.shop.orders", "model.shop.stg_events", "snapshot.shop.orders_snapshot"]
    assert ids(shop, "source:raw.events+") == [*downstream, "source.shop.raw.events"]
    assert ids(shop, "path:models/staging") == ["model.shop.stg_events"]
    assert ids(shop, "source:raw", exclude=("source:raw.clicks",)) == ["source.shop.raw.events"]

    with pytest.raises(UsageError, match=r"^dbt project .*: .*'colour' is not a valid method name"):
        ids(shop, "colour:red")  # a selector dbt refuses: dbt's words, one line
    with pytest.raises(UsageError, match=r"no dbt_project\.yml there"):
        read_project(DbtSelection(shop / "models", profiles_dir=shop))


def _config(tmp_path: Path, **sections: object) -> object:
    path = tmp_path / "profilemesh.yml"
    storage = {"connection": {"type": "duckdb", "filepath": "pm.duckdb"}}
    path.write_text(yaml.safe_dump({"storage": storage, **sections}))
    return load_config(path)


def node(name: str, meta: object, schema: str = "analytics") -> DbtNode:
    return DbtNode(f"model.shop.{name}", "model", "wh", schema, name, f"models/{name}.sql", meta)


def test_meta_merges_over_profilemesh_yml_key_by_key_and_reports_conflicts(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        profiling={
            "sample": {"rows": 1000},
            "tables": [{"schema": "analytics", "table": "orders", "where": "not test", "metrics": ["count"]}],
        },
        drift_detection={"tables": [{"table": "analytics.orders", "warmup_runs": 9, "history_window": 20}]},
        alerts={"destinations": {"log": {"type": "webhook", "url": "http://x"}}, "owners": {"analytics.*": "data"}},
    )
    merged = merge_dbt_nodes(
        config,
        [
            node("orders", {"metrics": ["count", "mean"], "time_column": "ts", "drift": {"warmup_runs": 3}}),
            node(
                "customers",
                {"owner": "crm", "drift": {"columns": {"email": {"ignore": True}}}, "freshness": {"warn_after": "6h"}},
            ),
            node("legacy", {"enabled": False}),
            node("plain", {}),
        ],
    )
    tables = {t.table: t for t in merged.config.profiling.tables}
    assert set(tables) == {"orders", "customers", "plain"} and merged.disabled == ("model.shop.legacy",)
    orders = tables["orders"]
    assert orders.dbt_unique_id == "model.shop.orders"
    assert orders.scope.where == "not test"  # profilemesh.yml's entry, where the meta is silent
    assert orders.scope.sample == Sample(rows=1000)  # the top level's default
    assert (orders.scope.time_column, orders.scope.window) == ("ts", Window())  # the meta's
    assert orders.metrics == ("count", "mean")
    assert tables["plain"].metrics is None and tables["plain"].scope.sample == Sample(rows=1000)
    settings, _ = merged.config.drift.for_table("analytics", "orders")
    assert (settings.warmup_runs, settings.history_window) == (3, 20)  # key by key over the yml entry
    _, rules = merged.config.drift.for_table("analytics", "customers")
    assert rules.column("email").ignore
    sla = tables["customers"].freshness
    assert sla is not None and sla.warn_after == dt.timedelta(hours=6) and sla.error_after is None
    assert orders.freshness is None
    assert merged.config.alerts.owner_of("analytics", "customers") == "crm"
    assert merged.config.alerts.owner_of("analytics", "orders") == "data"
    assert merged.warnings == (
        "warning: analytics.orders (model.shop.orders): metrics is [count] in profilemesh.yml and "
        "[count, mean] in the dbt project; the dbt project's value applies",
        "warning: analytics.orders (model.shop.orders): drift.warmup_runs is 9 in profilemesh.yml and 3 in "
        "the dbt project; the dbt project's value applies",
        "warning: analytics.customers (model.shop.customers): owner is data in profilemesh.yml and crm in the "
        "dbt project; the dbt project's value applies",
    )


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"sampel": {"percent": 5}}, r"profilemesh.sampel: unknown key .*sample"),
        ({"metrics": ["mean", "p99"]}, r"profilemesh.metrics: unknown metric\(s\) p99"),
        ({"window": {"last": "1 day"}}, r"profilemesh.window: needs time_column"),
        ({"drift": {"seasonality": "hourly"}}, r"profilemesh.drift.seasonality: must be one of"),
        ({"enabled": "no"}, r"profilemesh.enabled: must be true or false"),
        ({"freshness": {"warn_after": "soon"}}, r"profilemesh.freshness.warn_after: "),
        ("daily", r"profilemesh: must be a mapping"),
    ],
)
def test_bad_meta_is_one_line_naming_the_node_and_key(tmp_path: Path, meta: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^models/orders.sql \(model.shop.orders, meta\): " + message):
        merge_dbt_nodes(_config(tmp_path), [node("orders", meta)])


def test_dbt_options_without_a_project_or_with_table_are_usage_errors(tmp_path: Path) -> None:
    result = run_cli("profile", "-s", "tag:daily")
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "error: --select, --exclude, --profiles-dir and --dbt-target need --project-dir",
    )
    result = run_cli("profile", "--table", "shop.orders", "--project-dir", str(tmp_path))
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "error: give --table or --project-dir, not both (select dbt nodes with -s/--select)",
    )
    result = run_cli("drift", "--project-dir", str(tmp_path))
    assert result.exit_code == 2 and f"--project-dir {tmp_path}: no dbt_project.yml there" in result.stderr
