"""dbt's saved parse, shared between processes (profilemesh/dbt/parse_cache.py): a second process skips
the parse, a damaged entry costs one full parse and is replaced, "off" turns it off, and no password
reaches it. Real CLI processes and dbt's own debug log, which says how it parsed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from profilemesh.dbt.parse_cache import CACHE_ENV
from tests.support.cli import spawn_cli
from tests.support.stores import PgServer, Store

pytestmark = pytest.mark.slow  # CLI processes
FULL_PARSE = "Starting full parse"
NO_PARSE = "no changes found, skipping parsing"
DAMAGED = "Failed to load parsed file"


def _apply(store: Store, cache: str) -> str:
    process = spawn_cli("--debug", "migrate", "apply", "-c", str(store.config_path), env={CACHE_ENV: cache})
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return stderr


def test_a_second_process_skips_the_parse_and_a_damaged_entry_is_replaced(duck_store: Store, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _apply(duck_store, str(cache))
    assert FULL_PARSE in first  # (its later dbt invocations reuse the parse in-process)
    (entry,) = cache.glob("*.msgpack")
    assert entry.stat().st_mode & 0o077 == 0  # readable by its owner only

    second = _apply(duck_store, str(cache))
    assert FULL_PARSE not in second and NO_PARSE in second

    entry.write_bytes(b"not a msgpack file")
    third = _apply(duck_store, str(cache))  # dbt discards it and parses in full; the command is unaffected
    assert DAMAGED in third
    (replaced,) = cache.glob("*.msgpack")
    assert replaced.stat().st_size > 10_000

    off = _apply(duck_store, "off")
    assert FULL_PARSE in off and [p.name for p in cache.iterdir()] == [replaced.name]


def test_the_saved_parse_holds_no_password(pg_server: PgServer, tmp_path: Path) -> None:
    role, secret = f"pm_owner_{uuid.uuid4().hex[:8]}", f"Pm-{uuid.uuid4().hex}-pw"
    conn = pg_server.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", (secret,))
        cur.execute(f"CREATE DATABASE {role} OWNER {role}")
    conn.close()
    connection = {"type": "postgres", "host": pg_server.host, "port": pg_server.port, "database": role}
    config = tmp_path / "profilemesh.yml"
    config.write_text(yaml.safe_dump({"storage": {"connection": {**connection, "username": role, "password": secret}}}))
    store = Store("postgres", config, pg=pg_server, database=role)
    cache = tmp_path / "cache"
    _apply(store, str(cache))
    (entry,) = cache.glob("*.msgpack")
    assert secret.encode() not in entry.read_bytes() and role.encode() in entry.read_bytes()
