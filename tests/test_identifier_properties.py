"""Property-based tests (hypothesis) for identifier and value handling on DuckDB and PostgreSQL.

Any string a warehouse accepts as a schema, table or column name (no NUL; PostgreSQL's 63-byte limit)
and any string used as the config's environment round-trips: the table is reflected and profiled
through ProfileMesh's own code path, and the stored run names exactly that schema, table, columns
and environment. Meanwhile a canary table that an injected statement would drop is still there.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from profilemesh.api import Context, profile
from tests.support.stores import Store

PG_MAX_BYTES = 63
SOURCE_SCHEMA = "src"
INJECTIONS = (
    "'; DROP TABLE canary; --",
    '"; DROP TABLE canary; --',
    "x */ DROP TABLE canary; /*",
    "t[1]",
    "select",
    "collation",  # reserved in PostgreSQL, missing from SQLAlchemy's list of reserved words
)


def names(dialect: str) -> st.SearchStrategy[str]:
    text = st.text(
        st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=24
    )
    if dialect == "postgres":
        text = text.filter(lambda s: len(s.encode("utf-8")) <= PG_MAX_BYTES)
    return st.one_of(text, st.sampled_from(INJECTIONS))


def columns(dialect: str) -> st.SearchStrategy[list[str]]:
    # DuckDB names are case-insensitive even when quoted, so columns must differ in more than case.
    return st.lists(names(dialect), min_size=1, max_size=3, unique_by=lambda s: s.lower())


def environments() -> st.SearchStrategy[str]:
    # `${NAME}` in a config value is an environment reference by design, so values holding `${` are left out.
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1)
    return text.filter(lambda s: "${" not in s)


def _prepare(store: Store) -> None:
    store.sql("CREATE TABLE canary (i integer)")
    store.sql(f"CREATE SCHEMA {SOURCE_SCHEMA}")


def _round_trip(store: Store, table: str, cols: list[str], environment: str) -> None:
    target = store.target
    engine = target.warehouse.create_engine(target.connection)
    metadata = sa.MetaData()
    # Quoted whatever SQLAlchemy thinks of the word (its reserved-word lists miss some, e.g. `collation`).
    quoted = [sa.sql.quoted_name(c, True) for c in cols]
    source = sa.Table(sa.sql.quoted_name(table, True), metadata, *(sa.Column(c, sa.Integer) for c in quoted),
                      schema=SOURCE_SCHEMA)  # fmt: skip
    try:
        with engine.begin() as conn:
            source.create(conn)
            conn.execute(source.insert(), [{c: i for i, c in enumerate(cols)}])
    finally:
        engine.dispose()
    try:
        data = yaml.safe_load(store.config_path.read_text())
        data["environment"] = environment
        data["profiling"] = {"tables": [{"schema": SOURCE_SCHEMA, "table": table}]}
        path = store.config_path.with_name("property.yml")
        path.write_text(yaml.safe_dump(data))
        report = profile(Context.load(path))
        assert [(t.schema, t.table, t.status) for t in report.tables] == [(SOURCE_SCHEMA, table, "completed")]
        ph = store.ph
        runs = store.sql(
            f"SELECT schema_name, dataset_name, environment FROM {store.qualified('profilemesh_runs')} "
            f"WHERE run_id = {ph}",
            [report.run_id],
        )
        assert runs == [(SOURCE_SCHEMA, table, environment)]
        stored = store.sql(
            f"SELECT DISTINCT column_name FROM {store.qualified('profilemesh_results')} WHERE run_id = {ph}",
            [report.run_id],
        )
        assert sorted(r[0] for r in stored) == sorted(cols)
        assert store.sql("SELECT count(*) FROM canary") == [(0,)]
    finally:
        engine = target.warehouse.create_engine(target.connection)
        try:
            with engine.begin() as conn:
                source.drop(conn)
        finally:
            engine.dispose()


# Examples per dialect: profiling one table costs ~0.1 s on PostgreSQL and ~0.7 s on DuckDB (its
# catalog queries), so DuckDB gets fewer to keep the suite fast.
MAX_EXAMPLES = {"duckdb": 12, "postgres": 25}


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_any_table_column_name_and_environment_round_trip(dialect: str, request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue("duck_at_head" if dialect == "duckdb" else "pg_at_head")
    _prepare(store)

    @settings(
        max_examples=MAX_EXAMPLES[dialect], deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(table=names(dialect), cols=columns(dialect), environment=environments())
    @example(table='t"; DROP TABLE canary; --', cols=["'; DROP TABLE canary; --", "order", "1st"], environment="e';--")
    @example(table="ü" * 31 + "x", cols=["MixedCase", "/* c", "é" * 10], environment="prod")
    @example(table="collation", cols=["collation", "select"], environment="prod")  # words SQLAlchemy leaves bare
    def check(table: str, cols: list[str], environment: str) -> None:
        _round_trip(store, table, cols, environment)

    check()
