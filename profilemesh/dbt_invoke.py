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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from profilemesh import testhooks
from profilemesh.connection import DBT_PASSWORD_ENV, StorageTarget, dbt_profile_output
from profilemesh.dbt_parse_cache import ParseCache, entry_key
from profilemesh.errors import CheckFailed, DatabaseError, StoreBusy, UsageError
from profilemesh.package import package_dir, package_fingerprint

_RUNNER_LOCK = threading.Lock()
# (package directory, rendered profile, vars) -> that private directory and its parse cache entry: one
# dbt parse per process each, and none at all when an earlier process saved one (dbt_parse_cache.py).
_WORKDIRS: dict[tuple[str, str, str], tuple[Path, ParseCache]] = {}
_WORKDIRS_LOCK = threading.Lock()
T = TypeVar("T")
FINGERPRINT_VAR = "profilemesh_package_fingerprint"  # recorded by profilemesh_views_info
LEASE_BUSY = "<lease>"  # marks a held Snowflake lease among busy holders
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


@dataclass
class NodeOutcome:
    """One model or test of a `dbt run`/`dbt test`: its status (success, error, pass, fail, warn, skipped)."""

    name: str
    resource_type: str
    status: str
    failures: int | None = None
    message: str | None = None


@dataclass
class BuildOutcome:
    """What `dbt run` or `dbt test` did to each selected node."""

    command: str
    select: str
    success: bool
    nodes: list[NodeOutcome] = field(default_factory=list)
    error: str | None = None

    def models(self) -> list[str]:
        return [n.name for n in self.nodes if n.resource_type == "model"]

    def problems(self) -> list[NodeOutcome]:
        return [n for n in self.nodes if n.status not in ("success", "pass")]

    def describe_failure(self) -> str:
        """One line: which nodes failed and why (or dbt's own error when no node ran)."""
        if self.problems():
            return "; ".join(
                f"{n.name}: {n.status}" + (f" ({summarize_dbt_error(n.message)})" if n.message else "")
                for n in self.problems()
            )
        return summarize_dbt_error(self.error or f"dbt {self.command} failed without an error message")


