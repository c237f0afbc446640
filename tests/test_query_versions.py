"""`profilemesh query` across store versions and states: a store one version behind (a ProfileMesh-era
store adopted and migrated to it) is read directly with a one-line warning while writes refuse; two
behind is refused with the way forward; missing or stale views, a store ahead, no store, an empty
store and a dead server each get one clear line and their exit code."""

from __future__ import annotations

import json
from pathlib import Path

from profilemesh.api import migrate_apply, migrate_repair
from profilemesh.contract import VIEW_COLUMNS
from profilemesh.dbt.package import DbtPackage
from tests.support.cli import run_cli
from tests.support.legacy_stores import RUNS, create_legacy_store
from tests.support.migrations import HEAD, NEXT, NOTE_STEPS, add_migration
from tests.support.stores import Store, copy_package

INSTALLED = DbtPackage.installed()
BEHIND = HEAD - 1  # the version the read side still reads, from the storage tables


def q(store: Store, *args: str):
    return run_cli("query", *args, "-c", str(store.config_path))


def _one_warning(stderr: str, start: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith(start), stderr
    assert "run `profilemesh migrate apply`" in stderr


def test_a_store_two_versions_behind_is_refused_with_the_way_forward(store: Store) -> None:
    create_legacy_store(store)  # unversioned: version 1
    runs = q(store, "runs")
    assert runs.exit_code == 1 and runs.stderr.count("\n") == 1, runs.stderr
    assert f"storage is at version 1; this ProfileMesh reads versions {HEAD - 1} and {HEAD}" in runs.stderr
    assert "run `profilemesh migrate apply`" in runs.stderr


def test_legacy_store_one_behind_is_read_with_one_warning(store: Store) -> None:
    """A ProfileMesh-era store adopted and migrated to the version before head is read from its tables."""
    create_legacy_store(store)
    assert migrate_apply(store.ctx, target_version=BEHIND).views == []  # views only at head
    runs = q(store, "runs", "--days", "0", "--format", "json")
    assert runs.exit_code == 0, runs.stderr
    _one_warning(runs.stderr, f"warning: storage is at version {BEHIND}, one behind this ProfileMesh ({HEAD})")
    rows = json.loads(runs.stdout)["rows"]
    assert [(r["run_id"], r["dataset_name"]) for r in rows] == [("run-2", "orders"), ("run-1", "customers"),
                                                                ("run-1", "orders")]  # fmt: skip
    assert len(rows) == len(RUNS)
    by_key = {(r["run_id"], r["dataset_name"]): r for r in rows}
    assert by_key[("run-1", "customers")]["row_count"] == 0
    assert by_key[("run-2", "orders")]["row_count"] is None and by_key[("run-2", "orders")]["status"] == "failed"
    assert by_key[("run-1", "orders")]["metric_count"] == 10
    assert by_key[("run-1", "orders")]["error_message"] is None

    drift = json.loads(q(store, "drift", "--days", "0", "--format", "json").stdout)
    assert [r["event_id"] for r in drift["rows"]] == ["ev-1"]  # ev-2 is a lifecycle event
    assert drift["rows"][0]["accepted_at"] is None  # a column of the head version: NULL one behind

    run = q(store, "run", "--run-id", "run-1", "--table", "orders", "--format", "json")
    assert run.exit_code == 0
    metrics = json.loads(run.stdout)["tables"][0]["columns"][0]["metrics"]
    assert metrics["mean"] == 12.5 and metrics["empty"] is None  # numeric values since version 2

    history = json.loads(q(store, "table", "--table", "orders", "--days", "0", "--format", "json").stdout)
    assert [(r["run_id"], r["row_count"], r["row_count_change"]) for r in history["rows"]] == [
        ("run-1", 100, None),
        ("run-2", None, None),
    ]
    assert q(store, "run", "--run-id", "nope").exit_code == 1


def test_legacy_store_without_events_reads_no_drift_one_behind(store: Store) -> None:
    create_legacy_store(store, only_runs_and_results=True)
    migrate_apply(store.ctx, target_version=BEHIND)  # adoption creates the tables the store lacked
    drift = q(store, "drift", "--days", "0", "--format", "json")
    assert drift.exit_code == 0 and json.loads(drift.stdout)["rows"] == []
    assert json.loads(q(store, "runs", "--days", "0", "--format", "json").stdout)["total"] == len(RUNS)


def test_a_store_one_behind_reads_and_refuses_writes(store: Store, tmp_path: Path) -> None:
    create_legacy_store(store, events_with_run_id=False)
    result = migrate_apply(store.ctx, target_version=BEHIND)
    assert result.to_version == BEHIND and result.views == []
    runs = q(store, "runs", "--days", "0", "--format", "csv")
    assert runs.exit_code == 0
    _one_warning(runs.stderr, f"warning: storage is at version {BEHIND}, one behind this ProfileMesh ({HEAD})")
    assert runs.stdout.count("\n") == 1 + len(RUNS)
    drift = json.loads(q(store, "drift", "--days", "0", "--format", "json").stdout)
    assert [(r["event_id"], r["run_id"]) for r in drift["rows"]] == [("ev-1", None)]

    write = run_cli("drift", "-c", str(store.config_path))
    assert write.exit_code == 1
    assert f"storage is at version {BEHIND}, ProfileMesh needs {HEAD}: run `profilemesh migrate apply`" in write.stderr


def _drop_views(store: Store) -> None:
    for view in VIEW_COLUMNS:
        store.sql(f"DROP VIEW IF EXISTS {store.qualified(view)} CASCADE")


def test_views_are_built_by_apply_and_their_absence_or_age_is_explained(store_at_head: Store) -> None:
    store = store_at_head
    # An empty store: friendly empty results, exit 0.
    assert q(store, "runs").stdout == "no runs found in the last 30 days\n"
    assert q(store, "drift", "--format", "json").exit_code == 0
    assert q(store, "table", "--table", "orders").stdout == "no history for table orders in the last 30 days\n"
    assert q(store, "run", "--run-id", "r1").stderr == "error: run r1 not found\n"

    _drop_views(store)
    missing = q(store, "runs")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1
    assert f"the query views are missing in schema {store.schema}" in missing.stderr
    assert "run `profilemesh migrate apply`" in missing.stderr and "dbt run -s profilemesh" in missing.stderr

    again = run_cli("migrate", "apply", "-c", str(store.config_path))  # nothing to migrate: views rebuilt
    assert again.exit_code == 0 and "query views built: " in again.stdout
    assert q(store, "runs").exit_code == 0

    store.sql(f"DROP VIEW {store.qualified('profilemesh_views_info')}")
    store.sql(
        f"CREATE VIEW {store.qualified('profilemesh_views_info')} AS "
        "SELECT 1 AS schema_version, '0.0.1' AS package_version"
    )
    stale = q(store, "drift")
    assert stale.exit_code == 1
    assert f"the query views were built for schema version 1, storage is at version {HEAD}" in stale.stderr

    store.sql(
        f"INSERT INTO {store.qualified('profilemesh_schema_version')} (attempt_id, version, checksum, operation, "
        f"status, started_at) VALUES (99, {HEAD + 1}, 'pm1:x', 'apply', 'succeeded', CURRENT_TIMESTAMP)"
    )
    ahead = q(store, "runs")
    assert ahead.exit_code == 1
    assert (
        ahead.stderr
        == f"error: storage is at version {HEAD + 1}, newer than this ProfileMesh ({HEAD}): upgrade profilemesh\n"
    )


def test_dry_run_builds_no_views(store: Store) -> None:
    migrate_apply(store.ctx, target_version=1)
    plan = run_cli("migrate", "apply", "--dry-run", "-c", str(store.config_path))
    assert plan.exit_code == 0 and "rebuilds the query views" in plan.stdout
    assert not {v for v in VIEW_COLUMNS} & {
        r[0]
        for r in store.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = " + store.ph, [store.schema]
        )
    }


