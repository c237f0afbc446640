"""Exit codes that only a broken or interrupted command reaches: a bug exits 4 (not 1, "a check failed"),
Ctrl-C exits 130, each with one line on stderr, and neither leaves a row of the run behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from profilemesh.errors import EXIT_INTERNAL, EXIT_INTERRUPTED
from profilemesh.hooks import Hooks
from tests.support.cli import run_cli
from tests.support.stores import Store
from tests.support.writes import contents, profile_config


class FailBeforeCommit(Hooks):
    """Raises `error` when `profile` has sent its rows and is about to commit them."""

    def __init__(self, error: BaseException):
        self.error = error

    def before_commit(self, writer: str) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (RuntimeError("boom"), EXIT_INTERNAL, "error: internal error, RuntimeError: boom (a bug in ProfileMesh"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "error: interrupted"),
    ],
    ids=["bug", "ctrl-c"],
)
def test_a_bug_or_an_interrupt_mid_run_exits_with_its_own_code_and_stores_nothing(
    store_at_head: Store, tmp_path: Path, error: BaseException, code: int, line: str
) -> None:
    config = str(profile_config(store_at_head, tmp_path))
    assert run_cli("profile", "-c", config).exit_code == 0
    before = contents(store_at_head)

    result = run_cli("profile", "-c", config, hooks=FailBeforeCommit(error))

    assert result.exit_code == code
    shown = result.stderr.strip()  # (click starts a new line after the terminal's "^C")
    assert shown.startswith(line), result.stderr
    assert len(shown.splitlines()) == 1  # one line, no traceback without --debug
    assert "Traceback" not in result.stderr
    assert contents(store_at_head) == before  # the interrupted run was rolled back, earlier runs kept


def test_debug_shows_the_traceback_of_a_bug(duck_at_head: Store, tmp_path: Path) -> None:
    config = str(profile_config(duck_at_head, tmp_path))
    result = run_cli("--debug", "profile", "-c", config, hooks=FailBeforeCommit(RuntimeError("boom")))
    assert result.exit_code == EXIT_INTERNAL
    assert "Traceback (most recent call last)" in result.stderr and "RuntimeError: boom" in result.stderr