class DbtSession:
    """Runs the ProfileMesh dbt package's operations (and its models and tests) against one storage
    target. Its private target/ directory is shared with the process's other sessions on the same
    package and profile, so later invocations parse partially."""

    def __init__(self, target: StorageTarget, *, debug: bool = False, package: Path | None = None):
        self.target = target
        self.debug = debug
        self.package = package or package_dir()
        self._workdir: Path | None = None
        self._parse_cache: ParseCache | None = None
        self._vars: str | None = None
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """The package's fingerprint, read once per session (the views record it; see vars_json)."""
        if self._fingerprint is None:
            self._fingerprint = package_fingerprint(self.package)
        return self._fingerprint

    def vars_json(self) -> str:
        """The storage target's vars and the package's fingerprint, fixed for the session (dbt parses
        again whenever the vars change)."""
        if self._vars is None:
            self._vars = json.dumps({**self.target.dbt_vars(), FINGERPRINT_VAR: self.fingerprint}, sort_keys=True)
        return self._vars

    def run_operation(
        self,
        macro: str,
        args: dict[str, Any] | None = None,
        *,
        lock_timeout: float = 0.0,
        on_payload: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> OperationOutcome:
        """Run `dbt run-operation MACRO --args ARGS`; on a busy DuckDB file, retry until lock_timeout.
        on_payload sees each payload as the macro emits it (the callback runs inside the macro)."""

        def busy(outcome: OperationOutcome) -> str | None:
            if _lease_busy(outcome):
                return LEASE_BUSY  # Snowflake's lease is tried once per invocation; the waiting happens here
            return _duckdb_busy_pid(outcome) if self.target.dialect == "duckdb" else None

        return self._retry_while_busy(lambda: self._invoke(macro, args or {}, on_payload), busy, lock_timeout)

    def _retry_while_busy(
        self, attempt: Callable[[], T], busy_holder: Callable[[T], str | None], lock_timeout: float
    ) -> T:
        """Run `attempt` again while the store is busy, with backoff, until lock_timeout. A busy
        DuckDB file past the deadline is "store busy"; a held Snowflake lease returns its outcome,
        whose engine error says who holds it."""
        deadline = time.monotonic() + max(lock_timeout, 0.0)
        delay = 0.1
        while True:
            outcome = attempt()
            holder = busy_holder(outcome)
            if holder is None:
                return outcome
            if time.monotonic() >= deadline:
                if holder == LEASE_BUSY:
                    return outcome
                who = f"process {holder}" if holder else "another process"
                raise StoreBusy(
                    f"store busy: {self.target.connection.filepath} is held by {who}; "
                    f"waited {lock_timeout:g} s (raise --lock-timeout to wait longer)"
                )
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 1.0)

    def _invoke(
        self, macro: str, args: dict[str, Any], on_payload: Callable[[str, dict[str, Any]], None] | None = None
    ) -> OperationOutcome:
        outcome = OperationOutcome(macro=macro, success=False)

        def on_event(event: Any) -> None:
            name = event.info.name
            outcome.invocation_id = outcome.invocation_id or getattr(event.info, "invocation_id", None)
            if name in ("JinjaLogDebug", "JinjaLogInfo"):
                match = _SENTINEL.search(event.data.msg)
                if match:
                    kind, payload = match.group(1), json.loads(match.group(2))
                    outcome.payloads.append((kind, payload))
                    if kind == "step_done":
                        testhooks.reached(f"step:{payload['version']}:{payload['index']}")
                    if on_payload is not None:
                        on_payload(kind, payload)
                    return
            if name in ("RunningOperationCaughtError", "RunningOperationUncaughtError"):
                outcome.error = str(event.data.exc)
            if self.debug:
                _dbt_log.debug("%s", event.info.msg)

        try:
            result = self._dbt(["run-operation", macro, "--args", json.dumps(args)], on_event)
        except Exception as exc:  # dbt raising rather than reporting: still one clear line
            outcome.error = outcome.error or f"{type(exc).__name__}: {exc}"
            return outcome
        outcome.success = bool(result.success)
        if not outcome.success and outcome.error is None:
            outcome.error = _exception_text(result.exception) or "dbt failed without an error message"
        return outcome

    def run(self, select: str, *, lock_timeout: float = 0.0) -> BuildOutcome:
        """`dbt run --select SELECT`: build the selected models (the query views)."""
        return self._build("run", select, lock_timeout)

    def test(self, select: str, *, lock_timeout: float = 0.0) -> BuildOutcome:
        """`dbt test --select SELECT`: run the selected data tests."""
        return self._build("test", select, lock_timeout)

    def _build(self, command: str, select: str, lock_timeout: float) -> BuildOutcome:
        """Run a node-running command; on a busy DuckDB file (at any node), run it again until
        lock_timeout. Models are views, so running them again is harmless."""

        def busy(outcome: BuildOutcome) -> str | None:
            if self.target.dialect != "duckdb" or outcome.success:
                return None
            texts = [outcome.error or "", *(n.message or "" for n in outcome.problems())]
            return _busy_pid_in("\n".join(texts))

        return self._retry_while_busy(lambda: self._build_once(command, select), busy, lock_timeout)

    def _build_once(self, command: str, select: str) -> BuildOutcome:
        """One invocation; each node's status comes from dbt's structured result objects."""
        outcome = BuildOutcome(command=command, select=select, success=False)

        def on_event(event: Any) -> None:
            if self.debug:
                _dbt_log.debug("%s", event.info.msg)

        try:
            result = self._dbt([command, "--select", select], on_event)
        except Exception as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
            return outcome
        for node_result in getattr(result.result, "results", None) or []:
            outcome.nodes.append(
                NodeOutcome(
                    name=node_result.node.name,
                    resource_type=str(node_result.node.resource_type),
                    status=str(node_result.status),
                    failures=node_result.failures,
                    message=node_result.message,
                )
            )
        outcome.success = bool(result.success)
        if not outcome.success and result.exception is not None:
            outcome.error = _exception_text(result.exception)
        return outcome

    def _dbt(self, command: list[str], on_event: Any) -> Any:
        """One dbtRunner invocation of `command` with this session's project, profile and vars."""
        from dbt.cli.main import dbtRunner  # imported lazily: it is the slow part of start-up

        workdir = self._private_dir()
        argv = [
            *command,
            "--project-dir",
            str(self.package),
            "--profiles-dir",
            str(workdir),
            "--profile",
            PROFILE_NAME,
            "--target",
            TARGET_NAME,
            "--vars",
            self.vars_json(),
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
            result = dbtRunner(callbacks=[on_event]).invoke(argv)
            if self._parse_cache is not None:
                self._parse_cache.save()
            return result

    def _private_dir(self) -> Path:
        """profiles.yml (without the password), target/ and logs/ for this process only. Sessions of
        one process with the same package and profile share it, so dbt parses the package once and
        later invocations parse partially (about 1.4 s saved per operation); its target/ starts from
        the parse an earlier process saved for the same package, profile and vars."""
        if self._workdir is None:
            profile = {
                PROFILE_NAME: {
                    "target": TARGET_NAME,
                    "outputs": {TARGET_NAME: dbt_profile_output(self.target.connection)},
                }
            }
            text = yaml.safe_dump(profile, sort_keys=True)
            key = (str(Path(self.package).resolve()), text, self.vars_json())
            with _WORKDIRS_LOCK:
                known = _WORKDIRS.get(key)
                if known is None or not known[0].is_dir():
                    workdir = Path(tempfile.mkdtemp(prefix="profilemesh-dbt-"))
                    atexit.register(shutil.rmtree, workdir, True)
                    path = workdir / "profiles.yml"
                    path.write_text(text, encoding="utf-8")
                    path.chmod(0o600)
                    cache = ParseCache(entry_key(*key), workdir / "target")
                    cache.seed()
                    known = _WORKDIRS[key] = (workdir, cache)
            self._workdir, self._parse_cache = known
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
    return _busy_pid_in(outcome.error)


def _busy_pid_in(text: str) -> str | None:
    match = _DUCKDB_BUSY.search(text)
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