def test_no_store_is_explained_and_never_created(store: Store) -> None:
    result = q(store, "runs")
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    assert "run `profilemesh migrate apply`" in result.stderr
    if store.kind == "duckdb":
        assert "no ProfileMesh store at" in result.stderr
        assert not Path(store.target.connection.filepath).exists()
    else:
        assert "no ProfileMesh storage in postgres" in result.stderr


def test_unreachable_server_is_exit_3(pg_store: Store) -> None:
    pg_store.write_config(connection={**json.loads(json.dumps(_connection(pg_store))), "port": 1})
    result = q(pg_store, "runs")
    assert result.exit_code == 3 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def _connection(store: Store) -> dict:
    c = store.target.connection
    return {"type": "postgres", "host": c.host, "port": c.port, "database": c.database, "username": c.username,
            "password": c.password, "schema": c.schema}  # fmt: skip


def test_renamed_storage_tables_are_read_through_views_and_fallback(duck_store: Store) -> None:
    create_legacy_store(duck_store, runs_table="pm_runs_custom", results_table="pm_results_custom")
    duck_store.write_config(runs_table="pm_runs_custom", results_table="pm_results_custom")
    migrate_apply(duck_store.ctx, target_version=BEHIND)  # adopted under the config's names
    behind = q(duck_store, "runs", "--days", "0", "--format", "json")
    assert behind.exit_code == 0 and behind.stderr.startswith("warning:")
    assert json.loads(behind.stdout)["total"] == len(RUNS)

    migrate_apply(duck_store.ctx)  # migrates to head and builds the views over the renamed tables
    at_head = q(duck_store, "runs", "--days", "0", "--format", "json")
    assert at_head.exit_code == 0 and at_head.stderr == ""
    rows = json.loads(at_head.stdout)["rows"]
    assert [(r["run_id"], r["dataset_name"], r["metric_count"]) for r in rows] == [
        ("run-2", "orders", 0),
        ("run-1", "customers", 0),
        ("run-1", "orders", 10),
    ]
    assert rows == json.loads(behind.stdout)["rows"]  # the views and the N-1 reading agree


