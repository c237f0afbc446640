"""A source table to profile, and a fingerprint of everything the writers store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import yaml

from tests.support.stores import Store

WRITTEN = ("profilemesh_runs", "profilemesh_results", "profilemesh_table_state", "profilemesh_events")


def profile_config(store: Store, tmp_path: Path) -> Path:
    """A config whose source is a 500-row table (a separate file on DuckDB, schema src on PostgreSQL)."""
    data = yaml.safe_load(store.config_path.read_text())
    if store.kind == "duckdb":
        source = tmp_path / "source.duckdb"
        conn = duckdb.connect(str(source))
        conn.execute("CREATE SCHEMA src")
        conn.execute(
            "CREATE TABLE src.t AS SELECT range AS id, range * 1.5 AS amount, 'x' || range AS name FROM range(500)"
        )
        conn.close()
        data["source"] = {"type": "duckdb", "filepath": str(source), "schema": "src"}
    else:
        store.sql("CREATE SCHEMA src")
        store.sql(
            "CREATE TABLE src.t AS SELECT g AS id, g * 1.5 AS amount, 'x' || g AS name FROM generate_series(0, 499) g"
        )
        data["source"] = dict(data["storage"]["connection"], schema="src")
    data["profiling"] = {"tables": [{"schema": "src", "table": "t"}]}
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def contents(store: Store) -> dict[str, tuple[int, str]]:
    """Per written table: row count and a hash of every row."""
    found = {}
    for table in WRITTEN:
        rows = store.sql(f"SELECT * FROM {store.qualified(table)}")
        text = "\n".join(sorted(repr(tuple(str(v) for v in row)) for row in rows))
        found[table] = (len(rows), hashlib.sha256(text.encode()).hexdigest())
    return found
