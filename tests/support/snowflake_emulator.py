"""Snowflake under test: the fakesnow emulator in server mode, or a real account when SNOWFLAKE_* is set."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.support import pgcluster
from tests.support.stores import Store, worker, write_config

SNOWFLAKE_ENV = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_DATABASE")
EMULATOR_ACCOUNT = "fakesnow"  # what the emulator is called in the test config (it accepts any account)


def real_snowflake() -> bool:
    return all(os.environ.get(name) for name in SNOWFLAKE_ENV)


def account_endpoint() -> dict[str, Any]:
    """A real account, from SNOWFLAKE_ACCOUNT, _USER, _PASSWORD, _DATABASE (and _WAREHOUSE, _ROLE)."""
    return {
        "type": "snowflake",
        "account": os.environ["SNOWFLAKE_ACCOUNT"],
        "username": os.environ["SNOWFLAKE_USER"],
        "password": os.environ["SNOWFLAKE_PASSWORD"],
        "database": os.environ["SNOWFLAKE_DATABASE"],
        **{
            k: os.environ[f"SNOWFLAKE_{k.upper()}"]
            for k in ("warehouse", "role")
            if os.environ.get(f"SNOWFLAKE_{k.upper()}")
        },
    }


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextlib.contextmanager
def emulator() -> Iterator[dict[str, Any]]:
    """A fakesnow server on loopback, stopped afterwards; its connection settings."""
    port = pgcluster.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fakesnow", "-s", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def listening() -> bool:
        with contextlib.closing(socket.socket()) as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        if not wait_for(listening, timeout=60):
            raise RuntimeError("the fakesnow emulator did not start")
        yield {
            "type": "snowflake",
            "account": EMULATOR_ACCOUNT,
            "username": "fake",
            "password": "snow",
            "database": "PMTEST",
            "extra_params": {"host": "127.0.0.1", "port": port, "protocol": "http"},
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def is_emulator(endpoint: dict[str, Any]) -> bool:
    return bool(endpoint["account"] == EMULATOR_ACCOUNT)


def snowflake_store(directory: Path, endpoint: dict[str, Any], *, fresh: bool = False) -> Store:
    """A store on the endpoint. On the emulator, this worker's one database (emptied first), so the tests
    share dbt's parse; `fresh` gives a database of its own (a store that must outlive the next test's
    reset). On a real account, a schema of its own in the given database (dropped by the fixture)."""
    connection = dict(endpoint)
    suffix = uuid.uuid4().hex[:10].upper() if fresh or not is_emulator(endpoint) else worker().upper()
    if not is_emulator(endpoint):
        connection["schema"] = f"PM_TEST_{suffix}"
        return Store("snowflake", write_config(directory, connection))
    connection["database"] = f"PM_{suffix}"
    connection["schema"] = "PROFILEMESH"
    store = Store("snowflake", write_config(directory, connection))
    # Emptied: the store's schema and every source schema an earlier test of this worker made there.
    database = connection["database"]
    schemas = store.sql(
        f'SELECT schema_name FROM "{database}".information_schema.schemata '
        "WHERE schema_name NOT IN ('INFORMATION_SCHEMA', 'PUBLIC')"
    )
    for (schema,) in {*schemas, ("PROFILEMESH",)}:
        store.sql(f'DROP SCHEMA IF EXISTS "{database}"."{schema}" CASCADE')
    return store
