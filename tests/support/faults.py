"""Test-only launcher: the profilemesh CLI with hooks that inject faults (nothing of this ships in the wheel).

    python tests/support/faults.py migrate apply -c profilemesh.yml

PROFILEMESH_TEST_CRASH_AT names one point where the process kills itself with SIGKILL (no cleanup, no
atexit, no rollback sent: what a power cut or the OOM killer does):
- `step:<version>:<k>`: right after step k (1-based) of migration <version> has run its SQL, as the
  engine's `step_done` payload reports (the callback runs synchronously inside the macro, so nothing after
  that step has been sent to the warehouse);
- `retention:children_deleted:<n>` / `retention:batch:<n>`: inside retention batch n, after its results
  and events are deleted / after the batch committed;
- `profile:before_commit`: after `profile` has sent a run's rows, before it commits;
- `alerts:before_commit`: after `alert` has sent a message, before it commits the delivery's outcome.

PROFILEMESH_TEST_PAUSE_AT = `<point>:<seconds>` (comma-separated, several points) sleeps there instead: a
slow step, to hold the lock for a while (writers vs migrations, lease heartbeat and fencing).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from profilemesh.cli.main import main
from profilemesh.hooks import Hooks

CRASH_ENV = "PROFILEMESH_TEST_CRASH_AT"
PAUSE_ENV = "PROFILEMESH_TEST_PAUSE_AT"


class FaultHooks(Hooks):
    def __init__(self, crash_at: str | None, pauses: str | None):
        self.crash_at = crash_at
        self.pauses = [p.strip().rpartition(":") for p in (pauses or "").split(",") if p.strip()]

    def engine_event(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "step_done":
            self._reached(f"step:{payload['version']}:{payload['index']}")
        elif kind == "retention_children_deleted":
            self._reached(f"retention:children_deleted:{payload['batch']}")
        elif kind == "retention_batch":
            self._reached(f"retention:batch:{payload['batch']}")

    def before_commit(self, writer: str) -> None:
        self._reached(f"{writer}:before_commit")

    def _reached(self, point: str) -> None:
        if point == self.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        for where, _, seconds in self.pauses:
            if where == point:
                time.sleep(float(seconds))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], hooks=FaultHooks(os.environ.get(CRASH_ENV), os.environ.get(PAUSE_ENV))))
