"""Running the package's dbt operations (and its models and tests) in-process, and reading their results.

dbtRunner's traps, handled here in one place:
- it is not thread-safe: every invocation holds a process-wide lock;
- every flag goes in argv; target/ and logs/ go to a private temporary directory, never into the
  package directory (which may be inside site-packages);
- run-operation discards macro return values: the engine logs JSON between sentinels in a
  debug-level event, which the callback reads from the structured event (not from log text);
- DuckDB allows one read-write process per file: dbt opens it with keep_open false, and a busy
  file is retried until the lock timeout, then reported as "store busy";
- dbt-common names the source of each adapter behavior flag with `inspect.stack()` (which reads the
  source of every frame on the stack) even when the flag names its source: `_cheap_flag_source`
  gives the same answer from the frames' globals.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from profilemesh.dbt.outcomes import BuildOutcome, NodeOutcome, OperationOutcome
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.workdir import DBT_PASSWORD_ENV, private_workdir, storage_vars, variables_in_env
from profilemesh.errors import StoreBusy
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.store.target import StorageTarget

# dbtRunner is not thread-safe: every in-process dbt invocation of ProfileMesh holds this lock.
# Every in-process dbt invocation: no console or file log (it would mix with our output), no usage
# statistics sent, no colour codes.
QUIET_FLAGS = (
    "--log-level",
    "none",
    "--log-level-file",
    "none",
    "--no-send-anonymous-usage-stats",
    "--no-use-colors",
)
RUNNER_LOCK = threading.Lock()


def _cheap_flag_source() -> str:
    """dbt-common's BehaviorFlagRendered._default_source without inspect.stack(): the module of the
    nearest caller outside dbt_common.behavior_flags."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != "dbt_common.behavior_flags":
            return str(name)
        frame = frame.f_back
    return "Unknown"


def speed_up_behavior_flags() -> None:
    try:
        from dbt_common.behavior_flags import BehaviorFlagRendered
    except ImportError:  # pragma: no cover - a dbt-common without behavior flags
        return
    if callable(getattr(BehaviorFlagRendered, "_default_source", None)):
        BehaviorFlagRendered._default_source = staticmethod(_cheap_flag_source)  # type: ignore[method-assign]


T = TypeVar("T")
# dbt's own log, shown with --debug (the CLI routes this logger to stderr).
_dbt_log = logging.getLogger("profilemesh.dbt")
_SENTINEL = re.compile(r"<<profilemesh:(\w+)>>(.*)<</profilemesh>>", re.DOTALL)
_CAUGHT = ("RunningOperationCaughtError", "RunningOperationUncaughtError")
# The package's fingerprint reaches profilemesh_views_info through this environment variable, not a var:
# dbt parses the whole project again when a var changes, and only the files that read an environment
# variable when it changes.
FINGERPRINT_ENV = "PROFILEMESH_PACKAGE_FINGERPRINT"
# The package's models are the query views; `dbt run -s profilemesh` in a user's project builds the same.
VIEWS_SELECTOR = "package:profilemesh"


