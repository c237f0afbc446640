"""dbt's partial-parse file, kept between processes.

Every process runs dbt in a private directory (workdir.py), so without this each `profilemesh`
command parsed the whole package again. dbt itself decides whether a saved parse still applies: it
compares the project's files, the profile, the vars and its own version, and parses again when anything
differs. This module only carries the file across processes: copied in before a process's first dbt
invocation, written back after one that changed it, through a temporary file and a rename, so a
concurrent process reads the old file or the new one, never a torn one.

The file holds the parsed package and hashes of the profile, never a password (the profile takes it
from an environment variable). Entries are keyed by package, profile and vars; the newest
MAX_ENTRIES are kept. PROFILEMESH_DBT_CACHE_DIR sets the directory, and "off" turns the cache off.
A cache that cannot be read or written is skipped: it never fails a command.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

CACHE_ENV = "PROFILEMESH_DBT_CACHE_DIR"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
MAX_ENTRIES = 32


def cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return None if configured.lower() == "off" else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "profilemesh" / "dbt-parse"


def entry_key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class ParseCache:
    """One entry of the cache, tied to one private dbt target directory."""

    def __init__(self, key: str, target_dir: Path):
        directory = cache_dir()
        self.entry = None if directory is None else directory / f"{key}.msgpack"
        self.local = target_dir / PARTIAL_PARSE_FILE
        self._seen: tuple[int, int] | None = None

    def seed(self) -> None:
        """Before the first invocation: the saved parse, when there is one."""
        if self.entry is None:
            return
        with contextlib.suppress(OSError):
            self.local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.entry, self.local)
            self._seen = _signature(self.local)

    def save(self) -> None:
        """After an invocation: publish dbt's partial-parse file if that invocation rewrote it."""
        if self.entry is None:
            return
        with contextlib.suppress(OSError):
            signature = _signature(self.local)
            if signature is None or signature == self._seen:
                return
            self.entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(dir=self.entry.parent, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as out, self.local.open("rb") as source:
                    shutil.copyfileobj(source, out)
                os.replace(temporary, self.entry)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            self._seen = signature
            _prune(self.entry.parent)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            stale.unlink()
