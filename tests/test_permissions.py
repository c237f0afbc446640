"""Roles on PostgreSQL, as docs/configuration.md ("Permissions") grants them: a role that may not read
the storage schema is told so, by the CLI and by the dbt package in the same words (never "no storage"
or "version 0"); the documented grants are enough for a BI reader and for the CLI's writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from profilemesh.api import Context, detect_drift, profile, query_runs, retention
from profilemesh.errors import DatabaseError, ProfileMeshError
from profilemesh.retention.operation import RetentionPolicy
from tests.support.cli import run_cli
from tests.support.stores import Store


def _as_role(store: Store, tmp_path: Path, role: str) -> Path:
    store.sql(f'DROP ROLE IF EXISTS "{role}"')
    store.sql(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'secret-{role}'")
    data = yaml.safe_load(store.config_path.read_text())
    data["storage"]["connection"].update(username=role, password=f"secret-{role}")
    data["source"] = dict(data["storage"]["connection"], schema="src")
    data["profiling"] = {"tables": [{"schema": "src", "table": "orders"}]}
    path = tmp_path / f"{role}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _refusal(call) -> str:
    with pytest.raises(ProfileMeshError) as info:
        call()
    return str(info.value)


def test_a_role_without_grants_is_told_so_and_the_documented_grants_suffice(pg_at_head: Store, tmp_path: Path) -> None:
    store, schema = pg_at_head, pg_at_head.schema
    store.sql('CREATE SCHEMA "src"')
    store.sql('CREATE TABLE "src"."orders" AS SELECT g AS id FROM generate_series(1, 10) g')

    reader = _as_role(store, tmp_path, "pm_reader")
    denied = run_cli("query", "runs", "-c", str(reader))
    assert denied.exit_code == 3 and denied.stderr.count("\n") == 1, denied.stderr
    expected = (
        f"role pm_reader cannot read schema {schema} (permission denied): grant it USAGE on the schema and "
        "SELECT on its tables (docs/configuration.md, Permissions)"
    )
    assert denied.stderr == f"error: {expected}\n"
    for command in (("migrate", "status"), ("migrate", "apply"), ("drift",)):
        refused = run_cli(*command, "-c", str(reader))
        assert (refused.exit_code, refused.stderr) == (3, f"error: {expected}\n"), command
    ctx = Context.load(reader)
    python_side = _refusal(lambda: profile(ctx))
    dbt_side = _refusal(lambda: retention(ctx, RetentionPolicy(keep_days=1), apply=True))  # the package's check
    assert python_side == dbt_side == expected

    # The BI reader's grants (docs/configuration.md), given by `migrate apply --grant-read`: the views
    # read, nothing written.
    granted = run_cli("migrate", "apply", "--grant-read", "pm_reader", "-c", str(store.config_path))
    assert granted.exit_code == 0, granted.stderr
    assert "granted pm_reader read access to the views and storage tables" in granted.stdout
    assert query_runs(ctx).rows == []
    with pytest.raises(DatabaseError, match="permission denied"):
        profile(Context.load(reader))

    # The CLI writer's grants: profile, drift (and accept) write; the source is the writer's to read.
    writer = _as_role(store, tmp_path, "pm_writer")
    for grant in (
        f'GRANT USAGE ON SCHEMA "{schema}" TO pm_writer',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO pm_writer',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO pm_writer',
        'GRANT USAGE ON SCHEMA "src" TO pm_writer',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "src" TO pm_writer',
    ):
        store.sql(grant)
    written = Context.load(writer)
    assert profile(written).failed == []
    assert detect_drift(written).tables_checked == ["src.orders"]
    assert [r["dataset_name"] for r in query_runs(ctx).rows] == ["orders"]  # and the reader sees it


def test_grant_read_is_refused_on_duckdb_which_has_no_roles(duck_at_head: Store) -> None:
    refused = run_cli("migrate", "apply", "--grant-read", "bi_reader", "-c", str(duck_at_head.config_path))
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: --grant-read: duckdb has no roles; who may read the store is who may read its file\n"
    )