class DbtSession:
    """Runs the ProfileMesh dbt package's operations (and its models and tests) against one storage
    target. Its private target/ directory is shared with the process's other sessions on the same
    package, profile and vars, so later invocations parse partially."""

    def __init__(self, target: StorageTarget, package: DbtPackage, *, debug: bool = False, hooks: Hooks = NO_HOOKS):
        self.target = target
        self.package = package
        self.debug = debug
        self.hooks = hooks
        self.fingerprint = package.fingerprint()
        # Fixed for the store: dbt parses the whole project again whenever the vars change.
        self.vars_json = json.dumps(storage_vars(target), sort_keys=True)

    def run_operation(
        self,
        macro: str,
        args: dict[str, Any] | None = None,
        *,
        lock_timeout: float = 0.0,
        on_payload: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> OperationOutcome:
        """`dbt run-operation MACRO --args ARGS`; while the store is busy (a DuckDB file another process
        holds, a Snowflake lease), run it again until lock_timeout. on_payload (and the session's hooks)
        see each payload as the macro emits it: the callback runs inside the macro."""

        def busy(outcome: OperationOutcome) -> bool | StoreBusy | None:
            if outcome.lease_held:
                return None  # past the deadline, the engine's own refusal says who holds the lease
            if outcome.success or not outcome.error:
                return False
            return self._file_busy(outcome.error)

        return self._retry_while_busy(lambda: self._invoke(macro, args or {}, on_payload), busy, lock_timeout)

    def run(self, select: str, *, lock_timeout: float = 0.0) -> BuildOutcome:
        """`dbt run --select SELECT`: build the selected models (the query views)."""
        return self._build("run", select, lock_timeout)

    def test(self, select: str, *, lock_timeout: float = 0.0) -> BuildOutcome:
        """`dbt test --select SELECT`: run the selected data tests."""
        return self._build("test", select, lock_timeout)

    # --- retrying while busy ------------------------------------------------------------------------

    def _file_busy(self, text: str) -> bool | StoreBusy:
        holder = self.target.warehouse.busy_holder(text)
        if holder is None:
            return False
        return StoreBusy(f"store busy: {self.target.connection.filepath} is held by {holder.describe()}")

    def _retry_while_busy(
        self, attempt: Callable[[], T], busy: Callable[[T], bool | StoreBusy | None], lock_timeout: float
    ) -> T:
        """Run `attempt` again while `busy` says the store is busy, with backoff, until lock_timeout. Past
        the deadline a busy file is "store busy"; a held lease (busy returns None) returns its outcome."""
        deadline = time.monotonic() + max(lock_timeout, 0.0)
        delay = 0.1
        while True:
            outcome = attempt()
            verdict = busy(outcome)
            if verdict is False:
                return outcome
            if time.monotonic() >= deadline:
                if isinstance(verdict, StoreBusy):
                    raise StoreBusy(f"{verdict}; waited {lock_timeout:g} s (raise --lock-timeout to wait longer)")
                return outcome
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 1.0)

    # --- one invocation ------------------------------------------------------------------------------

    def _invoke(
        self, macro: str, args: dict[str, Any], on_payload: Callable[[str, dict[str, Any]], None] | None
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
                    self.hooks.engine_event(kind, payload)
                    if on_payload is not None:
                        on_payload(kind, payload)
                    return
            if name in _CAUGHT:
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
            outcome.error = str(result.exception) if result.exception is not None else "dbt failed without an error"
        return outcome

    def _build(self, command: str, select: str, lock_timeout: float) -> BuildOutcome:
        """A node-running command; on a busy DuckDB file (at any node), run it again until lock_timeout.
        Models are views, so running them again is harmless."""

        def busy(outcome: BuildOutcome) -> bool | StoreBusy | None:
            return False if outcome.success else self._file_busy(outcome.texts())

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
            outcome.error = str(result.exception)
        return outcome

    def _dbt(self, command: list[str], on_event: Callable[[Any], None]) -> Any:
        """One dbtRunner invocation of `command` with this session's project, profile and vars."""
        from dbt.cli.main import dbtRunner  # imported lazily: it is the slow part of start-up

        speed_up_behavior_flags()

        workdir = private_workdir(self.target, self.package, self.vars_json)
        argv = [
            *command,
            "--project-dir",
            str(self.package.root),
            *workdir.argv(),
            "--vars",
            self.vars_json,
            # dbt's console log would mix with our output; with --debug it reaches stderr via logging.
            *QUIET_FLAGS,
        ]
        environment = {DBT_PASSWORD_ENV: self.target.connection.password or "", FINGERPRINT_ENV: self.fingerprint}
        with RUNNER_LOCK, variables_in_env(environment):
            if workdir.manifest is None or workdir.manifest_fingerprint != self.fingerprint:
                # The package changed since this directory's parse: dbt parses the changed files again.
                workdir.manifest, workdir.manifest_fingerprint = self._parse(argv[len(command) :]), self.fingerprint
            result = dbtRunner(manifest=workdir.manifest, callbacks=[on_event]).invoke(argv)
            workdir.parse_cache.save()
            return result

    def _parse(self, flags: list[str]) -> Any:
        """The package's manifest (from the saved parse when dbt finds it current), or None when it does
        not parse: the command then runs without one and reports dbt's own error."""
        from dbt.cli.main import dbtRunner

        def on_event(event: Any) -> None:
            if self.debug:
                _dbt_log.debug("%s", event.info.msg)

        parsed = dbtRunner(callbacks=[on_event]).invoke(["parse", *flags, "--no-write-json"])
        return parsed.result if parsed.success else None
