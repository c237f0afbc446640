"""Every column type a real warehouse holds is profiled with the metrics that make sense for it, or
skipped with the warehouse's reason: a table never fails because of one column. Each stored count is
checked against what the warehouse itself computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from profilemesh.api import Context, detect_drift, migrate_apply, profile
from profilemesh.contract import DRIFT_EVENT_TYPES
from profilemesh.warehouses import DuckDB, Warehouse
from tests.support.stores import Store, profiling_context

SCHEMA_CHANGE = DRIFT_EVENT_TYPES[1]

# PostgreSQL: an app's enum and domains, arrays, documents, network and geometric types, ranges, text
# search, XML, money, bit strings, times with zones and an extension type (hll, installed with the server).
PG_SETUP = [
    "CREATE TYPE src.customer_tier AS ENUM ('bronze', 'silver', 'gold')",
    "CREATE DOMAIN src.positive_int AS integer CHECK (VALUE > 0)",
    "CREATE DOMAIN src.short_text AS varchar(10)",
    "CREATE DOMAIN src.stamp AS timestamptz",
    "CREATE EXTENSION IF NOT EXISTS hll",
    """CREATE TABLE src.every_type (
        id integer, tier src.customer_tier, pos src.positive_int, label src.short_text, seen src.stamp,
        tags text[], nums int[], doc json, docb jsonb, uid uuid, span interval, raw bytea, price money,
        ip inet, net cidr, flags bit(4), vflags varbit, r int4range, pt point, area box, words tsvector,
        x xml, code char(3), t time, ttz timetz, n numeric, tstz timestamptz, h hll, ok boolean)""",
    """INSERT INTO src.every_type VALUES
        (1, 'gold', 5, 'abc', '2024-01-01 10:00+02', '{a,b}', '{1,2}', '{"k": 1}', '{"k": 1}',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day', '\\x00ff', 12.50, '10.0.0.1', '10.0.0.0/8', B'1010',
         B'101', '[1,5)', '(1,2)', '((0,0),(1,1))', to_tsvector('english', 'hello world'), '<a>1</a>', 'ab',
         '10:00', '10:00+02', 1.25, '2024-01-01 10:00+00', hll_empty(), true),
        (2, 'bronze', 7, 'de', '2024-01-02 10:00+02', '{c}', '{3}', '[1]', '[1]',
         'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '2 hours', '\\x01', 3.10, '10.0.0.2', '192.168.0.0/16', B'0001',
         B'11', '[2,3)', '(3,4)', '((0,0),(2,2))', to_tsvector('english', 'bye'), '<b/>', 'cde',
         '11:30', '11:30-05', 99999999999999999999.5, '2024-06-01 00:00+00', hll_empty(), false),
        (3, 'gold', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
]

