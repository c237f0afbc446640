"""Hostile names and values: quotes, semicolons, comment markers, unicode, names at the length limit,
reserved words, leading digits and mixed case go through migrate apply, profile, drift and query
intact, and none of them runs as SQL (a canary table an injection would drop is still there).
Names that cannot be made safe (a quote in a storage name that dbt renders) are refused with exit 2."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from profilemesh.api import migrate_apply
from profilemesh.config import load_config
from profilemesh.config.names import storage_name_problem
from profilemesh.errors import ConfigError, ProfileMeshError
from profilemesh.store.target import resolve_storage
from tests.support.cli import run_cli
from tests.support.stores import Store

ENVIRONMENT = "prod'; DROP TABLE canary; --"
STORAGE_SCHEMA = "pm Sch; -- /* */ é"
EVENTS_TABLE = "9ëvents ✓ /* " + "e" * 47  # exactly PostgreSQL's 63-byte limit
STORAGE_TABLES = {
    "runs_table": "Runs; DROP TABLE canary; --",
    "results_table": "select",
    "events_table": EVENTS_TABLE,
    "table_state_table": "user",
}
SOURCE_SCHEMA = "Src'\"; --"
HOSTILE_TABLE = 't"; DROP TABLE canary; --'
LONG_TABLE = "ü" * 31 + "x"  # 63 bytes
COLUMNS = ["col'; DROP TABLE canary; --", 'Sélect "x" /*', "order", "1st", "MixedCase"]


def q(name: str) -> str:
    """The test's own quoting, for setting up the source tables by hand."""
    return '"' + name.replace('"', '""') + '"'


def _json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_hostile_names_round_trip_and_never_execute(store: Store) -> None:
    assert len(EVENTS_TABLE.encode()) == 63 and len(LONG_TABLE.encode()) == 63
    store.sql("CREATE TABLE canary (i integer)")
    store.sql(f"CREATE SCHEMA {q(SOURCE_SCHEMA)}")
    hostile = f"{q(SOURCE_SCHEMA)}.{q(HOSTILE_TABLE)}"
    types = ["integer", "varchar(20)", "float", "integer", "integer"]
    store.sql(f"CREATE TABLE {hostile} ({', '.join(f'{q(c)} {t}' for c, t in zip(COLUMNS, types, strict=True))})")
    store.sql(f"INSERT INTO {hostile} VALUES (1, 'a''b', 1.5, 1, 1), (2, '\"; --', 2.5, NULL, 2)")
    store.sql(f"CREATE TABLE {q(SOURCE_SCHEMA)}.{q(LONG_TABLE)} ({q('Ünïcode')} integer)")

    data = yaml.safe_load(store.config_path.read_text())
    data["environment"] = ENVIRONMENT
    data["storage"]["connection"]["schema"] = STORAGE_SCHEMA
    data["storage"].update(STORAGE_TABLES)
    data["profiling"] = {"tables": [{"schema": SOURCE_SCHEMA, "table": HOSTILE_TABLE}, f"{SOURCE_SCHEMA}.{LONG_TABLE}"]}
    data["drift_detection"] = {"strategy": "threshold"}  # two runs: the calibrated default is still warming up
    config = str(store.config_path)
    store.config_path.write_text(yaml.safe_dump(data))

    applied = run_cli("migrate", "apply", "-c", config)
    assert applied.exit_code == 0, applied.stderr
    first = _json(run_cli("profile", "-c", config, "--format", "json"))
    assert [(t["schema"], t["table"], t["status"]) for t in first["tables"]] == [
        (SOURCE_SCHEMA, HOSTILE_TABLE, "completed"),
        (SOURCE_SCHEMA, LONG_TABLE, "completed"),
    ]
    store.sql(f"INSERT INTO {hostile} SELECT i, 'v', i * 1.5, NULL, i FROM generate_series(1, 100) AS g(i)")
    second = _json(run_cli("profile", "-c", config, "--format", "json"))

    drift = _json(run_cli("drift", "-c", config, "--format", "json"))
    drifted = {(e["schema"], e["table"], e["column"]) for e in drift["events"]}
    assert (SOURCE_SCHEMA, HOSTILE_TABLE, None) in drifted  # the row count
    assert {c for _, table, c in drifted if table == HOSTILE_TABLE} - {None} <= set(COLUMNS)

    history = _json(
        run_cli("query", "table", "-c", config, "--table", HOSTILE_TABLE, "--schema", SOURCE_SCHEMA, "--format", "json")
    )
    assert [r["row_count"] for r in history["rows"]] == [2, 102]
    assert {(r["schema_name"], r["dataset_name"], r["environment"]) for r in history["rows"]} == {
        (SOURCE_SCHEMA, HOSTILE_TABLE, ENVIRONMENT)
    }
    runs = _json(run_cli("query", "runs", "-c", config, "--format", "json"))
    assert {(r["run_id"], r["dataset_name"]) for r in runs["rows"]} == {
        (run["run_id"], table) for run in (first, second) for table in (HOSTILE_TABLE, LONG_TABLE)
    }
    details = _json(
        run_cli(
            "query", "run", "-c", config, "--run-id", second["run_id"], "--table", HOSTILE_TABLE, "--format", "json"
        )
    )
    assert {c["column_name"] for c in details["tables"][0]["columns"]} == set(COLUMNS)

    catalog = store.sql(
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = {store.ph}", [STORAGE_SCHEMA]
    )
    assert set(STORAGE_TABLES.values()) <= {row[0] for row in catalog}
    assert store.sql("SELECT count(*) FROM canary") == [(0,)]


