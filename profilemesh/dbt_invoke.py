"""Running the package's dbt operations in-process, and reading their results.

dbtRunner's traps, handled here in one place:
- it is not thread-safe: every invocation holds a process-wide lock;
- every flag goes in argv; target/ and logs/ go to a private temporary directory, never into the
  package directory (which may be inside site-packages);
- run-operation discards macro return values: the engine logs JSON between sentinels in a
  debug-level event, which the callback reads from the structured event (not from log text);
- DuckDB allows one read-write process per file: dbt opens it with keep_open false, and a busy
  file is retried until the lock timeout, then reported as "store busy".
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from profilemesh.connection import DBT_PASSWORD_ENV, StorageTarget, dbt_profile_output
from profilemesh.errors import CheckFailed, DatabaseError, StoreBusy, UsageError
from profilemesh.package import package_dir

_RUNNER_LOCK = threading.Lock()
# dbt's own log, shown with --debug (the CLI routes this logger to stderr).
_dbt_log = logging.getLogger("profilemesh.dbt")
_SENTINEL = re.compile(r"<<profilemesh:(\w+)>>(.*)<</profilemesh>>", re.DOTALL)
_DUCKDB_BUSY = re.compile(r"Could not set lock on file .*?(?:\(PID (\d+)\))?", re.DOTALL)
PROFILE_NAME = "profilemesh"
TARGET_NAME = "profilemesh"


@dataclass
class OperationOutcome:
    """What one run-operation reported: its payloads in order, and dbt's error if it failed."""

    macro: str
    success: bool
    payloads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None
    invocation_id: str | None = None

    def last(self, kind: str) -> dict[str, Any] | None:
        for payload_kind, payload in reversed(self.payloads):
            if payload_kind == kind:
                return payload
        return None

    @property
    def result(self) -> dict[str, Any] | None:
        return self.last("result")


class DbtSession:
    """Runs the ProfileMesh dbt package's operations against one storage target."""

    def __init__(self, target: StorageTarget, *, debug: bool = False, package: Path | None = None):
        self.target = target
        self.debug = debug
        self.package = package or package_dir()
        self._workdir: Path | None = None

    def run_operation(
        self, macro: str, args: dict[str, Any] | None = None, *, lock_timeout: float = 0.0
    ) -> OperationOutcome:
        """Run `dbt run-operation MACRO --args ARGS`; on a busy DuckDB file, retry until lock_timeout."""
        deadline = time.monotonic() + max(lock_timeout, 0.0)
        delay = 0.1
        while True:
            outcome = self._invoke(macro, args or {})
            if _lease_busy(outcome):
                # Snowflake's lease is tried once per invocation; the waiting happens here.
                if time.monotonic() >= deadline:
                    return outcome
            else:
                busy = _duckdb_busy_pid(outcome) if self.target.dialect == "duckdb" else None
                if busy is None:
                    return outcome
                if time.monotonic() >= deadline:
                    holder = f"process {busy}" if busy else "another process"
                    raise StoreBusy(
                        f"store busy: {self.target.connection.filepath} is held by {holder}; "
                        f"waited {lock_timeout:g} s (raise --lock-timeout to wait longer)"
                    )
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 1.0)

    def _invoke(self, macro: str, args: dict[str, Any]) -> OperationOutcome:
        from dbt.cli.main import dbtRunner  # imported lazily: it is the slow part of start-up

        outcome = OperationOutcome(macro=macro, success=False)

        def on_event(event: Any) -> None:
            name = event.info.name
            outcome.invocation_id = outcome.invocation_id or getattr(event.info, "invocation_id", None)
            if name in ("JinjaLogDebug", "JinjaLogInfo"):
                match = _SENTINEL.search(event.data.msg)
                if match:
                    outcome.payloads.append((match.group(1), json.loads(match.group(2))))
                    return
            if name in ("RunningOperationCaughtError", "RunningOperationUncaughtError"):
                outcome.error = str(event.data.exc)
            if self.debug:
                _dbt_log.debug("%s", event.info.msg)

        workdir = self._private_dir()
        argv = [
            "run-operation",
            macro,
            "--args",
            json.dumps(args),
            "--project-dir",
            str(self.package),
            "--profiles-dir",
            str(workdir),
            "--profile",
            PROFILE_NAME,
            "--target",
            TARGET_NAME,
            "--vars",
            json.dumps(self.target.dbt_vars(), sort_keys=True),
            "--target-path",
            str(workdir / "target"),
            "--log-path",
            str(workdir / "logs"),
            # dbt's console log would mix with our output; with --debug it reaches stderr via logging.
            "--log-level",
            "none",
            "--log-level-file",
            "none",
            "--no-send-anonymous-usage-stats",
            "--no-use-colors",
        ]
        with _RUNNER_LOCK, _password_in_env(self.target.connection.password):
            try:
                result = dbtRunner(callbacks=[on_event]).invoke(argv)
            except Exception as exc:  # dbt raising rather than reporting: still one clear line
                outcome.error = outcome.error or f"{type(exc).__name__}: {exc}"
                return outcome
        outcome.success = bool(result.success)
        if not outcome.success and outcome.error is None:
            outcome.error = _exception_text(result.exception) or "dbt failed without an error message"
        return outcome

    def _private_dir(self) -> Path:
        """profiles.yml (without the password), target/ and logs/ for this process only."""
        if self._workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="profilemesh-dbt-"))
            atexit.register(shutil.rmtree, workdir, True)
            profile = {
                PROFILE_NAME: {
                    "target": TARGET_NAME,
                    "outputs": {TARGET_NAME: dbt_profile_output(self.target.connection)},
                }
            }
            path = workdir / "profiles.yml"
            path.write_text(yaml.safe_dump(profile, sort_keys=True), encoding="utf-8")
            path.chmod(0o600)
            self._workdir = workdir
        return self._workdir


