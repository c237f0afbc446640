"""Separate CLI processes without paying Python's and dbt's start-up each time.

A test that needs the CLI as its own process (crashes, concurrency, locks held by another process)
used to start a new interpreter that imported click, SQLAlchemy, dbt and the adapters: about 2.7 s of
CPU before the first line of the command, times several dozen such processes in a run. Here each test process
keeps one multiprocessing *forkserver* that imported all of that once; each CLI process is forked from
it, so it is a real, separate process (its own pid, connections, locks and SIGKILL) that starts warm.

The child runs the same entry point as `tests/support/faults.py` (the CLI's `main` with the fault
hooks), with the environment it is given, its stdout and stderr in files that `communicate()` reads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
from multiprocessing.context import ForkServerContext
from pathlib import Path

PRELOAD = [
    "tests.support.faults",  # the CLI's main and the fault hooks
    "profilemesh.api",
    "profilemesh.cli.migrate",
    "profilemesh.cli.profile",
    "profilemesh.cli.retention",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.adapters.postgres",
    "dbt.adapters.snowflake",
    "sqlalchemy",
    "duckdb_engine",
    "psycopg2",
]
_context: ForkServerContext | None = None


def _warm_context() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


def _child(argv: list[str], env: dict[str, str], out: str, err: str) -> None:
    """In the forked process: the environment, the output files, then the CLI."""
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # TMPDIR as given, not as the forkserver first saw it
    for handler in list(logging.root.handlers):  # logging as a new interpreter has it (--debug configures it)
        logging.root.removeHandler(handler)
    logging.root.setLevel(logging.WARNING)
    for fd, path in ((1, out), (2, err)):
        file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(file, fd)
        os.close(file)
    from tests.support.faults import CRASH_ENV, PAUSE_ENV, FaultHooks, main

    code = main(argv, hooks=FaultHooks(env.get(CRASH_ENV), env.get(PAUSE_ENV)))
    sys.stdout.flush()
    sys.stderr.flush()
    raise SystemExit(code)


class CliProcess:
    """The subprocess.Popen calls the tests use (wait, poll, communicate, returncode, pid, signals), over
    a process forked from the warm forkserver. A signal's death reads as -signum, as with Popen."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self._dir = Path(tempfile.mkdtemp(prefix="profilemesh-cli-"))
        self._out, self._err = self._dir / "stdout", self._dir / "stderr"
        self._process = _warm_context().Process(
            target=_child, args=(args, env, str(self._out), str(self._err)), daemon=False
        )
        self._process.start()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(["profilemesh", *self.args], timeout or 0)
        return self._process.exitcode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        return self._read(self._out), self._read(self._err)

    @staticmethod
    def _read(path: Path) -> str:
        return path.read_text(errors="replace") if path.exists() else ""

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self._process.kill()

    def terminate(self) -> None:
        self._process.terminate()

    def __del__(self) -> None:
        if getattr(self, "_process", None) is not None and self._process.exitcode is not None:
            for path in (self._out, self._err):
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self._dir.rmdir()
