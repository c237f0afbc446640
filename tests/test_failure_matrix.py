"""The bad-input matrix: every broken configuration and every broken connection, for each of
`migrate status`, `migrate apply`, `profile` and `query runs`, gives one line that says what is wrong,
the documented exit code (2 usage/config, 3 connection/database, 1 a store state that refuses),
no traceback without --debug, and never the password: not on stdout, not on stderr, not in any file
dbt or ProfileMesh wrote (the private dbt directories with profiles.yml, target/ and logs/, and the
working directory)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from profilemesh.dbt import parse_cache, workdir
from tests.support.cli import run_cli
from tests.support.stores import PgServer, Store

COMMANDS = (("migrate", "status"), ("profile",), ("query", "runs"), ("migrate", "apply"))  # in this order
# A password no other output could contain by chance, with characters that need escaping everywhere.
SECRET = f"Pm-{uuid.uuid4().hex[:12]}-s3cr3t'\"%;--@/"


def assert_clean_failure(result, code: int, fragment: str, secret: str | None = None) -> None:
    assert result.exit_code == code, (code, result.stdout, result.stderr)
    if code not in (0, 1) or result.stderr:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr + result.stdout, (fragment, result.stderr)
    if secret:
        assert secret not in result.stdout + result.stderr


def assert_secret_in_no_file(secret: str, *roots: Path) -> int:
    """Grep every file under the roots (every private dbt directory of this process, and the dbt
    parse cache shared between processes)."""
    checked = 0
    cache = parse_cache.cache_dir()
    private = [known.path for known in workdir._WORKDIRS.values()]
    for root in [*roots, *private, *([cache] if cache and cache.is_dir() else [])]:
        for path in Path(root).rglob("*"):
            if path.is_file():
                checked += 1
                assert secret.encode() not in path.read_bytes(), path
    return checked


# --- configuration: exit 2, naming the file and the key -------------------------------------------

DUCK = "storage:\n  connection: {type: duckdb, filepath: x.duckdb}\n"
CONFIG_CASES = {
    # case: (config text, the one line must contain)
    "malformed YAML": ("storage:\n  connection: {type: duckdb\n", "not valid YAML (line 3, column 1)"),
    "duplicate key": (DUCK + DUCK, "not valid YAML (line 3, column 1): duplicate key 'storage'"),
    "wrong type (list)": ("environment: [a, b]\n" + DUCK, "environment: must be a string, not list"),
    "wrong type (port)": (
        "storage:\n  connection: {type: postgres, host: h, database: d, username: u, port: yes}\n",
        "storage.connection.port: must be a port number",
    ),
    "unknown key, close match": (
        "storage:\n  connection: {type: postgres, hots: h, database: d, username: u}\n",
        "storage.connection.hots: unknown key (did you mean 'host'?",
    ),
    "unknown top-level key": ("enviroment: prod\n" + DUCK, "enviroment: unknown key (did you mean 'environment'?"),
    "unknown profiling key": (
        DUCK + "profiling: {table: [a]}\n",
        "profiling.table: unknown key (did you mean 'tables'?",
    ),
    "missing env var": (
        "storage:\n  connection: {type: postgres, host: h, database: d, username: u, password: '${PM_MATRIX_UNSET}'}\n",
        "storage.connection.password: environment variable PM_MATRIX_UNSET is not set",
    ),
    "quote in a storage name": (DUCK + "  runs_table: 'a\"b'\n", "storage.runs_table: 'a\"b' must not contain"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_config_matrix(tmp_path: Path, case: str) -> None:
    text, fragment = CONFIG_CASES[case]
    path = tmp_path / "profilemesh.yml"
    path.write_text(text)
    for command in COMMANDS:
        result = run_cli(*command, "-c", str(path))
        assert_clean_failure(result, 2, f"error: {path}: {fragment}")
    assert not (tmp_path / "x.duckdb").exists()  # nothing was created


# --- connections: exit 3 (status reports a missing store as pending: 1), never the password -------------------

#  case                      migrate status  profile  query runs  migrate apply   what the line says
CONNECTION_MATRIX = {
    "unreachable host":      ((3, 3, 3, 3), "could not translate host name"),
    "wrong port":            ((3, 3, 3, 3), "Connection refused"),
    "wrong password":        ((3, 3, 3, 3), "password authentication failed"),
    "missing database":      ((3, 3, 3, 3), "does not exist"),
    "read-only user":        ((0, 3, 0, 0), "permission denied"),  # apply: at head, views current: nothing to write
    "read-only, empty db":   ((1, 3, 3, 3), "permission denied for database"),
    "missing schema":        ((1, 3, 3, 0), "run `profilemesh migrate apply`"),
}  # fmt: skip


def _role(pg: PgServer, database: str, name: str, password: str, grants: list[str]) -> None:
    conn = pg.connect(database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', [password])
        for grant in grants:
            cur.execute(grant.format(role=f'"{name}"'))
    conn.close()


def test_connection_matrix(pg_at_head: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg_store = pg_at_head  # the store ProfileMesh's own user migrated
    pg, database = pg_store.pg, pg_store.database
    monkeypatch.chdir(tmp_path)
    suffix = uuid.uuid4().hex[:8]
    writer, reader = f"pm_writer_{suffix}", f"pm_reader_{suffix}"
    pg_store.sql("CREATE TABLE public.t (i integer)")
    _role(pg, database, writer, SECRET, ["GRANT CREATE ON DATABASE " + f'"{database}"' + " TO {role}"])
    _role(
        pg,
        database,
        reader,
        SECRET,
        [
            f'GRANT USAGE ON SCHEMA "{pg_store.schema}" TO {{role}}',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{pg_store.schema}" TO {{role}}',
            "GRANT SELECT ON public.t TO {role}",
        ],
    )
    empty_db = f"pm_empty_{suffix}"
    pg_store.sql(f'CREATE DATABASE "{empty_db}"')

    base = {
        "type": "postgres",
        "host": pg.host,
        "port": pg.port,
        "database": database,
        "username": writer,
        "password": "${PM_MATRIX_PASSWORD}",
        "schema": pg_store.schema,
    }
    connections = {
        "unreachable host": {"host": "pm-unreachable.invalid"},
        "wrong port": {"port": 1},
        "wrong password": {"username": "postgres"},
        "missing database": {"database": f"pm_missing_{suffix}"},
        "read-only user": {"username": reader},
        "read-only, empty db": {"username": reader, "database": empty_db},
        "missing schema": {"schema": f"pm_missing_schema_{suffix}"},
    }
    env = {"PM_MATRIX_PASSWORD": SECRET}
    observed = {}
    for case, overrides in connections.items():
        path = tmp_path / f"{case.replace(' ', '_').replace(',', '')}.yml"
        config = {
            "environment": "test",
            "storage": {"connection": {**base, **overrides}},
            "profiling": {"tables": ["public.t"]},
        }
        path.write_text(yaml.safe_dump(config))
        codes, fragment = CONNECTION_MATRIX[case]
        results = [run_cli(*command, "-c", str(path), env=env) for command in COMMANDS]
        observed[case] = tuple(r.exit_code for r in results)
        for result, code in zip(results, codes, strict=True):
            if code != 0:
                assert_clean_failure(result, code, "error: " if code > 1 else "", SECRET)
            assert SECRET not in result.stdout + result.stderr
        assert fragment in "".join(r.stderr for r in results), (case, [r.stderr for r in results])
    assert observed == {case: codes for case, (codes, _) in CONNECTION_MATRIX.items()}

    # --debug shows a traceback, still without the password, also from inside dbt.
    debug = run_cli("--debug", "migrate", "apply", "-c", str(tmp_path / "read-only_empty_db.yml"), env=env)
    assert debug.exit_code == 3 and "Traceback" in debug.stderr and SECRET not in debug.stdout + debug.stderr
    assert assert_secret_in_no_file(SECRET, tmp_path) > 0
    assert not (tmp_path / "logs").exists() and not (tmp_path / "target").exists()


def test_duckdb_file_problems(tmp_path: Path) -> None:
    """A path that is a directory or not a DuckDB file: exit 3, and the file is never overwritten."""
    (tmp_path / "a_directory").mkdir()
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database" * 100)
    for filepath, fragment in (("a_directory", "Is a directory"), ("garbage.duckdb", "not a valid DuckDB database")):
        path = tmp_path / "pm.yml"
        path.write_text(yaml.safe_dump({"storage": {"connection": {"type": "duckdb", "filepath": filepath}}}))
        for command in COMMANDS:
            assert_clean_failure(run_cli(*command, "-c", str(path)), 3, fragment)
    assert garbage.read_bytes() == b"not a database" * 100