def test_a_new_migration_drops_and_rebuilds_the_views_for_the_new_version(
    pg_at_head: Store, package_copy: Path
) -> None:
    pg_store, package = pg_at_head, package_copy
    ctx = pg_store.with_package(package).ctx
    add_migration(package, "note", NOTE_STEPS)
    env = {"PROFILEMESH_PACKAGE_DIR": str(package)}
    behind = run_cli("query", "runs", "-c", str(pg_store.config_path), env=env)
    assert behind.exit_code == 0 and behind.stderr.startswith(f"warning: storage is at version {HEAD}, one behind")

    result = migrate_apply(ctx)
    assert [m.version for m in result.applied] == [NEXT] and "profilemesh_runs_v" in result.views
    assert pg_store.sql(f"SELECT schema_version FROM {pg_store.qualified('profilemesh_views_info')}") == [(NEXT,)]
    at_head = run_cli("query", "runs", "-c", str(pg_store.config_path), env=env)
    assert at_head.exit_code == 0 and at_head.stderr == ""

    dropped = ctx.dbt().run_operation("profilemesh_drop_query_views").result()
    assert dropped == {"dropped": sorted(VIEW_COLUMNS)}
    gone = run_cli("query", "runs", "-c", str(pg_store.config_path), env=env)
    assert gone.exit_code == 1 and "the query views are missing" in gone.stderr


def test_repair_that_finishes_a_migration_builds_the_views(duck_at_head: Store, package_copy: Path) -> None:
    from tests.test_checksums_and_repair import _interrupted_attempt

    duck_store, package = duck_at_head, package_copy
    _interrupted_attempt(duck_store, package)
    result = migrate_repair(duck_store.with_package(package).ctx)
    assert result.outcome == "succeeded" and "profilemesh_runs_v" in result.views
    assert duck_store.sql(f"SELECT schema_version FROM {duck_store.qualified('profilemesh_views_info')}") == [(NEXT,)]
    rows = run_cli("query", "runs", "-c", str(duck_store.config_path), env={"PROFILEMESH_PACKAGE_DIR": str(package)})
    assert rows.exit_code == 0 and rows.stderr == ""


def test_a_no_op_apply_rebuilds_only_views_this_package_did_not_build(store: Store) -> None:
    """At head with nothing to migrate, `migrate apply` leaves alone views this package built for this
    version; a missing view, or views another build made (a plain `dbt run` records no fingerprint, an
    edited package another one), are rebuilt."""
    first = migrate_apply(store.ctx)
    assert "profilemesh_runs_v" in first.views and first.views_current is False
    again = run_cli("migrate", "apply", "-c", str(store.config_path))
    assert again.exit_code == 0 and "query views up to date" in again.stdout and "views built" not in again.stdout

    store.sql(f"DROP VIEW {store.qualified('profilemesh_latest_metrics_v')}")  # one the CLI does not read
    assert "profilemesh_latest_metrics_v" in migrate_apply(store.ctx).views

    info = store.qualified("profilemesh_views_info")
    store.sql(f"DROP VIEW {info}")
    store.sql(
        f"CREATE VIEW {info} AS SELECT {HEAD} AS schema_version, '0.1.0' AS package_version, '' AS package_fingerprint"
    )
    assert migrate_apply(store.ctx).views_current is False  # as after `dbt run -s profilemesh`
    assert store.sql(f"SELECT package_fingerprint FROM {info}") == [(INSTALLED.fingerprint(),)]


def test_the_package_fingerprint_follows_every_package_file(tmp_path: Path) -> None:
    package = DbtPackage(copy_package(tmp_path / "pkg"))
    assert package.fingerprint() == INSTALLED.fingerprint()
    model = package.root / "dbt_profilemesh" / "models" / "query" / "profilemesh_drift_v.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- an edit\n", encoding="utf-8")
    edited = package.fingerprint()
    assert edited != INSTALLED.fingerprint()
    (package.root / "dbt_profilemesh" / "macros" / "extra.sql").write_text("{% macro x() %}{% endmacro %}\n")
    assert package.fingerprint() not in (edited, INSTALLED.fingerprint())
