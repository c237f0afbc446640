"""Crash injection: `migrate apply` is killed with SIGKILL right after step k of migration v, for every
step of every migration (discovered from the package, so a new migration is covered without editing
this file), on DuckDB, PostgreSQL and the Snowflake emulator. The hook is test-only
(tests/support/faults.py, the CLI run with fault-injecting hooks); the kill is a real SIGKILL of a real
`profilemesh` process.

After each crash: `migrate status` reports the partial attempt and exits 1; `apply` refuses; `repair`
converges (then `apply` reaches head); the catalog equals a clean install at head; `validate` is clean;
every row the store held before is still there, unchanged (row counts and a content hash)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from profilemesh.api import describe_schema, migrate_apply, migrate_repair, migrate_validate
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.workdir import LOCK_TTL_ENV
from profilemesh.errors import CheckFailed
from profilemesh.migrate.catalog import live_catalog
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger
from profilemesh.store.locks import migration_lock
from tests.support.cli import run_cli, spawn_cli
from tests.support.faults import CRASH_ENV
from tests.support.legacy_stores import create_legacy_store
from tests.support.snowflake_emulator import snowflake_store, wait_for
from tests.support.stores import Store

pytestmark = pytest.mark.slow  # a real process killed per case

# The columns every legacy (ProfileMesh-era) table holds: what must survive any crash unchanged.
LEGACY_COLUMNS = {
    "profilemesh_runs": ["run_id", "dataset_name", "schema_name", "profiled_at", "environment", "status", "row_count"],
    "profilemesh_results": ["id", "run_id", "dataset_name", "column_name", "metric_name", "metric_value"],
    "profilemesh_events": ["event_id", "event_type", "table_name", "baseline_value", "timestamp", "metadata"],
    "profilemesh_table_state": ["schema_name", "table_name", "last_run_id", "row_count", "bytes_scanned"],
}
_STEP_ID = re.compile(r"\{\s*'id'\s*:\s*'(\w+)'")


def discovered_steps() -> dict[int, list[str]]:
    """Every migration's step ids, read from the package's migration files (no dbt at collection)."""
    return {m.version: _STEP_ID.findall(m.path.read_text(encoding="utf-8")) for m in DbtPackage.installed().migrations}


_STEP_OP = re.compile(r"'op'\s*:\s*'(\w+)'")


def discovered_ops() -> dict[int, list[str]]:
    """Every migration's step kinds, in step order (a step names its op right after its id)."""
    return {m.version: _STEP_OP.findall(m.path.read_text(encoding="utf-8")) for m in DbtPackage.installed().migrations}


STEPS = discovered_steps()
OPS = discovered_ops()
HEAD = max(STEPS)
FULL_MATRIX = os.environ.get("PROFILEMESH_FULL_CRASH_MATRIX") == "1"


def _representative(version: int) -> list[int]:
    """On PostgreSQL and DuckDB a migration's steps share one transaction, so a crash after any step
    leaves the same store (nothing of the attempt). What can differ is whether a kind of statement
    really is transactional: the default suite crashes after the first step of each kind (each op) and
    after the last step of each migration. PROFILEMESH_FULL_CRASH_MATRIX=1 crashes after every step."""
    first_of_each = {op: k for k, op in reversed(list(enumerate(OPS[version], start=1)))}
    return sorted({*first_of_each.values(), len(STEPS[version])})


CASES = [
    pytest.param(v, k, id=f"v{v}-after-step-{k}")
    for v, ids in STEPS.items()
    for k in (range(1, len(ids) + 1) if FULL_MATRIX else _representative(v))
]


def _covered(version: int, k: int) -> set[tuple[str, bool]]:
    """What a crash after step k of `version` makes `repair` probe on Snowflake, where each step commits
    on its own: every kind of step before the crash as done, every kind after it as not done, and (at
    the last step) a migration whose steps all committed while the ledger was not updated."""
    ops = OPS[version]
    return (
        {(op, True) for op in ops[:k]}
        | {(op, False) for op in ops[k:]}
        | ({("ledger", False)} if k == len(ops) else set())
    )


def _emulator_cases() -> list[tuple[int, int]]:
    """The emulator takes 20-40 s a case (a lease expiry and a slow server), so the default suite picks
    the fewest crash points (greedily, newest migration first on a tie) that make `repair` find every
    kind of step both done and not done, and a fully committed migration the ledger missed. A new
    migration adds a case only when it brings a new kind of step. PROFILEMESH_FULL_CRASH_MATRIX=1 runs
    every k there too."""
    candidates = [(v, k) for v in sorted(OPS, reverse=True) for k in range(1, len(OPS[v]) + 1)]
    wanted = set().union(*(_covered(v, k) for v, k in candidates))
    chosen: list[tuple[int, int]] = []
    while wanted:
        best = max(candidates, key=lambda case: len(_covered(*case) & wanted))  # first of the best: newest
        chosen.append(best)
        wanted -= _covered(*best)
    return sorted(chosen)