def raise_for_outcome(outcome: OperationOutcome) -> dict[str, Any]:
    """The operation's result payload, or the error that best describes why there is none."""
    if outcome.success and outcome.result is not None:
        return outcome.result
    engine_error = outcome.last("error")
    if engine_error is not None:
        kind = engine_error.get("kind")
        message = engine_error["message"]
        if kind == "busy":
            raise StoreBusy(message)
        if kind == "usage":
            raise UsageError(message)
        raise CheckFailed(message)
    raise DatabaseError(summarize_dbt_error(outcome.error or "dbt reported no result"))


def summarize_dbt_error(text: str) -> str:
    """dbt's multi-line error as one line: the header ('Database Error') and the SQL excerpt dropped."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(("Error", "error")) and len(lines[0].split()) <= 3:
        lines = lines[1:]
    kept = []
    for line in lines:
        if line.startswith(("LINE ", "^")) or set(line) <= {"^", " "}:
            break  # PostgreSQL's / DuckDB's excerpt of the statement follows
        kept.append(line)
    return " ".join(kept[:2]) or (lines[0] if lines else text.strip())


def _exception_text(exc: BaseException | None) -> str | None:
    return None if exc is None else str(exc)


def _lease_busy(outcome: OperationOutcome) -> bool:
    error = outcome.last("error")
    return (
        error is not None
        and error.get("kind") == "busy"
        and error["message"].startswith("store busy: the migration lease")
    )


def _duckdb_busy_pid(outcome: OperationOutcome) -> str | None:
    """'' when the file is busy with no PID given, the PID when given, None when not busy."""
    if outcome.success or not outcome.error:
        return None
    match = _DUCKDB_BUSY.search(outcome.error)
    if match is None:
        return None
    return match.group(1) or ""


@contextlib.contextmanager
def _password_in_env(password: str | None):
    previous = os.environ.get(DBT_PASSWORD_ENV)
    os.environ[DBT_PASSWORD_ENV] = password or ""
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DBT_PASSWORD_ENV, None)
        else:
            os.environ[DBT_PASSWORD_ENV] = previous
