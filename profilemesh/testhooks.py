"""Test-only fault injection, driven by environment variables. Never set these in production.

PROFILEMESH_TEST_CRASH_AT names one point where the process kills itself with SIGKILL (no cleanup,
no atexit, no rollback sent: what a power cut or the OOM killer does):
- ``step:<version>:<k>``: right after step k (1-based) of migration <version> has run its SQL,
  as reported by the engine's ``step_done`` event (the dbtRunner callback runs synchronously
  inside the macro, so nothing after that step has been sent to the warehouse);
- ``profile:before_commit``: after `profile` has inserted a run's rows, before it commits.

PROFILEMESH_TEST_PAUSE_AT = ``step:<version>:<k>:<seconds>`` (comma-separated, several points) sleeps
there instead: a slow step, to hold the lock for a while (writers vs migrations, lease heartbeat
and fencing).

The crash suite (tests/test_crash_injection.py) runs every step of every migration this way.
"""

from __future__ import annotations

import os
import signal
import time

CRASH_ENV = "PROFILEMESH_TEST_CRASH_AT"
PAUSE_ENV = "PROFILEMESH_TEST_PAUSE_AT"


def reached(point: str) -> None:
    """Called at named points; does nothing unless a test asked for a crash or pause there."""
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
    for pause in filter(None, os.environ.get(PAUSE_ENV, "").split(",")):
        where, _, seconds = pause.strip().rpartition(":")
        if where == point:
            time.sleep(float(seconds))
