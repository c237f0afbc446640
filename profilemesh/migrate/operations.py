"""`migrate apply` and `migrate repair`: the dbt package's operations, driven through dbtRunner."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from profilemesh import __version__
from profilemesh.connection import StorageTarget, duckdb_file_exists
from profilemesh.dbt_invoke import DbtSession, OperationOutcome, raise_for_outcome, summarize_dbt_error
from profilemesh.errors import DatabaseError, MigrationFailed, StoreBusy, UsageError
from profilemesh.migrate.ledger import LEDGER_TABLE, PG_LOCK_CLASS, connect, lock_holder, read_ledger
from profilemesh.package import head_version, migration_files

DEFAULT_LOCK_TIMEOUT = 60.0
# The package's models are the query views; `dbt run -s profilemesh` in a user's project builds the same.
VIEWS_SELECTOR = "package:profilemesh"


def applied_by() -> str:
    """Who ran it, for the ledger: user@host:pid."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def _engine_args(lock_timeout: float) -> dict[str, Any]:
    return {
        "lock_timeout": lock_timeout,
        "applied_by": applied_by(),
        "profilemesh_version": f"profilemesh {__version__}",
    }


def apply(
    target: StorageTarget,
    *,
    target_version: int | None = None,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    debug: bool = False,
    package: Path | None = None,
    views: bool = True,
) -> dict[str, Any]:
    """Migrate the store to target_version (default: head). Returns the engine's result.

    At head the query views are (re)built, unless views is False (programs that only write,
    and tests that never read the views, save a `dbt run`).

    With dry_run the result's `statements` hold the exact SQL, ledger writes included, and
    nothing is changed (an absent DuckDB file is not even created).
    """
    if target_version is not None and target_version < 0:
        raise UsageError("--target must be 0 or more")
    migration_files(package)  # a malformed package fails here, before any connection
    _check_reachable(target)
    args = {"target_version": target_version, "dry_run": dry_run, **_engine_args(lock_timeout)}
    if dry_run and not duckdb_file_exists(target.connection):
        return _dry_run_on_scratch_copy(target, args, debug=debug, package=package)
    session = DbtSession(target, debug=debug, package=package)
    if not dry_run:
        _drop_views_before_migrating(session, target_version, lock_timeout)
    outcome = session.run_operation("profilemesh_migrate", args, lock_timeout=lock_timeout)
    if not outcome.success:
        _record_failed_attempt(session, outcome, lock_timeout)
    result = raise_for_outcome(outcome)
    if not dry_run:
        result["views"] = _refresh_views(session, result, lock_timeout) if views else []
    return result


def build_views(
    target: StorageTarget,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    debug: bool = False,
    package: Path | None = None,
) -> list[str]:
    """(Re)build the query views in the storage schema; the store must be at the code's head."""
    return _build_views(DbtSession(target, debug=debug, package=package), lock_timeout)


def _drop_views_before_migrating(session: DbtSession, target_version: int | None, lock_timeout: float) -> None:
    """PostgreSQL refuses to drop or retype a column a view reads, so when migrations are pending the
    query views go first (apply rebuilds them at head; meanwhile the store is read from its tables).
    DuckDB and Snowflake do not tie views to their tables."""
    if session.target.dialect != "postgres":
        return
    goal = head_version(session.package) if target_version is None else target_version
    if read_ledger(session.target).current_version >= goal:
        return
    # Under the migration lock, so a concurrent apply's view build is never cut short; and looked
    # at again there, since that apply may have migrated (and built the views) in the meantime.
    with _serialized_view_build(session.target, lock_timeout):
        if read_ledger(session.target).current_version >= goal:
            return
        raise_for_outcome(session.run_operation("profilemesh_drop_query_views"))


def _refresh_views(session: DbtSession, result: dict[str, Any], lock_timeout: float) -> list[str]:
    """At head the views are (re)built, so they always match the schema version; a no-op apply leaves
    them alone when this package built them for this version and none is missing (`views_current`
    in the result). Below head (`--target`) they are left alone; the on-run-start gate would refuse
    them anyway."""
    if result["to_version"] != result["head"]:
        return []
    built = _build_views(session, lock_timeout, unless_current=not result.get("applied"))
    result["views_current"] = built is None
    return built or []


def _build_views(session: DbtSession, lock_timeout: float, *, unless_current: bool = False) -> list[str] | None:
    """The models built, or None when unless_current and the views were current (looked at under the
    lock, after any concurrent apply's build)."""
    with _serialized_view_build(session.target, lock_timeout):
        if unless_current and _views_current(session):
            return None
        built = session.run(VIEWS_SELECTOR, lock_timeout=lock_timeout)
    if not built.success:
        raise DatabaseError(f"building the query views failed: {built.describe_failure()}")
    return built.models()


def _views_current(session: DbtSession) -> bool:
    """Every view is there, built for the store's version by this very package."""
    from profilemesh.query.reader import READ_VIEWS, missing_views  # the read side imports this package
    from profilemesh.query.views import INFO_VIEW, LATEST_METRICS_VIEW

    target = session.target
    head = head_version(session.package)
    info = sa.table(INFO_VIEW, sa.column("schema_version"), sa.column("package_fingerprint"), schema=target.schema)
    try:
        with connect(target) as conn:
            if missing_views(conn, target.schema, (*READ_VIEWS, LATEST_METRICS_VIEW)):
                return False
            rows = conn.execute(sa.select(info.c.schema_version, info.c.package_fingerprint)).all()
    except DatabaseError:
        # Built by an older package (no such column), or a DuckDB file another apply holds right now:
        # the build path waits for the file and rebuilds.
        return False
    return rows == [(head, session.fingerprint)]