# DuckDB: nested types, unions, enums, 128-bit integers, wide decimals, times with zones, bits, JSON.
DUCK_SETUP = [
    "CREATE TYPE src.mood AS ENUM ('sad', 'ok', 'happy')",
    """CREATE TABLE src.every_type (
        id INTEGER, m src.mood, l INTEGER[], a INTEGER[3], s STRUCT(a INTEGER, b VARCHAR),
        mp MAP(VARCHAR, INTEGER), u UNION(num INTEGER, str VARCHAR), uid UUID, b BLOB, iv INTERVAL,
        hi HUGEINT, uh UHUGEINT, d DECIMAL(38, 4), t TIME, ttz TIMETZ, bits BIT, j JSON, ok BOOLEAN)""",
    """INSERT INTO src.every_type VALUES
        (1, 'happy', [1, 2], [1, 2, 3], {'a': 1, 'b': 'x'}, MAP {'k': 1}, 5, gen_random_uuid(), '\\x00\\xFF'::BLOB,
         INTERVAL 1 DAY, 170141183460469231731687303715884105727, 340282366920938463463374607431768211455,
         1234567890123456789012345678901234.5678, TIME '10:00', '10:00:00+02'::TIMETZ, '1010'::BIT, '{"k": 1}', true),
        (2, 'sad', [3], [4, 5, 6], {'a': 2, 'b': NULL}, MAP {'j': 2}, 'text', gen_random_uuid(), 'x'::BLOB,
         INTERVAL 2 HOUR, -5, 7, -0.0001, TIME '11:30', '11:30:00-05'::TIMETZ, '0001'::BIT, '[1]', false),
        (3, 'happy', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
]


def _config(store: Store, tmp_path: Path, tables: list[str], drift: dict[str, Any] | None = None) -> Context:
    selected = [{"schema": "src", "table": t} for t in tables]
    extra = {"drift_detection": drift} if drift else {}
    return profiling_context(store, tmp_path, selected, source_schema="src", **extra)


def _stored(store: Store, run_id: str, table: str) -> dict[tuple[str, str], tuple[str | None, float | None]]:
    rows = store.sql(
        f"SELECT column_name, metric_name, metric_value, metric_value_numeric FROM "
        f"{store.qualified('profilemesh_results')} WHERE run_id = {store.ph} AND dataset_name = {store.ph}",
        [run_id, table],
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_every_column_type_is_profiled_or_skipped_with_its_reason(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    for statement in PG_SETUP if store.kind == "postgres" else DUCK_SETUP:
        store.sql(statement)
    report = profile(_config(store, tmp_path, ["every_type"]))
    (outcome,) = report.tables
    assert outcome.status == "completed", outcome.error
    assert outcome.row_count == 3
    stored = _stored(store, report.run_id, "every_type")
    columns = [r[0] for r in store.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'src' "
        "AND table_name = 'every_type' ORDER BY ordinal_position"
    )]  # fmt: skip
    skipped = {c: stored[(c, "skipped")][0] for c in columns if (c, "skipped") in stored}
    for column in columns:
        if column in skipped:
            assert skipped[column], column  # the warehouse's reason is kept
            continue
        (expected,) = store.sql(f'SELECT count("{column}") FROM "src"."every_type"')[0]
        assert stored[(column, "count")][1] == expected, column
        assert stored[(column, "null_count")][1] == 3 - expected, column
    # An app's enum is a set of labels: counted, its distinct labels counted, no length metrics.
    enum = "tier" if store.kind == "postgres" else "m"
    assert stored[(enum, "distinct_count")][1] == 2 and (enum, "mean_length") not in stored
    # Numbers, times and booleans get their family's metrics, whatever their width or zone.
    assert stored[("id", "mean")][1] == 2.0 and stored[("ok", "true_count")][1] == 1
    assert ("t", "max") in stored and ("ttz", "max") in stored
    if store.kind == "postgres":
        assert stored[("pos", "max")][1] == 7  # a domain is profiled as its base type
        assert stored[("label", "max_length")][1] == 3
    assert len(skipped) <= 2, skipped  # what is skipped is the exception, and says why

    # Each column's type as the warehouse names it (schema version 4), beside the portable name.
    native = dict(
        store.sql(
            f"SELECT DISTINCT column_name, column_native_type FROM {store.qualified('profilemesh_results')} "
            f"WHERE run_id = {store.ph}",
            [report.run_id],
        )
    )
    if store.kind == "postgres":
        assert native["tier"] == "src.customer_tier" and native["pos"] == "src.positive_int"
        assert native["tstz"] == "timestamp with time zone" and native["code"] == "character(3)"
        assert native["tags"] == "text[]" and native["docb"] == "jsonb" and native["h"] == "hll"
    else:
        assert native["m"] == "ENUM('sad', 'ok', 'happy')" and native["d"] == "DECIMAL(38,4)"
        assert native["s"] == "STRUCT(a INTEGER, b VARCHAR)" and native["ttz"] == "TIME WITH TIME ZONE"
    assert None not in native.values()


def test_duckdb_columns_are_read_as_duckdb_engine_reflects_them() -> None:
    """DuckDB's columns are read from its own catalog functions rather than through duckdb-engine's
    reflection (tens of milliseconds a table): for a column of every type DuckDB has, nested types,
    decimals, its own enums (one in another schema named like a built-in type, which duckdb-engine takes
    for it) and a view, the types must be the reflection's exactly, or every stored column would look
    retyped to drift after an upgrade."""
    probe = duckdb.connect()
    names = []
    for (name,) in probe.execute("SELECT DISTINCT type_name FROM duckdb_types() WHERE internal ORDER BY 1").fetchall():
        try:
            probe.execute(f'CREATE OR REPLACE TABLE probe (x "{name}")')
            names.append(name)
        except duckdb.Error:
            continue  # a type no column can have (NULL, ANY, ...)
    assert len(names) > 60
    every = ", ".join(f'c{i} "{name}"' for i, name in enumerate(names))
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        for statement in [
            "CREATE SCHEMA src",
            "CREATE TABLE src.plain (a INTEGER, b VARCHAR, c DECIMAL(5, 2))",  # no enum anywhere yet
            "CREATE TYPE src.mood AS ENUM ('sad', 'ok', 'happy')",
            "CREATE TYPE src.int4 AS ENUM ('shadow')",
            f"CREATE TABLE src.every ({every}, m src.mood, l INTEGER[], a INTEGER[3], ld DECIMAL(10, 2)[], "
            "s STRUCT(a INTEGER, b VARCHAR), mp MAP(VARCHAR, INTEGER), u UNION(n INTEGER, s VARCHAR), "
            "d DECIMAL(38, 4), d0 DECIMAL(9, 0), v VARCHAR(10), j JSON, e ENUM('x', 'y'), n BIGINT DEFAULT 3 NOT NULL)",
            "CREATE VIEW src.every_view AS SELECT * FROM src.every",
        ]:
            if statement.startswith("CREATE TYPE"):
                _assert_read_as_reflected(conn, "plain")  # before an enum exists, then with one
            conn.exec_driver_sql(statement)
        for table in ("plain", "every", "every_view"):
            _assert_read_as_reflected(conn, table)
        with pytest.raises(sa.exc.NoSuchTableError):
            DuckDB().table_columns(conn, "src", "absent")
    engine.dispose()


def _assert_read_as_reflected(conn: sa.Connection, table: str) -> None:
    """Name, type (its repr: class and arguments) and native type, as DuckDB reads them and as reflected."""
    ours = [(c.name, repr(c.type), c.native_type) for c in DuckDB().table_columns(conn, "src", table)]
    reflected = [(c.name, repr(c.type), c.native_type) for c in Warehouse.table_columns(DuckDB(), conn, "src", table)]
    assert ours == reflected, table


def test_a_type_change_the_portable_name_hides_is_a_schema_change(store_at_head: Store, tmp_path: Path) -> None:
    """timestamp -> timestamptz reads as TIMESTAMP both times through SQLAlchemy; the native names differ,
    so drift reports the change. A run from before version 4 (no native names) is compared by the
    portable names, so an upgrade raises no change of its own."""
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql('CREATE TABLE "src"."stamps" (id INTEGER, seen TIMESTAMP)')
    store.sql("INSERT INTO \"src\".\"stamps\" VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-02 10:00:00')")
    ctx = _config(store, tmp_path, ["stamps"], drift={"strategy": "threshold"})
    first = profile(ctx)
    results = store.qualified("profilemesh_results")
    store.sql(f"UPDATE {results} SET column_native_type = NULL WHERE run_id = {store.ph}", [first.run_id])
    profile(ctx)
    assert [e for e in detect_drift(ctx).events if e.event_type == SCHEMA_CHANGE] == []  # as after an upgrade

    zoned = "TIMESTAMPTZ" if store.kind == "duckdb" else "timestamptz"
    store.sql(f'ALTER TABLE "src"."stamps" ALTER COLUMN seen TYPE {zoned}')
    profile(ctx)
    (change,) = [e for e in detect_drift(ctx).events if e.event_type == SCHEMA_CHANGE]
    assert change.column == "seen" and change.severity == "medium"
    assert "timestamp with time zone" in change.metadata["change"].lower()


def test_a_column_that_cannot_be_read_is_skipped_and_the_table_completes(store_at_head: Store, tmp_path: Path) -> None:
    """A view with one column whose values fail at read time (a bad cast): the other columns are
    profiled, the bad one is stored as `skipped` with the warehouse's reason, drift still sees it."""
    store = store_at_head
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql(
        'CREATE VIEW "src"."partly_broken" AS SELECT id, label, CAST(code AS INTEGER) AS code_number FROM '
        "(VALUES (1, 'a', '10'), (2, 'bb', 'not a number'), (3, NULL, '7')) AS t(id, label, code)"
    )
    report = profile(_config(store, tmp_path, ["partly_broken"]))
    (outcome,) = report.tables
    assert outcome.status == "completed" and outcome.row_count == 3, outcome.error
    assert any(note.startswith("column code_number") and "skipped" in note for note in outcome.notes)
    stored = _stored(store, report.run_id, "partly_broken")
    assert "not a number" in (stored[("code_number", "skipped")][0] or "").lower()
    assert stored[("id", "count")][1] == 3 and stored[("label", "null_count")][1] == 1
    assert not [k for k in stored if k[0] == "code_number" and k[1] != "skipped"]


# Snowflake's semi-structured, binary, time and geography types (those the emulator has).
SF_SETUP = [
    "CREATE SCHEMA IF NOT EXISTS SRC",
    "CREATE TABLE SRC.EVERY_TYPE (ID INTEGER, V VARIANT, O OBJECT, A ARRAY, B BINARY, T TIME, "
    "AMOUNT NUMBER(12, 2), LABEL VARCHAR(10), OK BOOLEAN)",
    "INSERT INTO SRC.EVERY_TYPE SELECT 1, PARSE_JSON('{\"k\": 1}'), OBJECT_CONSTRUCT('k', 1), ARRAY_CONSTRUCT(1, 2), "
    "TO_BINARY('00FF', 'HEX'), '10:00:00'::TIME, 12.50, 'abc', TRUE",
    "INSERT INTO SRC.EVERY_TYPE SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
]


@pytest.mark.snowflake
def test_every_snowflake_column_type_is_profiled_or_skipped(sf_store: Store, tmp_path: Path) -> None:
    store = sf_store
    migrate_apply(store.ctx, build_views=False)
    for statement in SF_SETUP:
        store.sql(statement)
    report = profile(
        profiling_context(store, tmp_path, [{"schema": "SRC", "table": "EVERY_TYPE"}], source_schema="SRC")
    )
    (outcome,) = report.tables
    assert (outcome.status, outcome.row_count) == ("completed", 2), outcome.error
    rows = store.sql(
        f"SELECT COLUMN_NAME, METRIC_NAME, METRIC_VALUE, METRIC_VALUE_NUMERIC, COLUMN_NATIVE_TYPE FROM "
        f"{store.qualified('profilemesh_results')} WHERE RUN_ID = %s",
        [report.run_id],
    )
    stored = {(c.lower(), m): (text, number) for c, m, text, number, _ in rows}
    for column in ("id", "v", "o", "a", "b", "t", "amount", "label", "ok"):
        if (column, "skipped") in stored:
            assert stored[(column, "skipped")][0], column  # the warehouse's reason is kept
            continue
        (expected,) = store.sql(f"SELECT COUNT({column.upper()}) FROM SRC.EVERY_TYPE")[0]
        assert stored[(column, "count")][1] == expected, column
    assert stored[("amount", "mean")][1] == pytest.approx(12.5) and stored[("label", "max_length")][1] == 3
    native = {c.lower(): kind for c, _, _, _, kind in rows}
    assert native["amount"] == "NUMBER" and native["label"] == "TEXT" and native["v"] == "VARIANT"
