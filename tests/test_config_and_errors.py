"""Bad input gets one clear line and the documented exit code; secrets never leak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from profilemesh.config import load_config
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.workdir import profile_yaml
from profilemesh.errors import ConfigError
from profilemesh.store.ledger import read_ledger
from profilemesh.store.target import resolve_storage
from tests.support.cli import run_cli
from tests.support.stores import PG_PASSWORD, PG_SUPERUSER, PgServer, Store

HOSTILE_PASSWORD = "p@ss:w/rd%#?&'\"\\ ;--"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yml", "storage:\n  connection: {type: duckdb\n")
    result = run_cli("migrate", "status", "-c", str(path))
    assert_one_line_error(result, 2, str(path), "not valid YAML", "line")


DRIFT = "storage:\n  connection:\n    type: duckdb\ndrift_detection:\n"
TABLE = DRIFT + "  tables:\n    - table: t\n"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("storage:\n  connection:\n    type: duckdb\n    hots: x\n", "storage.connection.hots", "unknown key"),
        ("storage:\n  connection:\n    type: oracle\n", "storage.connection.type", "not one of"),
        (
            "storage:\n  connection:\n    type: duckdb\n    extra_params:\n      settings: 5\n",
            "storage.connection.extra_params.settings",
            "must be a mapping",
        ),
        (
            "storage:\n  connection:\n    type: postgres\n    host: h\n    database: d\n"
            "    username: u\n    port: abc\n",
            "storage.connection.port",
            "port number",
        ),
        (
            "storage:\n  connection:\n    type: postgres\n    host: h\n    username: u\n",
            "storage.connection.database",
            "required",
        ),
        (
            "storage:\n  connection:\n    type: duckdb\n    password: ${PM_SURELY_UNSET_VAR}\n",
            "storage.connection.password",
            "PM_SURELY_UNSET_VAR is not set",
        ),
        ("storage:\n  connection:\n    type: duckdb\n  runs_table: [a]\n", "storage.runs_table", "must be a string"),
        ("environment: x\n", "storage", "missing"),
        ("bogus: 1\nstorage: {}\n", "bogus", "unknown key"),
        (
            DRIFT + "  seasonality: monthly\n",
            "drift_detection.seasonality",
            "must be one of",
        ),
        (
            DRIFT + "  tables:\n    - schema: s\n",
            "drift_detection.tables[0].table",
            "required",
        ),
        (
            TABLE + "      direction: sideways\n",
            "drift_detection.tables[0].direction",
            "must be one of",
        ),
        (
            TABLE + "      columns:\n        amount: {ignore_metrics: [median]}\n",
            "drift_detection.tables[0].columns.amount.ignore_metrics",
            "unknown metric(s) median",
        ),
        (
            TABLE + "      sensitivity: 3\n",
            "drift_detection.tables[0].sensitivity",
            "unknown key",
        ),
        (
            TABLE + "      warmup_runs: 0\n",
            "drift_detection.tables[0].warmup_runs",
            "at least 1",
        ),
    ],
)
def test_config_errors_name_the_key_and_exit_2(tmp_path: Path, text: str, key: str, message: str) -> None:
    path = write(tmp_path / "profilemesh.yml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.key == key
    result = run_cli("migrate", "status", "-c", str(path))
    assert_one_line_error(result, 2, f"{path}: {key}", message)


def test_missing_config_file_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    result = run_cli("migrate", "status", "-c", str(tmp_path / "nope.yml"))
    assert_one_line_error(result, 2, "config file not found")


def test_without_a_config_the_embedded_duckdb_default_is_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    status = run_cli("migrate", "status", "--format", "json")
    assert status.exit_code == 1
    assert str(tmp_path / "profilemesh.duckdb") in json.loads(status.stdout)["store"]
    assert not (tmp_path / "profilemesh.duckdb").exists()  # status never creates a store
    assert run_cli("migrate", "apply").exit_code == 0
    assert run_cli("migrate", "status").exit_code == 0


def test_json_config_and_env_substitution_with_default(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pm.json",
        json.dumps(
            {
                "environment": "${PM_ENV:-staging}",
                "storage": {
                    "connection": {"type": "duckdb", "filepath": "${PM_DIR}/x.duckdb"},
                    "runs_table": "my_runs",
                },
            }
        ),
    )
    config = load_config(path, env={"PM_DIR": str(tmp_path)})
    assert config.environment == "staging"
    assert config.storage.connection.filepath == str(tmp_path / "x.duckdb")
    assert config.storage.table_names["runs"] == "my_runs"


def test_password_is_escaped_in_urls_and_never_shown() -> None:
    config_text = yaml.safe_dump(
        {
            "storage": {
                "connection": {"type": "postgres", "host": "db", "database": "d", "username": "u", "password": "${PW}"}
            }
        }
    )
    path = Path("/tmp/profilemesh-test-pw.yml")
    path.write_text(config_text)
    try:
        target = resolve_storage(load_config(path, env={"PW": HOSTILE_PASSWORD}))
    finally:
        path.unlink()
    url = target.warehouse.url(target.connection)
    assert url.password == HOSTILE_PASSWORD
    assert HOSTILE_PASSWORD not in url.render_as_string(hide_password=True)
    assert HOSTILE_PASSWORD not in repr(target)
    assert HOSTILE_PASSWORD not in target.describe()
    assert HOSTILE_PASSWORD not in profile_yaml(target)


def _create_role(pg: PgServer, database: str, name: str, password: str) -> None:
    conn = pg.connect(database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', [password])
        cur.execute(f'GRANT CREATE ON DATABASE "{database}" TO "{name}"')
    conn.close()


def test_hostile_password_works_for_dbt_and_sqlalchemy_and_never_leaks(pg_store: Store, tmp_path: Path) -> None:
    _create_role(pg_store.pg, pg_store.database, "pm_writer", HOSTILE_PASSWORD)
    path = write(
        tmp_path / "pw.yml",
        yaml.safe_dump(
            {
                "storage": {
                    "connection": {
                        "type": "postgres",
                        "host": pg_store.pg.host,
                        "port": pg_store.pg.port,
                        "database": pg_store.database,
                        "username": "pm_writer",
                        "password": "${PM_TEST_PASSWORD}",
                        "schema": "pm_secret",
                    }
                }
            }
        ),
    )
    env = {"PM_TEST_PASSWORD": HOSTILE_PASSWORD}
    for args in (["migrate", "apply"], ["migrate", "status"], ["--debug", "migrate", "validate"]):
        result = run_cli(*args, "-c", str(path), env=env)
        assert result.exit_code == 0, result.stderr[-2000:]
        assert HOSTILE_PASSWORD not in result.stdout + result.stderr

    wrong = run_cli("migrate", "apply", "-c", str(path), env={"PM_TEST_PASSWORD": "wrong"})
    assert_one_line_error(wrong, 3, "password authentication failed")
    assert "wrong" not in wrong.stderr.split("pm_writer@")[0]


def test_unreachable_server_missing_database_and_missing_schema(tmp_path: Path, pg_server: PgServer) -> None:
    def config(**overrides) -> Path:
        connection = {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": pg_server.port,
            "database": "postgres",
            "username": PG_SUPERUSER,
            "password": PG_PASSWORD,
            **overrides,
        }
        return write(tmp_path / "c.yml", yaml.safe_dump({"storage": {"connection": connection}}))

    closed_port = run_cli("migrate", "apply", "-c", str(config(port=1)))
    assert_one_line_error(closed_port, 3, "postgres postgres@127.0.0.1:1/postgres")
    missing_db = run_cli("migrate", "status", "-c", str(config(database="no_such_db")))
    assert_one_line_error(missing_db, 3, "no_such_db")
    # A schema that does not exist yet is simply an empty store.
    empty_schema = run_cli("migrate", "status", "-c", str(config(schema="no_such_schema")), "--format", "json")
    assert empty_schema.exit_code == 1 and json.loads(empty_schema.stdout)["db_version"] == 0


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("--debug", "migrate", "status", "-c", str(tmp_path / "nope.yml"))
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_existing_dbt_profile_is_reused(pg_store: Store, tmp_path: Path) -> None:
    c = pg_store.target.connection
    profiles = tmp_path / "dbt"
    profiles.mkdir()
    write(
        profiles / "profiles.yml",
        yaml.safe_dump(
            {
                "warehouse": {
                    "target": "prod",
                    "outputs": {
                        "prod": {
                            "type": "postgres",
                            "host": c.host,
                            "port": "{{ env_var('PM_PORT') }}",
                            "user": c.username,
                            "password": "{{ env_var('PM_PW') }}",
                            "dbname": c.database,
                            "schema": "from_profile",
                            "threads": 4,
                        }
                    },
                }
            }
        ),
    )
    path = write(
        tmp_path / "reuse.yml", yaml.safe_dump({"storage": {"dbt_profile": "warehouse", "profiles_dir": str(profiles)}})
    )
    env = {"PM_PORT": str(c.port), "PM_PW": PG_PASSWORD}
    result = run_cli("migrate", "apply", "-c", str(path), env=env)
    assert result.exit_code == 0, result.stderr
    target = pg_store.write_config(
        connection={
            **yaml.safe_load(pg_store.config_path.read_text())["storage"]["connection"],
            "schema": "from_profile",
        }
    ).parent
    assert target.exists()
    assert read_ledger(pg_store.target).current_version == DbtPackage.installed().head

    missing = run_cli(
        "migrate",
        "status",
        "-c",
        str(
            write(
                tmp_path / "r2.yml", yaml.safe_dump({"storage": {"dbt_profile": "nope", "profiles_dir": str(profiles)}})
            )
        ),
        env=env,
    )
    assert_one_line_error(missing, 2, "storage.dbt_profile", "profile 'nope' not found")


def test_a_reused_dbt_profile_puts_the_store_where_the_project_does(tmp_path: Path) -> None:
    """storage.schema (and database) over the target's; or, given the dbt project, its profile and the
    package's profilemesh_schema var: one store, whether the CLI or the user's `dbt run` looks."""
    profiles = tmp_path / "dbt"
    profiles.mkdir()
    output = {"type": "duckdb", "path": str(tmp_path / "wh.duckdb"), "schema": "analytics"}
    write(profiles / "profiles.yml", yaml.safe_dump({"shop": {"target": "dev", "outputs": {"dev": output}}}))
    project = tmp_path / "project"
    project.mkdir()
    project_vars = {"profilemesh": {"profilemesh_schema": "pm_from_var"}}
    write(project / "dbt_project.yml", yaml.safe_dump({"name": "shop", "profile": "shop", "vars": project_vars}))

    def schema_of(**storage: str) -> str:
        path = write(tmp_path / "pm.yml", yaml.safe_dump({"storage": {"profiles_dir": str(profiles), **storage}}))
        return str(resolve_storage(load_config(path)).schema)

    assert schema_of(dbt_profile="shop") == "analytics"  # the target's own schema, as before
    assert schema_of(dbt_profile="shop", schema="pm_store") == "pm_store"
    assert schema_of(dbt_project_dir=str(project)) == "pm_from_var"  # the profile named by the project
    assert schema_of(dbt_project_dir=str(project), schema="pm_store") == "pm_store"  # the config wins
    status = run_cli("migrate", "status", "-c", str(tmp_path / "pm.yml"), "--format", "json")
    assert "pm_store" in status.stdout or "pm_store" in status.stderr  # the CLI looks there too

    with_connection = {"connection": {"type": "duckdb", "filepath": str(tmp_path / "x.duckdb")}, "schema": "s"}
    bad = run_cli(
        "migrate", "status", "-c", str(write(tmp_path / "bad.yml", yaml.safe_dump({"storage": with_connection})))
    )
    assert_one_line_error(bad, 2, "storage.schema", "set storage.connection.schema")
    nowhere = {"dbt_project_dir": str(tmp_path / "nope"), "profiles_dir": str(profiles)}
    missing = run_cli("migrate", "status", "-c", str(write(tmp_path / "np.yml", yaml.safe_dump({"storage": nowhere}))))
    assert_one_line_error(missing, 2, "storage.dbt_project_dir", "cannot read")
