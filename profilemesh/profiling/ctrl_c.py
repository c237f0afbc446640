"""Ctrl-C while profiling is never lost. A driver that stops its running statement on Ctrl-C swallows
the KeyboardInterrupt when that statement ends before the stop lands (psycopg2's wait callback sends
the server a cancel and goes on waiting; DuckDB interrupts its query), a short statement most of all:
an EXPLAIN for the row estimate, a statistics read for the cost record. So the press is noted here,
and `check()` raises it between statements, before the next one can run for minutes."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class CtrlC:
    def __init__(self) -> None:
        self.pressed = False

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt


@contextlib.contextmanager
def noted() -> Iterator[CtrlC]:
    """While profiling: Ctrl-C is noted, then handled as before (by default, KeyboardInterrupt)."""
    state = CtrlC()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield state  # a signal handler can only be set in the main thread; an ignored Ctrl-C stays ignored
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        state.pressed = True
        previous(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