EMULATOR_CASES = CASES if FULL_MATRIX else [pytest.param(v, k, id=f"v{v}-after-step-{k}") for v, k in _emulator_cases()]


def content_snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Per legacy table: (row count, sha256 over its rows in a stable order)."""
    snapshot = {}
    for table, columns in LEGACY_COLUMNS.items():
        cols = ", ".join(store.ident(c) for c in columns)
        rows = store.sql(f"SELECT {cols} FROM {store.qualified(table)}")
        text = "\n".join(sorted(repr(tuple(str(v) for v in row)) for row in rows))
        snapshot[table] = (len(rows), hashlib.sha256(text.encode()).hexdigest())
    return snapshot


_CODE: dict[tuple[str, str], Any] = {}


def catalog_of(store: Store) -> dict[str, Any]:
    """The store's normalised live catalog: every storage table and the ledger. The code's side (which
    relations, at head) is asked of dbt once per store location; the live side is read every time."""
    connection = store.target.connection
    key = (store.kind, str(connection.database or connection.filepath))
    if key not in _CODE:
        _CODE[key] = describe_schema(store.ctx)
    code = _CODE[key]
    with connect(store.target) as conn:
        return live_catalog(conn, code.relations, sorted(code.catalog))


def storage_catalog(store: Store) -> dict[str, Any]:
    catalog = catalog_of(store)
    catalog.pop("schema_version", None)
    return catalog


@pytest.fixture(scope="module")
def clean_catalogs() -> dict[str, Any]:
    """The catalog of a clean install at head, per warehouse, read once per module (and worker)."""
    cache: dict[str, Any] = {}

    def get(store_kind: str, make) -> dict[str, Any]:
        if store_kind not in cache:
            clean = make()
            code = describe_schema(clean.ctx)
            assert {m["version"]: m["steps"] for m in code.migrations} == STEPS  # discovery == the engine's
            cache[store_kind] = catalog_of(clean)
        return cache[store_kind]

    return get  # type: ignore[return-value]


def before_version(version: int) -> Callable[[Store], None]:
    """Make a store as an apply that reached version `version` left it: a legacy store (adopted as
    version 1), with the versions before `version` committed."""

    def build(store: Store) -> None:
        create_legacy_store(store)
        if version > 1:
            migrate_apply(store.ctx, target_version=version - 1, build_views=False)

    return build


def crash_and_recover(
    store: Store, version: int, k: int, clean: dict[str, Any], env: dict[str, str] | None = None, *, prepared: bool
) -> None:
    """Crash `migrate apply` after step k of `version` and recover. `prepared`: the store is already as
    `before_version(version)` makes it (copied from a template); otherwise it is made here."""
    config = str(store.config_path)
    if not prepared:
        before_version(version)(store)
    before_rows = content_snapshot(store)
    before_catalog = storage_catalog(store)

    # TMPDIR: the killed process cannot remove its private dbt directory; pytest removes tmp_path.
    crash = {**(env or {}), CRASH_ENV: f"step:{version}:{k}", "TMPDIR": str(store.config_path.parent)}
    process = spawn_cli("migrate", "apply", "-c", config, "--lock-timeout", "60", env=crash)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, stderr
    # PostgreSQL: the server ends the dead client's session (and its lock) on its own. Snowflake: the
    # dead holder's lease expires after its TTL. Until then `status` rightly says `in_progress`.
    if store.kind in ("postgres", "snowflake"):
        assert wait_for(lambda: migration_lock(store.target).holder() is None, timeout=30)

    status = run_cli("migrate", "status", "-c", config, "--format", "json")
    assert status.exit_code == 1, status.stderr
    report = json.loads(status.stdout)
    assert report["state"] == "failed_attempt"
    (partial,) = report["unresolved"]
    assert (partial["version"], partial["status"]) == (version, "started")
    assert partial["operation"] == ("adopt" if version == 1 else "apply")
    assert partial["steps_total"] == len(STEPS[version])
    transactional = store.kind != "snowflake"
    # PostgreSQL and DuckDB: the steps ran in the attempt's open transaction, which died with the
    # process. Snowflake: each step committed on its own, with its progress.
    assert partial["steps_completed"] == (0 if transactional else k)
    if transactional:
        assert storage_catalog(store) == before_catalog  # nothing of the attempt is left behind
    assert "did not finish" in report["message"] and "migrate repair" in report["message"]

    with pytest.raises(CheckFailed, match=f"attempt {partial['attempt_id']} .* did not finish"):
        migrate_apply(store.ctx, lock_timeout=30, build_views=False)

    repaired = migrate_repair(store.ctx, lock_timeout=30)
    assert repaired.resolved_attempts == [partial["attempt_id"]]
    if not transactional:
        assert set(STEPS[version][:k]) <= set(repaired.effective_steps)
    migrate_apply(store.ctx, lock_timeout=30, build_views=False)

    ledger = read_ledger(store.target)
    assert ledger.unresolved == ()
    assert sorted(a.version for a in ledger.attempts if a.status == "succeeded") == list(range(1, HEAD + 1))
    assert catalog_of(store) == clean
    assert migrate_validate(store.ctx).problems == []
    assert content_snapshot(store) == before_rows


@pytest.mark.duckdb
@pytest.mark.parametrize(("version", "k"), CASES)
def test_crash_after_step_duckdb(stores, clean_catalogs, version: int, k: int) -> None:
    """The catalog of a clean install is read once per module; each case then starts from the worker's one
    location (so its in-process dbt operations share one parse), holding a copy of a store made once
    per worker and version by `before_version`."""
    clean = clean_catalogs("duckdb", lambda: stores.at_head("duckdb"))
    store = stores.built("duckdb", f"before_v{version}", before_version(version))
    crash_and_recover(store, version, k, clean, prepared=True)


@pytest.mark.postgres
@pytest.mark.parametrize(("version", "k"), CASES)
def test_crash_after_step_postgres(stores, clean_catalogs, version: int, k: int) -> None:
    clean = clean_catalogs("postgres", lambda: stores.at_head("postgres"))
    store = stores.built("postgres", f"before_v{version}", before_version(version))
    crash_and_recover(store, version, k, clean, prepared=True)


@pytest.mark.snowflake
@pytest.mark.parametrize(("version", "k"), EMULATOR_CASES)
def test_crash_after_step_snowflake_emulator(
    tmp_path: Path, snowflake_endpoint, clean_catalogs, monkeypatch: pytest.MonkeyPatch, version: int, k: int
) -> None:
    """The killed process cannot hand its lease back: a short TTL lets `apply` and `repair` take over
    once it expires (they wait for it within --lock-timeout)."""
    monkeypatch.setenv(LOCK_TTL_ENV, "5")

    def clean_store() -> Store:
        (tmp_path / "clean").mkdir()
        store = snowflake_store(tmp_path / "clean", snowflake_endpoint, fresh=True)
        migrate_apply(store.ctx, build_views=False)
        return store

    clean = clean_catalogs(f"snowflake-{snowflake_endpoint['account']}", clean_store)
    store = snowflake_store(tmp_path, snowflake_endpoint)
    crash_and_recover(store, version, k, clean, env={LOCK_TTL_ENV: "5"}, prepared=False)


@pytest.mark.snowflake
def test_repair_finishes_a_rebuild_stopped_between_drop_and_rename_on_snowflake(
    tmp_path: Path, snowflake_endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snowflake commits each statement of the runs table's rebuild (schema version 4): a crash after it
    dropped the table and before it renamed the copy leaves only the copy. `repair` puts the copy in
    its place, then finishes the migration; no run is lost."""
    monkeypatch.setenv(LOCK_TTL_ENV, "5")
    store = snowflake_store(tmp_path, snowflake_endpoint)
    create_legacy_store(store)
    migrate_apply(store.ctx, target_version=3, build_views=False)
    runs = store.qualified("profilemesh_runs")
    before = store.sql(f"SELECT COUNT(*) FROM {runs}")[0][0]
    assert before > 0
    rekey_step = STEPS[4].index("runs_key_schema_table")  # crash once the steps before it committed
    crash = {LOCK_TTL_ENV: "5", CRASH_ENV: f"step:4:{rekey_step}", "TMPDIR": str(tmp_path)}
    process = spawn_cli("migrate", "apply", "-c", str(store.config_path), "--lock-timeout", "60", env=crash)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, stderr
    # What the rebuild leaves when it stops between its DROP TABLE and its RENAME.
    copy = store.qualified("profilemesh_runs__rekey")
    store.sql(f"CREATE TABLE {copy} AS SELECT * FROM {runs}")
    for column in ("RUN_ID", "DATASET_NAME", "SCHEMA_NAME", "PROFILED_AT"):
        store.sql(f"ALTER TABLE {copy} ALTER COLUMN {column} SET NOT NULL")
    store.sql(f"ALTER TABLE {copy} ADD PRIMARY KEY (RUN_ID, SCHEMA_NAME, DATASET_NAME)")
    store.sql(f"DROP TABLE {runs}")

    repaired = migrate_repair(store.ctx, lock_timeout=30)
    assert repaired.resolved_attempts
    assert read_ledger(store.target).current_version == 4
    assert migrate_validate(store.ctx).problems == []
    assert store.sql(f"SELECT COUNT(*) FROM {runs}")[0][0] == before
