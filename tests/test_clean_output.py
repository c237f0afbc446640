"""DuckDB prints a progress bar to the process's standard output (a terminal or not) for any query over
`progress_bar_time` (2 s by default), which would land in the middle of `--format json` (and once broke
a test reading a child's JSON under load). Every DuckDB connection ProfileMesh opens, its own and dbt's,
turns it off. The checks run in child processes: under pytest, DuckDB starts with the bar off."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import yaml

from profilemesh.dbt.workdir import profile_yaml
from tests.support.stores import Store

SETTING = "SELECT current_setting('enable_progress_bar')"
_PLAIN = textwrap.dedent(
    f"""
    import duckdb
    conn = duckdb.connect()
    default = conn.execute("{SETTING}").fetchone()[0]
    conn.execute("SET progress_bar_time = 0")  # DuckDB takes it as turning the bar on, too
    conn.execute("SELECT count(DISTINCT a % 1000003) FROM range(20000000) t(a)").fetchall()
    print(default)
    """
)
_OURS = textwrap.dedent(
    f"""
    import json, sys
    from profilemesh.context import Context
    target = Context.load(sys.argv[1]).target
    seen = []
    for read_only in (False, True):  # the store's writers; its readers and the sources
        engine = target.warehouse.create_engine(target.connection, read_only=read_only)
        with engine.connect() as conn:
            seen.append(conn.exec_driver_sql("{SETTING}").scalar())
        engine.dispose()
    print(json.dumps(seen))
    """
)


def test_a_plain_duckdb_connection_draws_the_bar_on_stdout() -> None:
    """The control: outside pytest, DuckDB starts with the bar on, and draws it on file descriptor 1 once a
    query outlasts progress_bar_time."""
    child = subprocess.run([sys.executable, "-c", _PLAIN], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.endswith("True\n") and "%" in child.stdout


def test_profilemeshs_duckdb_connections_have_it_off(duck_at_head: Store) -> None:
    argv = [sys.executable, "-c", _OURS, str(duck_at_head.config_path)]
    child = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == [False, False]


def test_dbt_duckdb_is_told_to_keep_it_off_unless_the_connection_says_otherwise(duck_at_head: Store) -> None:
    """dbt-duckdb SETs a profile's `settings` on every cursor; a user's own settings are kept and win."""
    target = duck_at_head.target

    def settings() -> dict[str, object]:
        output = yaml.safe_load(profile_yaml(target))["profilemesh"]["outputs"]["profilemesh"]
        return dict(output["settings"])

    assert settings() == {"enable_progress_bar": False}
    target.connection.extra_params["settings"] = {"threads": 2}
    assert settings() == {"enable_progress_bar": False, "threads": 2}
    target.connection.extra_params["settings"] = {"enable_progress_bar": True}
    assert settings() == {"enable_progress_bar": True}
