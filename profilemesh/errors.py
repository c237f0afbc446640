"""Errors the CLI turns into one clear line and a documented exit code.

Exit codes (docs/cli-reference.md, "Exit codes"):
  0 ok; 1 a check failed (drift at the chosen severity, a failed table, or a store whose state refuses
  the operation); 2 usage or configuration error; 3 connection or database error (a missing store
  included); 4 an internal error, a bug in ProfileMesh (the one-line message says to rerun with
  --debug); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class ProfileMeshError(Exception):
    """Base class: `str(error)` is the one line shown to the user."""

    exit_code = EXIT_CHECK_FAILED


class CheckFailed(ProfileMeshError):
    """The store is not in the state the operation needs (behind, failed attempt, drift in catalog)."""

    exit_code = EXIT_CHECK_FAILED


class UsageError(ProfileMeshError):
    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration problem, naming the file and the key."""

    def __init__(self, path: str | None, key: str | None, message: str):
        self.path = path
        self.key = key
        where = path or "<default configuration>"
        if key:
            where = f"{where}: {key}"
        super().__init__(f"{where}: {message}")


class DatabaseError(ProfileMeshError):
    """The warehouse could not be reached, or a statement failed."""

    exit_code = EXIT_DATABASE


class StoreMissing(DatabaseError):
    """The configured database or schema holds no ProfileMesh store: `migrate apply` creates one.
    A database problem (exit 3), like a missing database, for the commands that need a store;
    `migrate status` reports it as pending migrations instead."""


class StoreBusy(DatabaseError):
    """Another process holds the migration lock (or, on DuckDB, the file) for longer than we wait."""


class Interrupted(ProfileMeshError):
    """Ctrl-C stopped the command; the message says what was not written."""

    exit_code = EXIT_INTERRUPTED


class MigrationFailed(DatabaseError):
    """A migration step failed; the attempt is recorded and `migrate repair` is needed."""


def first_line(text: str, *, limit: int = 2000) -> str:
    """A driver's or dbt's multi-line error as the one line shown to people (and stored with a run)."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return (lines[0] if lines else "")[:limit]


def unknown_key_message(key: object, allowed: Iterable[str]) -> str:
    """'unknown key', with the closest allowed key when one is obviously meant, and the allowed keys."""
    choices = sorted(allowed)
    close = difflib.get_close_matches(str(key).lower(), choices, n=1, cutoff=0.75)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key ({hint}expected one of: {', '.join(choices)})"