@pytest.mark.parametrize(
    ("dialect", "key", "name", "problem"),
    [
        ("duckdb", "runs_table", 'runs"; DROP TABLE canary; --', "must not contain '\"'"),
        ("duckdb", "results_table", "it's", 'must not contain "\'"'),
        ("postgres", "events_table", "line\nbreak", "must not contain '\\n'"),
        ("postgres", "table_state_table", "é" * 32, "is 64 bytes long; PostgreSQL's limit is 63 bytes"),
        ("postgres", "schema", "x" * 64, "PostgreSQL's limit is 63 bytes"),
        ("duckdb", "schema", "x" * 256, "the limit is 255"),
        ("snowflake", "runs_table", "runs;x", "must be a plain identifier on Snowflake"),
        ("snowflake", "schema", "1abc", "must be a plain identifier on Snowflake"),
        ("duckdb", "filepath", "it's.duckdb", 'must not contain "\'"'),  # DuckDB names the catalog after the file
        ("postgres", "database", 'd"b', "must not contain '\"'"),
    ],
)
def test_unsafe_storage_names_are_refused_naming_the_key(
    tmp_path: Path, dialect: str, key: str, name: str, problem: str
) -> None:
    connection = {
        "duckdb": {"type": "duckdb", "filepath": "x.duckdb"},
        "postgres": {"type": "postgres", "host": "h", "database": "d", "username": "u"},
        "snowflake": {"type": "snowflake", "account": "a", "database": "d", "username": "u"},
    }[dialect]
    data = {"storage": {"connection": dict(connection)}}
    if key in ("schema", "filepath", "database"):
        data["storage"]["connection"][key] = name
        full_key = f"storage.connection.{key}"
    else:
        data["storage"][key] = name
        full_key = f"storage.{key}"
    path = tmp_path / "pm.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        resolve_storage(load_config(path))
    assert info.value.key == full_key and problem in str(info.value)
    result = run_cli("migrate", "status", "-c", str(path))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{path}: {full_key}: " in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "name", ["select", "1st", "MixedCase", "a; b", "-- x", "/* x */", "ünï ✓", "t[1]", "a.b", "x" * 63]
)
def test_names_the_rules_accept(name: str) -> None:
    for dialect in ("duckdb", "postgres"):
        assert storage_name_problem(name, dialect) is None


def test_the_package_refuses_a_quote_in_a_storage_name_set_through_vars(duck_store: Store) -> None:
    """A dbt project can set the vars without the CLI's config check: the package refuses too."""
    duck_store.sql("CREATE TABLE canary (i integer)")
    ctx = duck_store.ctx
    names = {**ctx.target.storage.table_names, "runs": 'r" (i int); DROP TABLE canary; CREATE TABLE "x'}
    storage = dataclasses.replace(ctx.target.storage, table_names=names)
    target = dataclasses.replace(ctx.target, storage=storage)
    with pytest.raises(ProfileMeshError) as info:
        migrate_apply(dataclasses.replace(ctx, target=target), build_views=False)
    assert "profilemesh_runs_table must not contain quote" in str(info.value)
    assert duck_store.sql("SELECT count(*) FROM canary") == [(0,)]


def test_hostile_source_names_on_the_snowflake_emulator(sf_store: Store) -> None:
    """Profiled table and column names with quotes, semicolons, comment markers, unicode and mixed
    case on Snowflake. The source schema is a plain name: the emulator (fakesnow 0.12) fails on
    CREATE SCHEMA with such a name and then stops answering, which is its limit, not ours."""
    migrate_apply(sf_store.ctx, build_views=False)
    sf_store.sql("CREATE TABLE canary (i integer)")
    sf_store.sql("DROP SCHEMA IF EXISTS src CASCADE")  # the emulator's database outlives a test
    sf_store.sql("CREATE SCHEMA src")
    hostile = f"SRC.{q(HOSTILE_TABLE)}"
    sf_store.sql(f"CREATE TABLE {hostile} ({', '.join(f'{q(c)} integer' for c in COLUMNS)})")
    sf_store.sql(f"INSERT INTO {hostile} VALUES (1, 2, 3, 4, 5), (6, 7, 8, 9, 10)")
    data = yaml.safe_load(sf_store.config_path.read_text())
    data["environment"] = ENVIRONMENT
    data["profiling"] = {"tables": [{"schema": "SRC", "table": HOSTILE_TABLE}]}
    sf_store.config_path.write_text(yaml.safe_dump(data))

    report = _json(run_cli("profile", "-c", str(sf_store.config_path), "--format", "json"))
    assert [(t["schema"], t["table"], t["status"], t["row_count"]) for t in report["tables"]] == [
        ("SRC", HOSTILE_TABLE, "completed", 2)
    ]
    runs = sf_store.qualified("profilemesh_runs")
    assert sf_store.sql(f"SELECT schema_name, dataset_name, environment FROM {runs}") == [
        ("SRC", HOSTILE_TABLE, ENVIRONMENT)
    ]
    stored = sf_store.sql(f"SELECT DISTINCT column_name FROM {sf_store.qualified('profilemesh_results')}")
    assert sorted(r[0] for r in stored) == sorted(COLUMNS)
    assert sf_store.sql("SELECT count(*) FROM canary") == [(0,)]
