"""Observers of a command's progress. Production passes the no-op `Hooks`; a program can subclass it to
watch a migration step by step, and the test suite injects faults through it (tests/support/faults.py)
instead of through code shipped in the wheel."""

from __future__ import annotations

from typing import Any


class Hooks:
    """Every method is called synchronously at the point it names, and does nothing here."""

    def engine_event(self, kind: str, payload: dict[str, Any]) -> None:
        """A dbt operation emitted a payload (`step_done` after a migration step's SQL ran, `retention_batch`
        after a retention batch committed, ...): called inside the operation, before its next statement."""

    def before_commit(self, writer: str) -> None:
        """A writer (`profile`) has sent its rows and is about to commit them."""


NO_HOOKS = Hooks()
