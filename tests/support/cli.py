"""The real CLI: in-process (dbtRunner included), or as a separate process through the fault launcher."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from profilemesh.cli.main import main as cli_main
from profilemesh.hooks import NO_HOOKS, Hooks
from tests.support.launcher import CliProcess

FAULTS = Path(__file__).with_name("faults.py")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None, hooks: Hooks = NO_HOOKS) -> CliResult:
    """`profilemesh ARGS` in this process, its output captured; `hooks` observe the command (or break it)."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    if env:
        os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main(list(args), hooks=hooks)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return CliResult(code, out.getvalue(), err.getvalue())


def spawn_cli(*args: str, env: dict[str, str] | None = None) -> CliProcess:
    """`profilemesh ARGS` as a separate process (concurrency, crashes): the CLI's entry point with the fault
    hooks, so that PROFILEMESH_TEST_CRASH_AT / _PAUSE_AT in `env` inject faults (faults.py). The process
    is forked from a warm launcher (launcher.py), which imported dbt once for the whole test process."""
    return CliProcess(list(args), {**os.environ, **(env or {})})


@dataclass(frozen=True)
class QuickstartRun:
    """`profilemesh quickstart` run once through the CLI: its directory and what it printed."""

    directory: Path
    result: CliResult
