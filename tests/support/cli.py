"""The real CLI: in-process (dbtRunner included), or as a separate process through the fault launcher."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from profilemesh.cli.main import main as cli_main
from profilemesh.hooks import NO_HOOKS, Hooks

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


def spawn_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`profilemesh ARGS` as a separate process (concurrency, crashes): the same entry point, started by the
    test launcher so that PROFILEMESH_TEST_CRASH_AT / _PAUSE_AT in `env` inject faults (faults.py)."""
    return subprocess.Popen(
        [sys.executable, str(FAULTS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@dataclass(frozen=True)
class QuickstartRun:
    """`profilemesh quickstart` run once through the CLI: its directory and what it printed."""

    directory: Path
    result: CliResult
