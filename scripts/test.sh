#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs it:
# PostgreSQL 15 server binaries (the suite starts and stops its own throwaway cluster on 127.0.0.1),
# a virtualenv with ProfileMesh and its test extras, ruff, and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL 15 server binaries, and the hll extension (approximate distinct counts).
if [ -z "${PROFILEMESH_PG_BINDIR:-}" ] && { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
     || ! ls /usr/share/postgresql/*/extension/hll.control >/dev/null 2>&1; }; then
  echo "== installing PostgreSQL server binaries and the hll extension"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 postgresql-15-hll >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "== installing profilemesh[test]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== pytest"
set +e
# Two workers (the machines have two cores); each starts its own PostgreSQL cluster and emulator.
# loadgroup: the tests on the quickstart's store share one worker (tests/conftest.py); the 25 slowest are listed.
.venv/bin/python -m pytest -n "${PROFILEMESH_TEST_WORKERS:-2}" --dist loadgroup --durations=25 "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
