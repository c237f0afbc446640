"""One verdict on the store's version (profilemesh/store/state.py), worded the same by the Python side and
the dbt package (macros/engine/version_check.sql): a writer, a reader and `migrate apply` refuse a store
behind, ahead, missing or with an unfinished attempt in the same words, whichever side refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from profilemesh.api import migrate_apply, profile, retention
from profilemesh.errors import CheckFailed, ProfileMeshError, StoreMissing
from profilemesh.retention import RetentionPolicy
from profilemesh.store.ledger import Attempt, LedgerSnapshot
from profilemesh.store.state import StoreState
from tests.support.stores import Store

WHEN = dt.datetime(2026, 1, 1)


def state(*attempts: Attempt, tables: tuple[str, ...] = (), head: int = 2) -> StoreState:
    return StoreState(LedgerSnapshot(bool(attempts), attempts, tables), head, "duckdb file x (schema main)")


def done(version: int) -> Attempt:
    return Attempt(attempt_id=version, version=version, status="succeeded", operation="apply", started_at=WHEN)


def test_writers_need_exactly_head_and_nothing_to_repair() -> None:
    assert state(done(1), done(2)).require_writable() == 2
    with pytest.raises(StoreMissing, match="no ProfileMesh storage in duckdb file x"):
        state().require_writable()
    with pytest.raises(CheckFailed, match=r"^storage is at version 1, ProfileMesh needs 2: run `profilemesh migrate"):
        state(done(1)).require_writable()
    with pytest.raises(CheckFailed, match=r"^storage is at version 3, newer than this ProfileMesh \(2\)"):
        state(done(1), done(2), done(3)).require_writable()
    started = Attempt(attempt_id=3, version=3, status="started", operation="apply")
    with pytest.raises(
        CheckFailed, match=r"^attempt 3 \(apply of version 3\) did not finish: run `profilemesh migrate"
    ):
        state(done(1), done(2), started).require_writable()


def test_readers_read_head_and_one_behind() -> None:
    at_head = state(done(1), done(2)).read_plan()
    assert (at_head.version, at_head.from_views, at_head.warning) == (2, True, None)
    behind = state(done(1)).read_plan()
    assert (behind.version, behind.from_views) == (1, False)
    assert behind.warning and behind.warning.startswith("warning: storage is at version 1, one behind")
    legacy = state(tables=("profilemesh_runs",)).read_plan()  # unversioned: what apply adopts as version 1
    assert legacy.version == 1 and legacy.warning and "an unversioned ProfileMesh store" in legacy.warning
    with pytest.raises(CheckFailed, match="reads versions 2 and 3"):
        state(done(1), head=3).read_plan()
    with pytest.raises(StoreMissing):
        state().read_plan()
    failed = Attempt(attempt_id=3, version=3, status="failed", operation="apply", failed_step="x")
    repair = state(done(1), done(2), failed, head=3).read_plan()
    assert repair.warning and repair.warning.endswith(
        "attempt 3 (apply of version 3) failed at step x: run `profilemesh migrate repair`"
    )


def _refusal(call) -> str:
    with pytest.raises(ProfileMeshError) as info:
        call()
    return str(info.value)


def test_python_and_the_dbt_package_word_each_refusal_the_same(duck_store: Store) -> None:
    """A Python writer (profile) and the package's writer (retention, a dbt operation) on the same store."""
    ctx = duck_store.ctx
    policy = RetentionPolicy(keep_days=1)
    migrate_apply(ctx, target_version=1, build_views=False)
    behind = _refusal(lambda: profile(ctx, tables=["main.t"]))
    assert (
        behind
        == _refusal(lambda: retention(ctx, policy, apply=True))
        == (f"storage is at version 1, ProfileMesh needs {ctx.head}: run `profilemesh migrate apply`")
    )

    migrate_apply(ctx, build_views=False)
    ledger = duck_store.qualified("profilemesh_schema_version")
    duck_store.sql(
        f"INSERT INTO {ledger} (attempt_id, version, checksum, operation, status, started_at) "
        f"VALUES (99, {ctx.head + 1}, 'pm1:x', 'apply', 'started', '2026-01-01 00:00:00')"
    )
    unfinished = _refusal(lambda: profile(ctx, tables=["main.t"]))
    assert unfinished == _refusal(lambda: retention(ctx, policy, apply=True))
    assert (
        unfinished
        == _refusal(lambda: migrate_apply(ctx))
        == (f"attempt 99 (apply of version {ctx.head + 1}) did not finish: run `profilemesh migrate repair`")
    )

    duck_store.sql(f"UPDATE {ledger} SET status = 'succeeded' WHERE attempt_id = 99")
    ahead = _refusal(lambda: profile(ctx, tables=["main.t"]))
    assert ahead == _refusal(lambda: retention(ctx, policy, apply=True)) == _refusal(lambda: migrate_apply(ctx))
    assert (
        ahead == f"storage is at version {ctx.head + 1}, newer than this ProfileMesh ({ctx.head}): upgrade profilemesh"
    )