@contextlib.contextmanager
def _serialized_view_build(target: StorageTarget, lock_timeout: float) -> Iterator[None]:
    """Concurrent applies must not race in dbt's create-then-rename of a view on PostgreSQL: the build
    holds the migration's advisory lock. DuckDB's file lock serialises processes already (busy files
    are retried), and Snowflake replaces a view in one statement."""
    if target.dialect != "postgres":
        yield
        return
    key = {"lock_class": PG_LOCK_CLASS, "lock_name": f"{target.schema}.{LEDGER_TABLE}"}
    deadline = time.monotonic() + lock_timeout
    with connect(target, read_only=False) as conn:
        # Named like the engine's session, so `migrate status` and a waiting apply say who holds it.
        name = f"profilemesh views {applied_by()}"[:63]
        conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
        take = sa.text("SELECT pg_try_advisory_lock(:lock_class, hashtext(:lock_name))")
        while not conn.execute(take, key).scalar():
            if time.monotonic() >= deadline:
                holder = lock_holder(target)
                who = (
                    f"pid {holder['pid']} ({holder['application']}, since {holder['since']})"
                    if holder
                    else "another session"
                )
                raise StoreBusy(f"store busy: the migration lock is held by {who}; waited {lock_timeout:g} s")
            time.sleep(0.2)
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:lock_class, hashtext(:lock_name))"), key)


def repair(
    target: StorageTarget,
    *,
    rollback: bool = False,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    debug: bool = False,
    package: Path | None = None,
) -> dict[str, Any]:
    """Converge after a failed or interrupted attempt (finish it, or with rollback undo it)."""
    _check_reachable(target)
    session = DbtSession(target, debug=debug, package=package)
    args = {"rollback": rollback, "dry_run": dry_run, **_engine_args(lock_timeout)}
    outcome = session.run_operation("profilemesh_migrate_repair", args, lock_timeout=lock_timeout)
    if not outcome.success:
        _record_failed_attempt(session, outcome, lock_timeout)
    result = raise_for_outcome(outcome)
    if not dry_run and "note" in result:
        # A repair that finished a migration to head leaves the store where apply would: views built.
        snapshot = read_ledger(target)
        at_head = snapshot.current_version == head_version(session.package) and not snapshot.unresolved
        result["views"] = (_build_views(session, lock_timeout) or []) if at_head else []
    return result


def describe(
    target: StorageTarget, version: int | None = None, *, debug: bool = False, package: Path | None = None
) -> dict[str, Any]:
    """The code's migrations, checksums, relations and the expected catalog at `version`."""
    session = DbtSession(target, debug=debug, package=package)
    return raise_for_outcome(session.run_operation("profilemesh_describe", {"version": version}))


def _check_reachable(target: StorageTarget) -> None:
    """Fail fast with one clear line when a server is unreachable, before dbt's slower start."""
    if target.dialect != "duckdb":
        with connect(target):
            pass


def _record_failed_attempt(session: DbtSession, outcome: OperationOutcome, lock_timeout: float) -> None:
    """A step failed inside an attempt: mark the attempt failed, then raise MigrationFailed."""
    attempt = outcome.last("attempt")
    if outcome.last("error") is not None:
        return  # the engine refused, and handed back what it held
    if attempt is None:
        if session.target.dialect == "snowflake" and outcome.invocation_id:
            # A SQL error outside any attempt: hand back the lease now rather than after its TTL.
            session.run_operation("profilemesh_migrate_release_lease", {"token": outcome.invocation_id})
        return
    step = outcome.last("step")
    failed_step = step["step"] if step and step["attempt_id"] == attempt["attempt_id"] else None
    error = summarize_dbt_error(outcome.error or "unknown error")
    recorded = session.run_operation(
        "profilemesh_migrate_record_failure",
        {
            "attempt_id": attempt["attempt_id"],
            "failed_step": failed_step,
            "error_message": error,
            "takeover_token": outcome.invocation_id,
        },
        lock_timeout=lock_timeout,
    )
    note = "recorded" if recorded.success else "left as 'started' (recording the failure failed too)"
    what = "repair of migration" if attempt.get("operation") == "repair" else "migration"
    hint = "run `profilemesh migrate repair --rollback`" if what != "migration" else "run `profilemesh migrate repair`"
    raise MigrationFailed(
        f"{what} {attempt['version']} failed at step {failed_step}: {error} "
        f"(attempt {attempt['attempt_id']} {note}; {hint})"
    )


def _dry_run_on_scratch_copy(
    target: StorageTarget, args: dict[str, Any], *, debug: bool, package: Path | None
) -> dict[str, Any]:
    """Plan against an empty file of the same name elsewhere: same SQL, and the real path stays absent."""
    scratch = Path(tempfile.mkdtemp(prefix="profilemesh-plan-"))
    try:
        name = Path(str(target.connection.filepath)).name
        scratch_conn = dataclasses.replace(target.connection, filepath=str(scratch / name))
        scratch_target = dataclasses.replace(target, connection=scratch_conn)
        outcome = DbtSession(scratch_target, debug=debug, package=package).run_operation("profilemesh_migrate", args)
        return raise_for_outcome(outcome)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
